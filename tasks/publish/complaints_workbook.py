"""The monthly "Complaints, compliments and participation" workbook (issue 15; kpis.md
"Complaints, compliments, IRO and participation": the monthly flow publishes, for the
month, each measure whose definition reads sensibly for a month).

A workbook of its own, not sheets of the QA workbook: its readers are the complaints
manager, the IRO service and the participation team (and, at quarter ends, the quarterly
audiences), not the QA team; and the QA workbook names staff and children and exists only
when audits are supplied, while this one is aggregate, so it may go wherever the
Directorate Scorecard goes.

Sheets: Summary (each measure's LA figure for the 13 months to the period, and what this
month's percentage is based on), one sheet per registry scorecard of these measures
(Complaints, DRP and IRO, Participation: every figure of the month with its sub-measures,
by stage, complainant, service area, theme, survey, respondent type, question with its
text), Themes and outcomes (the quarterly reports' plain counts for the month: complaint
themes, learning actions raised, completed and overdue, DRP outcomes), Teams (the
month's figures by team), Data quality (no record ids), Definitions and Run. Which measures, sub-measures and sheets follows the registry (no KPI
id is named here).

Aggregate only, so kpis.md "Small numbers" applies through tasks.publish.suppression:
a count of 1-4 is `<5`; a percentage on a base under 5 is `*`; in a set of counts shown
beside their total (the sub-measures of one breakdown, the teams of one column, the
respondent types of one question's base) a lone `<5` takes the smallest other count
with it (`*`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from tasks.core.figure_ids import parse_figure_id
from tasks.kpis.compute import UNALLOCATED
from tasks.kpis.registry import Figure, Kpi
from tasks.publish.cells import is_missing, write_row
from tasks.publish.dq_sheet import write_data_quality_sheet
from tasks.publish.excel import la_trend_rows, write_definitions, write_run
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (FIRST_DATA_ROW, decimal_format, describe_workbook, finish_table, month_label,
                                 save_workbook, set_widths, write_header, write_heading)
from tasks.publish.suppression import FOOTNOTE, hidden_counts, shown_figure

TITLE = "Complaints, compliments and participation"
# the registry scorecards of kpis.md's "Complaints, compliments, IRO and participation",
# each a sheet (in this order) named as its readers know it
SCORECARD_SHEETS = {"complaints": "Complaints", "iro": "DRP and IRO", "participation": "Participation"}
NOTE = ("Aggregate figures for the complaints team, the IRO service and the participation team; "
        "small numbers suppressed (kpis.md): " + FOOTNOTE)
FIGURE_HEADERS = ["KPI", "Measure", "Breakdown", "Category", "This month", "Based on", "Unit"]
QUESTION_HEADER = "Question text"
RIGHT = Alignment(horizontal="right")  # figures and their symbols (<5, *, n/a) line up


def _align_right(cells) -> None:
    for cell in cells:
        cell.alignment = RIGHT


def workbook_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The KPIs this workbook shows, in registry order."""
    return [k for k in kpis if k.scorecard in SCORECARD_SHEETS]


def publish_complaints_workbook(kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame, run: RunInfo,
                                out_path: Path, questions: dict[str, str] | None = None,
                                data_quality=None, count_tables: list[dict] = ()) -> Path:
    """Write the month's workbook; returns its path. `kpis`: those computed for the month
    (the others of the registry are ignored); `questions`: {"SV01/Q1": question text};
    `count_tables`: the reports' plain counts for the month, already suppressed
    (tasks.reports.quarterly.count_table: heading, headers, rows of name and cells)."""
    shown = workbook_kpis(kpis)
    workbook = Workbook()
    write_summary(workbook.active, shown, la_trend_rows(values, trend), run)
    month = values[(values["level"] == "la") & (values["period"] == run.period)]
    for scorecard, sheet_name in SCORECARD_SHEETS.items():
        sheet_kpis = [k for k in shown if k.scorecard == scorecard]
        if sheet_kpis:
            write_figures(workbook.create_sheet(sheet_name), sheet_name, sheet_kpis, month, run, questions or {})
    if count_tables:
        write_count_tables(workbook.create_sheet("Themes and outcomes"), count_tables, run)
    write_teams(workbook.create_sheet("Teams"), shown, values[values["period"] == run.period], run)
    if data_quality is not None:
        write_data_quality_sheet(workbook, data_quality, run, with_record_ids=False)
    write_definitions(workbook.create_sheet("Definitions"), shown, {}, run)
    write_run(workbook.create_sheet("Run"), run)
    describe_workbook(workbook, f"{run.la_name} {TITLE} {run.period}", run)
    return save_workbook(workbook, Path(out_path))


# --- Summary ---------------------------------------------------------------------------------------


