"""A run's data-quality state: what the gate found and what every output says about it.

One typed object, built from the ValidationReport (`assess`), then told of what the run
learns later (`with_tables_not_supplied`); its `state` is the one line the workbooks'
Data quality sheets, the reports, run_metadata.json, the ledger's messages and the
Prefect artifacts show.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from tasks.validate.validation import ValidationReport
from tasks.validate.withheld import failed_sources, withheld_by

NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class DataQuality:
    """What a run's validation found, for the run and its outputs.

    `withheld`: {kpi id: the tables or `table.column`s it reads that failed a critical
    rule}; `not_supplied`: {kpi id: the tables it reads that the extracts lack}; both
    are shown as last published. `extract_notes`: what the extract's date and freshness
    check said (how the date was found, a stale extract accepted)."""

    checked: bool = False
    blocked_tables: list[str] = field(default_factory=list)  # table-level critical failures: not loaded
    failed_columns: dict[str, list[str]] = field(default_factory=dict)  # column-level critical failures
    critical_tables: list[str] = field(default_factory=list)  # any critical failure
    warnings: int = 0  # warning rules that did not pass
    withheld: dict[str, list[str]] = field(default_factory=dict)
    not_supplied: dict[str, list[str]] = field(default_factory=dict)
    extract_notes: list[str] = field(default_factory=list)
    failed_export: str | None = None  # why the export itself failed (most required tables missing)
    results: pd.DataFrame = field(default_factory=pd.DataFrame)  # ValidationReport.frame()
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)    # validation.dq_trend()
    data_docs: str | None = None

    @property
    def withheld_kpis(self) -> dict[str, list[str]]:
        """Every KPI shown as last published, whatever the reason."""
        return {**self.withheld, **self.not_supplied}

    def fresh(self, kpis: list) -> list:
        """The KPIs computed from this run's extracts."""
        withheld = self.withheld_kpis
        return [k for k in kpis if k.id not in withheld]

    def refusal(self, kpis: list) -> str | None:
        """Why nothing of the run can be published, if so: the export itself failed (a
        sliver of an export is not a partial publication), or every KPI is withheld."""
        if self.failed_export:
            return self.failed_export
        return None if self.fresh(kpis) else self.state

    @property
    def state(self) -> str:
        """The one line every output says, e.g. "passed, 2 warnings"."""
        if not self.checked:
            return NOT_CHECKED
        return "; ".join([self._verdict(), *self.extract_notes, *self._not_supplied_note()])

    def _verdict(self) -> str:
        if self.withheld:
            return (f"FAILED: critical failures in {', '.join(failed_sources(self.withheld))}; "
                    f"{', '.join(sorted(self.withheld))} withheld (shown as last published, if ever)")
        warnings = f"{self.warnings} warning{'s' if self.warnings != 1 else ''}"
        if self.critical_tables:
            return f"critical failures in {', '.join(self.critical_tables)} (not used by these outputs); {warnings}"
        return f"passed, {warnings}" if self.warnings else "passed"

    def _not_supplied_note(self) -> list[str]:
        if not self.not_supplied:
            return []
        return [f"{', '.join(failed_sources(self.not_supplied))} not supplied: "
                f"{', '.join(sorted(self.not_supplied))} withheld"]

    @property
    def not_passed(self) -> pd.DataFrame:
        """The rules that did not pass (rows of `results`)."""
        if self.results.empty:
            return self.results
        return self.results[~self.results["success"].astype(bool)]

    def with_tables_not_supplied(self, not_supplied: dict[str, list[str]]) -> "DataQuality":
        return dataclasses.replace(self, not_supplied={**self.not_supplied, **not_supplied})


def assess(report: ValidationReport, kpis: list, extract_notes: list[str] = (),
           trend: pd.DataFrame | None = None) -> DataQuality:
    """The data-quality state of a run whose extracts gave `report`, for `kpis`."""
    index = report.data_docs_index
    return DataQuality(
        checked=True, blocked_tables=report.blocked_tables, failed_columns=report.failed_columns,
        critical_tables=report.critical_tables, warnings=len(report.warnings),
        failed_export=report.failed_export_message() if report.failed_export else None,
        withheld=withheld_by(kpis, report), extract_notes=list(extract_notes),
        results=report.frame(), trend=pd.DataFrame() if trend is None else trend,
        data_docs=str(index) if index else None)
