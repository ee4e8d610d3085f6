"""Time the monthly run on the default demo LA and on a 50,000-child LA.

    .venv/bin/python benchmarks/bench_monthly.py [--children 3000 50000] [--period YYYY-MM]

Each size runs in its own process, so peak memory is that size's alone. Steps are
timed as plain functions (generate, extract, validate, load, compute, publish, publish QA);
then the whole
Prefect flow is run on the same extracts, and orchestration overhead is the flow's
wall time less the sum of its steps. Peak memory is the process's resident high-water
mark after each step (so it can only grow). Prints a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, timings: list, function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    timings.append({"step": label, "seconds": time.perf_counter() - started, "peak_mib": peak_mib()})
    return result


def measure(children: int, period_id: str, workdir: Path) -> list[dict]:
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    from qaloop.cli import demo_extract_date
    from tasks.core.settings import config_text, load_settings
    from tasks.extract import extracts as extract
    from tasks.operations import pipeline
    from tasks.validate import validation as validate
    from tasks.core.periods import Period
    from tasks.publish.lineage import RunInfo
    from tasks.kpis.registry import load_registry
    from qaloop.synthetic import generate_la

    timings: list[dict] = []
    period = Period.month(period_id)
    config = workdir / "qaloop.toml"  # a flow is given its configuration's path, not settings
    config.write_text(config_text({"synthetic": True, "la_code": "841", "data_dir": str(workdir / "data")}))
    settings = load_settings(config)
    source = workdir / "extracts"
    timed("generate (not part of the run)", timings, generate_la, source,
          as_at=demo_extract_date(period_id), children=children, seed=2024)
    kpis = load_registry()
    engine = pipeline.warehouse_engine(settings.resolved_warehouse_url)
    extracts = timed("extract", timings, extract.extract_sources, str(source), strict=False)
    timed("validate (Great Expectations, Data Docs)", timings, validate.validate_extracts, extracts,
          demo_extract_date(period_id), None, docs_dir=workdir / "data_docs")
    timed("load", timings, pipeline.load_extracts, engine, extracts)
    context, year = pipeline.la_context(settings, period)
    results = timed("compute (13 months)", timings, pipeline.compute_with_trend, engine, kpis,
                    period, context, settings.trend_months)
    teams, workers = pipeline.unit_tables(engine)
    run = RunInfo(period.id, "benchmark", "bench", context.la_code, context.la_name, True, "",
                  str(source), context.population_0_17, year, [])
    out = workdir / "out"

    def publish():
        from flows.steps import publish_workbooks
        from tasks.kpis import benchmarks
        benchmarks.refresh_reference(engine, settings.reference_dir, kpis)
        publish_workbooks.fn(results, kpis, settings, run, out, teams, workers,
                             benchmarks.read_reference(engine))
    timed("publish", timings, publish)

    def publish_qa():
        from tasks.reports import qa_outputs
        from tasks.kpis.qa import schedule_from_settings
        schedule = schedule_from_settings(settings.qa)
        inputs = qa_outputs.qa_inputs(engine, period, schedule)
        targets = qa_outputs.qa_targets(qa_outputs.qa_kpis(kpis), settings.targets, schedule)
        qa_outputs.publish_qa_outputs(inputs, results.values, results.trend, results.records, kpis,
                                      targets, run, out)
    timed("publish QA (workbook, reports, PDF)", timings, publish_qa)

    from flows.monthly import monthly
    timed("whole Prefect flow", timings, monthly, period=period.id, source=str(source),
          out=str(workdir / "flow-out"), config=str(config))
    steps = sum(t["seconds"] for t in timings[1:7])
    flow = timings[-1]["seconds"]
    timings.append({"step": "orchestration overhead (flow - steps)", "seconds": flow - steps,
                    "peak_mib": peak_mib()})
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[3000, 50000])
    parser.add_argument("--period", default=None, help="YYYY-MM (default: latest complete month)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from qaloop.cli import default_period
    period = args.period or default_period()
    if args.one:
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(measure(args.one, period, Path(workdir))))
        return 0
    print(f"monthly run benchmark, period {period}, {os.cpu_count()} cores")
    for children in args.children:
        output = subprocess.run([sys.executable, __file__, "--one", str(children), "--period", period],
                                capture_output=True, text=True, check=True).stdout
        timings = json.loads(output.strip().splitlines()[-1])
        print(f"\n{children:,} children")
        print(f"  {'step':40} {'seconds':>9} {'peak MiB':>9}")
        for row in timings:
            print(f"  {row['step']:40} {row['seconds']:9.1f} {row['peak_mib']:9.0f}")
        by_step = {row["step"].split(" (")[0]: row["seconds"] for row in timings}
        print(f"  validation: {100 * by_step['validate'] / by_step['whole Prefect flow']:.0f}% "
              f"of the whole flow's wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
