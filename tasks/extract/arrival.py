"""Waiting for a late extract: a scheduled run polls its source until every required table
is there or its window closes (by default 12:00 Europe/London on the run's day).

    missing = wait_for_extract(lambda: missing_tables(source), deadline, clock, sleep,
                               poll_seconds=300, on_first_wait=send_notice)

`clock` and `sleep` are passed in (tests give a fake clock that `sleep` advances), so no
computation here reads the wall clock. Settings: `[arrival]` in the configuration
(tasks.core.settings.ArrivalSettings: `wait_until`, `poll_seconds`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tasks.core.periods import Period
from tasks.core.settings import ArrivalSettings
from tasks.extract.extracts import FILE_SUFFIXES, ExtractError, is_database_url
from tasks.core.sources import CASE_SYSTEM_TABLES

LONDON = ZoneInfo("Europe/London")


class ExtractNotArrived(ExtractError):
    """The extract was still incomplete when the run's window closed (or, for a run
    that does not wait, the drop folder holds none of the case tables)."""


def deadline_on(now: datetime, settings: ArrivalSettings) -> datetime:
    """The window's end on the day of `now` (Europe/London)."""
    local = now.astimezone(LONDON)
    return datetime.combine(local.date(), settings.wait_until, tzinfo=LONDON)


def missing_tables(source: str, required: list[str] | tuple[str, ...] = CASE_SYSTEM_TABLES) -> list[str]:
    """The required tables the source does not have yet (no file, or no table or view)."""
    if is_database_url(source):
        engine = sa.create_engine(source)
        try:
            inspector = sa.inspect(engine)
            present = {n.lower() for n in inspector.get_table_names() + inspector.get_view_names()}
        finally:
            engine.dispose()
    else:
        folder = Path(source)
        present = {p.stem.lower() for p in folder.iterdir()
                   if p.suffix.lower() in FILE_SUFFIXES and not p.name.startswith(("~$", "."))} \
            if folder.is_dir() else set()
    return [t for t in required if t not in present]


def wait_for_extract(check: Callable[[], list[str]], deadline: datetime,
                     clock: Callable[[], datetime], sleep: Callable[[float], None],
                     poll_seconds: float = ArrivalSettings().poll_seconds,
                     on_first_wait: Callable[[list[str]], None] | None = None) -> list[str]:
    """Poll `check` (the tables still missing) until nothing is missing or `deadline`
    passes; call `on_first_wait` once, the first time it has to wait. Returns what is
    still missing ([] when the extract arrived)."""
    missing = check()
    waited = False
    while missing and clock() < deadline:
        if not waited and on_first_wait is not None:
            on_first_wait(missing)
        waited = True
        sleep(max(0.0, min(poll_seconds, (deadline - clock()).total_seconds())))
        missing = check()
    return missing


def not_arrived_notice(flow: str, period: Period, missing: list[str], deadline: datetime,
                       run_line: str) -> tuple[str, str]:
    """(subject, body) of the one 'extract not arrived yet' notice."""
    return (f"qaloop: {flow} {period.id} waiting for its extract (until {deadline:%H:%M})",
            "\n".join([f"Flow: {flow}", f"Period: {period.id}", run_line, "",
                       f"The extract has not arrived yet: {len(missing)} table(s) missing "
                       f"({', '.join(missing)}).",
                       f"The run waits for it until {deadline:%Y-%m-%d %H:%M} Europe/London and "
                       "runs as soon as it is complete; if the window closes first, one alert "
                       "names the tables still missing. No action is needed if the export is "
                       "running late."]))


def not_arrived_message(flow: str, period: Period, missing: list[str], deadline: datetime) -> str:
    return (f"the extract for {flow} {period.id} had not arrived by {deadline:%Y-%m-%d %H:%M} "
            f"Europe/London: {len(missing)} table(s) missing: {', '.join(missing)}. Nothing was "
            "published; check the export, then re-run the period")
