"""`qaloop status`: what is true now, from Prefect and the warehouse's run ledger.

- **Prefect**: each deployment's readiness (READY while `qaloop serve` or a worker
  polls it, NOT_READY when nothing does), its Late runs and its next scheduled runs,
  asked of the Prefect server (PREFECT_API_URL). Without a server the times planned in
  deployments/schedules.yml are shown, marked as not confirmed.
- **Housekeeping**: runs killed outright are reconciled to Crashed and a switch of a
  published folder left half-done is finished or undone (flows/runner.py, tasks/operations/versions.py).
- **Current versions** of every period, the **runs needing attention** (failed,
  crashed, cancelled or partly published runs that no later run of the same period
  replaced), the **revised trends** (current outputs whose trend shows a figure of a
  period since revised), and each source table's freshness.

`problems(...)` is what `qaloop status --alert` notifies about.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from flows.cadences import Cadence, load_cadences, next_runs
from tasks.operations import versions
from tasks.warehouse.database import read_sql

LONDON = "Europe/London"
WIDTH = 100
# a scheduled run not started this long after its time is Late (Prefect's own late-runs
# service marks it after 15 s, when that service runs)
LATE_AFTER = timedelta(minutes=2)
UNREPLACED_STATES = ("Failed", "Crashed", "Cancelled", "Partly published")


@dataclass
class DeploymentView:
    name: str            # flow/deployment
    status: str          # READY, NOT_READY
    paused: bool
    next_runs: list[datetime] = field(default_factory=list)
    late: list[tuple[str, datetime]] = field(default_factory=list)  # (flow run name, expected start)


def prefect_view(now: datetime) -> list[DeploymentView]:
    """Every deployment of the Prefect server of PREFECT_API_URL, with its readiness,
    its Late runs and its next scheduled runs. Raises when the server cannot be reached."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowRunFilter,
                                                FlowRunFilterState, FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    views = []
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        for deployment in client.read_deployments():
            scheduled = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=20)
            late = [run for run in scheduled if run.state.name == "Late"
                    or run.expected_start_time < now - LATE_AFTER]
            upcoming = [run.expected_start_time for run in scheduled if run not in late]
            status = deployment.status.value if deployment.status else "UNKNOWN"
            views.append(DeploymentView(f"{flows.get(deployment.flow_id, '?')}/{deployment.name}", status,
                                        bool(deployment.paused), upcoming[:2],
                                        [(run.name, run.expected_start_time) for run in late]))
    return sorted(views, key=lambda v: v.name)


def _london(moment) -> str:
    if moment is None or pd.isna(moment):
        return "-"
    moment = pd.Timestamp(moment)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment  # SQLite keeps UTC, naive
    return moment.tz_convert(LONDON).strftime("%Y-%m-%d %H:%M %Z")


