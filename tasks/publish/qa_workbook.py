"""The QA activity workbook (openpyxl): QA01-QA11 for one month.

Sheets: Summary (13-month LA trend, target, RAG, direction of travel, charts), By role,
Auditors (who is behind their audit schedule, and by how much: QA02 records), Service
areas and Teams (each measure with its RAG; service areas = the teams' parent departments),
Grades (QA03 by grade, theme and service area), Moderation (QA04, QA05), Closing the
loop (QA06-QA11), Re-audits (the Inadequate audits of QA06), Allocation (the month's
random case allocation, when given), Definitions and Run.

Conventions (title, SYNTHETIC banner, RAG fills: tasks.publish.style; Definitions and Run
sheets: tasks.publish.excel) are the scorecards' own. The workbook names staff and (Re-audits,
Allocation) children, so it stays with the performance team and the QA team.

Figure ids follow kpis.md ("ID:name" or "ID:dimension=value", e.g. `QA03:grade=Good`,
`QA03:rolling_3m:grade=Good`, `QA04:service_area=Social Care`). Grades by theme or
service area are read from `QA03:theme=<theme>:grade=<grade>` and
`QA03:service_area=<area>:grade=<grade>` when the computation publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tasks.core.settings import KpiTarget
from tasks.publish.cells import cell_value, is_missing, number_value, text_value, write_cell, write_row
from tasks.kpis.compute import UNALLOCATED, percent
from tasks.core.figure_ids import parse_figure_id
from tasks.core.periods import Period
from tasks.publish.excel import finish_internal_workbook, la_trend_rows, write_trend_summary, write_units
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (BOLD, DECIMAL_FORMAT, FIRST_DATA_ROW, WHOLE_FORMAT, add_rag_fills,
                                 finish_table, month_label, set_widths, write_header, write_heading)
from tasks.kpis.rag import direction_of_travel, effective_tolerance, rag_status
from tasks.kpis.registry import Figure, Kpi, kpi_shown_in, shown_in

QA_TITLE = "QA Activity"
GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")
NO_GRADE = "No grade recorded"
NO_TEAM = "No team recorded"
NO_SERVICE_AREA = "No service area recorded"
# Figures with one breakdown among these are listed (theme breakdowns stay on the Grades
# sheet); the Summary shows the grade breakdowns and the figures with a target, the
# "By role and area" sheet the rest.
SUMMARY_DIMENSIONS = {"grade", "service_area", "role"}
BREAKDOWN_SHEET_DIMENSIONS = {"service_area", "role"}
DEFAULT_AUDITS_REQUIRED = 1  # every default schedule requirement is "1 audit" (qa-activity.md)
QA_NOTE = ("Internal to the performance and QA teams: names staff and (Re-audits, Allocation) "
           "children; figures are not suppressed for small numbers (kpis.md, Small numbers).")


# --- Figure ids ---------------------------------------------------------------------------------


def figure_label(figure: Figure) -> str:
    """The readable part after the KPI id: `QA03:rolling_3m:grade=Good` -> "rolling 3 months, Good"."""
    return figure.kpi.label_of(figure.id)


DIMENSION_ORDER = {"service_area": 0, "role": 1, "theme": 2, "grade": 3}


def _figure_order(figure_id: str) -> tuple:
    """Named figures before their breakdowns; service areas before grades; grades in
    their order (Outstanding first); then by id."""
    parsed = parse_figure_id(figure_id)
    grade = parsed.dimension.get("grade")
    return (parsed.names, [DIMENSION_ORDER.get(k, len(DIMENSION_ORDER)) for k, _ in parsed.dimensions],
            GRADES.index(grade) if grade in GRADES else len(GRADES), figure_id)


def qa_figures(kpis: list[Kpi], la_rows: pd.DataFrame,
               dimensions: set[str] = SUMMARY_DIMENSIONS) -> list[Figure]:
    """Each KPI's headline, then its other figures present in the LA rows (extras with at
    most one breakdown among `dimensions`). A figure with a denominator is a percentage."""
    published = set(la_rows["kpi_id"])
    figures = []
    for kpi in kpis:
        figures.append(Figure.of(kpi, kpi.id))
        others = [i for i in published if parse_figure_id(i).kpi_id == kpi.id and i != kpi.id]
        for figure_id in sorted(others, key=_figure_order):
            keys = [k for k, _ in parse_figure_id(figure_id).dimensions]
            if len(keys) > 1 or any(k not in dimensions for k in keys):
                continue
            figures.append(Figure(kpi, figure_id, _kind_of(figure_id, la_rows)))
    return figures


def _kind_of(figure_id: str, rows: pd.DataFrame) -> str:
    denominators = rows.loc[rows["kpi_id"] == figure_id, "denominator"]
    return "percent" if denominators.notna().any() else "count"


def la_figure(la_rows: pd.DataFrame, figure_id: str, period: str):
    """The LA row of one figure and month (a namedtuple), or None."""
    # compared as plain objects: pandas compares its text columns value by value in Python
    wanted = (la_rows["kpi_id"].to_numpy(dtype=object) == figure_id) \
        & (la_rows["period"].to_numpy(dtype=object) == period)
    return next(la_rows[wanted].itertuples(), None)


def figure_rag(figure: Figure, value, targets: dict[str, KpiTarget]) -> tuple[float | None, str | None]:
    """(target, RAG) of a figure's value, with the scorecards' tolerance rules."""
    target = targets.get(figure.id)
    if target is None:
        return None, None
    tolerance = effective_tolerance(figure.kpi, target.target, target.tolerance, figure.kind)
    return target.target, rag_status(value, target.target, tolerance, figure.polarity)


# --- The workbook ---------------------------------------------------------------------------------


def publish_qa_workbook(kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame,
                        records: pd.DataFrame, staff: pd.DataFrame, targets: dict[str, KpiTarget],
                        run: RunInfo, out_path: Path,
                        allocation: pd.DataFrame | None = None, data_quality=None,
                        allocation_note: str | None = None, teams: pd.DataFrame | None = None,
                        findings: Findings | None = None, allocation_warnings: list[str] = (),
                        allocation_rule: tuple[str, ...] = ()) -> Path:
    """Write the QA workbook for the run's period; returns its path. `staff`: qa_staff
    rows (staff_id, name, role, team_id, service_area, optional audits_required);
    `teams`: the real teams with their service area (tasks.operations.pipeline.unit_tables;
    without it, the teams with figures and their staff's service area);
    `data_quality`: a tasks.publish.dq_sheet.DataQuality, written as the Data quality sheet;
    `findings`: the audit findings (QA12, QA13 and the shareable summaries) for a Findings sheet."""
    la_rows = la_trend_rows(values, trend)
    figures = qa_figures(kpis, la_rows)
    month_records = records[records["period"] == run.period]
    compliance = kpi_shown_in(kpis, "qa_compliance")
    qa02 = _compliance_rows(month_records, staff, compliance)
    workbook = Workbook()
    write_qa_summary(workbook.active, [f for f in figures if _on_summary(f, targets)], la_rows, targets, run)
    write_by_role(workbook.create_sheet("By role"), qa02, run, compliance)
    write_auditors(workbook.create_sheet("Auditors"), qa02, values, run, kpis)
    team_figures = [f for f in figures if not parse_figure_id(f.id).dimensions]
    teams = teams if teams is not None else _teams_of(values, staff)
    for level, sheet_name in (("service_area", "Service areas"), ("team", "Teams")):
        write_units(workbook.create_sheet(sheet_name), level, team_figures, _no_team_named(values), teams,
                    _no_workers(), run, targets)
    write_grades(workbook.create_sheet("Grades"), la_rows, run, kpi_shown_in(kpis, "qa_grades"))
    moderation, loop = shown_in(kpis, "qa_moderation"), shown_in(kpis, "qa_loop")
    write_figure_table(workbook.create_sheet("Moderation"), "Moderation coverage and agreement",
                       "; ".join(f"{k.id}: {k.definition}" for k in moderation) + ".",
                       [f for f in figures if f.kpi in moderation], la_rows, targets, run)
    write_figure_table(workbook.create_sheet("Closing the loop"), "Closing the loop",
                       ", ".join(f"{k.name} ({k.id})" for k in loop) + ".",
                       [f for f in figures if f.kpi in loop], la_rows, targets, run)
    write_figure_table(workbook.create_sheet("By role and area"), "QA measures by auditor role and service area",
                       "Each measure on the audits of one auditor role (role) or one service area; "
                       + (f"{compliance.id} " if compliance else "")
                       + "by the staff member's role and service area.",
                       [f for f in figures if not _on_summary(f, targets)
                        and {k for k, _ in parse_figure_id(f.id).dimensions} <= BREAKDOWN_SHEET_DIMENSIONS],
                       la_rows, targets, run)
    write_reaudits(workbook.create_sheet("Re-audits"), month_records, values, run,
                   kpi_shown_in(kpis, "qa_reaudits"))
    if allocation is not None:
        write_allocation(workbook.create_sheet("Allocation"), allocation, run, allocation_note,
                         allocation_warnings, allocation_rule)
    if findings is not None:
        write_findings(workbook.create_sheet("Findings"), findings, la_rows, run)
    return finish_internal_workbook(workbook, f"{run.la_name} {QA_TITLE} {run.period}", kpis, targets, run,
                                    Path(out_path), data_quality, with_record_ids=True)


def _on_summary(figure: Figure, targets: dict[str, KpiTarget]) -> bool:
    keys = {k for k, _ in parse_figure_id(figure.id).dimensions}
    return keys <= {"grade"} or figure.id in targets


# --- Summary --------------------------------------------------------------------------------------



def write_qa_summary(sheet: Worksheet, figures: list[Figure], la_rows: pd.DataFrame,
                     targets: dict[str, KpiTarget], run: RunInfo) -> None:
    """As the scorecards' Summary, with one chart per headline percentage KPI."""
    charts = [(f"{f.id} {f.name}", [f]) for f in figures if f.kind == "percent" and f.id == f.kpi.id]
    write_trend_summary(sheet, QA_TITLE, QA_NOTE, figures, la_rows, targets, run, charts, id_width=22)


# --- Compliance (QA02) ------------------------------------------------------------------------------


def _compliance_rows(records: pd.DataFrame, staff: pd.DataFrame, compliance: Kpi | None) -> pd.DataFrame:
    """One row per staff member measured by QA02, with their role, team and shortfall.

    QA02 records: one per staff member whose role has an audit requirement, worker_id =
    the staff member, in_numerator = met the requirement, measure = audits short of the
    requirement in its window (tasks.kpis.qa.qa02_compliance). `audits_required` (optional
    staff column) is the schedule's number; every default requirement is 1."""
    rows = records[records["kpi_id"] == (compliance.id if compliance else None)].copy()
    rows["staff_id"] = rows["worker_id"].where(rows["worker_id"].notna(), rows["record_id"]).astype(str)
    people = staff.assign(staff_id=staff["staff_id"].astype(str)).drop_duplicates("staff_id")
    people = people.set_index("staff_id")
    rows["name"] = rows["staff_id"].map(people["name"])
    rows["role"] = rows["staff_id"].map(people["role"]).fillna("Unknown role")
    rows["service_area"] = rows["staff_id"].map(people["service_area"])
    # a staff member with no team (DCS, Assistant Director, elected member) has none: not
    # a team called "Unallocated" (the attribution's name for a row with no team)
    own_team = rows["team_id"].notna() & (rows["team_id"].astype(str) != UNALLOCATED)
    rows["team_id"] = rows["team_id"].where(own_team, rows["staff_id"].map(people["team_id"]))
    rows["team_id"] = rows["team_id"].astype(object).where(rows["team_id"].notna(), None)
    if "team_name" in people.columns:  # staff_in_post: the team's (or service's) name
        rows["team_name"] = rows["staff_id"].map(people["team_name"])
    required = (people["audits_required"] if "audits_required" in people.columns
                else pd.Series(DEFAULT_AUDITS_REQUIRED, index=people.index))
    rows["required"] = rows["staff_id"].map(required).fillna(DEFAULT_AUDITS_REQUIRED).astype(int)
    rows["met"] = pd.to_numeric(rows["in_numerator"]).fillna(0).astype(int)
    short = pd.to_numeric(rows["measure"], errors="coerce").fillna(0).astype(int)
    rows["behind_by"] = [0 if met else max(int(s), 1) for met, s in zip(rows["met"], short)]
    return rows


def write_by_role(sheet: Worksheet, qa02: pd.DataFrame, run: RunInfo, compliance: Kpi | None) -> None:
    write_heading(sheet, f"{run.la_name}: audit compliance by role, {month_label(run.period)}",
                  f"{compliance.id if compliance else ''}: staff in post at period end whose role has an audit requirement, and how "
                  "many completed what the schedule requires in its window (qa-activity.md).", run)
    headers = ["Role", "Staff with a requirement", "Met requirement", "Below requirement",
               "Audits short in total", "Compliance %"]
    write_header(sheet, headers)
    roles = qa02.groupby("role", sort=True).agg(staff=("staff_id", "size"), met=("met", "sum"),
                                                short=("behind_by", "sum"))
    for row, (role, group) in enumerate(roles.iterrows(), start=FIRST_DATA_ROW):
        staff_count, met = int(group["staff"]), int(group["met"])
        write_row(sheet, row, [role, staff_count, met, staff_count - met, int(group["short"]),
                               percent(met, staff_count)])
        sheet.cell(row=row, column=6).number_format = DECIMAL_FORMAT
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(roles) - 1, frozen_columns=1)
    set_widths(sheet, [30, 14, 12, 12, 14, 13])


