"""One ledgered run of a flow for a period, shared by the daily, weekly and monthly flows:

1. a `runs` row (state Running) records who ran what, from which source, and why;
2. a per-(flow, period) lock: a second run of the same flow and period waits (ledger
   state "Waiting: locked", and a log line naming the run it waits for) and, after
   `lock_wait_seconds`, stops (state "Refused: locked") without changing anything;
3. the flow's work writes into its own run folder (tasks/versions.py) and, on success,
   the published folder is switched to it atomically, then (one transaction) the
   warehouse's current version of the period and the ledger row;
4. the ledger row ends Completed, Failed (with the cause), "Failed: data quality"
   (an error carrying `ledger_state`, for the data-quality checks) or Crashed;
5. on a failed or crashed flow run, the Prefect hooks `notify_failure` send a
   notification through the configured channels (tasks/notify.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from prefect.logging import get_logger, get_run_logger
from prefect.runtime import flow_run as runtime_flow_run
from sqlalchemy.engine import Engine

from qaloop.settings import Settings, code_version, load_settings, redact_url, refuse_password_in
from tasks import locks, notify, versions, warehouse
from tasks.publish_csv import write_atomically
from tasks.calendar import bank_holidays
from tasks.pipeline import warehouse_engine

LONDON = ZoneInfo("Europe/London")
DEFAULT_LOCK_WAIT_SECONDS = 600
COMPLETED, FAILED, CRASHED = "Completed", "Failed", "Crashed"
WAITING, REFUSED, SKIPPED = "Waiting: locked", "Refused: locked", "Skipped: not a working day"
DATA_QUALITY_FAILED = "Failed: data quality"
# published, with the KPIs reading a table that failed a critical rule shown as last
# published (tasks/withheld.py)
PARTLY_PUBLISHED = "Partly published: data quality"

_settings_of_run: dict[str, Settings] = {}  # for the failure hooks, which get no arguments
# tasks.warehouse.upgrade_schema is not safe to run twice at once on a new warehouse
# (both fill the calendar): runs starting together in one process take turns here.
_schema_upgrade = threading.Lock()


class RunRefused(RuntimeError):
    """Another run of the same flow and period held the lock for too long."""


class DataQualityFailed(RuntimeError):
    """Raise (or raise any error with a `ledger_state` attribute) to end the run with
    that ledger state."""

    ledger_state = DATA_QUALITY_FAILED


@dataclass
class RunContext:
    run_id: str
    flow: str
    period: str
    engine: Engine
    engine_url: str
    settings: Settings
    source: str
    reason: str | None
    work_dir: Path  # this run's own output folder
    completion_state: str = COMPLETED  # or PARTLY_PUBLISHED
    completion_message: str | None = None  # what was withheld, and why


def london_today() -> date:
    return datetime.now(LONDON).date()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year, day.year)


def migrated_engine(settings: Settings) -> Engine:
    with _schema_upgrade:
        return warehouse_engine(settings.resolved_warehouse_url)


def new_run_id() -> str:
    return str(runtime_flow_run.get_id() or uuid.uuid4())


def ledgered_run(flow: str, period: str, source: str, out: str, settings: Settings, trigger: str,
                 reason: str | None, work: Callable[[RunContext], list[str]],
                 lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS) -> dict:
    refuse_password_in(source)  # before anything records it
    run_id = new_run_id()
    _settings_of_run[run_id] = settings
    engine = migrated_engine(settings)
    warehouse.start_run(engine, run_id, flow, period, trigger, code_version(),
                        redact_url(str(source)), reason)
    logger = get_run_logger()

    def report_wait() -> None:
        message = (f"{flow} {period} is already being run by {_holder(engine, flow, period, run_id)}; "
                   f"this run waits up to {lock_wait_seconds:g} s for it to finish")
        logger.warning(message)
        _set_state(engine, run_id, WAITING, message)

    context = RunContext(run_id, flow, period, engine, settings.resolved_warehouse_url, settings,
                         str(source), reason, versions.run_dir(Path(out), flow, period, run_id))
    try:
        with locks.hold(engine, locks.run_lock_name(flow, period), lock_wait_seconds, report_wait):
            _set_state(engine, run_id, "Running", None)
            outputs = _work_then_publish(context, work, Path(out))
            warehouse.complete_run(engine, run_id, flow, period, context.completion_state,
                                   context.completion_message, outputs)
    except locks.LockTimeout:
        message = (f"refused: {flow} {period} was still being run by "
                   f"{_holder(engine, flow, period, run_id)} after {lock_wait_seconds:g} s; "
                   f"this run changed nothing")
        _record_end(engine, run_id, REFUSED, message)
        raise RunRefused(message) from None
    except BaseException as error:
        _record_end(engine, run_id, ledger_state_of(error), f"{type(error).__name__}: {error}")
        raise
    return {"run_id": run_id, "flow": flow, "period": period, "outputs": outputs,
            "published": str(versions.published_dir(Path(out), flow, period)),
            "state": context.completion_state, "message": context.completion_message}


SYNTHETIC_NOTICE = "SYNTHETIC_DATA.txt"


def _work_then_publish(context: RunContext, work, out: Path) -> list[str]:
    try:
        outputs = work(context)
        if context.settings.synthetic:  # beside kpi_values.csv and the other plain files
            outputs.append(str(_write_synthetic_notice(context.work_dir)))
        versions.switch_current(versions.published_dir(out, context.flow, context.period),
                                context.work_dir)
        return outputs
    except BaseException:
        versions.discard(context.work_dir)  # nothing of a failed run is published
        raise


def _write_synthetic_notice(folder: Path) -> Path:
    return write_atomically(folder / SYNTHETIC_NOTICE, (
        "SYNTHETIC DATA: every file in this folder was computed from a synthetic local "
        "authority made by qaloop's generator (tasks/synthetic.py), not from real "
        "children's records. For testing and demonstration only.\n"))


def ledger_state_of(error: BaseException) -> str:
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        return CRASHED
    return getattr(error, "ledger_state", FAILED)


def record_skipped(settings: Settings, flow: str, period: str, trigger: str, message: str) -> dict:
    engine = migrated_engine(settings)
    run_id = new_run_id()
    warehouse.start_run(engine, run_id, flow, period, trigger, code_version(), "", None)
    warehouse.finish_run(engine, run_id, SKIPPED, message)
    get_run_logger().info(message)
    return {"run_id": run_id, "flow": flow, "period": period, "outputs": [], "skipped": message}


def _set_state(engine: Engine, run_id: str, state: str, message: str | None) -> None:
    with engine.begin() as connection:
        runs = warehouse.table("runs", connection)
        connection.execute(runs.update().where(runs.c.run_id == run_id)
                           .values(state=state, message=message))


def _record_end(engine: Engine, run_id: str, state: str, message: str) -> None:
    """Best effort: with the warehouse itself down, the failure is still raised (and
    notified); only its ledger row stays Running."""
    try:
        warehouse.finish_run(engine, run_id, state, message)
    except Exception as error:
        get_logger("qaloop").error("could not record %s for run %s in the ledger: %s",
                                   state, run_id, error)


def _holder(engine: Engine, flow: str, period: str, run_id: str) -> str:
    with engine.connect() as connection:
        runs = warehouse.table("runs", connection)
        row = connection.execute(
            sa.select(runs.c.run_id, runs.c.started_at, runs.c.trigger)
            .where((runs.c.flow == flow) & (runs.c.period == period) & (runs.c.run_id != run_id)
                   & (runs.c.state == "Running"))
            .order_by(runs.c.started_at.desc()).limit(1)).first()
    if row is None:
        return "another run"
    return f"run {row.run_id} ({row.trigger}, started {row.started_at:%Y-%m-%d %H:%M:%S})"


# --- notification hooks ----------------------------------------------------------------

def notify_failure(flow, flow_run, state) -> None:
    """Prefect on_failure / on_crashed hook: tell people at once, with the cause."""
    settings = _settings_of_run.pop(str(flow_run.id), None) or _settings_from(flow_run.parameters)
    parameters = flow_run.parameters or {}
    period = parameters.get("period") or parameters.get("as_at") or parameters.get("first") or ""
    outcome = state.name.upper()
    if DataQualityFailed.__name__ in (state.message or ""):
        outcome = "FAILED ON DATA QUALITY"  # the alerts name the rules; nothing was published
    subject = f"qaloop: {flow.name} {period} run {outcome}".replace("  ", " ")
    body = "\n".join([
        f"Flow: {flow.name}", f"Period: {period or '(default)'}",
        f"Flow run: {flow_run.name} ({flow_run.id})", f"State: {state.name}",
        f"Cause: {state.message}", "",
        "Nothing new was published for this run; the previous version stays current.",
        "See `qaloop status` and the Prefect UI for the run's logs.",
    ])
    outcomes = notify.send(settings.notifications, subject, body)
    get_logger("qaloop").info("failure notification: %s", "; ".join(outcomes))


def _settings_from(parameters: dict | None) -> Settings:
    try:
        return load_settings((parameters or {}).get("config"))
    except Exception:
        return load_settings(None)
