"""Time the monthly flow against the targets of issue 17 (speed and scale).

    .venv/bin/python benchmarks/bench_monthly.py [--children 12000 50000] [--rerun-children 3000]
                                                 [--period YYYY-MM]

Each measurement runs in its own process, so its peak memory is its own. The synthetic LA
is generated (timed, not part of the run), then the real monthly Prefect flow
(flows.monthly.monthly) runs once on it, and the per-step times are the flow's own task
runs, read back from Prefect after the run (each task run's run time, grouped by task
name): nothing here repeats the flow's steps. "Outside task runs" is the flow's wall
time not covered by any task run: the ledger, locks, the data-quality gate and the
flow's own bookkeeping. The runs go to a long-running Prefect server, as in production
(deployments/README.md): the benchmark starts one (`prefect server start`, its own
database) unless PREFECT_API_URL names one, and measures apart what a one-off command
without a server pays for Prefect's temporary server: its start, in a fresh process.
Peak memory is the process's resident high-water mark, and the largest resident size of
the process and its second process computing half the trend (tasks/operations/pipeline.py)
together, sampled every 0.2 s: the target is checked on the latter.

Then the targets, each printed with its figure:
- the 50,000-child monthly run: under 60 s wall and under 2 GiB;
- the 12,000-child monthly run within 5x of a plain pandas computation of the same
  month's LA-level figures from the same extracts (tests/independent/reference_kpis.py,
  written from kpis.md alone: reading the CSVs and computing, timed in its own process);
- `qaloop rerun monthly` over the 12 months ending with the period, on one extract, no
  slower per month than a single run of the same LA (wall time, and the CPU time of the
  benchmark's process, steadier under load);
- the region of 10 LAs from 1 to 2 workers: measured by benchmarks/bench_region.py,
  which `make benchmark` runs next, not here.
The machine's load average is printed with the figures: on a shared machine they are
upper bounds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # ended meanwhile
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@contextmanager
def sampled_peak_of_processes(every: float = 0.2):
    """The largest resident size of this process and its children together (the run's
    second process computing half the trend), sampled every `every` seconds: {"mib": ...}.
    A child's own rusage peak is no use here: it counts the parent's pages it was forked
    with."""
    peak, stop = {"mib": 0.0}, threading.Event()

    def sample():
        while not stop.is_set():
            pid = os.getpid()
            total = resident_mib(pid) + sum(resident_mib(child) for child in children_of(pid))
            peak["mib"] = max(peak["mib"], total)
            stop.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


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
    with sampled_peak_of_processes() as together:
        state = monthly(period=period_id, source=str(source), out=str(workdir / "out"), config=str(config),
                        return_state=True)
    wall = time.perf_counter() - started
    return {"generate": generated, "wall": wall, "state": state.name, "peak_mib": peak_mib(),
            "together_mib": max(together["mib"], peak_mib()),
            "steps": task_run_times(state.state_details.flow_run_id)}


def measure_temporary_server(children: int, period_id: str, workdir: Path) -> dict:
    """What a one-off command without PREFECT_API_URL pays before its flow starts: the
    temporary server's start, the first flow call of a fresh process (PREFECT_HOME: the
    caller's, so that a second process finds its database made, as an operator's is)."""
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect import flow

    @flow(name="benchmark-server-start")
    def nothing() -> int:
        return 0

    started = time.perf_counter()
    nothing()
    return {"wall": time.perf_counter() - started}


def measure_baseline(children: int, period_id: str, workdir: Path) -> dict:
    """The plain pandas computation of the month's LA-level Safety and Drift and Delay
    figures (tests/independent/reference_kpis.py) from the same extracts: read + compute."""
    sys.path.insert(0, str(ROOT / "tests" / "independent"))
    from qaloop.cli import demo_extract_date
    from qaloop.synthetic import generate_la
    from reference_kpis import compute_reference
    from tasks.core.paths import REFERENCE_DIR
    from tasks.core.periods import Period
    from tasks.kpis.population import population_0_17
    source = workdir / "extracts"
    generate_la(source, as_at=demo_extract_date(period_id), children=children, seed=2024)
    started_peak = peak_mib()
    started = time.perf_counter()
    period_end = Period.month(period_id).end
    figures = compute_reference(source, period_end, population_0_17(REFERENCE_DIR, "841", period_end)[0])
    return {"wall": time.perf_counter() - started, "peak_mib": peak_mib(), "before_mib": started_peak,
            "figures": len(figures)}


def measure_rerun(children: int, period_id: str, workdir: Path) -> dict:
    """`rerun monthly` over the 12 months ending with the period, then one single run of
    the period, on the same extract (each in its own data folder)."""
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from flows.backfill import rerun_monthly
    from flows.monthly import monthly
    from qaloop.cli import demo_extract_date
    from qaloop.synthetic import generate_la
    from tasks.core.periods import Period
    from tasks.core.settings import config_text
    source = workdir / "extracts"
    generate_la(source, as_at=demo_extract_date(period_id), children=children, seed=2024)
    months = Period.month(period_id).trailing(12)
    walls, cpus = {}, {}
    for name in ("rerun", "single"):
        config = workdir / f"{name}.toml"
        config.write_text(config_text({"synthetic": True, "la_code": "841", "data_dir": str(workdir / name)}))
        started, started_cpu = time.perf_counter(), time.process_time()
        if name == "rerun":
            rerun_monthly(first=months[0].id, last=months[-1].id, source=str(source),
                          out=str(workdir / f"{name}-out"), config=str(config), reason="benchmark")
        else:
            monthly(period=period_id, source=str(source), out=str(workdir / f"{name}-out"), config=str(config))
        walls[name], cpus[name] = time.perf_counter() - started, time.process_time() - started_cpu
    return {"months": len(months), "rerun": walls["rerun"], "single": walls["single"],
            "rerun_cpu": cpus["rerun"], "single_cpu": cpus["single"], "peak_mib": peak_mib()}


MEASURES = {"monthly": measure, "baseline": measure_baseline, "rerun": measure_rerun,
            "server": measure_temporary_server}


@contextmanager
def long_running_server():
    """The environment of runs that go to a long-running Prefect server: PREFECT_API_URL's,
    else one started here on its own database, stopped at the end."""
    if os.environ.get("PREFECT_API_URL"):
        yield dict(os.environ)
        return
    import sqlalchemy as sa
    from tests.test_prefect_postgres import start_prefect_server, stop
    with tempfile.TemporaryDirectory() as home:
        server, _, env = start_prefect_server(home, sa.engine.make_url(f"sqlite+aiosqlite:///{home}/prefect.db"))
        try:
            yield env
        finally:
            stop(server)


def run_one(kind: str, children: int, period: str, env: dict | None = None) -> dict:
    """One measurement in its own process: its figures, and the load average around it."""
    before = os.getloadavg()[0]
    output = subprocess.run([sys.executable, __file__, "--one", kind, str(children), "--period", period],
                            capture_output=True, text=True, check=True, env=env).stdout
    measured = json.loads(output.strip().splitlines()[-1])
    measured["load"] = (before, os.getloadavg()[0])
    return measured


def print_monthly(children: int, measured: dict) -> None:
    print(f"\n{children:,} children: generated in {measured['generate']['seconds']:.1f} s (not part of "
          f"the run); flow {measured['state']}, {measured['wall']:.1f} s wall time (a long-running "
          f"Prefect server); peak {measured['peak_mib']:.0f} MiB, with its trend process "
          f"{measured['together_mib']:.0f} MiB; load average "
          f"{measured['load'][0]:.1f} before, {measured['load'][1]:.1f} after")
    print(f"  {'step (task runs of the flow)':40} {'starts at':>9} {'seconds':>9} {'runs':>5}")
    for row in measured["steps"]:
        start = "" if row["start"] is None else f"{row['start']:9.1f}"
        runs = "" if row["runs"] is None else str(row["runs"])
        print(f"  {row['step']:40} {start:>9} {row['seconds']:9.1f} {runs:>5}")
    by_step = {row["step"]: row["seconds"] for row in measured["steps"]}
    flow = by_step["flow run (Prefect's run time)"]
    if "validate_extracts" in by_step and flow:
        print(f"  validation: {100 * by_step['validate_extracts'] / flow:.0f}% of the flow run")


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def temporary_server_starts(period: str) -> tuple[float, float]:
    """The temporary server's start in a fresh process: on a new Prefect home, then again
    on the same home (its database made)."""
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": home}
        return tuple(run_one("server", 0, period, env)["wall"] for _ in range(2))


def report(args, period: str, env: dict) -> None:
    """Every measurement, then the targets with their figures."""
    print(f"monthly flow benchmark, period {period}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    runs = {}
    for children in args.children:
        runs[children] = run_one("monthly", children, period, env)
        print_monthly(children, runs[children])
    print("\ntargets (issue 17):")
    if 50000 in runs:
        run = runs[50000]
        memory = run["together_mib"]
        print(f"  50,000-child monthly run: {run['wall']:.1f} s wall (target < 60 s: {verdict(run['wall'] < 60)}), "
              f"peak {memory:.0f} MiB with its trend process (target < 2048 MiB: {verdict(memory < 2048)})")
    if 12000 in runs:
        run, plain = runs[12000], run_one("baseline", 12000, period)
        ratio = run["wall"] / plain["wall"]
        print(f"  12,000-child monthly run {run['wall']:.1f} s vs plain pandas {plain['wall']:.1f} s "
              f"({plain['figures']} LA-level figures, peak {plain['peak_mib']:.0f} MiB): {ratio:.1f}x "
              f"(target within 5x: {verdict(ratio <= 5)})")
    if args.rerun_children:
        rerun = run_one("rerun", args.rerun_children, period, env)
        per_month = rerun["rerun"] / rerun["months"]
        print(f"  re-run of {rerun['months']} months ({args.rerun_children:,} children, one extract): "
              f"{rerun['rerun']:.1f} s, {per_month:.1f} s per month vs {rerun['single']:.1f} s for a single "
              f"run (target no slower per month: {verdict(per_month <= rerun['single'])}); CPU of this process "
              f"{rerun['rerun_cpu'] / rerun['months']:.1f} s per month vs {rerun['single_cpu']:.1f} s")
    first, then = temporary_server_starts(period)
    print(f"  a one-off command without a Prefect server first starts Prefect's temporary one: "
          f"{then:.1f} s more (the first ever, creating its database: {first:.1f} s)")
    print("  region of 10 LAs, 1 vs 2 workers: measured by benchmarks/bench_region.py (the regional "
          "flow's benchmark, which `make benchmark` runs next), not by this one")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (on a shared machine the figures are upper bounds)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[12000, 50000],
                        help="LA sizes of the monthly run (the targets read 12,000 and 50,000)")
    parser.add_argument("--rerun-children", type=int, default=3000,
                        help="LA size of the 12-month re-run (0: not measured)")
    parser.add_argument("--period", default=None, help="YYYY-MM (default: latest complete month)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from qaloop.cli import default_period
    period = args.period or default_period()
    if args.one:
        kind, children = args.one[0], int(args.one[1])
        with tempfile.TemporaryDirectory() as workdir:
            print(json.dumps(MEASURES[kind](children, period, Path(workdir)), default=str))
        return 0
    with long_running_server() as env:
        report(args, period, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