AUDITOR_HEADERS = ["Staff ID", "Name", "Role", "Team", "Service area",
                   "Audits required", "Behind by (audits)", "Met requirement"]
# the worker-level figures beside each auditor: (section of the KPI, its column headers)
AUDITOR_FIGURES = (("qa_due", ("audits due", "on time %")), ("qa_grades", ("audits completed",)),
                   ("qa_submission", ("submitted in 5 wd %",)))


def auditor_headers(kpis: list[Kpi]) -> list[str]:
    roles = [(kpi_shown_in(kpis, output), headers) for output, headers in AUDITOR_FIGURES]
    return AUDITOR_HEADERS + [f"{kpi.id if kpi else ''} {header}" for kpi, headers in roles for header in headers]


def write_auditors(sheet: Worksheet, qa02: pd.DataFrame, values: pd.DataFrame, run: RunInfo,
                   kpis: list[Kpi]) -> None:
    """Who is behind the audit schedule and by how much (largest shortfall first), with
    their own audit timeliness (worker-level QA01, QA03, QA09)."""
    compliance = kpi_shown_in(kpis, "qa_compliance")
    due, grades, submission = (kpi_shown_in(kpis, output) for output, _ in AUDITOR_FIGURES)
    write_heading(sheet, f"{run.la_name}: auditors, {month_label(run.period)}",
                  f"{compliance.id if compliance else ''} by staff member; behind by = audits required "
                  f"minus audits counted. {QA_NOTE}", run)
    headers = auditor_headers(kpis)
    write_header(sheet, headers)
    team_names = _team_or_area_names(values)
    worker = values[values["level"] == "worker"]
    by_worker = {(str(r.unit_id), r.kpi_id): r for r in worker.itertuples()}
    ordered = qa02.sort_values(["behind_by", "role", "name", "staff_id"], ascending=[False, True, True, True],
                               key=lambda c: c if c.name == "behind_by" else c.astype(str))
    for row, person in enumerate(ordered.itertuples(), start=FIRST_DATA_ROW):
        qa01, qa03, qa09 = (by_worker.get((person.staff_id, kpi.id)) if kpi else None
                            for kpi in (due, grades, submission))
        team = text_value(person.team_id)
        team_name = text_value(getattr(person, "team_name", None)) or team_names.get(team, team)
        write_row(sheet, row, [person.staff_id, text_value(person.name), person.role,
                               team_name, text_value(person.service_area),
                               person.required, person.behind_by,
                               "Yes" if person.met else "No",
                               number_value(qa01.denominator) if qa01 else None,
                               number_value(qa01.value) if qa01 else None,
                               number_value(qa03.value) if qa03 else None,
                               number_value(qa09.value) if qa09 else None])
        for column in (10, 12):
            sheet.cell(row=row, column=column).number_format = DECIMAL_FORMAT
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(ordered) - 1, frozen_columns=2)
    set_widths(sheet, [12, 26, 24, 24, 16] + [12] * 7)


