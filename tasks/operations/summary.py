"""The markdown summaries of a run (its Prefect artifacts): headline LA figures, counts
of exceptions and the data-quality state. Counts and ids only: never child-level data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasks.kpis.registry import Kpi
from tasks.operations.pipeline import PeriodResults
from tasks.publish.lineage import RunInfo
from tasks.validate.quality import NOT_CHECKED, DataQuality
from tasks.validate.withheld import Withheld


def exception_counts(values: pd.DataFrame, kpis: list[Kpi]) -> dict[str, int]:
    """{exception KPI id: rows listed at LA level}, for the KPIs with a figure."""
    la = values[values["level"] == "la"].set_index("kpi_id")["value"]
    return {k.id: int(la.get(k.id) or 0) for k in kpis if k.kind == "exception" and k.id in la.index}


def monthly_summary(results: PeriodResults, kpis: list[Kpi], run: RunInfo,
                    data_quality: str = NOT_CHECKED, revisions: str | None = None,
                    revision_note: str = "none") -> str:
    """The monthly run's artifact: headline LA figures, counts of exceptions, the
    data-quality state and the revisions report (or why there is none)."""
    la = results.values[results.values["level"] == "la"].set_index("kpi_id")
    counts = exception_counts(results.values, kpis)
    lines = [f"# {run.la_name}: monthly scorecards for {run.period}",
             "", "**SYNTHETIC DATA**" if run.synthetic else "", "",
             f"- Run: `{run.run_id}`", f"- Data quality: {data_quality}",
             f"- Exceptions listed: {sum(counts.values())} "
             f"({', '.join(f'{k} {v}' for k, v in counts.items())})",
             f"- Revisions: {Path(revisions).name if revisions else revision_note}", "",
             "| KPI | name | value |", "|---|---|---|"]
    for kpi in kpis:
        value = la["value"].get(kpi.id)
        shown = "n/a" if value is None or value != value else f"{value:g}"
        lines.append(f"| {kpi.id} | {kpi.name} | {shown} |")
    return "\n".join(lines)


def live_lists_summary(flow: str, values: pd.DataFrame, kpis: list[Kpi], run: RunInfo,
                       outputs: list[str], data_quality: str = NOT_CHECKED,
                       escalations: pd.DataFrame | None = None) -> str:
    """The daily or weekly run's artifact: rows listed per KPI as at the day."""
    la = values[values["level"] == "la"].set_index("kpi_id")["value"]
    lines = [f"# {run.la_name}: {flow} exception lists as at {run.period}", "",
             "**SYNTHETIC DATA**" if run.synthetic else "", "",
             f"- Run: `{run.run_id}`", f"- Data quality: {data_quality}",
             f"- Workbooks: {len(outputs)}"]
    if escalations is not None:
        lines.append(f"- Audits graded Inadequate escalated to a Head of Service: "
                     f"{escalations['audit_id'].nunique()}")
    lines += ["", "| KPI | name | listed |", "|---|---|---|"]
    lines += [f"| {k.id} | {k.name} | {int(la.get(k.id) or 0)} |" for k in kpis]
    return "\n".join(lines)


def run_metadata(info: RunInfo, outputs: list[str], reason: str | None, quality: DataQuality,
                 carried: Withheld | None = None, qa_inputs=None) -> dict:
    """run_metadata.json of a monthly run: its lineage, outputs, data-quality state, what
    was withheld (and from which run it is shown) and the QA allocation.
    `qa_inputs`: tasks.reports.qa_outputs.QaInputs, when the QA outputs are published."""
    return {**info.__dict__, "outputs": [Path(o).name for o in outputs], "reason": reason,
            "data_quality": quality.state, "data_docs": quality.data_docs,
            "withheld": quality.withheld_kpis,
            "withheld_as_last_published_from": carried.previous_run_id if carried is not None else None,
            **(qa_inputs.metadata() if qa_inputs else {"qa_allocation": None})}
