"""One ledgered run of a flow for a period, shared by the daily, weekly and monthly flows:

1. a `runs` row (state Running) records who ran what, from which source, and why;
2. a per-(flow, period) lock: a second run of the same flow and period waits (ledger
   state "Waiting: locked", and a log line naming the run it waits for) and, after
   `lock_wait_seconds`, stops (state "Refused: locked") without changing anything;
3. before the work, under the lock: runs of this machine whose process is gone are
   reconciled to Crashed, a switch of this period left half-done by a killed run is
   finished or undone, and run folders no published run owns are removed;
4. the flow's work writes into its own run folder (tasks/operations/versions.py) and, on success
   (and unless the flow run was cancelled meanwhile), the published folder is switched
   to it as one recoverable step (`versions.publish`: intent, switch, record);
5. the ledger row ends Completed, "Partly published: data quality", Failed (with the
   cause), "Failed: data quality" / "Failed: source unavailable" (an error carrying
   `ledger_state`), Cancelled or Crashed; the Prefect flow run of a partly published
   run ends Completed named "Partly published" with the message (`prefect_outcome`);
6. on a failed or crashed flow run, the Prefect hooks `notify_failure` send a
   notification through the configured channels (tasks/operations/notify.py).

The trigger in the ledger comes from the flow run: `schedule` for a run Prefect's
scheduler created, `manual` for one started by hand (UI, CLI, `qaloop run`), or what
the caller says (`backfill`).
"""

from __future__ import annotations

import re
import socket
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

from flows.infrastructure import process_alive
from tasks.core.settings import Settings, code_version, load_settings, redact_url, refuse_password_in
from tasks.operations import locks
from tasks.operations import notify
from tasks.operations import versions
from tasks.warehouse import database as warehouse
from tasks.publish.csv_files import write_atomically
from tasks.core.calendar import bank_holidays
from tasks.core.periods import Period
from tasks.operations.pipeline import warehouse_engine

LONDON = ZoneInfo("Europe/London")
DEFAULT_LOCK_WAIT_SECONDS = 600
COMPLETED, FAILED, CRASHED = "Completed", "Failed", "Crashed"
WAITING, REFUSED, SKIPPED = "Waiting: locked", "Refused: locked", "Skipped: not a working day"
DATA_QUALITY_FAILED = "Failed: data quality"
SOURCE_UNAVAILABLE = "Failed: source unavailable"
CANCELLED = "Cancelled"
ACTIVE_STATES = ("Running", WAITING)
# published, with the KPIs reading a table that failed a critical rule shown as last
# published (tasks/validate/withheld.py)
PARTLY_PUBLISHED = "Partly published: data quality"

@dataclass
class RunFacts:
    """What the failure hooks (which get no arguments of ours) need to know of a run."""
    settings: Settings
    period: str
    out: str


_facts_of_run: dict[str, RunFacts] = {}
# tasks.warehouse.database.upgrade_schema is not safe to run twice at once on a new warehouse
# (both fill the calendar): runs starting together in one process take turns here.
_schema_upgrade = threading.Lock()


class RunRefused(RuntimeError):
    """Another run of the same flow and period held the lock for too long."""


class DataQualityFailed(RuntimeError):
    """Raise (or raise any error with a `ledger_state` attribute) to end the run with
    that ledger state."""

    ledger_state = DATA_QUALITY_FAILED


class SourceUnavailable(RuntimeError):
    """The source database could not be read, after the retries (gone, refused, no login)."""

    ledger_state = SOURCE_UNAVAILABLE


class WarehouseUnavailable(RuntimeError):
    """The warehouse (and so the ledger) could not be reached: the detail stays in
    Prefect's flow run state and log."""


class RunCancelled(RuntimeError):
    """The flow run was cancelled (in Prefect) before its outputs were published."""

    ledger_state = CANCELLED


@dataclass
class RunContext:
    run_id: str
    flow: str
    period: Period
    engine: Engine
    engine_url: str
    settings: Settings
    source: str
    reason: str | None
    work_dir: Path  # this run's own output folder
    completion_state: str = COMPLETED  # or PARTLY_PUBLISHED
    completion_message: str | None = None  # what was withheld, and why
    revision_note: str | None = None  # first publication, no figure changed, N revised