def _unit_names(values: pd.DataFrame, level: str) -> dict[str, str]:
    rows = values[values["level"] == level]
    return {str(u): (n if isinstance(n, str) else str(u)) for u, n in zip(rows["unit_id"], rows["unit_name"])}


def _team_or_area_names(values: pd.DataFrame) -> dict[str, str]:
    """Names of the team ids on records: a team's, or a service area's (a Service
    Manager's or Head of Service's record carries their service area's id)."""
    return _unit_names(values, "service_area") | _unit_names(values, "team")


def _no_team_named(values: pd.DataFrame) -> pd.DataFrame:
    """The figures with the unit of rows with no team or area named "No team recorded"
    (a DCS, Assistant Director or elected member has no team), not "Unallocated"."""
    none = values["unit_id"].astype(str) == UNALLOCATED
    label = values["level"].map({"service_area": NO_SERVICE_AREA}).fillna(NO_TEAM)
    return values.assign(unit_name=values["unit_name"].where(~none, label))


def _teams_of(values: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """Teams with figures, with the service area most of their staff work in. The
    figures of staff and cases with no team (a DCS, Assistant Director or elected member
    has none) read "No team recorded", not as a team called "Unallocated"."""
    names = _unit_names(values, "team")
    if "team_name" in staff.columns:  # staff_in_post's names (a service for a Service Manager)
        known = staff.dropna(subset=["team_id", "team_name"])
        names |= {t: n for t, n in zip(known["team_id"].astype(str), known["team_name"]) if t in names}
    if UNALLOCATED in names:
        names[UNALLOCATED] = NO_TEAM
    service = (staff.dropna(subset=["team_id"]).assign(team_id=lambda s: s["team_id"].astype(str))
               .groupby("team_id")["service_area"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None))
    return pd.DataFrame({"team_id": list(names), "team_name": list(names.values()),
                         "service_name": [service.get(t) for t in names]})


def _no_workers() -> pd.DataFrame:
    return pd.DataFrame(columns=["worker_id", "worker_name", "team_id"])


# --- Grades (QA03) ----------------------------------------------------------------------------------


def grade_table(la_rows: pd.DataFrame, period: str, grades_kpi: str, names: tuple[str, ...] = ()) -> list[dict]:
    """Audits by grade for the month (names=()) or rolling 3 months (("rolling_3m",)):
    grade, count and % of audits completed. Audits with no grade stay in the
    denominator (kpis.md, QA03), shown as "No grade recorded"."""
    total_row = la_figure(la_rows, ":".join((grades_kpi,) + names), period)
    total = number_value(total_row.value) if total_row else None
    rows = []
    for grade in GRADES:
        count = _grade_count(la_figure(la_rows, ":".join((grades_kpi,) + names + (f"grade={grade}",)), period))
        rows.append({"grade": grade, "count": count,
                     "percent": percent(count, total) if count is not None and total else None})
    if total is not None:
        ungraded = total - sum(r["count"] or 0 for r in rows)
        rows.append({"grade": NO_GRADE, "count": ungraded,
                     "percent": percent(ungraded, total) if total else None})
    rows.append({"grade": "Total", "count": total, "percent": 100.0 if total else None})
    return rows


def _grade_count(row) -> int | None:
    """A grade figure's count: its numerator when it is published as a percentage."""
    if row is None:
        return None
    has_denominator = row.denominator is not None and not pd.isna(row.denominator)
    return int(number_value(row.numerator if has_denominator else row.value) or 0)


def grades_by(la_rows: pd.DataFrame, period: str, grades_kpi: str, dimension: str) -> pd.DataFrame:
    """Audit counts by `dimension` (theme, service_area) and grade, from
    `QA03:<dimension>=<value>:grade=<grade>` figures; empty when none is published."""
    counts: dict[str, dict[str, int]] = {}
    for row in la_rows[la_rows["period"] == period].itertuples():
        parsed = parse_figure_id(row.kpi_id)
        dims = parsed.dimension
        if parsed.kpi_id != grades_kpi or parsed.names or dimension not in dims or "grade" not in dims:
            continue
        counts.setdefault(dims[dimension], {})[dims["grade"]] = _grade_count(row)
    frame = pd.DataFrame.from_dict(counts, orient="index").reindex(columns=list(GRADES)).fillna(0)
    return frame.astype(int).sort_index()


def write_grades(sheet: Worksheet, la_rows: pd.DataFrame, run: RunInfo, grades: Kpi | None) -> None:
    write_heading(sheet, f"{run.la_name}: audit grades, {month_label(run.period)}",
                  f"{grades.id if grades else ''}: audits completed in the month and in the rolling 3 months (the 3 calendar "
                  "months ending with the period month), by grade; then by theme and service area.", run)
    headers = ["Grade", "Month: audits", "Month: %", "Rolling 3 months: audits", "Rolling 3 months: %"]
    write_header(sheet, headers)
    grades_kpi = grades.id if grades else ""
    month, rolling = (grade_table(la_rows, run.period, grades_kpi),
                      grade_table(la_rows, run.period, grades_kpi, ("rolling_3m",)))
    rolling_by_grade = {r["grade"]: r for r in rolling}
    row = FIRST_DATA_ROW
    for entry in month:
        other = rolling_by_grade.get(entry["grade"], {})
        write_row(sheet, row, [entry["grade"], entry["count"], entry["percent"],
                               other.get("count"), other.get("percent")])
        for column in (3, 5):
            sheet.cell(row=row, column=column).number_format = DECIMAL_FORMAT
        if entry["grade"] == "Total":
            sheet.cell(row=row, column=1).font = BOLD
        row += 1
    for dimension, label in (("theme", "Theme"), ("service_area", "Service area")):
        row = _write_grade_breakdown(sheet, row + 1, label, grades_by(la_rows, run.period, grades_kpi, dimension))
    set_widths(sheet, [34, 14, 12, 14, 14, 14, 10])


def _write_grade_breakdown(sheet: Worksheet, row: int, label: str, counts: pd.DataFrame) -> int:
    write_header(sheet, [f"Audits by {label.lower()} and grade (month)", *GRADES, "Total graded"], row)
    row += 1
    if counts.empty:
        write_cell(sheet, row, 1, f"No audit grades by {label.lower()} were published.")
        return row + 1
    for name, grades in counts.iterrows():
        write_row(sheet, row, [name, *[int(grades[g]) for g in GRADES], int(grades.sum())])
        row += 1
    return row


# --- Figure tables (Moderation, Closing the loop) ----------------------------------------------------

FIGURE_TABLE_HEADERS = ["Figure", "Name", "Numerator", "Denominator", "Value", "Unit", "Last month",
                        "Target", "RAG", "Direction of travel"]


def write_figure_table(sheet: Worksheet, title: str, note: str, figures: list[Figure],
                       la_rows: pd.DataFrame, targets: dict[str, KpiTarget], run: RunInfo) -> None:
    """LA figures of the month with their numerator, denominator, target and RAG."""
    write_heading(sheet, f"{run.la_name}: {title}, {month_label(run.period)}", note, run)
    write_header(sheet, FIGURE_TABLE_HEADERS)
    previous = Period.month(run.period).shift(-1).id
    for row, figure in enumerate(figures, start=FIRST_DATA_ROW):
        current, last = la_figure(la_rows, figure.id, run.period), la_figure(la_rows, figure.id, previous)
        value = number_value(current.value) if current else None
        last_value = number_value(last.value) if last else None
        target, rag = figure_rag(figure, value, targets)
        is_percent = figure.kind == "percent"
        write_row(sheet, row, [figure.id, figure.name,
                               number_value(current.numerator) if current and is_percent else None,
                               number_value(current.denominator) if current and is_percent else None,
                               value, "%" if is_percent else "count", last_value, target, rag,
                               direction_of_travel(value, last_value, figure.kpi.polarity)])
        for column in (5, 7, 8):
            sheet.cell(row=row, column=column).number_format = DECIMAL_FORMAT if is_percent else WHOLE_FORMAT
    last_row = max(FIRST_DATA_ROW + len(figures) - 1, FIRST_DATA_ROW)
    add_rag_fills(sheet, f"I{FIRST_DATA_ROW}:I{last_row}")
    finish_table(sheet, len(FIGURE_TABLE_HEADERS), FIRST_DATA_ROW + len(figures) - 1, frozen_columns=1)
    set_widths(sheet, [30, 56, 11, 12, 9, 7, 11, 8, 8, 18])


# --- Re-audits (QA06) and Allocation ------------------------------------------------------------------


def write_reaudits(sheet: Worksheet, records: pd.DataFrame, values: pd.DataFrame, run: RunInfo,
                   reaudits: Kpi | None) -> None:
    """QA06's population: Inadequate audits of the 3 months before the period month,
    not yet re-audited first."""
    rows = records[records["kpi_id"] == (reaudits.id if reaudits else None)].copy()
    rows["done"] = pd.to_numeric(rows["in_numerator"]).fillna(0).astype(int)
    rows = rows.sort_values(["done", "record_id"], key=lambda c: c if c.name == "done" else c.astype(str))
    team_names, worker_names = _team_or_area_names(values), _unit_names(values, "worker")
    waiting = int((rows["done"] == 0).sum())
    write_heading(sheet, f"{reaudits.id if reaudits else ''} Inadequate audits: {waiting} awaiting re-audit at "
                         f"{Period.month(run.period).end:%d %B %Y}",
                  "Audits graded Inadequate in the three calendar months before the period month; "
                  "re-audited = a re-audit completed on or before period end. Child-level list: "
                  "internal to the performance and QA teams.", run)
    headers = ["Audit ID", "Person ID", "Team", "Auditor", "Re-audited"]
    write_header(sheet, headers)
    for row, record in enumerate(rows.itertuples(), start=FIRST_DATA_ROW):
        team, worker = text_value(record.team_id), text_value(record.worker_id)
        write_row(sheet, row, [text_value(record.record_id), text_value(record.person_id),
                               team_names.get(team, team), worker_names.get(worker, worker),
                               "Yes" if record.done else "No"])
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(rows) - 1, frozen_columns=1)
    set_widths(sheet, [14, 14, 28, 28, 11])


