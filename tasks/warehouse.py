"""The warehouse: SQLite by default, PostgreSQL by URL, through SQLAlchemy.

Two kinds of table live here:
- result, ledger and calendar tables, created and upgraded by Alembic migrations
  (`qaloop/migrations/versions`);
- source tables, one per extract table, mirroring the contract in `tasks.sources`.
  They are staging copies refilled by every load, so they are rebuilt to the contract
  whenever their columns differ from it (nothing in them outlives the next load).

Every write that replaces something happens inside one transaction, so a failure
half-way leaves the previous good version in place.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from tasks.calendar import build_calendar
from tasks.sources import TABLES, SourceTable

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "qaloop" / "migrations"
COLUMN_TYPES = {"id": sa.String(64), "text": sa.Text, "date": sa.Date,
                "flag": sa.String(20), "number": sa.Float}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url, future=True)


def upgrade_schema(engine: Engine) -> None:
    """Apply every Alembic migration, fill the calendar, and build the source tables."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    _fill_calendar(engine)
    _build_source_tables(engine)


def _fill_calendar(engine: Engine) -> None:
    try:
        with engine.begin() as connection:
            if connection.execute(sa.text("select count(*) from calendar")).scalar():
                return
            insert_frame(connection, table("calendar", connection), build_calendar())
    except sa.exc.IntegrityError:
        pass  # another process filled it first, in its own single transaction


def source_table_definition(source: SourceTable, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(source.name, metadata,
                    *[sa.Column(c.name, COLUMN_TYPES[c.type]) for c in source.columns])


def _build_source_tables(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    metadata = sa.MetaData()
    for source in TABLES.values():
        wanted = source_table_definition(source, metadata)
        if inspector.has_table(source.name):
            existing = [c["name"] for c in inspector.get_columns(source.name)]
            if existing == source.column_names:
                continue
            wanted.drop(engine)
        wanted.create(engine)


def table(name: str, bind: Engine | Connection) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def insert_frame(connection: Connection, target: sa.Table, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
    connection.execute(target.insert(), records)


def _plain(value):
    """pandas/numpy scalars to plain Python values; missing values to None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def replace_source_tables(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    """Replace the named source tables with these rows, all in one transaction."""
    with engine.begin() as connection:
        for name, frame in frames.items():
            target = table(name, connection)
            connection.execute(target.delete())
            insert_frame(connection, target, frame[[c.name for c in target.columns]])


def read_sql(engine: Engine | Connection, sql: str, params: dict | None = None) -> pd.DataFrame:
    """Run one SQL text with bound parameters (dates bound as SQL DATE values)."""
    statement = sa.text(strip_comment_lines(sql))
    params = dict(params or {})
    used = set(statement.compile().params)
    bound = {k: v for k, v in params.items() if k in used}
    statement = statement.bindparams(*[sa.bindparam(k, type_=sa.Date)
                                       for k, v in bound.items() if isinstance(v, date)])
    if isinstance(engine, Engine):
        with engine.connect() as connection:
            result = connection.execute(statement, bound)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    result = engine.execute(statement, bound)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def strip_comment_lines(sql: str) -> str:
    """Drop whole-line `--` comments, whose `:name` mentions are not bind parameters."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


# --- run ledger -------------------------------------------------------------------

def utcnow() -> datetime:
    """Wall-clock time for the run ledger only; never used inside a computation."""
    return datetime.now(timezone.utc)


def start_run(engine: Engine, run_id: str, flow: str, period: str, trigger: str,
              code_version: str, source: str, reason: str | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(table("runs", connection).insert(), [{
            "run_id": run_id, "flow": flow, "period": period, "trigger": trigger,
            "started_at": utcnow(), "state": "Running", "code_version": code_version,
            "source": source, "reason": reason,
        }])


def finish_run(engine: Engine, run_id: str, state: str, message: str | None = None,
               outputs: list[str] | None = None) -> None:
    with engine.begin() as connection:
        _end_ledger_row(connection, run_id, state, message, outputs)


def _end_ledger_row(connection: Connection, run_id: str, state: str, message: str | None,
                    outputs: list[str] | None) -> None:
    runs = table("runs", connection)
    connection.execute(runs.update().where(runs.c.run_id == run_id).values(
        state=state, message=message, finished_at=utcnow(), outputs=json.dumps(outputs or [])))


def record_extracts(engine: Engine, run_id: str, manifest: list[dict]) -> None:
    checksums = {item["table_name"]: item["sha256"] for item in manifest}
    with engine.begin() as connection:
        insert_frame(connection, table("extract_files", connection),
                     pd.DataFrame([{**item, "run_id": run_id} for item in manifest]))
        runs = table("runs", connection)
        connection.execute(runs.update().where(runs.c.run_id == run_id).values(
            extract_checksums=json.dumps(checksums, sort_keys=True)))


def store_results(engine: Engine, run_id: str, values: pd.DataFrame, records: pd.DataFrame) -> None:
    """Store one run's results (replacing that run's earlier rows) in one transaction.
    They become the period's current figures only when the run completes
    (`complete_run`), so a run that fails afterwards changes nothing readers see."""
    with engine.begin() as connection:
        for name, frame in (("kpi_values", values), ("kpi_records", records)):
            target = table(name, connection)
            connection.execute(target.delete().where(target.c.run_id == run_id))
            insert_frame(connection, target, frame.assign(run_id=run_id))


def complete_run(engine: Engine, run_id: str, flow: str, period: str, state: str, message: str | None,
                 outputs: list[str]) -> None:
    """In one transaction: the run becomes the current version of its flow and period,
    and its ledger row ends in `state` (Completed, or published in part)."""
    with engine.begin() as connection:
        current = table("current_runs", connection)
        connection.execute(current.delete().where(
            (current.c.flow == flow) & (current.c.period == period)))
        connection.execute(current.insert(), [{"flow": flow, "period": period,
                                               "run_id": run_id, "switched_at": utcnow()}])
        _end_ledger_row(connection, run_id, state, message, outputs)


def current_run_id(engine: Engine, flow: str, period: str) -> str | None:
    with engine.connect() as connection:
        current = table("current_runs", connection)
        return connection.execute(sa.select(current.c.run_id).where(
            (current.c.flow == flow) & (current.c.period == period))).scalar()


def run_values(engine: Engine, run_id: str) -> pd.DataFrame:
    return read_sql(engine, "select * from kpi_values where run_id = :run_id", {"run_id": run_id})


def run_records(engine: Engine, run_id: str) -> pd.DataFrame:
    return read_sql(engine, "select * from kpi_records where run_id = :run_id", {"run_id": run_id})
