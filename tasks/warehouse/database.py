"""The warehouse: SQLite by default, PostgreSQL by URL, through SQLAlchemy.

Two kinds of table live here:
- result, ledger and calendar tables, created and upgraded by Alembic migrations
  (`tasks/warehouse/migrations/versions`);
- source tables, one per extract table, mirroring the contract in `tasks.core.sources`.
  They are staging copies refilled by every load, so they are rebuilt to the contract
  whenever their columns differ from it (nothing in them outlives the next load).

Every write that replaces something happens inside one transaction, so a failure
half-way leaves the previous good version in place.
"""

from __future__ import annotations

import json
import math
import os
import socket
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from tasks.core.calendar import build_calendar
from tasks.core.sources import TABLES, SourceTable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
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
    """The table of one extract, with an index on each of its `id` columns: the KPI
    queries join on them (a child's episodes, a plan's visits), and without an index a
    join of two large tables is a scan per row (SAF21 took 18 s of a 50,000-child month)."""
    return sa.Table(source.name, metadata,
                    *[sa.Column(c.name, COLUMN_TYPES[c.type]) for c in source.columns],
                    *[sa.Index(f"ix_{source.name}_{name}", name) for name in source.columns_of_type("id")])


def _build_source_tables(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    metadata = sa.MetaData()
    for source in TABLES.values():
        wanted = source_table_definition(source, metadata)
        if inspector.has_table(source.name):
            existing = [c["name"] for c in inspector.get_columns(source.name)]
            if existing == source.column_names:
                for index in wanted.indexes:  # a warehouse built before the indexes
                    index.create(engine, checkfirst=True)
                continue
            wanted.drop(engine)
        wanted.create(engine)


def table(name: str, bind: Engine | Connection) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def insert_frame(connection: Connection, target: sa.Table, frame: pd.DataFrame) -> None:
    """Insert the rows in the connection's transaction, by the driver's bulk path:
    COPY on PostgreSQL, one prepared statement over every row on SQLite. Each value is
    stored as SQLAlchemy's own insert would store it (its type's bind conversion)."""
    if frame.empty:
        return
    columns = [target.c[name] for name in frame.columns]
    dialect = connection.dialect
    values = [_column_values(frame[column.name], column, dialect) for column in columns]
    rows = list(zip(*values))
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql":
        with driver.cursor() as cursor:
            with cursor.copy(_copy_statement(target, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
    elif dialect.name == "sqlite":
        names = ", ".join(_quoted(column.name) for column in columns)
        marks = ", ".join("?" for _ in columns)
        driver.cursor().executemany(f"insert into {_quoted(target.name)} ({names}) values ({marks})", rows)
    else:
        connection.execute(target.insert(), [dict(zip(frame.columns, row)) for row in rows])


def _copy_statement(target: sa.Table, columns: list[sa.Column]):
    from psycopg import sql
    return sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(target.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


PLAIN_TYPES = frozenset({str, int, float, bool, date, datetime, type(None)})


def _column_values(series: pd.Series, column: sa.Column, dialect) -> list:
    """One column's values as plain Python values (missing ones None), an Integer
    column's whole floats as ints (COPY takes no "2.0" for an integer), then through
    the column type's bind conversion (SQLite's date text)."""
    values = _plain_values(series)
    if isinstance(column.type, sa.Integer):
        values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    process = dialect.type_descriptor(column.type).bind_processor(dialect)  # the dialect's own type
    if process is None:
        return values
    if _only_dates(values):  # a date column holds few distinct days: convert each once
        converted = {day: process(day) for day in set(values) - {None}} | {None: None}
        return list(map(converted.__getitem__, values))
    return [None if value is None else process(value) for value in values]


def _plain_values(series: pd.Series) -> list:
    values = series.tolist()
    if set(map(type, values)) <= PLAIN_TYPES - {float}:
        return values  # no float, so no NaN: a missing value is already None
    values = series.astype(object)
    values = values.where(values.notna(), None).tolist()
    return [value if type(value) in PLAIN_TYPES else _plain(value) for value in values]


def _only_dates(values: list) -> bool:
    """Dates and missing values only (not datetimes, whose bind text differs)."""
    return set(map(type, values)) <= {date, type(None)}


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


def replace_source_tables(engine: Engine, frames: dict[str, pd.DataFrame], run_id: str | None = None) -> int:
    """Replace the named source tables with these rows, all in one transaction, recorded
    in `source_loads` (by `run_id`, if a run loads them); returns the load's id."""
    with engine.begin() as connection, _load_cache(connection):
        for name, frame in frames.items():
            target = table(name, connection)
            connection.execute(target.delete())
            with _indexes_rebuilt(connection, target):
                insert_frame(connection, target, frame[[c.name for c in target.columns]])
        loads = table("source_loads", connection)
        return connection.execute(loads.insert().values(run_id=run_id, loaded_at=utcnow())
                                  .returning(loads.c.load_id)).scalar_one()


LOAD_CACHE_KIB = 128 * 1024


@contextmanager
def _load_cache(connection: Connection):
    """On SQLite, a page cache of LOAD_CACHE_KIB for the load (the default 2 MiB spills
    the pages of every table and index build to the file as they fill), then the
    connection's own again. Durability is untouched: the journal and fsync stay."""
    if connection.dialect.name != "sqlite":
        yield
        return
    size = connection.exec_driver_sql("pragma cache_size").scalar()
    connection.exec_driver_sql(f"pragma cache_size = -{LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"pragma cache_size = {int(size)}")


@contextmanager
def _indexes_rebuilt(connection: Connection, target: sa.Table):
    """On SQLite, drop the table's indexes for the block and build them again after it:
    building an index once over the loaded rows is faster than updating it row by row.
    Inside the load's transaction (SQLite's DDL is transactional), so a failed load keeps
    the previous indexes with the previous rows; the block must follow a write (the
    delete): pysqlite opens the transaction before DML only. Not on PostgreSQL: its COPY
    into indexed tables was as fast (paired, 50,000 children), and dropping an index
    would lock the table against readers until the load commits."""
    indexes = list(target.indexes) if connection.dialect.name == "sqlite" else []
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def latest_load_id(engine: Engine) -> int | None:
    """The last load of the source tables: what they hold now (with the tables it did not
    replace as earlier loads left them)."""
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.max(table("source_loads", connection).c.load_id))).scalar()


def record_run_load(engine: Engine, run_id: str, load_id: int) -> None:
    """The load a run's figures are computed from (runs sharing one load share its id)."""
    with engine.begin() as connection:
        runs = table("runs", connection)
        connection.execute(runs.update().where(runs.c.run_id == run_id).values(load_id=load_id))


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
            return _frame(connection.execute(statement, bound))
    return _frame(engine.execute(statement, bound))


def _frame(result) -> pd.DataFrame:
    # plain tuples: pandas probes each SQLAlchemy Row for attributes it lacks, which
    # cost more than the query on a large result
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


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
            "source": source, "reason": reason, "host": socket.gethostname(), "pid": os.getpid(),
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
            stored = [c for c in frame.columns if c in target.c.keys()]  # not a list's extra columns
            insert_frame(connection, target, frame[stored].assign(run_id=run_id))


def record_switch_intent(engine: Engine, flow: str, period: str, kind: str, to_run_id: str,
                         published: Path, target: Path, reason: str | None = None,
                         run_state: str | None = None, run_message: str | None = None,
                         outputs: list[str] | None = None) -> int:
    """Written BEFORE the published folder is switched: a run killed between the switch
    and `settle_switch` leaves this row `intended`, and the next run of the period (or
    `qaloop status`) finishes or undoes it (tasks/operations/versions.py `recover_switches`)."""
    with engine.begin() as connection:
        switches = table("version_switches", connection)
        current = table("current_runs", connection)
        from_run_id = connection.execute(sa.select(current.c.run_id).where(
            (current.c.flow == flow) & (current.c.period == period))).scalar()
        return connection.execute(switches.insert().values(
            flow=flow, period=period, kind=kind, from_run_id=from_run_id, to_run_id=to_run_id,
            published_path=str(published), target_path=str(target), state="intended",
            reason=reason, run_state=run_state, run_message=run_message,
            outputs=json.dumps(outputs or []), requested_at=utcnow())).inserted_primary_key[0]


def settle_switch(engine: Engine, switch_id: int, state: str = "done", note: str | None = None) -> None:
    """In one transaction: the switch is `done` (the run becomes the current version of
    its flow and period; a publishing run's ledger row ends in the state recorded with
    the intent) or `undone` (nothing changes but the row)."""
    with engine.begin() as connection:
        switches = table("version_switches", connection)
        switch = connection.execute(sa.select(switches).where(switches.c.switch_id == switch_id)).first()
        if state == "done":
            _make_current(connection, switch.flow, switch.period, switch.to_run_id)
            if switch.kind == "publish":
                _end_ledger_row(connection, switch.to_run_id, switch.run_state,
                                _joined(switch.run_message, note), json.loads(switch.outputs or "[]"))
        connection.execute(switches.update().where(switches.c.switch_id == switch_id).values(
            state=state, settled_at=utcnow(), note=note))


def _joined(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def _make_current(connection: Connection, flow: str, period: str, run_id: str) -> None:
    current = table("current_runs", connection)
    connection.execute(current.delete().where((current.c.flow == flow) & (current.c.period == period)))
    connection.execute(current.insert(), [{"flow": flow, "period": period, "run_id": run_id,
                                           "switched_at": utcnow()}])


def pending_switches(engine: Engine, flow: str | None = None, period: str | None = None) -> list:
    """Switches recorded as intended and not yet settled (oldest first)."""
    with engine.connect() as connection:
        switches = table("version_switches", connection)
        query = sa.select(switches).where(switches.c.state == "intended")
        if flow is not None:
            query = query.where((switches.c.flow == flow) & (switches.c.period == period))
        return list(connection.execute(query.order_by(switches.c.switch_id)))


def switch_history(engine: Engine, flow: str, period: str) -> pd.DataFrame:
    return read_sql(engine, "select switch_id, kind, from_run_id, to_run_id, state, reason, requested_at, "
                            "settled_at, note from version_switches where flow = :flow and period = :period "
                            "order by switch_id", {"flow": flow, "period": period})


def complete_run(engine: Engine, run_id: str, flow: str, period: str, state: str, message: str | None,
                 outputs: list[str]) -> None:
    """In one transaction: the run becomes the current version of its flow and period,
    and its ledger row ends in `state` (runs that publish files go through
    `record_switch_intent` / `settle_switch` instead)."""
    with engine.begin() as connection:
        _make_current(connection, flow, period, run_id)
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