# the Allocation sheet's columns: (header, the allocation's column, else its id column)
ALLOCATION_SHEET_COLUMNS = (
    ("Auditor ID", "auditor_id", None), ("Auditor", "auditor_name", None), ("Auditor role", "auditor_role", None),
    ("Auditor's team", "auditor_team_name", "auditor_team_id"), ("Round", "round", None),
    ("Child", "person_id", None), ("Open as", "open_as", None), ("Need code / CP category", "characteristics", None),
    ("Case worker ID", "worker_id", None), ("Case worker", "worker_name", None),
    ("Case team", "team_name", "team_id"))
ALLOCATION_CODES = (
    "Open as: CIN = an open child in need episode (not NFA); CP = an open child protection plan; "
    "CLA = looked after (an open care episode).",
    "Need code (CIN and CLA primary need): N1 abuse or neglect, N2 child's disability, N3 parental illness or "
    "disability, N4 family in acute stress, N5 family dysfunction, N6 socially unacceptable behaviour,",
    "N7 low income, N8 absent parenting, N9 cases other than children in need, N0 not stated. "
    "CP category: NEG neglect, PHY physical abuse, EMO emotional abuse, SAB sexual abuse, MUL multiple.",
    "Auditor role: the role in the QA schedule (qa-activity.md, settings [qa.requirements]) that asks for "
    "case file audits (audit type case_file); senior staff with no team show none.",
    "Round: the auditor's first, second ... case of the month ([qa] audits_per_auditor). Case worker and "
    "team: the child's allocated worker at the end of the month (else the referral's team).",
)


