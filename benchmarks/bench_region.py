"""Time the regional flow on 10 synthetic LAs of mixed sizes with 1, then 2 process workers.

    .venv/bin/python benchmarks/bench_region.py [--sizes 200 400 ...] [--period YYYY-MM]

Starts what production runs: a Prefect server on PostgreSQL (QALOOP_TEST_POSTGRES_URL, as
the tests), a process work pool and its workers (`prefect worker start --limit 1`: one
monthly run at a time per worker, as on a worker machine with its share of cores), then
runs `qaloop run region` twice on the same extracts, each time into a fresh regional
warehouse and fresh out folders, so that both rounds do the same work: first with one
worker, then with two. Prints each round's wall time, the sum and the longest of the LAs'
own flow run times (Prefect's record), the scaling (1-worker wall / 2-worker wall) and the
machine's load average before and after. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qaloop.cli import demo_extract_date  # noqa: E402
from qaloop.synthetic import generate_la  # noqa: E402
from tests.test_prefect_postgres import (PREFECT, drop_database, recreate_database,  # noqa: E402
                                         start_prefect_server, stop)

QALOOP = str(Path(sys.executable).parent / "qaloop")
POOL = "qaloop-region-bench"
PREFECT_DATABASE = "qaloop_bench_region_prefect"
# North East LAs (real codes: DfE names and populations), synthetic children
CODES = ["841", "840", "805", "806", "807", "808", "390", "391", "392", "393"]
SIZES = [200, 1200, 300, 800, 400, 1000, 250, 600, 350, 500]


def region_toml(root: Path, round_name: str, extracts: dict[str, Path], warehouse_url: str) -> Path:
    members = "".join(f'\n[[members]]\ncode = "{code}"\nname = "LA {code}"\nsource = "{folder}"\n'
                      f'out = "{root / round_name / "out" / code}"\nsynthetic = true\n'
                      for code, folder in extracts.items())
    path = root / round_name / "region.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'name = "Benchmark region"\nwork_pool = "{POOL}"\nout = "{root / round_name / "region"}"\n'
                    f'data_dir = "{root / round_name / "data"}"\nwarehouse_url = "{warehouse_url}"\n' + members)
    return path


def run_round(root: Path, round_name: str, workers: int, extracts: dict[str, Path], env: dict,
              period: str) -> dict:
    database = f"qaloop_bench_region_{round_name}"
    warehouse = recreate_database(database, "postgresql+psycopg").render_as_string(hide_password=False)
    config = region_toml(root, round_name, extracts, warehouse)
    started_workers = [subprocess.Popen([PREFECT, "worker", "start", "--pool", POOL, "--name",
                                         f"{round_name}-{n}", "--limit", "1"], env=env, cwd=ROOT,
                                        stdout=(root / f"{round_name}-worker-{n}.log").open("w"),
                                        stderr=subprocess.STDOUT) for n in range(1, workers + 1)]
    try:
        time.sleep(5)  # the workers are polling
        load_before = os.getloadavg()
        started = time.perf_counter()
        region = subprocess.run([QALOOP, "run", "region", "--period", period, "--config", str(config)],
                                env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()
    finally:
        for worker in started_workers:
            stop(worker)
        drop_database(database)
    runs = [run for run in httpx.post(f"{env['PREFECT_API_URL']}/flow_runs/filter", json={"limit": 200},
                                      timeout=30).json()
            if "region" in (run["tags"] or []) and str(run["parameters"].get("out", "")).startswith(
                str(root / round_name))]
    seconds = [run["total_run_time"] for run in runs]
    return {"round": round_name, "workers": workers, "wall": wall, "exit": region.returncode,
            "runs": len(runs), "completed": sum(run["state"]["type"] == "COMPLETED" for run in runs),
            "sum_runs": sum(seconds), "longest_run": max(seconds, default=0.0),
            "load_before": load_before, "load_after": load_after, "output": region.stdout + region.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=len(CODES), default=SIZES,
                        help=f"children of each of the {len(CODES)} LAs")
    parser.add_argument("--period", default="2024-03")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="qaloop-bench-region-"))
    as_at = demo_extract_date(args.period)
    started = time.perf_counter()
    extracts = {}
    for code, size, seed in zip(CODES, args.sizes, range(100, 100 + len(CODES))):
        extracts[code] = root / "extracts" / code
        generate_la(extracts[code], as_at, children=size, seed=seed)
    print(f"generated {len(CODES)} synthetic LAs ({sum(args.sizes):,} children: "
          f"{', '.join(map(str, args.sizes))}) in {time.perf_counter() - started:.1f} s")
    server, _, env = start_prefect_server(root / "prefect-home", recreate_database(PREFECT_DATABASE))
    env = {**env, "PREFECT_WORKER_QUERY_SECONDS": "2"}
    try:
        subprocess.run([PREFECT, "work-pool", "create", POOL, "--type", "process"], env=env, check=True,
                       capture_output=True)
        rounds = [run_round(root, name, workers, extracts, env, args.period)
                  for name, workers in (("one_worker", 1), ("two_workers", 2))]
    finally:
        stop(server)
        drop_database(PREFECT_DATABASE)
    print(f"\nregion of {len(CODES)} LAs, period {args.period}, {os.cpu_count()} cores; "
          f"workers started with --limit 1 (one monthly run at a time each)")
    print(f"{'workers':>7} {'wall s':>8} {'LA runs':>8} {'ok':>3} {'sum of LA runs s':>17} "
          f"{'longest LA run s':>17} {'load before':>12} {'load after':>11} {'exit':>5}")
    for r in rounds:
        print(f"{r['workers']:>7} {r['wall']:>8.1f} {r['runs']:>8} {r['completed']:>3} {r['sum_runs']:>17.1f} "
              f"{r['longest_run']:>17.1f} {r['load_before'][0]:>12.2f} {r['load_after'][0]:>11.2f} {r['exit']:>5}")
    one, two = rounds
    print(f"scaling 1 -> 2 workers: {one['wall'] / two['wall']:.2f}x faster "
          f"(ideal 2.00x; the 2 cores are shared with the Prefect server and PostgreSQL)")
    for r in rounds:
        if r["exit"] != 0:
            print(f"\n{r['round']} exit {r['exit']}:\n{r['output'][-3000:]}")
    print(f"work folder: {root}")


if __name__ == "__main__":
    main()
