"""When was an extract taken, and is it too old for the period it is run for?

The extract date comes from the source where it says so:
- a drop folder with `extract_manifest.json` (written by the export, see
  README "Extract date"): `{"extracted_at": "2024-04-05T06:10:00+01:00"}` (an ISO date or
  date-time; optional `"system"` and `"notes"` are kept as they are and not read);
- a database: the database's own clock (`current_timestamp`) when it was read;
- otherwise the newest file's modification time, with a note saying so (a copy or a
  `touch` changes it, so it is the weakest evidence).

The extract is **stale** for a period (a critical finding, the run is refused) when
- the latest activity date across the case tables (each table's `freshness` column in
  expectations/) is more than `working_days_behind` working days (`[freshness]`, default 3 in tasks.core.settings, so a quiet
  weekend is fine) before the period end (monthly) or the as-at day (daily, weekly); or
- its extract date is older than the extract of the period's current version.
A re-run of a period with an extract it was already published from (its archived
extract: the same checksums) is exempt, and `--accept-stale --reason TEXT` publishes
knowingly (recorded in the ledger).

Plain functions: no clock is read here (the database's time is asked of the database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.core.calendar import working_days_between
from tasks.core.periods import Period
from tasks.extract.extracts import Extract, ExtractError, is_database_url
from tasks.core.sources import CASE_SYSTEM_TABLES

MANIFEST_NAME = "extract_manifest.json"
PUBLISHED_STATES = ("Completed", "Partly published: data quality")


class ManifestError(ExtractError):
    """extract_manifest.json is there but does not say when the extract was taken (bad
    input: the run stops before anything is validated or loaded)."""


@dataclass(frozen=True)
class ExtractDate:
    day: date
    basis: str                 # "extract_manifest.json", "database time", "file times", ...
    note: str | None = None    # said when the basis is weak (file times)

    def describe(self) -> str:
        return f"{self.day.isoformat()} (from {self.basis})"


# --- the extract date ----------------------------------------------------------------

def extract_date_of(source: str, extracts: dict[str, Extract],
                    database_time: datetime | None = None) -> ExtractDate:
    """The extract date of a drop folder or database source (see the module docstring).
    `database_time`: the source database's clock, read with `database_now`."""
    if is_database_url(source):
        if database_time is not None:
            return ExtractDate(database_time.date(), "database time")
    else:
        manifest = Path(source) / MANIFEST_NAME
        if manifest.is_file():
            return ExtractDate(read_manifest(manifest), MANIFEST_NAME)
    stamps = [e.modified_at for e in extracts.values() if e.modified_at is not None]
    if not stamps:
        raise ManifestError(f"source {source}: no {MANIFEST_NAME}, no database time and no "
                            "file times: the extract date cannot be told")
    newest = max(stamps).astimezone(timezone.utc).date()
    return ExtractDate(newest, "file times",
                       f"no {MANIFEST_NAME} in the drop folder: the extract date {newest} is the "
                       "newest file's modification time (a copy changes it)")


