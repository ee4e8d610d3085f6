"""The lineage record of a run: where a set of published figures comes from.

Every output (workbooks, CSVs, reports, the Directorate Scorecard) carries it: the Run
sheet of a workbook, the provenance lines of a report, a PDF's footer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
