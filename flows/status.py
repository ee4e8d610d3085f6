"""`qaloop status`: the latest run of each cadence, its state and next scheduled run,
and the freshness of each source table, read from the warehouse's run ledger."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from flows.cadences import Cadence, load_cadences, next_runs
from tasks.warehouse import read_sql

LONDON = "Europe/London"


def latest_runs(engine: Engine) -> pd.DataFrame:
    """The latest ledger row of each flow (by start time)."""
    runs = read_sql(engine, "select run_id, flow, period, trigger, started_at, finished_at, state, "
                            "message, reason from runs")
    if runs.empty:
        return runs
    runs["started_at"] = pd.to_datetime(runs["started_at"], utc=True)
    return runs.sort_values("started_at").groupby("flow", sort=True).tail(1).set_index("flow")


def source_freshness(engine: Engine) -> pd.DataFrame:
    """The latest extract of each source table: when it was read, its rows and checksum."""
    files = read_sql(engine, "select f.table_name, f.source_name, f.row_count, f.sha256, f.run_id, "
                             "r.started_at from extract_files f join runs r on r.run_id = f.run_id")
    if files.empty:
        return files
    files["started_at"] = pd.to_datetime(files["started_at"], utc=True)
    return files.sort_values("started_at").groupby("table_name").tail(1).sort_values("table_name")


def _london(moment) -> str:
    if moment is None or pd.isna(moment):
        return "-"
    return pd.Timestamp(moment).tz_convert(LONDON).strftime("%Y-%m-%d %H:%M %Z")


def cadence_lines(cadences: list[Cadence], latest: pd.DataFrame, now: datetime) -> list[str]:
    lines = [f"{'deployment':<24} {'next run (Europe/London)':<26} {'latest run':<40} state"]
    for cadence in cadences:
        upcoming = _london(next_runs(cadence, now)[0]) if cadence.enabled else "not served"
        if not cadence.enabled:
            run, state = "-", cadence.note or "disabled"
        elif cadence.flow_name in latest.index:
            row = latest.loc[cadence.flow_name]
            run = f"{row['period']} {row['trigger']} {_london(row['started_at'])}"
            state = row["state"] + (f" ({row['message']})" if row["message"] else "")
        else:
            run, state = "none", "-"
        lines.append(f"{cadence.name:<24} {upcoming:<26} {run:<40} {state}")
    return lines


def status_text(engine: Engine, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    cadences = load_cadences()
    latest = latest_runs(engine)
    lines = ["Scheduled cadences (deployments/schedules.yml)", *cadence_lines(cadences, latest, now), ""]
    lines.append("Latest run of each flow")
    if latest.empty:
        lines.append("  no runs recorded yet")
    for flow in latest.index:
        row = latest.loc[flow]
        lines.append(f"  {flow:<10} {row['period']:<11} {row['state']:<22} started {_london(row['started_at'])}"
                     f"  run {row['run_id']}" + (f"  {row['message']}" if row["message"] else ""))
    lines += ["", "Source freshness (latest extract of each table)"]
    fresh = source_freshness(engine)
    if fresh.empty:
        lines.append("  no extracts recorded yet")
    for row in fresh.itertuples(index=False):
        age = (pd.Timestamp(now) - row.started_at).days
        lines.append(f"  {row.table_name:<28} {int(row.row_count):>8} rows  read {_london(row.started_at)}"
                     f" ({age} d ago)  sha256 {row.sha256[:12]}  from {row.source_name}")
    return "\n".join(lines)