def read_manifest(path: Path) -> date:
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        stamp = pd.Timestamp(str(raw["extracted_at"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"{path}: cannot read `extracted_at` (an ISO date or date-time, "
                            f"e.g. \"2024-04-05T06:10:00+01:00\"): {error}") from None
    if stamp.tzinfo is not None:  # the day as the LA sees it
        stamp = stamp.tz_convert("Europe/London")
    return stamp.date()


def write_manifest(folder: Path, extracted_at: datetime | date, system: str | None = None) -> Path:
    """The manifest an export writes beside its files (the synthetic LA writes one)."""
    content = {"extracted_at": extracted_at.isoformat()}
    if system:
        content["system"] = system
    path = Path(folder) / MANIFEST_NAME
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return path


def database_now(url: str) -> datetime:
    """The source database's own clock."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            value = connection.execute(sa.select(sa.func.current_timestamp())).scalar()
    finally:
        engine.dispose()
    return pd.Timestamp(value).to_pydatetime()  # SQLite answers with text


# --- the data themselves ---------------------------------------------------------------

def latest_activity(extracts: dict[str, Extract], activity_columns: dict[str, str],
                    extract_day: date) -> tuple[date, str] | None:
    """The newest activity date across the case tables, and the table.column it is in.
    Dates after the extract date (typing slips, reported by date_plausible) are ignored."""
    newest = None
    for table in CASE_SYSTEM_TABLES:
        column = activity_columns.get(table)
        extract = extracts.get(table)
        if column is None or extract is None or not extract.usable or column not in extract.frame:
            continue
        days = pd.to_datetime(extract.frame[column], errors="coerce").dropna().dt.date
        days = days[days <= extract_day]
        if len(days) and (newest is None or days.max() > newest[0]):
            newest = (days.max(), f"{table}.{column}")
    return newest


@dataclass(frozen=True)
class Staleness:
    reasons: list[str]          # empty: fresh
    exempt_because: str | None = None

    @property
    def stale(self) -> bool:
        return bool(self.reasons) and self.exempt_because is None

    def message(self) -> str:
        return "; ".join(self.reasons)


def staleness(extract: ExtractDate, latest: tuple[date, str] | None, due: date, due_label: str,
              current: tuple[str, date] | None, working_days_behind: int,
              archived_run: str | None = None) -> Staleness:
    """Why the extract is too old for the period, if it is (see the module docstring).
    `due`: the period end or the as-at day; `current`: (run id, extract date) of the
    period's current version; `archived_run`: an earlier published run of this period
    that read exactly these files."""
    reasons = []
    if latest is not None and latest[0] < due:
        behind = working_days_between(latest[0], due)
        if behind > working_days_behind:
            reasons.append(
                f"the latest activity in the extract is {latest[0].isoformat()} ({latest[1]}), "
                f"{behind} working days before the {due_label} {due.isoformat()} (at most "
                f"{working_days_behind} allowed); extract dated {extract.describe()}")
    if current is not None and extract.day < current[1]:
        reasons.append(
            f"the extract is dated {extract.describe()}, older than the extract of the current "
            f"version (run {current[0]}, extract dated {current[1].isoformat()})")
    exempt = (f"a re-run with the archived extract of run {archived_run}"
              if reasons and archived_run else None)
    return Staleness(reasons, exempt)


# --- the ledger: extract dates of runs, archived extracts --------------------------------

def record_extract_date(engine: Engine, run_id: str, extract: ExtractDate,
                        stale_accepted: str | None = None) -> None:
    with engine.begin() as connection:
        runs = sa.Table("runs", sa.MetaData(), autoload_with=connection)
        connection.execute(runs.update().where(runs.c.run_id == run_id).values(
            extract_date=extract.day, extract_date_basis=extract.basis,
            stale_accepted=stale_accepted))


def current_extract_date(engine: Engine, flow: str, period: Period) -> tuple[str, date] | None:
    """(run id, extract date) of the period's current version, when recorded."""
    with engine.connect() as connection:
        runs = sa.Table("runs", sa.MetaData(), autoload_with=connection)
        current = sa.Table("current_runs", sa.MetaData(), autoload_with=connection)
        row = connection.execute(
            sa.select(runs.c.run_id, runs.c.extract_date)
            .join(current, current.c.run_id == runs.c.run_id)
            .where((current.c.flow == flow) & (current.c.period == period.id))).first()
    if row is None or row.extract_date is None:
        return None
    return row.run_id, _as_date(row.extract_date)


def archived_run_of(engine: Engine, flow: str, period: Period, checksums: dict[str, str],
                    exclude_run_id: str) -> tuple[str, date | None] | None:
    """The latest earlier published run of this flow and period that read exactly these
    files (the same table checksums), with its recorded extract date."""
    if not checksums:
        return None
    with engine.connect() as connection:
        runs = sa.Table("runs", sa.MetaData(), autoload_with=connection)
        files = sa.Table("extract_files", sa.MetaData(), autoload_with=connection)
        candidates = connection.execute(
            sa.select(runs.c.run_id, runs.c.extract_date)
            .where((runs.c.flow == flow) & (runs.c.period == period.id)
                   & runs.c.state.in_(PUBLISHED_STATES) & (runs.c.run_id != exclude_run_id))
            .order_by(runs.c.started_at.desc())).all()
        for run_id, extract_day in candidates:
            read = dict(connection.execute(sa.select(files.c.table_name, files.c.sha256)
                                           .where(files.c.run_id == run_id)).all())
            if read == checksums:
                return run_id, _as_date(extract_day) if extract_day is not None else None
    return None


def _as_date(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else pd.Timestamp(value).date()
