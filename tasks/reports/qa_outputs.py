"""The QA outputs of a monthly run (issue: QA activity), from the run's stored KPI values:

- `qa_activity_<period>.xlsx`: the QA workbook (internal to the performance and QA
  teams), with the audit allocation of the coming month;
- `qa_monthly_report_<period>.html` and `.pdf`: the monthly QA report;
- `qa_on_a_page_<period>.pdf`: one A4 page.

The allocation is for the month after the period (the monthly run happens in that
month's second working week): its cohort is as at the period end, its seed recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.paths import SQL_DIR
from tasks.core.settings import KpiTarget
from tasks.core.periods import Period
from tasks.publish.lineage import RunInfo
from tasks.publish.qa_workbook import Findings, publish_qa_workbook
from tasks.kpis.qa import (ALLOCATION_COLUMNS, DEFAULT_ALLOCATED_ROLE, NoCohortRule, QaSchedule,
                           monthly_allocation, no_rule_message, staff_in_post)
from tasks.kpis.rag import targets_for
from tasks.kpis.queries import query
from tasks.kpis.registry import Kpi, shown_in
from tasks.reports import findings
from tasks.reports.render import render_monthly_qa_report, render_qa_on_a_page
from tasks.warehouse.database import read_sql
from tasks.validate.validation import tables_read_by

logger = logging.getLogger("qaloop.qa")

# A monthly run publishes QA outputs when its extracts include the audit records.
QA_REQUIRED_TABLE = "qa_audits"
QA_TABLES = ("qa_audits", "qa_moderations", "qa_observations", "qa_staff")
COHORT_SQL = SQL_DIR / "qa" / "audit_cohort.sql"
FINDINGS_SQL = SQL_DIR / "qa" / "audit_findings_shared.sql"


@dataclass
class QaInputs:
    """What the QA outputs read from the warehouse besides the KPI values: read in the
    run's load-and-compute section, so that another run's load cannot change them."""

    staff: pd.DataFrame       # in post at period_end, with audits_required
    allocation: pd.DataFrame  # the coming month's allocation (tasks.kpis.qa.allocate_audits)
    allocation_month: str
    allocation_seed: int
    months_without_theme: list[str]
    allocation_not_drawn: str | None = None  # why there is no allocation this month
    # the month's shareable audit finding summaries (None: qa_audit_findings not read this run)
    summaries: findings.SharedSummaries | None = None
    # the planned themes of the coming 6 months with no cohort rule: warnings asking for one
    themes_without_rule: list[str] = field(default_factory=list)
    allocation_theme: str | None = None  # the month's planned theme (drawn or not)
    allocation_rule: tuple[str, ...] = ()  # its cohort rule ([qa.theme_keywords])

    def metadata(self) -> dict:
        """For run_metadata.json: how to regenerate the allocation."""
        theme = self.allocation["theme"].iloc[0] if len(self.allocation) else self.allocation_theme
        return {"qa_allocation": {"month": self.allocation_month, "seed": self.allocation_seed,
                                  "theme": theme or None, "cases": len(self.allocation),
                                  "not_drawn": self.allocation_not_drawn},
                "qa_months_without_theme": self.months_without_theme,
                "qa_themes_without_cohort_rule": self.themes_without_rule,
                **({"qa_finding_summaries": {"shown": len(self.summaries.shown),
                                             "not_approved": self.summaries.not_approved,
                                             "dropped": self.summaries.dropped}}
                   if self.summaries is not None else {})}


def qa_kpis(kpis: list[Kpi]) -> list[Kpi]:
    return [k for k in kpis if k.scorecard == "qa"]


def has_qa(kpis: list[Kpi]) -> bool:
    return bool(qa_kpis(kpis))


def with_qa_if_supplied(kpis: list[Kpi], extracts: dict, loaded: dict[str, int] | None = None) -> list[Kpi]:
    """The QA measures are computed, and their outputs published, when the extracts
    include the audit records, or when the warehouse's last good load has them
    (`loaded`: rows per table): audits supplied before and missing now withhold the
    QA measures, whose outputs are then kept as last published, not dropped."""
    supplied = QA_REQUIRED_TABLE in extracts or (loaded or {}).get(QA_REQUIRED_TABLE, 0) > 0
    return kpis if supplied else [k for k in kpis if k.scorecard != "qa"]


def qa_targets(kpis: list[Kpi], configured: dict[str, KpiTarget], schedule: QaSchedule) -> dict[str, KpiTarget]:
    """Registry defaults, then the schedule's QA04 targets (moderation per service area
    and for Inadequate audits), then the LA's [targets.<figure>] settings."""
    targets = targets_for(kpis, {})
    targets.update({f: KpiTarget(t) for f, t in schedule.figure_targets(kpis).items()})
    return targets | targets_for(kpis, configured)


