"""Time the monthly flow on the default demo LA and on a 50,000-child LA.

    .venv/bin/python benchmarks/bench_monthly.py [--children 3000 50000] [--period YYYY-MM]

Each size runs in its own process, so peak memory is that size's alone. The synthetic
LA is generated (timed, not part of the run), then the real monthly Prefect flow
(flows.monthly.monthly) runs once on it, and the per-step times are the flow's own task
runs, read back from Prefect after the run (each task run's run time, grouped by task
name): nothing here repeats the flow's steps. "Outside task runs" is the flow's wall
time not covered by any task run: the temporary Prefect server's start, the ledger,
locks, the data-quality gate and the flow's own bookkeeping. Peak memory is the
process's resident high-water mark after the generator and after the flow. Prints a
table; nothing is asserted.
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


def task_run_times(flow_run_id) -> list[dict]:
    """{step, seconds, runs, first start} per task name of one flow run, in the order the
    steps started, from Prefect's record of the run; then the wall time outside them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    steps: dict[str, dict] = {}
    intervals = []
    for task_run in task_runs:
        if task_run.start_time is None or task_run.end_time is None:
            continue
        name = task_run.name.rsplit("-", 1)[0]
        step = steps.setdefault(name, {"step": name, "seconds": 0.0, "runs": 0, "start": task_run.start_time})
        step["seconds"] += task_run.total_run_time.total_seconds() or \
            (task_run.end_time - task_run.start_time).total_seconds()
        step["runs"] += 1
        step["start"] = min(step["start"], task_run.start_time)
        intervals.append((task_run.start_time, task_run.end_time))
    covered, end = 0.0, None
    for start, stop in sorted(intervals):  # the union of the task runs' intervals
        if end is None or start > end:
            covered += (stop - start).total_seconds()
            end = stop
        elif stop > end:
            covered += (stop - end).total_seconds()
            end = stop
    ordered = sorted(steps.values(), key=lambda s: s["start"])
    for step in ordered:
        step["start"] = (step["start"] - flow_run.start_time).total_seconds() if flow_run.start_time else None
    flow_seconds = flow_run.total_run_time.total_seconds()
    return ordered + [{"step": "outside task runs (in the flow run)", "seconds": flow_seconds - covered,
                       "runs": None, "start": None},
                      {"step": "flow run (Prefect's run time)", "seconds": flow_seconds, "runs": 1, "start": 0.0}]


def measure(children: int, period_id: str, workdir: Path) -> dict:
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from qaloop.cli import demo_extract_date
    from qaloop.synthetic import generate_la
    from tasks.core.settings import config_text

    config = workdir / "qaloop.toml"  # a flow is given its configuration's path, not settings
    config.write_text(config_text({"synthetic": True, "la_code": "841", "data_dir": str(workdir / "data")}))
    source = workdir / "extracts"
    started = time.perf_counter()
    generate_la(source, as_at=demo_extract_date(period_id), children=children, seed=2024)
    generated = {"seconds": time.perf_counter() - started, "peak_mib": peak_mib()}

    from flows.monthly import monthly
    started = time.perf_counter()
    state = monthly(period=period_id, source=str(source), out=str(workdir / "out"), config=str(config),
                    return_state=True)
    wall = time.perf_counter() - started
    return {"generate": generated, "wall": wall, "state": state.name, "peak_mib": peak_mib(),
            "steps": task_run_times(state.state_details.flow_run_id)}


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
            print(json.dumps(measure(args.one, period, Path(workdir)), default=str))
        return 0
    print(f"monthly flow benchmark, period {period}, {os.cpu_count()} cores")
    for children in args.children:
        output = subprocess.run([sys.executable, __file__, "--one", str(children), "--period", period],
                                capture_output=True, text=True, check=True).stdout
        measured = json.loads(output.strip().splitlines()[-1])
        print(f"\n{children:,} children: generated in {measured['generate']['seconds']:.1f} s (not part of "
              f"the run); flow {measured['state']}, {measured['wall']:.1f} s wall time including the "
              f"temporary Prefect server; peak {measured['peak_mib']:.0f} MiB")
        print(f"  {'step (task runs of the flow)':40} {'starts at':>9} {'seconds':>9} {'runs':>5}")
        for row in measured["steps"]:
            start = "" if row["start"] is None else f"{row['start']:9.1f}"
            runs = "" if row["runs"] is None else str(row["runs"])
            print(f"  {row['step']:40} {start:>9} {row['seconds']:9.1f} {runs:>5}")
        by_step = {row["step"]: row["seconds"] for row in measured["steps"]}
        flow = by_step["flow run (Prefect's run time)"]
        if "validate_extracts" in by_step and flow:
            print(f"  validation: {100 * by_step['validate_extracts'] / flow:.0f}% of the flow run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