def _text(value) -> str:
    """A ledger value as text: missing values (None, NaN) as nothing, never `nan`."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def wrapped(first: str, message: str, indent: int = 6) -> list[str]:
    """`first`, then the message wrapped to the terminal width under it."""
    lines = [first]
    if message:
        lines += textwrap.wrap(message, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * indent)
    return lines


def deployment_lines(views: list[DeploymentView] | None, cadences: list[Cadence], now: datetime,
                     error: str | None = None) -> list[str]:
    if views is None:
        lines = textwrap.wrap(f"Prefect: not reachable ({error}); times planned in deployments/schedules.yml, "
                              "NOT confirmed by Prefect (nothing may be serving them)", WIDTH)
        for cadence in cadences:
            planned = f"planned {_london(next_runs(cadence, now)[0])}" if cadence.enabled \
                else f"not served ({cadence.note or 'disabled'})"
            lines.append(f"  {cadence.name:<24} {planned}")
        return lines
    lines = [f"  {'deployment':<34} {'status':<10} next runs (Europe/London)"]
    if not views:
        lines.append("  no deployments registered: start `qaloop serve` or `prefect deploy`")
    for view in views:
        status = view.status + (" PAUSED" if view.paused else "")
        upcoming = ", ".join(_london(t) for t in view.next_runs) or "none scheduled"
        lines.append(f"  {view.name:<34} {status:<10} {upcoming}")
        if view.status != "READY":
            lines.append("      nothing is serving it: start `qaloop serve` (or the worker); "
                         "its scheduled runs will not start")
        for name, expected in view.late:
            lines.append(f"      LATE: flow run {name} was due {_london(expected)} and has not started")
    return lines


# --- the ledger ------------------------------------------------------------------------

def ledger(engine: Engine) -> pd.DataFrame:
    runs = read_sql(engine, "select run_id, flow, period, trigger, started_at, finished_at, state, "
                            "message, reason from runs")
    runs["started_at"] = pd.to_datetime(runs["started_at"], utc=True)
    return runs.sort_values("started_at")


def current_versions(engine: Engine) -> pd.DataFrame:
    current = read_sql(engine, "select c.flow, c.period, c.run_id, c.switched_at, r.state, r.trigger "
                               "from current_runs c join runs r on r.run_id = c.run_id")
    current["switched_at"] = pd.to_datetime(current["switched_at"], utc=True)
    return current.sort_values(["flow", "period"])


def unreplaced_problems(runs: pd.DataFrame) -> pd.DataFrame:
    """For each flow and period, its latest run (a refused run changes nothing and is
    passed over) when that run failed, crashed, was cancelled or published in part."""
    if runs.empty:
        return runs
    considered = runs[~runs["state"].str.startswith(("Refused", "Skipped"))]
    latest = considered.groupby(["flow", "period"], sort=False).tail(1)
    return latest[latest["state"].str.startswith(UNREPLACED_STATES)].sort_values(["flow", "period"])


def source_freshness(engine: Engine) -> pd.DataFrame:
    """The latest extract of each source table: when it was read, its rows and checksum."""
    files = read_sql(engine, "select f.table_name, f.source_name, f.row_count, f.sha256, f.run_id, "
                             "r.started_at from extract_files f join runs r on r.run_id = f.run_id")
    if files.empty:
        return files
    files["started_at"] = pd.to_datetime(files["started_at"], utc=True)
    return files.sort_values("started_at").groupby("table_name").tail(1).sort_values("table_name")


def current_version_lines(current: pd.DataFrame, live_periods: int = 3) -> list[str]:
    """Every monthly, quarterly, six-monthly and annual period; the latest few days of the
    daily and weekly lists."""
    if current.empty:
        return ["  no published version yet"]
    shown = pd.concat([group if flow in versions.PERIOD_FLOWS else group.tail(live_periods)
                       for flow, group in current.groupby("flow", sort=True)])
    return [f"  {row.flow:<8} {row.period:<11} run {row.run_id}  {row.state:<32} "
            f"since {_london(row.switched_at)} ({row.trigger})" for row in shown.itertuples()]


def problem_lines(problems: pd.DataFrame) -> list[str]:
    if problems.empty:
        return ["  none: every period's latest run published in full"]
    lines = []
    for row in problems.itertuples():
        lines += wrapped(f"  {row.flow:<8} {row.period:<11} {row.state:<32} run {row.run_id} "
                         f"started {_london(row.started_at)}", _text(row.message))
    return lines


def revised_trend_lines(notices: pd.DataFrame) -> list[str]:
    if notices.empty:
        return ["  none"]
    return [line for row in notices.itertuples() for line in wrapped(
        f"  {row.period} outputs (run {row.run_id}) show {row.revised_period} as first published",
        f"{row.revised_period} revised on {row.revised_on:%Y-%m-%d} (run {row.revised_by}); "
        f"figures that differ in their trend: {row.kpis}. Re-run {row.period} to refresh them "
        f"(`qaloop rerun {row.flow} --from {row.period} --to {row.period} ...`).")]


def cadence_lines(cadences: list[Cadence], runs: pd.DataFrame, now: datetime) -> list[str]:
    """Every cadence of deployments/schedules.yml: its last run (from the ledger: period,
    state, when) and its next scheduled time (from its schedule; `qaloop serve` or a
    worker must be serving it, as the Prefect section says)."""
    lines = [f"  {'cadence':<24} {'flow':<12} {'last run':<52} next run (Europe/London)"]
    for cadence in cadences:
        flow_name = cadence.flow_name.replace("_", "-")
        ran = runs[runs["flow"] == flow_name] if not runs.empty else runs
        last = ran.iloc[-1] if len(ran) else None
        last_text = (f"{last['period']} {_text(last['state'])[:22]} {_london(last['started_at'])}"
                     if last is not None else "never run")
        next_text = _london(next_runs(cadence, now)[0]) if cadence.enabled \
            else f"not scheduled ({cadence.note or 'disabled'})"
        lines.append(f"  {cadence.name:<24} {flow_name:<12} {last_text:<52} {next_text}")
    return lines


def status_text(engine: Engine, now: datetime | None = None, views: list[DeploymentView] | None = None,
                prefect_error: str | None = "PREFECT_API_URL is not set",
                housekeeping: list[str] | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    runs = ledger(engine)
    cadences = load_cadences()
    lines = ["Prefect deployments", *deployment_lines(views, cadences, now, prefect_error), ""]
    lines += ["Cadences (deployments/schedules.yml): last run and next scheduled run",
              *cadence_lines(cadences, runs, now), ""]
    if housekeeping:
        lines += ["Housekeeping done now", *[f"  {line}" for line in housekeeping], ""]
    lines += ["Current version of each period", *current_version_lines(current_versions(engine)), ""]
    lines += ["Needing attention (no later run of the period replaced them)",
              *problem_lines(unreplaced_problems(runs)), ""]
    lines += ["Revised trends (current outputs showing a figure since revised)",
              *revised_trend_lines(versions.revised_trend_notices(engine)), ""]
    lines.append("Source freshness (latest extract of each table)")
    fresh = source_freshness(engine)
    if fresh.empty:
        lines.append("  no extracts recorded yet")
    for row in fresh.itertuples(index=False):
        age = (pd.Timestamp(now) - row.started_at).days
        lines.append(f"  {row.table_name:<28} {int(row.row_count):>8} rows  read {_london(row.started_at)}"
                     f" ({age} d ago)  sha256 {row.sha256[:12]}  from {row.source_name}")
    return "\n".join(lines)


def problems(engine: Engine, views: list[DeploymentView] | None, prefect_error: str | None) -> list[str]:
    """One line per thing someone must be told about: Prefect unreachable, a deployment
    nothing serves, a Late run, a period whose latest run failed."""
    found = []
    if views is None:
        found.append(f"Prefect server not reachable: {prefect_error}")
    for view in views or []:
        if view.status != "READY" and not view.paused:
            found.append(f"{view.name} is {view.status}: nothing is serving it (is `qaloop serve` running?)")
        found += [f"{view.name}: flow run {name} due {_london(expected)} is Late" for name, expected in view.late]
    for row in unreplaced_problems(ledger(engine)).itertuples():
        if not row.state.startswith("Partly published"):
            found.append(f"{row.flow} {row.period}: {row.state} (run {row.run_id})")
    return found


# --- what `qaloop status` does besides reading ----------------------------------------

def housekeeping(engine: Engine) -> list[str]:
    """Reconcile runs killed outright and settle switches they left half-done (each only
    when its period's lock is free: no run of it is going on)."""
    from flows.runner import reconcile_dead_runs
    from tasks.operations import locks
    from tasks.warehouse import database as warehouse
    lines = reconcile_dead_runs(engine)
    for flow, period in sorted({(s.flow, s.period) for s in warehouse.pending_switches(engine)}):
        try:
            with locks.hold(engine, locks.run_lock_name(flow, period), 0):
                lines += versions.recover_switches(engine, flow, period)
        except locks.LockTimeout:
            lines.append(f"{flow} {period}: a switch is under way (its run holds the lock)")
    return lines


def prefect_view_or_error(now: datetime | None = None) -> tuple[list[DeploymentView] | None, str | None]:
    from prefect.settings import PREFECT_API_URL
    if not PREFECT_API_URL.value():
        return None, "PREFECT_API_URL is not set"
    try:
        return prefect_view(now or datetime.now(timezone.utc)), None
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return None, f"{PREFECT_API_URL.value()}: {first}"


def alert_once(found: list[str], settings) -> str:
    """Send the problems through the configured channels, unless exactly these were
    already sent (remembered in the data directory): an alert per change, not per check."""
    from tasks.operations import notify
    text = "\n".join(found)
    memory = settings.data_dir / "status-alert.txt"
    if memory.is_file() and memory.read_text(encoding="utf-8") == text:
        return "already told (unchanged since the last alert)"
    body = "\n".join([*found, "", "Run `qaloop status` for the detail; deployments/README.md "
                                  "(Operating it day to day) says what to do."])
    outcomes = notify.send(settings.notifications, f"qaloop: {len(found)} problem(s) need attention", body)
    if any(o.endswith(": sent") for o in outcomes):
        memory.parent.mkdir(parents=True, exist_ok=True)
        memory.write_text(text, encoding="utf-8")
    return "; ".join(outcomes)


def versions_text(engine: Engine, flow: str, period: str) -> str:
    """`qaloop versions`: every run of one period, which one is current, and each switch."""
    from tasks.warehouse import database as warehouse
    runs = read_sql(engine, "select run_id, trigger, started_at, state, reason, message from runs "
                            "where flow = :flow and period = :period order by started_at",
                    {"flow": flow, "period": period})
    current = warehouse.current_run_id(engine, flow, period)
    lines = [f"{flow} {period}: {len(runs)} runs; current version: {current or 'none published'}"]
    for row in runs.itertuples():
        mark = "*" if row.run_id == current else " "
        lines += wrapped(f" {mark} {row.run_id}  {_london(row.started_at)}  {row.trigger:<9} {row.state}",
                         "; ".join(t for t in (_text(row.reason) and f"reason: {_text(row.reason)}",
                                               _text(row.message)) if t))
    switches = warehouse.switch_history(engine, flow, period)
    if not switches.empty:
        lines.append("switches of the published folder:")
        for row in switches.itertuples():
            lines += wrapped(f"  {row.kind:<8} {row.from_run_id or 'none'} -> {row.to_run_id}  {row.state}",
                             "; ".join(t for t in (_text(row.reason), _text(row.note)) if t))
    return "\n".join(lines)
