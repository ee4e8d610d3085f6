"""The Safety and Drift and Delay scorecards as Excel workbooks (openpyxl).

Sheets: Summary (13-month LA trend, target, RAG, direction of travel, charts), Service
areas, Teams, Workers (names, each figure headed in words, RAG against the target), one
exception list per drift-and-delay KPI, Definitions (from the registry)
and Run (provenance and extract checksums).

These workbooks name teams, workers and (drift and delay) children, so they stay with
the performance team: kpis.md "Small numbers" suppression applies to reports that leave
it, and "child-level lists never appear in those reports".
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.core.settings import KpiTarget
from tasks.publish.cells import number_value, write_row
from tasks.publish.charts import target_lines, target_series
from tasks.kpis.compute import UNALLOCATED, UNKNOWN_SERVICE_AREA
from tasks.core.periods import Period
from tasks.publish.dq_sheet import write_data_quality_sheet
from tasks.publish.workbook_print import fit_row_height
from tasks.publish.lineage import RunInfo
from tasks.publish.lists import ListTable, list_table, listed_rows
from tasks.publish.style import (BOLD, DECIMAL_FORMAT, FIRST_DATA_ROW, HEADER_ROW, decimal_format,
                                 THOUSANDS_FORMAT, WHOLE_FORMAT, WRAP, add_rag_fills, describe_workbook,
                                 finish_table, month_label, save_workbook, set_widths, write_header,
                                 write_heading)
from tasks.kpis.rag import direction_of_travel, effective_tolerance, rag_status
from tasks.kpis.registry import Figure, Kpi

TOP = Alignment(vertical="top")
SCORECARD_TITLES = {"safety": "Safety Scorecard", "drift_delay": "Drift and Delay Scorecard"}

INTERNAL_NOTE = ("Internal to the performance team: figures are not suppressed for small numbers "
                 "and name teams and workers (kpis.md, Small numbers).")


def figures_of(kpis: list[Kpi]) -> list[Figure]:
    figures = []
    for kpi in kpis:
        figures.append(Figure.of(kpi, kpi.id))
        figures.extend(Figure(kpi, f"{kpi.id}:{extra.name}", extra.kind) for extra in kpi.extras)
    return figures


def publish_scorecard(scorecard: str, kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame,
                      records: pd.DataFrame, teams: pd.DataFrame, workers: pd.DataFrame,
                      targets: dict[str, KpiTarget], run: RunInfo, out_path: Path,
                      data_quality=None) -> Path:
    """Write one scorecard workbook for the run's period; returns its path.
    `data_quality`: a tasks.publish.dq_sheet.DataQuality, written as the Data quality sheet."""
    if scorecard not in SCORECARD_TITLES:
        raise ValueError(f"unknown scorecard {scorecard!r}; expected one of {sorted(SCORECARD_TITLES)}")
    figures = figures_of(kpis)
    workbook = Workbook()
    write_summary(workbook.active, scorecard, figures, la_trend_rows(values, trend), targets, run)
    for level in UNIT_LEVELS:
        write_units(workbook.create_sheet(UNIT_SHEETS[level]), level, figures, values, teams, workers, run,
                    targets)
    if scorecard == "drift_delay":
        for kpi in kpis:
            if kpi.kind == "exception":
                write_exceptions(workbook.create_sheet(kpi.id), kpi, records, teams, workers, run)
    # record ids only beside the child-level lists: the Safety scorecard names staff, no child
    return finish_internal_workbook(workbook, f"{run.la_name} {SCORECARD_TITLES[scorecard]} {run.period}",
                                    kpis, targets, run, Path(out_path), data_quality,
                                    with_record_ids=scorecard == "drift_delay")


def finish_internal_workbook(workbook: Workbook, title: str, kpis: list[Kpi], targets: dict[str, KpiTarget],
                             run: RunInfo, out_path: Path, data_quality=None,
                             with_record_ids: bool = False) -> Path:
    """The sheets a performance-team workbook ends with (Data quality, with the failing
    rows' record ids only in a child-level workbook; Definitions, Run), then its
    properties and the save; returns the path."""
    if data_quality is not None:
        write_data_quality_sheet(workbook, data_quality, run, with_record_ids=with_record_ids)
    write_definitions(workbook.create_sheet("Definitions"), kpis, targets, run)
    write_run(workbook.create_sheet("Run"), run)
    describe_workbook(workbook, title, run)
    return save_workbook(workbook, Path(out_path))


# --- Summary -----------------------------------------------------------------------------

SUMMARY_LEADING = ["KPI", "Name", "Polarity", "Unit"]
SUMMARY_TRAILING = ["Target", "RAG", "Direction of travel"]


def write_summary(sheet: Worksheet, scorecard: str, figures: list[Figure], la_rows: pd.DataFrame,
                  targets: dict[str, KpiTarget], run: RunInfo) -> None:
    write_trend_summary(sheet, SCORECARD_TITLES[scorecard], INTERNAL_NOTE, figures, la_rows, targets, run,
                        _chart_groups(scorecard, figures), charts_per_row=4 if scorecard == "drift_delay" else 2)


def write_trend_summary(sheet: Worksheet, title: str, note: str, figures: list[Figure], la_rows: pd.DataFrame,
                        targets: dict[str, KpiTarget], run: RunInfo,
                        chart_groups: list[tuple[str, list[Figure]]], id_width: int = 10,
                        charts_per_row: int = 2) -> None:
    """The Summary sheet of a workbook: one row per figure with its 13 monthly LA values,
    target, RAG and direction of travel, and line charts of `chart_groups` below."""
    sheet.title = "Summary"
    months = run.trend_periods()
    write_heading(sheet, f"{run.la_name}: {title}, {month_label(run.period)}",
                  f"Local authority figures for the {len(months)} months to {month_label(run.period)}; "
                  f"direction of travel compared with last month. {note}", run)
    write_header(sheet, SUMMARY_LEADING + months + SUMMARY_TRAILING)
    by_figure_month = {(r.kpi_id, r.period): number_value(r.value) for r in la_rows.itertuples()}
    first_month_column = len(SUMMARY_LEADING) + 1
    for row, figure in enumerate(figures, start=FIRST_DATA_ROW):
        trend_values = [by_figure_month.get((figure.id, month)) for month in months]
        target = targets.get(figure.id)
        target_value = target.target if target else None
        rag = None
        if target is not None:
            tolerance = effective_tolerance(figure.kpi, target.target, target.tolerance, figure.kind)
            rag = rag_status(trend_values[-1], target_value, tolerance, figure.polarity)
        direction = direction_of_travel(trend_values[-1], trend_values[-2], figure.polarity)
        cells = [figure.id, figure.name, figure.polarity, figure.unit,
                 *trend_values, target_value, rag, direction]
        write_row(sheet, row, cells)
        for column in range(first_month_column, first_month_column + len(months) + 1):
            sheet.cell(row=row, column=column).number_format = decimal_format(figure.precision)
    last_row = FIRST_DATA_ROW + len(figures) - 1
    rag_column = get_column_letter(first_month_column + len(months) + 1)
    add_rag_fills(sheet, f"{rag_column}{FIRST_DATA_ROW}:{rag_column}{max(last_row, FIRST_DATA_ROW)}")
    set_widths(sheet, [id_width, 48, 9, 11] + [9] * len(months) + [9, 8, 18])
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=first_month_column)
    _add_trend_charts(sheet, chart_groups, figures, targets, first_month_column, len(months),
                      max(last_row, FIRST_DATA_ROW) + 3, charts_per_row)


CHART_SIZE_CM = {2: (15, 7), 4: (10.5, 6)}  # (width, height) by charts per row
CHART_GAP_PX = 12
ROW_CM = 0.53  # a default row (15 points)
CHART_TITLE_POINTS = 10


def _add_trend_charts(sheet: Worksheet, chart_groups: list[tuple[str, list[Figure]]], figures: list[Figure],
                      targets: dict[str, KpiTarget], first_month_column: int, month_count: int,
                      top_row: int, per_row: int = 2) -> None:
    """Line charts of the monthly LA figures below the table, `per_row` side by side
    (small multiples: one chart per figure, each on its own scale); a chart of one figure
    with a target draws the target as a dashed line."""
    rows = {figure.id: row for row, figure in enumerate(figures, start=FIRST_DATA_ROW)}
    single = [group[0] for _, group in chart_groups if len(group) == 1]
    targets_of = target_lines(sheet.parent, single, targets, month_count)
    months = Reference(sheet, min_col=first_month_column, max_col=first_month_column + month_count - 1,
                       min_row=HEADER_ROW, max_row=HEADER_ROW)
    width, height = CHART_SIZE_CM.get(per_row, CHART_SIZE_CM[4])
    columns = ["A", "F"] if per_row == 2 else _chart_columns(sheet, per_row, width)
    rows_apart = 15 if per_row == 2 else math.ceil(height / ROW_CM) + 1
    for index, (title, group) in enumerate(chart_groups):
        chart = LineChart()
        chart.title, chart.height, chart.width = title, height, width
        if per_row > 2:  # a small multiple: a smaller title leaves the plot its room
            chart.title = _title(title, CHART_TITLE_POINTS)
        chart.y_axis.title = group[0].unit if len(group) == 1 else "exceptions"
        chart.y_axis.number_format = decimal_format(group[0].precision)
        chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
        if group[0].kind == "percent":
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        elif group[0].kind in ("exception", "count"):
            chart.y_axis.scaling.min = 0
        if len(group) == 1 and group[0].id not in targets_of:
            chart.legend = None
        for figure in group:
            points = Reference(sheet, min_col=first_month_column,
                               max_col=first_month_column + month_count - 1,
                               min_row=rows[figure.id], max_row=rows[figure.id])
            chart.series.append(Series(points, title=figure.id))
        if len(group) == 1 and group[0].id in targets_of:
            chart.series.append(target_series(targets_of[group[0].id]))
            chart.legend.position = "b"
        chart.set_categories(months)
        sheet.add_chart(chart, f"{columns[index % per_row]}{top_row + (index // per_row) * rows_apart}")


def _title(text: str, points: int) -> Title:
    """A chart title in bold of `points` size."""
    font = CharacterProperties(sz=points * 100, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _chart_columns(sheet: Worksheet, per_row: int, width_cm: float) -> list[str]:
    """The columns where `per_row` charts of `width_cm` start side by side, from the
    sheet's column widths (a column of width w is about 7w + 5 pixels; 96 pixels an inch)."""
    chart_px = width_cm / 2.54 * 96 + CHART_GAP_PX
    columns, start, column = [], 0.0, 1
    while len(columns) < per_row:
        if start >= len(columns) * chart_px:
            columns.append(get_column_letter(column))
        width = sheet.column_dimensions[get_column_letter(column)].width or 8.43
        start += 7 * width + 5
        column += 1
    return columns


def _chart_groups(scorecard: str, figures: list[Figure]) -> list[tuple[str, list[Figure]]]:
    """Safety: one chart per headline percentage KPI. Drift and delay: one small chart
    per list (its monthly exception count on its own scale), four a row, not one chart of
    eleven lines."""
    if scorecard == "drift_delay":
        return [(f"{f.id} {f.name}", [f]) for f in figures if f.kind == "exception" and f.id == f.kpi.id]
    return [(f"{f.id} {f.name}", [f]) for f in figures
            if f.kind == "percent" and f.id == f.kpi.id and f.kpi.headline]


# --- Service areas, Teams and Workers -------------------------------------------------------

UNIT_LEVELS = ("service_area", "team", "worker")
UNIT_SHEETS = {"service_area": "Service areas", "team": "Teams", "worker": "Workers"}
UNIT_LEADING = {"service_area": ["Service area ID", "Service area", "Teams in it"],
                "team": ["Team ID", "Team", "Service area"],
                "worker": ["Worker ID", "Worker", "Team"]}
UNIT_NOTES = {
    "service_area": "Service areas are the teams' parent departments (ssd_department); each figure is "
                    "computed on the rows of its teams (and any recorded against the service area "
                    "itself). Teams without a parent department are under 'Unknown service area'.",
    "team": "Figures attributed to each team (kpis.md, Team / worker attribution); service area = "
            "the team's parent department.",
    "worker": "Figures attributed to each worker (kpis.md, Team / worker attribution).",
}
RAG_KINDS = ("percent", "mean")  # a unit's percentage or mean compares with the LA target; a count does not


def figure_header(figure: Figure) -> str:
    """A column header in words that keeps the id: "SAF07 Assessments completed within
    45 working days %", "SAF01 Contacts in month (count)", "SAF23:eet_pct In education,
    employment or training %"."""
    words = figure.name
    if figure.id != figure.kpi.id:  # an extra: its own label, not the KPI's name again
        label = figure.kpi.label_of(figure.id)
        words = label[:1].upper() + label[1:]
    name = f"{figure.id} {words}"
    unit = figure.unit
    return name if not unit or name.endswith(unit) or name.endswith("%") else f"{name} ({unit})"


def rag_header(figure: Figure, target: float) -> str:
    shown = f"{target:g}%" if figure.kind == "percent" else f"{target:g}"
    return f"{figure.id} RAG (target {shown})"


def write_units(sheet: Worksheet, level: str, figures: list[Figure], values: pd.DataFrame,
                teams: pd.DataFrame, workers: pd.DataFrame, run: RunInfo,
                targets: dict[str, KpiTarget] | None = None) -> None:
    """One row per service area (with its number of teams), team (with its service area)
    or worker (with their team), one column per figure, headed by its id and name; a
    percentage (or mean) with a target is followed by its RAG in words against the LA
    target. Rates per 10,000 are LA-only and left out. A unit with no rows for a count
    has a count of 0; a percentage or mean with no rows is empty (n/a)."""
    targets = targets or {}
    figures = [f for f in figures if f.kind != "rate"]
    units = {"service_area": _service_area_units, "team": _team_units}.get(level)
    units = units(teams, values) if units else _worker_units(workers, teams, values)
    label = UNIT_SHEETS[level]
    write_heading(sheet, f"{run.la_name}: {label}, {month_label(run.period)}",
                  f"{UNIT_NOTES[level]} RAG: against the LA target, in words. {INTERNAL_NOTE}", run)
    leading = UNIT_LEADING[level]
    headers, formats, widths, rag_columns, rags = list(leading), [], [], [], []
    for figure in figures:
        headers.append(figure_header(figure))
        formats.append(decimal_format(figure.precision))
        widths.append(_word_width(headers[-1]))
        target = targets.get(figure.id)
        if target is not None and figure.kind in RAG_KINDS:
            headers.append(rag_header(figure, target.target))
            formats.append(None)
            widths.append(7)
            rag_columns.append(len(headers))
            rags.append((figure, target))
        else:
            rags.append((figure, None))
        if figure.kind == "percent":
            headers += [f"{figure.id} numerator", f"{figure.id} denominator"]
            formats += [WHOLE_FORMAT, WHOLE_FORMAT]
            widths += [10, 11]
    write_header(sheet, headers)
    set_widths(sheet, [12, 24, 8 if level == "service_area" else 22] + widths)  # before the rows fit their heights
    level_values = values[values["level"] == level]
    by_unit_figure = {(str(r.unit_id), r.kpi_id): r for r in level_values.itertuples()}
    for row, unit in enumerate(units.itertuples(index=False), start=FIRST_DATA_ROW):
        cells = list(unit)
        for figure, target in rags:
            figure_cells = _unit_cells(figure, by_unit_figure.get((str(unit[0]), figure.id)))
            cells.append(figure_cells[0])
            if target is not None:
                tolerance = effective_tolerance(figure.kpi, target.target, target.tolerance, figure.kind)
                cells.append(rag_status(figure_cells[0], target.target, tolerance, figure.polarity))
            cells += figure_cells[1:]
        written = write_row(sheet, row, cells)
        for cell in written[1:len(leading)]:  # a long name wraps rather than widen the page
            cell.alignment = WRAP
        if fit_row_height(sheet, row, written) > 1:  # the figures align with the name's first line
            for cell in [written[0], *written[len(leading):]]:
                cell.alignment = TOP
        for offset, number_format in enumerate(formats, start=len(leading) + 1):
            if number_format:
                sheet.cell(row=row, column=offset).number_format = number_format
    last_row = FIRST_DATA_ROW + len(units) - 1
    for column in rag_columns:
        letter = get_column_letter(column)
        add_rag_fills(sheet, f"{letter}{FIRST_DATA_ROW}:{letter}{max(last_row, FIRST_DATA_ROW)}")
    finish_table(sheet, len(headers), last_row, frozen_columns=2)
    _fold_numerators_and_denominators(sheet, headers)


def _word_width(header: str) -> float:
    """A figure column wide enough for the longest word of its header ("Assessments",
    "(exceptions)"), so that words wrap whole; 10 to 13 characters."""
    return min(max(10, max(len(word) for word in header.split()) + 1.5), 13)


def _fold_numerators_and_denominators(sheet: Worksheet, headers: list[str]) -> None:
    """Each percentage's numerator and denominator columns are folded away (an outline
    group, opened with its "+"), so that the sheet reads, and prints, as one figure per KPI."""
    for column, header in enumerate(headers, start=1):
        if header.endswith(" numerator"):
            sheet.column_dimensions.group(get_column_letter(column), get_column_letter(column + 1),
                                          hidden=True, outline_level=1)


def _unit_cells(figure: Figure, value_row) -> list:
    if value_row is None:
        zero = 0 if figure.kind in ("count", "exception") else None
        return [zero, None, None] if figure.kind == "percent" else [zero]
    value = number_value(value_row.value)
    if figure.kind == "percent":
        return [value, number_value(value_row.numerator), number_value(value_row.denominator)]
    return [value]


def _service_area_ids(teams: pd.DataFrame) -> pd.Series:
    if "service_area_id" in teams.columns:
        return teams["service_area_id"].astype(object)
    return pd.Series([None] * len(teams), index=teams.index, dtype=object)


def _service_area_units(teams: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The service areas of the teams (with how many teams each has), then any other
    service-area unit with figures (Unknown service area, Unallocated)."""
    areas = pd.DataFrame({"area_id": _service_area_ids(teams), "area_name": teams["service_name"].astype(object)})
    areas = areas[areas["area_id"].notna()].assign(area_id=lambda a: a["area_id"].astype(str))
    counts = areas.groupby("area_id").size()
    units = areas.drop_duplicates("area_id").assign(teams=lambda a: a["area_id"].map(counts).astype(object))
    extra = _units_without_reference(values, "service_area", set(units["area_id"]))
    units = pd.concat([units, extra.rename(columns={"unit_id": "area_id", "unit_name": "area_name"})
                       .assign(teams=None)], ignore_index=True)
    unknown = units["area_id"] == UNKNOWN_SERVICE_AREA
    ordered = _sorted_unallocated_last(units[~unknown], "area_id", ["area_name"])
    unallocated = ordered["area_id"] == UNALLOCATED
    return pd.concat([ordered[~unallocated], units[unknown], ordered[unallocated]],
                     ignore_index=True).astype(object).where(lambda frame: frame.notna(), None)


def _team_units(teams: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The real teams with their service area, then teams with figures that the list
    does not know (Unallocated, a code missing from ssd_department); never a parent
    department (a service area), even from figures stored before the service-area level."""
    units = teams[["team_id", "team_name", "service_name"]].astype(object)
    units = units.assign(team_id=units["team_id"].astype(str))
    service_areas = set(_service_area_ids(teams).dropna().astype(str))
    extra = _units_without_reference(values, "team", set(units["team_id"]) | service_areas)
    extra = extra.assign(service_name=[None if u == UNALLOCATED else UNKNOWN_SERVICE_AREA
                                       for u in extra["unit_id"]])
    units = pd.concat([units, extra.rename(columns={"unit_id": "team_id", "unit_name": "team_name"})],
                      ignore_index=True)
    return _sorted_unallocated_last(units, "team_id", ["service_name", "team_name"])


def _worker_units(workers: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    team_names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    units = workers[["worker_id", "worker_name", "team_id"]].astype(object)
    units = units.assign(worker_id=units["worker_id"].astype(str),
                         team_name=[team_names.get(str(t), t) for t in units["team_id"]])
    units = units[["worker_id", "worker_name", "team_name"]]
    extra = _units_without_reference(values, "worker", set(units["worker_id"]))
    units = pd.concat([units, extra.rename(columns={"unit_id": "worker_id", "unit_name": "worker_name"})
                       .assign(team_name=None)], ignore_index=True)
    return _sorted_unallocated_last(units, "worker_id", ["team_name", "worker_name"])


def _units_without_reference(values: pd.DataFrame, level: str, known: set[str]) -> pd.DataFrame:
    """Units with figures but missing from the team/worker lists (e.g. Unallocated)."""
    rows = values[values["level"] == level][["unit_id", "unit_name"]].astype(object)
    rows = rows.assign(unit_id=rows["unit_id"].astype(str))
    return rows[~rows["unit_id"].isin(known)].drop_duplicates("unit_id")


def _sorted_unallocated_last(units: pd.DataFrame, id_column: str, by: list[str]) -> pd.DataFrame:
    unallocated = units[id_column] == UNALLOCATED
    ordered = units[~unallocated].sort_values(by + [id_column], na_position="last",
                                              key=lambda column: column.astype("string").str.lower())
    return pd.concat([ordered, units[unallocated]], ignore_index=True).astype(object).where(
        lambda frame: frame.notna(), None)


# --- Exception lists (drift and delay) -------------------------------------------------------


def write_exceptions(sheet: Worksheet, kpi: Kpi, records: pd.DataFrame, teams: pd.DataFrame,
                     workers: pd.DataFrame, run: RunInfo) -> None:
    """The list of one exception KPI (tasks/publish/lists.py): its rows with
    in_numerator = 1, most overdue first, with the dates a manager needs."""
    rows = listed_rows(records, kpi, period=run.period)
    team_names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    worker_names = dict(zip(workers["worker_id"].astype(str), workers["worker_name"]))
    level = "Worker-level" if kpi.grain == "worker" else "Child-level"
    write_heading(sheet, f"{kpi.id} {kpi.name}: {len(rows)} at {Period.month(run.period).end:%d %B %Y}",
                  f"{kpi.definition}. Most overdue first. {level} list: internal to the performance team.", run)
    write_list_table(sheet, list_table(kpi, rows, team_names, worker_names))


def write_list_table(sheet: Worksheet, table: ListTable) -> None:
    """An exception list's header, rows, number formats, filter and widths."""
    write_header(sheet, table.headers)
    for row, cells in enumerate(table.rows, start=FIRST_DATA_ROW):
        write_row(sheet, row, cells)
        for column, number_format in table.formats.items():
            sheet.cell(row=row, column=column).number_format = number_format
    finish_table(sheet, len(table.headers), FIRST_DATA_ROW + len(table.rows) - 1, frozen_columns=1)
    set_widths(sheet, table.widths)


# --- Definitions and Run ----------------------------------------------------------------------

DEFINITION_HEADERS = ["KPI", "Name", "Polarity", "Kind", "Unit", "Grain", "Definition", "Also published",
                      "Notes", "Target", "Tolerance (Amber band)", "SQL file"]


def write_definitions(sheet: Worksheet, kpis: list[Kpi], targets: dict[str, KpiTarget],
                      run: RunInfo) -> None:
    write_heading(sheet, "Definitions",
                  "Generated from the KPI registry (sql/registry.yml), which quotes kpis.md. "
                  "Tolerance: the configured one, else 5 percentage points for a percentage "
                  "or 10% of the target for counts and rates.", run)
    write_header(sheet, DEFINITION_HEADERS)
    for row, kpi in enumerate(kpis, start=FIRST_DATA_ROW):
        target = targets.get(kpi.id)
        tolerance = effective_tolerance(kpi, target.target, target.tolerance) if target else None
        also = ", ".join(f"{kpi.id}:{extra.name}" for extra in kpi.extras)
        write_row(sheet, row, [kpi.id, kpi.name, kpi.polarity, kpi.kind, kpi.unit, kpi.grain,
                               kpi.definition, also or None, kpi.notes or None,
                               target.target if target else None, tolerance, kpi.sql])
        for column in (10, 11):
            sheet.cell(row=row, column=column).number_format = DECIMAL_FORMAT
        for column in (2, 7, 9):
            sheet.cell(row=row, column=column).alignment = WRAP
    finish_table(sheet, len(DEFINITION_HEADERS), FIRST_DATA_ROW + len(kpis) - 1, frozen_columns=1)
    set_widths(sheet, [8, 34, 9, 10, 12, 16, 70, 22, 40, 8, 12, 42])


def write_run(sheet: Worksheet, run: RunInfo) -> None:
    write_heading(sheet, "Run", "Where these figures come from: the run and its extracts.", run)
    facts = [("Period", run.period), ("Run ID", run.run_id), ("Code version", run.code_version),
             ("LA code", run.la_code), ("LA name", run.la_name),
             ("Population aged 0-17 used", run.population),
             ("Population estimate year", run.population_year),
             ("Started at", run.started_at), ("Source", run.source),
             ("Synthetic data", "Yes" if run.synthetic else "No"),
             *[("Revisions", note) for note in run.revisions]]
    write_header(sheet, ["Item", "Value"])
    for row, (item, value) in enumerate(facts, start=FIRST_DATA_ROW):
        write_row(sheet, row, [item, value])
        sheet.cell(row=row, column=1).font = BOLD
    sheet.cell(row=FIRST_DATA_ROW + 5, column=2).number_format = THOUSANDS_FORMAT
    extract_header_row = FIRST_DATA_ROW + len(facts) + 1
    write_header(sheet, ["Table", "File", "Rows", "SHA-256"], extract_header_row)
    for row, extract in enumerate(run.extracts, start=extract_header_row + 1):
        write_row(sheet, row, [extract["table_name"], extract["source_name"],
                               number_value(extract["row_count"]), extract["sha256"]])
        sheet.cell(row=row, column=3).number_format = THOUSANDS_FORMAT
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    set_widths(sheet, [28, 40, 10, 68])


# --- Helpers ------------------------------------------------------------------------------------


def la_trend_rows(values: pd.DataFrame, trend: pd.DataFrame) -> pd.DataFrame:
    """LA-level figures by month; the period's own values win over a trend row."""
    rows = pd.concat([trend, values], ignore_index=True)
    rows = rows[rows["level"] == "la"]
    return rows.drop_duplicates(["kpi_id", "period"], keep="last")
