"""Time the load and every KPI's SQL for one month on a synthetic LA (issue 17).

    .venv/bin/python benchmarks/bench_kpi_sql.py [--children 50000] [--period YYYY-MM]
                                                 [--url sqlite:///...|postgresql+psycopg://...]

Generates the LA (not timed), reads its extracts, loads them into the warehouse twice
(the second replaces the first, as a monthly run does), then runs each KPI's SQL for the
period, as `compute_period` runs it (`read_sql` with the period's parameters), and prints
one row per KPI: seconds (wall and process CPU) and rows, slowest first. Process CPU is
the figure to compare on a shared machine; the load average is printed with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(function, *args):
    """(result, wall seconds, process CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50000)
    parser.add_argument("--period", default=None, help="YYYY-MM (default: latest complete month)")
    parser.add_argument("--url", default=None, help="warehouse URL (default: a new SQLite file)")
    args = parser.parse_args()

    from qaloop.cli import default_period, demo_extract_date
    from qaloop.synthetic import generate_la
    from tasks.core.periods import Period
    from tasks.extract.extracts import extract_sources
    from tasks.kpis.compute import LaContext, period_parameters
    from tasks.kpis.registry import computed_for, load_registry
    from tasks.operations.pipeline import load_extracts, warehouse_engine
    from tasks.warehouse.database import read_sql

    period = Period.month(args.period or default_period())
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / "extracts"
        generate_la(source, as_at=demo_extract_date(period.id), children=args.children, seed=2024)
        engine = warehouse_engine(args.url or f"sqlite:///{workdir}/warehouse.db")
        extracts, wall, cpu = timed(extract_sources, str(source))
        print(f"{args.children} children, period {period.id}, load average {os.getloadavg()[0]:.1f}")
        print(f"extract: {wall:.2f} s wall, {cpu:.2f} s CPU, {sum(len(e.frame) for e in extracts.values())} rows")
        for run in ("load (empty tables)", "load (replacing)"):
            _, wall, cpu = timed(load_extracts, engine, extracts)
            print(f"{run}: {wall:.2f} s wall, {cpu:.2f} s CPU")
        params = period_parameters(period, LaContext("841", "Synthetic LA", 20000))
        timings = []
        for kpi in computed_for(load_registry(), period):
            rows, wall, cpu = timed(read_sql, engine, kpi.sql_text(), params)
            timings.append((cpu, wall, kpi.id, len(rows)))
        print(f"{'KPI':8s} {'CPU s':>7s} {'wall s':>7s} {'rows':>7s}")
        for cpu, wall, kpi_id, rows in sorted(timings, reverse=True):
            print(f"{kpi_id:8s} {cpu:7.3f} {wall:7.3f} {rows:7d}")
        print(f"{len(timings)} KPIs: {sum(t[0] for t in timings):.2f} s CPU, {sum(t[1] for t in timings):.2f} s wall; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
