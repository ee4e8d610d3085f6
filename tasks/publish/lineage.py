"""The lineage record of a run: where a set of published figures comes from.

Every output (workbooks, CSVs, reports, the Directorate Scorecard) carries it: the Run
sheet of a workbook, the provenance lines of a report, a PDF's footer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.core.periods import Period


@dataclass
class RunInfo:
    period: str
    run_id: str
    code_version: str
    la_code: str
    la_name: str
    synthetic: bool
    started_at: str
    source: str
    population: int
    population_year: int
    extracts: list[dict] = field(default_factory=list)  # table_name, source_name, sha256, row_count
    revisions: list[str] = field(default_factory=list)  # this version's and its trend's revision notes
    trend_months: int = 13  # settings trend_months: the months a trend shows, ending with `period`

    def trend_periods(self) -> list[str]:
        return [p.id for p in Period.month(self.period).trailing(self.trend_months)]