def london_today() -> date:
    return datetime.now(LONDON).date()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year, day.year)


def migrated_engine(settings: Settings) -> Engine:
    try:
        with _schema_upgrade:
            return warehouse_engine(settings.resolved_warehouse_url)
    except sa.exc.SQLAlchemyError as error:
        raise WarehouseUnavailable(
            f"the warehouse {redact_url(settings.resolved_warehouse_url)} cannot be used: "
            f"{first_line(error)}") from error


def first_line(error: BaseException) -> str:
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or [""])[0]


def run_tags(flow: str, la_code: str, trigger: str) -> list[str]:
    return [f"la:{la_code}", f"cadence:{flow}", f"trigger:{trigger}"]


def name_flow_run(flow: str, period: str, la_code: str, trigger: str) -> None:
    """Name the Prefect flow run by flow and period (`monthly 2024-03`) and tag it with the
    LA, the cadence and the trigger, so that the UI's runs page reads as a log."""
    flow_run_id = runtime_flow_run.get_id()
    if flow_run_id is None:
        return
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        tags = set(client.read_flow_run(uuid.UUID(flow_run_id)).tags)
        client.update_flow_run(uuid.UUID(flow_run_id), name=f"{flow} {period}",
                               tags=sorted(tags | set(run_tags(flow, la_code, trigger))))


def new_run_id() -> str:
    return str(runtime_flow_run.get_id() or uuid.uuid4())


def resolve_trigger(explicit: str | None) -> str:
    """`explicit` when the caller names one (backfill, manual); otherwise from the flow
    run: `schedule` when Prefect's scheduler created it, `manual` when someone started it
    (a deployment run from the UI or `prefect deployment run`, or a direct call)."""
    if explicit:
        return explicit
    from prefect.context import FlowRunContext
    context = FlowRunContext.get()
    flow_run = context.flow_run if context else None
    return "schedule" if flow_run is not None and flow_run.auto_scheduled else "manual"


def ledgered_run(flow: str, run_period: Period, source: str, out: str, settings: Settings, trigger: str | None,
                 reason: str | None, work: Callable[[RunContext], list[str]],
                 lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS) -> dict:
    refuse_password_in(source)  # before anything records it
    period = run_period.id  # the ledger's, the lock's and the folders' key
    run_id = new_run_id()
    _facts_of_run[run_id] = RunFacts(settings, period, str(out))
    engine = migrated_engine(settings)
    reconcile_dead_runs(engine)
    trigger = resolve_trigger(trigger)
    name_flow_run(flow, period, settings.la_code, trigger)
    warehouse.start_run(engine, run_id, flow, period, trigger, code_version(),
                        redact_url(str(source)), reason)
    logger = get_run_logger()

    def report_wait() -> None:
        message = (f"{flow} {period} is already being run by {_holder(engine, flow, period, run_id)}; "
                   f"this run waits up to {lock_wait_seconds:g} s for it to finish")
        logger.warning(message)
        _set_state(engine, run_id, WAITING, message)

    context = RunContext(run_id, flow, run_period, engine, settings.resolved_warehouse_url, settings,
                         str(source), reason, versions.run_dir(Path(out), flow, period, run_id))
    try:
        with locks.hold(engine, locks.run_lock_name(flow, period), lock_wait_seconds, report_wait):
            _set_state(engine, run_id, "Running", None)
            for line in _tidy_period(engine, flow, period, Path(out), run_id):
                logger.warning(line)
            outputs = _work_then_publish(context, work, Path(out))
    except locks.LockTimeout:
        message = (f"refused: {flow} {period} was still being run by "
                   f"{_holder(engine, flow, period, run_id)} after {lock_wait_seconds:g} s; "
                   f"this run changed nothing")
        _record_end(engine, run_id, REFUSED, message)
        raise RunRefused(message) from None
    except BaseException as error:
        _record_end(engine, run_id, ledger_state_of(error, run_id), f"{type(error).__name__}: {error}")
        raise
    _facts_of_run.pop(run_id, None)  # kept only for the failure hooks
    return {"run_id": run_id, "flow": flow, "period": period, "outputs": outputs,
            "published": str(versions.published_dir(Path(out), flow, period)),
            "state": context.completion_state, "message": context.completion_message,
            "revision_note": context.revision_note}


