"""Publishing around a critical data-quality failure: everything about *withheld* KPIs.

Issue: "A critical failure blocks only what depends on the failing table, keeps the
previously published outputs for the period untouched". So a KPI that reads a table
which failed a critical rule is *withheld*: it is not computed from this run's
extracts, and its figures (values, listed rows and trend) are carried unchanged from
the period's current version (none when the period was never published). Every output
is then written from the same figures, fresh ones and carried ones, so that the
workbooks, the reports, kpi_values.csv and the warehouse agree; each output's data-quality
note names the withheld KPIs. The earlier version itself stays in its run folder.

Here: which KPIs a failure withholds (`kpis_blocked_by`, `withheld_by`,
`withheld_for_missing_tables`), what the ledger and the logs say (`Withheld`), and the
carry-forward of their last published figures (`carry_forward`, `last_published_run`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.figure_ids import base_id
from tasks.core.periods import Period
from tasks.core.sources import CASE_SYSTEM, TABLES
from tasks.validate.validation import ValidationReport
from tasks.warehouse import database as warehouse


# --- which KPIs a failure withholds ------------------------------------------------------

def kpis_blocked_by(kpis: list, blocked_tables: list[str],
                    failed_columns: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """{kpi id: what it reads that failed}, for the KPIs a critical failure stops: a
    table in `blocked_tables` (named alone) stops every KPI reading it; a column in
    `failed_columns` (named `table.column`) only the KPIs reading that column. What a
    KPI reads is derived from its SQL (Kpi.source_columns)."""
    if not blocked_tables and not failed_columns:
        return {}  # nothing failed: no need to parse the SQL
    blocked = set(blocked_tables)
    stopped = {}
    for kpi in kpis:
        reads = kpi.source_columns
        hit = sorted(reads.keys() & blocked)
        for table, columns in (failed_columns or {}).items():
            hit += [f"{table}.{c}" for c in columns if c in reads.get(table, ())]
        if hit:
            stopped[kpi.id] = hit
    return stopped


def withheld_by(kpis: list, report: ValidationReport) -> dict[str, list[str]]:
    """The KPIs the report's critical failures withhold (table- and column-level)."""
    return kpis_blocked_by(kpis, report.blocked_tables, report.failed_columns)


def withheld_for_missing_tables(kpis: list, tables: list[str], extracts: dict) -> dict[str, list[str]]:
    """The KPIs reading one of `tables` that the extracts lack (rather than computing
    them from an earlier load)."""
    missing = [t for t in tables if t not in extracts]
    return kpis_blocked_by(kpis, missing) if missing and kpis else {}


def local_tables() -> list[str]:
    """The tables of the LA's local systems (QA, complaints, IRO, surveys), which an LA
    may not supply at all, unlike the case system's."""
    return [name for name, table in TABLES.items() if table.family != CASE_SYSTEM]


def with_supplied_sources(kpis: list, extracts: dict, loaded: dict[str, int] | None = None) -> list:
    """The KPIs the LA's sources can serve: one reading a local table that was never
    supplied (not in these extracts, no rows in the warehouse's last good load) is not
    computed: no figure, rather than a figure of 0 from an empty table. A table supplied
    before and missing now withholds its KPIs instead (`missing_local_tables`)."""
    never = {t for t in local_tables() if t not in extracts and not (loaded or {}).get(t)}
    return [k for k in kpis if not never & set(k.source_columns)]


def missing_local_tables(kpis: list, extracts: dict) -> dict[str, list[str]]:
    """{KPI: the local tables it reads that these extracts lack}: withheld, shown as last
    published (not computed from an earlier load)."""
    return withheld_for_missing_tables(kpis, local_tables(), extracts)


def failed_sources(withheld: dict[str, list[str]]) -> list[str]:
    """The tables (or `table.column`s) the withheld KPIs read that failed, sorted."""
    return sorted({source for sources in withheld.values() for source in sources})


# --- what is said about them ---------------------------------------------------------------

@dataclass(frozen=True)
class Withheld:
    """{kpi id: what it reads that failed: a table (table-level failure) or a
    `table.column` (column-level)}; `previous_run_id`: the run whose figures are carried
    (None: the period was never published, so they are left out)."""

    kpis: dict[str, list[str]]
    previous_run_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.kpis)

    def message(self) -> str:
        source = (f"shown as last published (run {self.previous_run_id})" if self.previous_run_id
                  else "not shown: the period had no earlier version")
        return (f"data quality: critical failures in {', '.join(failed_sources(self.kpis))}; "
                f"{', '.join(sorted(self.kpis))} withheld, {source}")


# --- carrying their last published figures -------------------------------------------------

def last_published(frame: pd.DataFrame, kpi_ids) -> pd.DataFrame:
    """The rows of a run's stored values or records that belong to these KPIs."""
    return frame[frame["kpi_id"].map(base_id).isin(set(kpi_ids))]


def last_published_run(engine: Engine, flow: str, period: Period,
                       withheld: dict[str, list[str]]) -> Withheld:
    """The withheld KPIs and the run of the period's current version, if any."""
    return Withheld(dict(withheld), warehouse.current_run_id(engine, flow, period.id))


Figures = TypeVar("Figures")  # anything with values, trend and records frames (PeriodResults)


def carry_forward(fresh: Figures, withheld: Withheld, period: Period,
                  previous_values: pd.DataFrame, previous_records: pd.DataFrame) -> Figures:
    """`fresh` with the withheld KPIs' figures as `previous_values`/`previous_records`
    (the stored rows of the period's current version) have them: this period's values,
    the LA trend and the listed rows. The carried rows take the columns of the fresh ones
    (a list's dates are not stored: empty on carried rows)."""
    values = last_published(previous_values, withheld.kpis)
    records = last_published(previous_records, withheld.kpis)
    this_period = values[values["period"] == period.id][list(fresh.values.columns)]
    la_history = values[values["level"] == "la"][list(fresh.trend.columns)]
    return dataclasses.replace(fresh, values=_concat(fresh.values, this_period),
                               trend=_concat(fresh.trend, la_history),
                               records=_concat(fresh.records, records.reindex(columns=fresh.records.columns)))


def carry_forward_from_warehouse(engine: Engine, fresh: Figures, withheld: Withheld,
                                 period: Period) -> Figures:
    """carry_forward from the stored figures of `withheld.previous_run_id` (unchanged
    `fresh` when the period was never published)."""
    if withheld.previous_run_id is None:
        return fresh
    return carry_forward(fresh, withheld, period, warehouse.run_values(engine, withheld.previous_run_id),
                         warehouse.run_records(engine, withheld.previous_run_id))


def _concat(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([first, second], ignore_index=True)
