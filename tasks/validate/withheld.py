"""Publishing around a critical data-quality failure.

Issue: "A critical failure blocks only what depends on the failing table, keeps the
previously published outputs for the period untouched". So a KPI that reads a table
which failed a critical rule is *withheld*: it is not computed from this run's
extracts, and its figures (values, listed rows and trend) are carried unchanged from
the period's current version (none when the period was never published). Every output
is then written from the same figures, fresh ones and carried ones, so that the
workbooks, the reports, kpi_values.csv and the warehouse agree; each output's data-quality
note names the withheld KPIs. The earlier version itself stays in its run folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tasks.core.figure_ids import base_id


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
        tables = sorted({t for ts in self.kpis.values() for t in ts})
        source = (f"shown as last published (run {self.previous_run_id})" if self.previous_run_id
                  else "not shown: the period had no earlier version")
        return (f"data quality: critical failures in {', '.join(tables)}; "
                f"{', '.join(sorted(self.kpis))} withheld, {source}")


def last_published(frame: pd.DataFrame, kpi_ids) -> pd.DataFrame:
    """The rows of a run's stored values or records that belong to these KPIs."""
    return frame[frame["kpi_id"].map(base_id).isin(set(kpi_ids))]