def findings_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The audit findings KPIs (QA12, QA13: the registry's qa_strengths and qa_development),
    computed when the optional qa_audit_findings table is supplied."""
    return shown_in(kpis, findings.STRENGTHS) + shown_in(kpis, findings.DEVELOPMENTS)


def shared_summaries(engine: Engine, period: Period) -> findings.SharedSummaries:
    """The finding summaries of the audits completed in the period that a report may show
    (share Y, naming no child, professional or staff member of the extracts)."""
    rows = read_sql(engine, query(FINDINGS_SQL), {"period_start": period.start, "period_end": period.end})
    people = read_sql(engine, "select pers_person_id from ssd_person")
    professionals = read_sql(engine, "select prof_professional_id, prof_staff_id, prof_professional_name "
                                     "from ssd_professionals")
    staff = read_sql(engine, "select staff_id, name from qa_staff")
    identifiers = findings.Identifiers.of(
        person_ids=people["pers_person_id"],
        staff_ids=[*professionals["prof_professional_id"], *professionals["prof_staff_id"], *staff["staff_id"]],
        names=[*professionals["prof_professional_name"], *staff["name"]])
    return findings.shareable_summaries(rows, identifiers)


def qa_inputs(engine: Engine, period: Period, schedule: QaSchedule, blocked_tables=(),
              with_findings: bool = False, allocated_role: str = DEFAULT_ALLOCATED_ROLE) -> QaInputs:
    """`blocked_tables`: tables that failed a critical rule; when the allocation's cohort
    reads one, no allocation is drawn this month (it would use an earlier load). Nor is it
    when the month's planned theme has no cohort rule: the run warns, asking for the rule.
    `allocated_role`: the involvement role of a child's allocated worker (settings
    allocated_worker_role), which gives the cohort's case worker and team.
    `with_findings`: qa_audit_findings was supplied this run (and passed its critical
    rules): its shareable summaries are read."""
    next_month = period.shift(1).id
    unplanned = schedule.months_without_theme(next_month)
    if unplanned:
        logger.warning("QA audit themes are not planned 6 months ahead: none configured for %s "
                       "([qa.themes] in the settings)", ", ".join(unplanned))
    without_rule = [no_rule_message(theme, month) for month, theme in schedule.themes_without_rule(next_month)]
    for warning in without_rule:
        logger.warning("QA audit allocation: %s", warning)
    stale = sorted(tables_read_by(query(COHORT_SQL)) & set(blocked_tables))
    not_drawn = f"not drawn: {', '.join(stale)} failed critical data-quality rules" if stale else None
    allocation = pd.DataFrame(columns=ALLOCATION_COLUMNS)
    if not stale:
        try:
            allocation = monthly_allocation(engine, next_month, schedule, allocated_role=allocated_role)
        except NoCohortRule as refusal:
            not_drawn = f"not drawn: {refusal}"
    theme = schedule.theme_for(next_month)
    if not stale and not_drawn is None and allocation.empty and theme:
        not_drawn = (f'empty: no case open at the end of {period.id} matches the cohort rule of "{theme}" '
                     f"({', '.join(schedule.cohort_rule(theme))})")
    summaries = shared_summaries(engine, period) \
        if with_findings and findings.TABLE not in set(blocked_tables) else None
    return QaInputs(staff_in_post(engine, period, schedule), allocation, next_month,
                    schedule.seed_for(next_month), unplanned, not_drawn, summaries,
                    themes_without_rule=without_rule, allocation_theme=theme,
                    allocation_rule=schedule.cohort_rule(theme))


def publish_qa_outputs(inputs: QaInputs, values: pd.DataFrame, trend: pd.DataFrame, records: pd.DataFrame,
                       kpis: list[Kpi], targets: dict[str, KpiTarget], run: RunInfo, out_dir: Path,
                       data_quality=None, teams: pd.DataFrame | None = None) -> list[Path]:
    """Write the QA workbook and both reports for `run.period` into `out_dir`. `teams`:
    the real teams with their service areas (tasks.operations.pipeline.unit_tables)."""
    findings_of_month = findings_kpis(kpis)
    kpis = qa_kpis(kpis)
    workbook = publish_qa_workbook(kpis, values, trend, records, inputs.staff, targets, run,
                                   out_dir / f"qa_activity_{run.period}.xlsx",
                                   allocation=inputs.allocation, data_quality=data_quality,
                                   allocation_note=inputs.allocation_not_drawn, teams=teams,
                                   allocation_warnings=inputs.themes_without_rule,
                                   allocation_rule=inputs.allocation_rule,
                                   findings=Findings(findings_of_month,
                                                     inputs.summaries.shown if inputs.summaries else [],
                                                     sum(inputs.summaries.dropped.values()) if inputs.summaries
                                                     else 0))
    html, pdf = render_monthly_qa_report(values, trend, kpis, run, out_dir, targets, data_quality,
                                         findings=findings_of_month, summaries=inputs.summaries)
    page = render_qa_on_a_page(values, trend, kpis, run, out_dir, targets, data_quality,
                               findings=findings_of_month, summaries=inputs.summaries)
    return [workbook, html, pdf, page]