SYNTHETIC_NOTICE = "SYNTHETIC_DATA.txt"


def _work_then_publish(context: RunContext, work, out: Path) -> list[str]:
    try:
        outputs = work(context)
        if context.settings.synthetic:  # beside kpi_values.csv and the other plain files
            outputs.append(str(_write_synthetic_notice(context.work_dir)))
        stop_if_cancelled(context.run_id)
    except BaseException:
        versions.discard(context.work_dir)  # nothing of a failed run is published
        raise
    period = context.period.id
    versions.publish(context.engine, context.flow, period, context.run_id,
                     versions.published_dir(out, context.flow, period), context.work_dir,
                     context.completion_state, context.completion_message, outputs)
    return outputs


def _tidy_period(engine: Engine, flow: str, period: str, out: Path, run_id: str) -> list[str]:
    """Under the period's lock: finish or undo a switch a killed run left half-done, and
    remove run folders that no published run owns (left by runs killed outright)."""
    lines = versions.recover_switches(engine, flow, period)
    keep = _published_run_ids(engine, flow, period) | {run_id}
    folder = versions.run_dir(out, flow, period, run_id).parent
    for leftover in sorted(folder.iterdir()) if folder.is_dir() else []:
        if leftover.name not in keep and not leftover.name.startswith("legacy-"):
            versions.discard(leftover)
            lines.append(f"removed the partial folder of run {leftover.name} (it never published)")
    return lines


def _published_run_ids(engine: Engine, flow: str, period: str) -> set[str]:
    with engine.connect() as connection:
        runs = warehouse.table("runs", connection)
        rows = connection.execute(sa.select(runs.c.run_id, runs.c.state).where(
            (runs.c.flow == flow) & (runs.c.period == period)))
        return {row.run_id for row in rows if versions.was_published(row.state)}


def stop_if_cancelled(run_id: str) -> None:
    """Ask Prefect whether this flow run was cancelled: the serving process's own
    cancellation watcher can miss it (e.g. after a Prefect server restart), and a
    cancelled run must not publish."""
    state = _prefect_state_type(run_id)
    if state in ("CANCELLING", "CANCELLED"):
        raise RunCancelled("cancelled in Prefect before its outputs were published; nothing changed")


def _prefect_state_type(run_id: str) -> str | None:
    if runtime_flow_run.get_id() is None:
        return None
    try:
        from prefect.client.orchestration import get_client
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(uuid.UUID(run_id)).state
        return state.type.value if state else None
    except Exception as error:  # the Prefect API down: the run goes on, and says so
        get_logger("qaloop").warning("could not read the flow run's state from Prefect: %s", error)
        return None


def prefect_outcome(result: dict):
    """What the flow returns: its result, or for a partly published run a Completed state
    named "Partly published" carrying the message, so that Prefect shows it."""
    if result.get("state") != PARTLY_PUBLISHED:
        return result
    from prefect.states import Completed
    return Completed(name="Partly published", message=result.get("message"), data=result)


def _write_synthetic_notice(folder: Path) -> Path:
    return write_atomically(folder / SYNTHETIC_NOTICE, (
        "SYNTHETIC DATA: every file in this folder was computed from a synthetic local "
        "authority made by qaloop's generator (qaloop/synthetic.py), not from real "
        "children's records. For testing and demonstration only.\n"))


def ledger_state_of(error: BaseException, run_id: str | None = None) -> str:
    from prefect.exceptions import TerminationSignal
    if isinstance(error, TerminationSignal):  # SIGTERM: Prefect's cancellation, or a shutdown
        cancelled = run_id and _prefect_state_type(run_id) in ("CANCELLING", "CANCELLED")
        return CANCELLED if cancelled else CRASHED
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        return CRASHED
    return getattr(error, "ledger_state", FAILED)


# --- runs killed outright ----------------------------------------------------------------