def write_summary(sheet: Worksheet, kpis: list[Kpi], la_rows: pd.DataFrame, run: RunInfo) -> None:
    """One row per measure: its LA figure in each month of the trend (each suppressed on its
    own), and the base of this month's percentage."""
    sheet.title = "Summary"
    months = run.trend_periods()
    write_heading(sheet, f"{run.la_name}: {TITLE}, {month_label(run.period)}",
                  f"Local authority figures for the {len(months)} months to {month_label(run.period)}. {NOTE}", run)
    write_header(sheet, ["KPI", "Measure", "Polarity", "Unit", *months, "Based on (this month)"])
    figures = {(r.kpi_id, r.period): r for r in la_rows.itertuples()}
    for row_number, kpi in enumerate(kpis, start=FIRST_DATA_ROW):
        figure = Figure.of(kpi, kpi.id)
        cells = [_shown(figure.kind, figures.get((kpi.id, m))) for m in months]
        now = figures.get((kpi.id, run.period))
        base = _shown_count(now.denominator) if figure.kind == "percent" and now is not None else None
        written = write_row(sheet, row_number, [kpi.id, kpi.name, kpi.polarity, kpi.unit, *cells, base])
        for cell in written[4:-1]:
            cell.number_format = decimal_format(figure.precision)
        _align_right(written[4:])
    finish_table(sheet, len(months) + 5, FIRST_DATA_ROW + len(kpis) - 1, frozen_columns=2)
    set_widths(sheet, [8, 40, 9, 12] + [8] * len(months) + [11])


def _shown(kind: str, row):
    """What the workbook may show of one stored figure (None: no row, an empty cell)."""
    return None if row is None else shown_figure(kind, row.value, row.numerator, row.denominator)


def _shown_count(count):
    """A base or a team's count (None: an empty cell)."""
    return None if is_missing(count) else shown_figure("count", count)


# --- The figures of one scorecard ---------------------------------------------------------------------


def figure_lines(kpi: Kpi, month: pd.DataFrame) -> list[dict]:
    """The KPI's figures of the month, headline first, then each breakdown in registry
    order (declared values first, then those found in the data), a split within a split
    (a question's respondent types) right after its outer figure; with the cells to show."""
    rows = {r.kpi_id: r for r in month.itertuples() if parse_figure_id(r.kpi_id).kpi_id == kpi.id}
    ids = sorted(rows, key=lambda figure_id: _order(kpi, figure_id))
    lines = []
    for figure_id in ids:
        parsed = parse_figure_id(figure_id)
        figure = Figure.of(kpi, figure_id)
        row = rows[figure_id]
        lines.append({"id": figure_id, "figure": figure, "row": row, "siblings": _siblings(parsed),
                      "breakdown": _breakdown(parsed), "category": _category(kpi, figure_id),
                      "value": _shown(figure.kind, row),
                      "base": None if figure.kind != "percent" or is_missing(row.denominator)
                      else _shown_count(row.denominator)})
    _hide_beside_totals(lines, "value", lambda line: line["figure"].kind == "count")
    _hide_beside_totals(lines, "base", lambda line: line["figure"].kind == "percent")
    return lines


def _order(kpi: Kpi, figure_id: str) -> tuple:
    parsed = parse_figure_id(figure_id)
    groups = list(dict.fromkeys(e.group if e.breakdown else e.name for e in kpi.extras))
    if not parsed.names and not parsed.dimensions:
        return (0,)
    if parsed.names:
        return (1, groups.index(parsed.names[0]) if parsed.names[0] in groups else len(groups), figure_id)
    key, value = parsed.dimensions[0]
    declared = [e.value for e in kpi.extras if e.breakdown and e.group == key and e.value is not None]
    return (2, groups.index(key) if key in groups else len(groups),
            declared.index(value) if value in declared else len(declared), value,
            [v for _, v in parsed.dimensions[1:]])


def _siblings(parsed) -> tuple | None:
    """Figures that add up to one shown total share this key: the values of one breakdown
    (beside the headline), the inner values within one outer value (beside it)."""
    if not parsed.dimensions or parsed.names:
        return None
    return (parsed.dimensions[:-1], parsed.dimensions[-1][0])


def _breakdown(parsed) -> str | None:
    return " / ".join(key.replace("_", " ") for key, _ in parsed.dimensions) or None


def _category(kpi: Kpi, figure_id: str) -> str | None:
    """The breakdown's values (`SV01/Q1 / staff`), or a named figure's label (`upheld %`)."""
    parsed = parse_figure_id(figure_id)
    if parsed.names:
        return kpi.label_of(figure_id)
    return " / ".join(value for _, value in parsed.dimensions) or None


def _hide_beside_totals(lines: list[dict], cell: str, applies) -> None:
    """Secondary suppression within each set of siblings (tasks.publish.suppression.hidden_counts)."""
    groups: dict[tuple, list[dict]] = {}
    for line in lines:
        if line["siblings"] is not None and applies(line):
            groups.setdefault(line["siblings"], []).append(line)
    for members in groups.values():
        counts = [line["row"].value if cell == "value" else line["row"].denominator for line in members]
        for position, symbol in hidden_counts(counts).items():
            members[position][cell] = symbol


