"""The first data-quality check of a run: the extract's date against the period.

The date comes from the source (tasks/extract/freshness.py: extract_manifest.json, the
database's own time, else the newest file's time) or, for a re-run with the period's
archived extract, from the ledger of the run that first read it. A stale extract is
refused unless it is that archive or the run accepts it knowingly (`accept_stale`,
recorded in the ledger with the run's reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from tasks.core.periods import Period
from tasks.core.settings import Settings
from tasks.extract import extracts as extract
from tasks.extract import freshness
from tasks.validate import validation


@dataclass(frozen=True)
class ExtractDateCheck:
    """The extract's date, the freshness verdict and what the data-quality state says
    of them (`notes`); `accepted`: the ledger's record of a stale extract published
    knowingly."""

    extract_date: freshness.ExtractDate
    verdict: freshness.Staleness
    notes: list[str]
    accepted: str | None = None

    @property
    def refused(self) -> bool:
        return self.verdict.stale and self.accepted is None

    def refusal(self, period: Period) -> str:
        return (f"{period.id} not published: stale extract: {self.verdict.message()}. The current version "
                "stays as it was. If this extract is right, re-run with --accept-stale --reason TEXT")


def extract_date_of(source: str, extracts: dict[str, extract.Extract],
                    settings: Settings) -> freshness.ExtractDate:
    """The extract date as the source says it: extract_manifest.json, the database's own
    time, else the newest file's modification time (with a note)."""
    database_time = freshness.database_now(settings.source_to_read(source)) \
        if extract.is_database_url(source) else None
    return freshness.extract_date_of(source, extracts, database_time)


def check_extract_date(engine: Engine, flow: str, run_id: str, source: str, settings: Settings,
                       extracts: dict[str, extract.Extract], period: Period, accept_stale: bool = False,
                       reason: str | None = None,
                       source_date: freshness.ExtractDate | None = None) -> ExtractDateCheck:
    """Date the extract, judge its freshness for the period (the period end for the
    monthly flow, the as-at day for the others) and record both in the ledger.
    `source_date`: the date as the source gives it, when already read (extract_date_of)."""
    checksums = {n: e.sha256 for n, e in extracts.items() if e.sha256}
    archived = freshness.archived_run_of(engine, flow, period, checksums, run_id)
    extract_day = source_date or extract_date_of(source, extracts, settings)
    if archived is not None and archived[1] is not None:  # its archive's copies are newer files
        extract_day = freshness.ExtractDate(archived[1], f"the ledger of run {archived[0]}, "
                                                         "whose extract this is")
    verdict = freshness.staleness(
        extract_day, freshness.latest_activity(extracts, _activity_columns(settings), extract_day.day),
        period.end, "period end" if flow == "monthly" else "as-at day",
        freshness.current_extract_date(engine, flow, period), _working_days_behind(settings),
        archived[0] if archived else None)
    notes = [extract_day.note] if extract_day.note else []
    accepted = None
    if verdict.exempt_because:
        notes.append(f"extract older than the period's current version accepted: {verdict.exempt_because}")
    elif verdict.stale and accept_stale:
        accepted = f"{verdict.message()}; published knowingly (--accept-stale): {reason}"
        notes.append(f"STALE EXTRACT ACCEPTED: {accepted}")
    freshness.record_extract_date(engine, run_id, extract_day, accepted)
    return ExtractDateCheck(extract_day, verdict, notes, accepted)


def _activity_columns(settings: Settings) -> dict[str, str]:
    """{table: the column whose newest date is the extract's latest activity}."""
    suites = validation.load_suites(settings.validation.suites_dir)[1]
    return {t: s["freshness"]["column"] for t, s in suites.items() if s.get("freshness")}


def _working_days_behind(settings: Settings) -> int:
    return settings.freshness.working_days_behind