def write_allocation(sheet: Worksheet, allocation: pd.DataFrame, run: RunInfo, note: str | None = None,
                     warnings: list[str] = (), rule: tuple[str, ...] = ()) -> None:
    """The month's random allocation of cases to auditors: names beside ids, headers
    in words and the codes explained below. The theme, its cohort rule and the seed are
    in the note so the allocation can be regenerated; an allocation not drawn (`note`)
    says why in its first row, and the planned themes with no cohort rule (`warnings`)
    are listed below the table."""
    themes = _distinct(allocation, "theme")
    seeds = _distinct(allocation, "seed")
    month = _distinct(allocation, "month") or run.period
    rule_text = f" Cohort rule ([qa.theme_keywords]): {', '.join(rule)}." if rule else ""
    write_heading(sheet, f"{run.la_name}: audit allocation for {month_label(month) if len(month) == 7 else month}",
                  f"Theme: {themes or 'not recorded'}.{rule_text} Seed: {seeds or 'not recorded'} (the same seed "
                  f"and cohort regenerate it: re-running {run.period} on the same extracts gives the same rows). "
                  f"Cases open at the end of {month_label(run.period)}; no auditor is given a case "
                  f"from a team they manage. Internal to the QA team."
                  + (f" This month's allocation was {note}." if note else ""), run)
    headers = [header for header, _, _ in ALLOCATION_SHEET_COLUMNS]
    write_header(sheet, headers)
    row = FIRST_DATA_ROW
    for record in allocation.to_dict("records"):
        write_row(sheet, row, [_allocation_cell(record, column, fallback)
                               for _, column, fallback in ALLOCATION_SHEET_COLUMNS])
        row += 1
    if allocation.empty and note:
        write_cell(sheet, row, 1, f"Allocation {note}.").font = BOLD
        row += 1
    finish_table(sheet, len(headers), max(row - 1, FIRST_DATA_ROW), frozen_columns=2)
    set_widths(sheet, [11, 20, 22, 32, 7, 11, 9, 13, 11, 20, 30])
    row += 1
    if warnings:
        write_cell(sheet, row, 1, "Warnings: planned themes with no cohort rule").font = BOLD
        for row, warning in enumerate(warnings, start=row + 1):
            write_cell(sheet, row, 1, f"Not drawn when due: {warning}.")
        row += 2
    write_cell(sheet, row, 1, "Codes").font = BOLD
    for row, line in enumerate(ALLOCATION_CODES, start=row + 1):
        write_cell(sheet, row, 1, line)