def write_figures(sheet: Worksheet, title: str, kpis: list[Kpi], month: pd.DataFrame, run: RunInfo,
                  questions: dict[str, str]) -> None:
    """Every figure of the month of these KPIs, one row each, filterable."""
    lines = [line for kpi in kpis for line in figure_lines(kpi, month)]
    with_text = any(_question_text(line, questions) for line in lines)
    write_heading(sheet, f"{run.la_name}: {title}, {month_label(run.period)}",
                  "Every figure of the month with its sub-measures (kpi_values.csv's ids in the KPI column). "
                  + NOTE, run)
    headers = FIGURE_HEADERS + ([QUESTION_HEADER] if with_text else [])
    write_header(sheet, headers)
    for row_number, line in enumerate(lines, start=FIRST_DATA_ROW):
        figure = line["figure"]
        # a breakdown counts what its KPI counts (complaints, alerts ...)
        unit = figure.kpi.unit if figure.kind == figure.kpi.kind else figure.unit
        cells = [line["id"], figure.kpi.name, line["breakdown"], line["category"], line["value"], line["base"], unit]
        if with_text:
            cells.append(_question_text(line, questions))
        written = write_row(sheet, row_number, cells)
        written[4].number_format = decimal_format(figure.precision)
        _align_right(written[4:6])
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(lines) - 1, frozen_columns=1)
    set_widths(sheet, [56, 34, 22, 34, 11, 10, 12] + ([50] if with_text else []))


def _question_text(line: dict, questions: dict[str, str]) -> str | None:
    parsed = parse_figure_id(line["id"])
    key = parsed.dimension.get("question") if parsed.dimensions and parsed.dimensions[0][0] == "question" else None
    return questions.get(key) if key else None


# --- Themes, outcomes, learning actions (plain counts, no KPI) -------------------------------------


def write_count_tables(sheet: Worksheet, tables: list[dict], run: RunInfo) -> None:
    """The counts kpis.md does not define (sql/reports/: complaint themes, learning actions,
    DRP outcomes), one row per category and count, as the quarterly reports show them."""
    notes = " ".join(f"{table['heading']}: {table['note']}" for table in tables)
    write_heading(sheet, f"{run.la_name}: themes, outcomes and learning actions, {month_label(run.period)}",
                  f"Plain counts of the month (their rules: sql/reports/), each set suppressed beside its "
                  f"total. {notes} {NOTE}", run)
    headers = ["Table", "Category", "Count of", "This month"]
    write_header(sheet, headers)
    row_number = FIRST_DATA_ROW
    for table in tables:
        for line in table["rows"]:
            for header, cell in zip(table["headers"], line["cells"]):
                written = write_row(sheet, row_number, [table["heading"], line["name"], header,
                                                        _number_or_symbol(cell)])
                _align_right(written[3:4])
                row_number += 1
    finish_table(sheet, len(headers), row_number - 1, frozen_columns=2)
    set_widths(sheet, [32, 30, 28, 11])


def _number_or_symbol(shown: str):
    """"1,234" -> 1234; a symbol (<5, *) stays text."""
    digits = shown.replace(",", "")
    return int(digits) if digits.isdigit() else shown


# --- Teams --------------------------------------------------------------------------------------------


def write_teams(sheet: Worksheet, kpis: list[Kpi], month: pd.DataFrame, run: RunInfo) -> None:
    """The month's headline figures by team: a count column's teams add up to the LA
    total, so a lone `<5` takes the smallest other with it; a percentage is `*` on a base
    under 5, and its base column is suppressed as counts beside their total."""
    teams = month[(month["level"] == "team") & month["kpi_id"].isin([k.id for k in kpis])]
    names = dict(zip(teams["unit_id"].astype(str), teams["unit_name"].astype(str)))
    units = sorted(names, key=lambda unit: (names[unit] == UNALLOCATED, names[unit]))
    by_figure = {(r.kpi_id, str(r.unit_id)): r for r in teams.itertuples()}
    columns, headers = [], ["Team ID", "Team"]
    for kpi in kpis:
        if not any((kpi.id, unit) in by_figure for unit in units):
            continue
        rows = [by_figure.get((kpi.id, unit)) for unit in units]
        figure = Figure.of(kpi, kpi.id)
        if figure.kind == "percent":
            columns.append([_shown("percent", row) for row in rows])
            headers.append(f"{kpi.id} {kpi.name}")
            columns.append(_counts_beside_total([None if row is None else row.denominator for row in rows]))
            headers.append(f"{kpi.id} based on")
        else:
            columns.append(_counts_beside_total([0 if row is None else row.value for row in rows]))
            headers.append(f"{kpi.id} {kpi.name}")
    write_heading(sheet, f"{run.la_name}: {TITLE} by team, {month_label(run.period)}",
                  "The month's figures by team: the team on the record (complaints, compliments, learning "
                  "actions, survey responses), or for the IRO measures the child's allocated team, else the "
                  "record's. " + NOTE, run)
    write_header(sheet, headers)
    for offset, unit in enumerate(units):
        written = write_row(sheet, FIRST_DATA_ROW + offset, [unit, names[unit], *[column[offset] for column in columns]])
        _align_right(written[2:])
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(units) - 1, frozen_columns=2)
    set_widths(sheet, [12, 30] + [14] * len(columns))


def _counts_beside_total(counts: list) -> list:
    hidden = hidden_counts(counts)
    return [hidden.get(i) or _shown_count(count) for i, count in enumerate(counts)]