def reconcile_dead_runs(engine: Engine) -> list[str]:
    """A ledger row still Running (or Waiting) whose process on this machine is gone and
    whose lock is free was killed outright (kill -9, power cut, OOM): record it Crashed.
    Rows of other machines are left (their process cannot be checked from here)."""
    lines = []
    host = socket.gethostname()
    for row in _active_rows(engine):
        if row.host != host or row.pid is None or process_alive(row.pid):
            continue
        try:
            with locks.hold(engine, locks.run_lock_name(row.flow, row.period), 0):
                message = (f"killed outright: process {row.pid} on {host} is gone and the run's lock "
                           "is free (reconciled); nothing of it was published")
                warehouse.finish_run(engine, row.run_id, CRASHED, message)
        except locks.LockTimeout:
            continue
        lines.append(f"{row.flow} {row.period} run {row.run_id}: Crashed ({message})")
    return lines


def _active_rows(engine: Engine) -> list:
    with engine.connect() as connection:
        runs = warehouse.table("runs", connection)
        return list(connection.execute(sa.select(runs).where(runs.c.state.in_(ACTIVE_STATES))))


def record_skipped(settings: Settings, flow: str, run_period: Period, trigger: str | None,
                   message: str) -> dict:
    period = run_period.id
    engine = migrated_engine(settings)
    run_id = new_run_id()
    warehouse.start_run(engine, run_id, flow, period, resolve_trigger(trigger), code_version(), "", None)
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
    """Prefect on_failure / on_crashed hook: tell people at once what happened, to which
    period, where to look, and what to do next."""
    facts = _facts_of_run.pop(str(flow_run.id), None)
    parameters = flow_run.parameters or {}
    settings = facts.settings if facts else _settings_from(parameters)
    period = (facts.period if facts else None) or parameters.get("period") or parameters.get("as_at") \
        or parameters.get("first") or "(period not resolved: the run stopped before choosing it)"
    subject, body = failure_message(flow.name, period, flow_run.id, flow_run.name, state.name,
                                    state.message or "", settings, facts.out if facts else "")
    outcomes = notify.send(settings.notifications, subject, body)
    get_logger("qaloop").info("failure notification: %s", "; ".join(outcomes))


def failure_message(flow: str, period: str, flow_run_id, flow_run_name: str, state: str, cause: str,
                    settings: Settings, out: str) -> tuple[str, str]:
    """The subject and body of a failure notification."""
    outcome = "FAILED ON DATA QUALITY" if DataQualityFailed.__name__ in cause else state.upper()
    url = notify.prefect_run_url(flow_run_id)
    docs = _data_docs_link(cause, out, settings.published_url)
    body = [f"Flow: {flow}", f"Period: {period}", f"State: {state}",
            f"Flow run: {flow_run_name} ({flow_run_id})",
            f"Prefect: {url or 'no Prefect server UI (a temporary local server was used)'}",
            f"Cause: {cause}"]
    if docs:
        body.append(f"Data Docs: {docs}")
    body += ["", "Nothing new was published for this run; the previous version stays current.",
             f"What to do next: {next_step(flow, period, cause)}",
             "`qaloop status` shows every period's current version and what failed."]
    return f"qaloop: {flow} {period} run {outcome}", "\n".join(body)


def next_step(flow: str, period: str, cause: str) -> str:
    rerun = f"qaloop run {flow} {'--period' if flow == 'monthly' else '--as-at'} {period} ..."
    if DataQualityFailed.__name__ in cause:
        return (f"read the data-quality alerts and the Data Docs, have the extract corrected, then "
                f"`{rerun}` (or let the next scheduled run pick it up)")
    if SourceUnavailable.__name__ in cause or "ExtractError" in cause:
        return f"check that the source (drop folder or database) is there and readable, then `{rerun}`"
    if WarehouseUnavailable.__name__ in cause:
        return f"check that the warehouse database is up and its login works, then `{rerun}`"
    return f"read the run's log in Prefect (link above), fix the cause, then `{rerun}`"


def _data_docs_link(cause: str, out: str, published_url: str) -> str | None:
    found = re.search(r"Data Docs: (\S+)", cause)
    if not found or found.group(1) == "None":
        return None
    return notify.published_link(found.group(1).rstrip("."), out or ".", published_url)


def _settings_from(parameters: dict | None) -> Settings:
    try:
        return load_settings((parameters or {}).get("config"))
    except Exception:
        return load_settings(None)