def _allocation_cell(record: dict, column: str, fallback: str | None):
    value = record.get(column)
    if is_missing(value) and fallback:
        value = record.get(fallback)
    return cell_value(value)


def _distinct(frame: pd.DataFrame, column: str) -> str:
    if column not in frame.columns:
        return ""
    return ", ".join(str(v) for v in pd.unique(frame[column].dropna()))



# --- Audit findings (QA12, QA13; issue 15 point 4) --------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """The Findings sheet's input: the findings KPIs of the run (empty: the optional
    qa_audit_findings table was not supplied) and the summaries a report may show
    ([{domain, finding_type, summary}]: share Y and naming no one, tasks/reports/findings.py)."""

    kpis: list[Kpi]
    summaries: list[dict]
    dropped: int = 0


FINDING_TYPE_NAMES = {"strength": "Strength", "area_for_development": "Area for development"}


def write_findings(sheet: Worksheet, findings: Findings, la_rows: pd.DataFrame, run: RunInfo) -> None:
    """Audits with a strength and with an area for development by practice domain, this
    month and last (aggregate figures), then the shareable summaries."""
    previous = Period.month(run.period).shift(-1).id
    ids = " and ".join(k.id for k in findings.kpis)
    write_heading(sheet, f"{run.la_name}: audit findings, {month_label(run.period)}",
                  f"{ids}: audits completed in the month with at least one strength / area for development, "
                  "by practice domain (an audit counts once in each domain). Summaries: those the QA manager "
                  "approved for sharing (share = Y) that name no child, worker or staff member of the extracts"
                  + (f" ({findings.dropped} approved left out for naming someone)" if findings.dropped else "")
                  + "." if findings.kpis else
                  "The optional qa_audit_findings table was not supplied: no audit findings this month.", run)
    if not findings.kpis:
        set_widths(sheet, [34])
        return
    headers = ["Practice domain", "Strength: audits (month)", "Strength: audits (last month)",
               "Area for development: audits (month)", "Area for development: audits (last month)"]
    write_header(sheet, headers)
    kpi_ids = [k.id for k in findings.kpis]

    def count(figure_id, period):
        row = la_figure(la_rows, figure_id, period)
        return number_value(row.value) if row is not None else None

    domains = sorted({parse_figure_id(i).dimension.get("domain") for i in la_rows["kpi_id"]
                      if parse_figure_id(i).kpi_id in kpi_ids} - {None},
                     key=lambda d: (_declared_order(findings.kpis).get(d, 99), d))
    row = FIRST_DATA_ROW
    strengths, developments = (kpi_ids + [None, None])[:2]
    for label, suffix in [("All domains (audits with any)", "")] + [(d, f":domain={d}") for d in domains]:
        write_row(sheet, row, [label, *[count(f"{k}{suffix}", p) if k else None
                                        for k in (strengths, developments) for p in (run.period, previous)]])
        if not suffix:
            sheet.cell(row=row, column=1).font = BOLD
        row += 1
    finish_table(sheet, len(headers), row - 1, frozen_columns=1)
    row += 1
    write_header(sheet, ["Shareable summaries", "Finding type", "Practice domain"], row)
    row += 1
    if not findings.summaries:
        write_cell(sheet, row, 1, "No summary approved for sharing this month.")
    for summary in findings.summaries:
        write_row(sheet, row, [summary["summary"], FINDING_TYPE_NAMES.get(summary["finding_type"], ""),
                               summary["domain"]])
        row += 1
    set_widths(sheet, [60, 16, 22, 20, 20])


def _declared_order(kpis: list[Kpi]) -> dict[str, int]:
    declared = [e.value for k in kpis for e in k.extras if e.breakdown and e.group == "domain" and e.value]
    return {d: i for i, d in reversed(list(enumerate(declared)))}
