"""The Directorate Scorecard workbook (kpis.md, "Directorate Scorecard" and "Small numbers").

One row per headline KPI: this month, last month, the same month last year, a 13-month
trend chart, the local target and RAG, the direction of travel, and the latest DfE
published values for England, the LA's region and its 10 statistical neighbours (mean
and median), each with its year, with the LA's own published value and rank.

This workbook is for DLT and boards, so "Small numbers" applies (tasks.publish.suppression):
a count of fewer than 5 children (but more than 0) is shown as `<5`, a percentage whose
denominator is under 5 as `*`, with the footnote; no child-level data is read or written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.core.settings import KpiTarget
from tasks.publish.cells import write_cell, write_row
from tasks.publish.charts import target_lines, target_series
from tasks.publish.dq_sheet import write_data_quality_sheet
from tasks.kpis.benchmarks import NOT_IN_REFERENCE, Benchmark, benchmark_spec, headline_figure_id, rank_order
from tasks.core.periods import Period
from tasks.publish.html import line_chart_svg, template_environment, write_pdf
from tasks.publish.excel import write_run
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (DECIMAL_FORMAT, FIRST_DATA_ROW, HEADER_ROW, NOTE_FONT, SYNTHETIC_BANNER,
                                 WRAP, add_rag_fills, decimal_format, describe_workbook, month_label,
                                 save_workbook, set_widths, write_header, write_heading)
from tasks.publish.suppression import FOOTNOTE, shown_figure
from tasks.kpis.rag import direction_of_travel, effective_tolerance, rag_status
from tasks.kpis.registry import Figure, Kpi

TITLE = "Directorate Scorecard"
BENCHMARK_FOOTNOTE = (
    "England, region and statistical neighbours: the latest DfE published value in the reference "
    "data, for the DfE year shown (2024-25 = the year ending 31 March 2025; a date for the 30 "
    "September workforce census). SN mean and median are over the 10 statistical neighbours (the "
    "latest DfE model in the reference data) with a published value. Rank and quartile band (as "
    "DfE's LAIT: 1 and A are the best by polarity) are of an LA figure on DfE's basis only, never "
    "of this month's figure: the LA's own DfE published figure, or qaloop's own figure for the year "
    "to 31 March (see 'Rank basis'). 'Not in the reference data': no DfE file in the LA's reference "
    "folder is mapped to the KPI. The published measure can differ from the monthly KPI: see "
    "Definitions.")
POLARITY_LABELS = {"High": "Higher is better", "Low": "Lower is better", "None": "Context only"}
KIND_UNITS = {"percent": "%", "rate": "per 10,000 aged 0-17", "mean": "children per worker",
              "count": "children", "exception": "exceptions"}
SCORECARD_PAGES = 2  # A4 landscape, for board packs
PERCENT_AXIS_MAX = 100
# The Scorecard columns a board paper shows (positions in scorecard_headers): the rank
# among neighbours, the rank basis in full and the file stay in the workbook (the PDF
# shows the basis in a few words under the rank, and the publication under the DfE year).
PDF_COLUMNS = (0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
TREND_COLUMN, RAG_COLUMN, YEAR_COLUMN, RANK_COLUMN = 7, 9, 12, 18
BENCHMARK_COLUMNS = range(12, 22)  # DfE year .. Rank basis: one cell when no file serves the KPI
# shorter headers where the board paper's narrow columns would break a word
PDF_HEADERS = {"Direction vs same month last year": "vs same month last year",
               "Statistical neighbours mean": "SN mean", "Statistical neighbours median": "SN median",
               "LA figure on DfE basis": "LA figure (DfE basis)"}

ROW_HEIGHT = 62       # points: room for the in-row trend chart
CHART_COLUMN = 8
NUMBER_COLUMNS = (5, 6, 7, 9, 14, 15, 16, 17, 18)  # figures (not years) on the Scorecard
RANK_COLUMNS = (19, 20, 21)  # "4 of 153", its band, the rank among neighbours: centred, apart from the figure
CENTRED = Alignment(wrap_text=True, vertical="top", horizontal="center")


def headline_rows(kpis: list[Kpi]) -> list[Figure]:
    return [Figure.of(kpi, headline_figure_id(kpi)) for kpi in kpis if kpi.headline]


def unit_words(row: Figure) -> str:
    """The unit a board reader sees ("children", "per 10,000 aged 0-17")."""
    return KIND_UNITS.get(row.kind, row.kpi.unit)


def publish_directorate(kpis: list[Kpi], trend: pd.DataFrame, targets: dict[str, KpiTarget],
                        benchmarks: dict[str, Benchmark | None], run: RunInfo,
                        out_path: Path, data_quality=None) -> Path:
    """Write the Directorate Scorecard for the run's period; returns its path.

    `trend`: LA-level kpi_values rows (tasks.kpis.compute.VALUE_COLUMNS) for up to 13 months
    ending with the run's period; `targets`: tasks.kpis.rag.targets_for(...); `benchmarks`:
    tasks.kpis.benchmarks.benchmarks_for(...), keyed by KPI id."""
    rows = headline_rows(kpis)
    months = run.trend_periods()
    figures = _la_figures(trend)
    workbook = Workbook()
    trend_sheet = workbook.create_sheet("Trend data")
    write_trend_data(trend_sheet, rows, months, figures, run)
    write_scorecard(workbook.active, rows, months, figures, targets, benchmarks, run, trend_sheet)
    if data_quality is not None:  # for DLT and boards: counts and pass rates, no record ids
        write_data_quality_sheet(workbook, data_quality, run, with_record_ids=False)
    write_definitions(workbook.create_sheet("Definitions"), rows, targets, benchmarks, run)
    run_sheet = workbook.create_sheet("Run")
    write_run(run_sheet, run)
    write_reference_sources(run_sheet, benchmarks)
    workbook.move_sheet("Trend data", offset=2)
    describe_workbook(workbook, f"{run.la_name} {TITLE} {run.period}", run)
    return save_workbook(workbook, Path(out_path), pages_tall={"Scorecard": SCORECARD_PAGES})



def publish_directorate_pdf(kpis: list[Kpi], trend: pd.DataFrame, targets: dict[str, KpiTarget],
                            benchmarks: dict[str, Benchmark | None], run: RunInfo, out_path: Path) -> Path:
    """The Directorate Scorecard as a PDF for board packs: the same cells as the workbook's
    Scorecard sheet (one `_scorecard_cells` per row), on A4 landscape pages."""
    rows = headline_rows(kpis)
    months = run.trend_periods()
    figures = _la_figures(trend)
    region_name = next((b.region_name for b in benchmarks.values() if b and b.region_name), None)
    headers = scorecard_headers(months, region_name)
    lines = [_pdf_line(row, months, figures, targets, benchmarks.get(row.kpi.id)) for row in rows]
    shown = [PDF_HEADERS.get(headers[i], headers[i]) for i in PDF_COLUMNS]
    html = template_environment().get_template("directorate_scorecard.html").render(
        title=f"{run.la_name}: {TITLE}, {_month_label(run.period)}", run=run, lines=lines,
        headers=shown, period_label=_month_label(run.period),
        synthetic_banner=SYNTHETIC_BANNER, scale=1.0,
        suppression_note=FOOTNOTE, benchmark_note=BENCHMARK_FOOTNOTE)
    path, pages = write_pdf(html, Path(out_path), max_pages=SCORECARD_PAGES)
    if pages > SCORECARD_PAGES:
        raise RuntimeError(f"the Directorate Scorecard PDF takes {pages} pages (at most {SCORECARD_PAGES})")
    return path


def _pdf_line(row: Figure, months: list[str], figures: dict, targets: dict[str, KpiTarget],
              benchmark: Benchmark | None) -> list[dict]:
    """One cell per shown column (content, css class, columns spanned, a note in small type
    below): figures formatted as in the workbook, the trend as a small chart, RAG in words
    on its colour, the DfE publication under its year and the rank's basis under the rank;
    "not in the reference data" as one cell over the benchmark columns."""
    cells = _scorecard_cells(row, months, figures, targets, benchmark)
    values = [_numeric(shown_value(row.kind, figures.get((row.id, m)))) for m in months]
    target = targets.get(row.id)
    decimals = row.precision
    line = []
    for column in PDF_COLUMNS:
        value = cells[column]
        cell = {"content": "" if value is None else value, "css": "", "span": 1, "note": ""}
        if column == TREND_COLUMN:
            cell.update(content=line_chart_svg([""] * len(months), values, "", target.target if target else None,
                                               percent=row.kind == "percent", width=116, height=62), css="chart")
        elif column == RAG_COLUMN:
            cell.update(content=value or "", css=f"rag-{value.lower()}" if value else "")
        elif benchmark is None and column in BENCHMARK_COLUMNS:
            if column != BENCHMARK_COLUMNS[0]:
                continue
            cell.update(css="nobench", span=sum(c in BENCHMARK_COLUMNS for c in PDF_COLUMNS))
        elif isinstance(value, (int, float)) and column + 1 in NUMBER_COLUMNS:
            cell.update(content=f"{value:.{decimals}f}", css="num")
        elif isinstance(value, (int, float)):
            cell.update(css="num")
        if column == YEAR_COLUMN and benchmark is not None:
            cell["note"] = benchmark.publication or benchmark.file_name
        if column == RANK_COLUMN and benchmark is not None:
            cell["note"] = benchmark.rank_note
        line.append(cell)
    return line

# --- Small numbers ---------------------------------------------------------------------------------


def shown_value(kind: str, figure: dict | None):
    """The cell for a monthly figure: a number, or a symbol of tasks.publish.suppression."""
    figure = figure or {}
    return shown_figure(kind, figure.get("value"), figure.get("numerator"), figure.get("denominator"))


def _numeric(cell) -> float | None:
    """A shown value usable for RAG, direction and charts (None when suppressed)."""
    return cell if isinstance(cell, (int, float)) else None


# --- Scorecard ------------------------------------------------------------------------------------


def scorecard_headers(months: list[str], region_name: str | None) -> list[str]:
    region = f"Region: {region_name}" if region_name else "Region"
    return ["KPI", "Measure", "Polarity", "Unit",
            f"This month ({_month_label(months[-1])})", f"Last month ({_month_label(months[-2])})",
            f"Same month last year ({_month_label(_same_month_last_year(months))})",
            f"{len(months)}-month trend",
            "Target", "RAG", "Direction vs last month", "Direction vs same month last year",
            "DfE year", "England", region, "Statistical neighbours mean", "Statistical neighbours median",
            "LA figure on DfE basis", "Rank among LAs", "Quartile band",
            "Rank among LA and its neighbours", "Rank basis", "DfE source (publication and file)"]


def write_scorecard(sheet: Worksheet, rows: list[Figure], months: list[str], figures: dict,
                    targets: dict[str, KpiTarget], benchmarks: dict[str, Benchmark | None],
                    run: RunInfo, trend_sheet: Worksheet) -> None:
    sheet.title = "Scorecard"
    region_name = next((b.region_name for b in benchmarks.values() if b and b.region_name), None)
    write_heading(sheet, f"{run.la_name}: {TITLE}, {_month_label(run.period)}",
                  "Local authority figures against local targets and DfE published benchmarks. "
                  + ("The LA's own monthly figures are SYNTHETIC; the England, region, neighbour and "
                     "LA published values are real DfE figures. " if run.synthetic else "")
                  + "Aggregate figures only: no child-level data.", run)
    headers = scorecard_headers(months, region_name)
    write_header(sheet, headers)
    target_of = target_lines(sheet.parent, rows, targets, len(months))
    for index, row in enumerate(rows):
        row_number = FIRST_DATA_ROW + index
        cells = _scorecard_cells(row, months, figures, targets, benchmarks.get(row.kpi.id))
        for column, cell in enumerate(write_row(sheet, row_number, cells), start=1):
            cell.alignment = CENTRED if column in RANK_COLUMNS else WRAP
            if column in NUMBER_COLUMNS:
                cell.number_format = decimal_format(row.precision)
        if benchmarks.get(row.kpi.id) is None:  # "not in the reference data" on one line
            sheet.merge_cells(start_row=row_number, end_row=row_number,
                              start_column=BENCHMARK_COLUMNS[0] + 1, end_column=BENCHMARK_COLUMNS[-1] + 1)
        sheet.row_dimensions[row_number].height = ROW_HEIGHT
        _add_row_chart(sheet, trend_sheet, row, row_number, index, len(months), target_of.get(row.id))
    last_row = FIRST_DATA_ROW + len(rows) - 1
    rag_column = get_column_letter(headers.index("RAG") + 1)
    add_rag_fills(sheet, f"{rag_column}{FIRST_DATA_ROW}:{rag_column}{last_row}")
    for offset, text in enumerate((FOOTNOTE, BENCHMARK_FOOTNOTE), start=2):
        write_cell(sheet, last_row + offset, 1, text).font = NOTE_FONT
    kpi_width = max(len(row.id) for row in rows) + 2 if rows else 8  # an id never wraps
    set_widths(sheet, [kpi_width, 36, 12, 12, 12, 12, 12, 32, 8, 8, 12, 12, 11, 10, 13, 13, 13, 13,
                       10, 8, 12, 30, 34])
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=3)


def _scorecard_cells(row: Figure, months: list[str], figures: dict, targets: dict[str, KpiTarget],
                     benchmark: Benchmark | None) -> list:
    this_month, last_month, last_year = (shown_value(row.kind, figures.get((row.id, m)))
                                         for m in (months[-1], months[-2], _same_month_last_year(months)))
    target = targets.get(row.id)
    rag = None
    if target is not None:
        tolerance = effective_tolerance(row.kpi, target.target, target.tolerance, row.kind)
        rag = rag_status(_numeric(this_month), target.target, tolerance, row.polarity)
    polarity = row.polarity
    cells = [row.id, row.name, POLARITY_LABELS[polarity], unit_words(row),
             this_month, last_month, last_year, None,
             target.target if target else None, rag,
             direction_of_travel(_numeric(this_month), _numeric(last_month), polarity),
             direction_of_travel(_numeric(this_month), _numeric(last_year), polarity)]
    if benchmark is None:
        return cells + [NOT_IN_REFERENCE] + [None] * (len(BENCHMARK_COLUMNS) - 1) + [None]
    b = benchmark
    return cells + [b.year_label, b.england, b.region, b.sn_mean, b.sn_median, b.ranked_value,
                    f"{b.rank} of {b.rank_of}" if b.rank else None, b.quartile,
                    f"{b.sn_rank} of {b.sn_rank_of}" if b.sn_rank else None, b.rank_basis, b.table]


def _add_row_chart(sheet: Worksheet, trend_sheet: Worksheet, row: Figure, row_number: int,
                   index: int, month_count: int, target_line: Reference | None = None) -> None:
    """A small line chart of the trend's months (suppressed months are gaps), in the row,
    with the target as a dashed line."""
    data_row = FIRST_DATA_ROW + index
    chart = LineChart()
    chart.height, chart.width = 2.1, 6.2  # cm, fits the row and column
    chart.legend = None
    chart.y_axis.number_format = DECIMAL_FORMAT
    chart.y_axis.delete = False
    chart.x_axis.delete = True
    chart.y_axis.majorGridlines = None
    chart.display_blanks = "gap"
    if row.kind == "percent":
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, PERCENT_AXIS_MAX
    first, last = 3, 3 + month_count - 1
    chart.series.append(Series(Reference(trend_sheet, min_col=first, max_col=last,
                                         min_row=data_row, max_row=data_row), title=row.id))
    if target_line is not None:
        chart.series.append(target_series(target_line))
    chart.set_categories(Reference(trend_sheet, min_col=first, max_col=last,
                                   min_row=HEADER_ROW, max_row=HEADER_ROW))
    sheet.add_chart(chart, f"{get_column_letter(CHART_COLUMN)}{row_number}")


def write_trend_data(sheet: Worksheet, rows: list[Figure], months: list[str], figures: dict,
                     run: RunInfo) -> None:
    """The charts' data: the monthly LA figures, suppressed ones left empty."""
    write_heading(sheet, f"{run.la_name}: {TITLE}, {len(months)}-month trend to {_month_label(run.period)}",
                  "Data of the trend charts. Empty: suppressed (small numbers) or no figure.", run)
    write_header(sheet, ["KPI", "Measure", *months])
    for row_number, row in enumerate(rows, start=FIRST_DATA_ROW):
        values = [_numeric(shown_value(row.kind, figures.get((row.id, m)))) for m in months]
        for cell in write_row(sheet, row_number, [row.id, row.name, *values])[2:]:
            cell.number_format = DECIMAL_FORMAT
    sheet.column_dimensions["B"].width = 40


# --- Definitions and reference sources -----------------------------------------------------------

DEFINITION_HEADERS = ["KPI", "Measure", "Polarity", "Definition (kpis.md)", "Target",
                      "Tolerance (Amber band)", "Published benchmark (DfE measure)",
                      "DfE publication, file, rows and column", "Benchmark year",
                      "How the published measure differs from the monthly KPI", "Rank order",
                      "Rank basis"]


def write_definitions(sheet: Worksheet, rows: list[Figure], targets: dict[str, KpiTarget],
                      benchmarks: dict[str, Benchmark | None], run: RunInfo) -> None:
    write_heading(sheet, "Definitions",
                  "From the KPI registry (sql/registry.yml), which quotes kpis.md. RAG: Green = meets "
                  "the target; Amber = misses it by no more than the tolerance (default 5 percentage "
                  "points for a %, 10% of the target for counts and rates); Red = worse.", run)
    write_header(sheet, DEFINITION_HEADERS)
    for row_number, row in enumerate(rows, start=FIRST_DATA_ROW):
        target = targets.get(row.id)
        tolerance = (effective_tolerance(row.kpi, target.target, target.tolerance, row.kind)
                     if target else None)
        spec, benchmark = benchmark_spec(row.kpi), benchmarks.get(row.kpi.id)
        published = spec is not None and spec.published
        cells = [row.id, row.name, POLARITY_LABELS[row.polarity], row.kpi.definition,
                 target.target if target else None, tolerance,
                 spec.measure if published else NOT_IN_REFERENCE,
                 (benchmark.source if benchmark else spec.source_in(spec.file)) if published else None,
                 benchmark.year_label if benchmark else None,
                 spec.differs if spec else "Not in the reference data: no DfE file in the reference "
                                           "folder is mapped to this KPI.",
                 rank_order(row.polarity), benchmark.rank_basis if benchmark else None]
        for cell in write_row(sheet, row_number, cells):
            cell.alignment = WRAP
    set_widths(sheet, [20, 34, 14, 60, 8, 10, 40, 48, 11, 60, 30, 40])
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=2)


def write_reference_sources(sheet: Worksheet, benchmarks: dict[str, Benchmark | None]) -> None:
    """Below the run facts: the DfE sources used and the statistical neighbours."""
    top = sheet.max_row + 2
    write_header(sheet, ["Benchmark", "DfE source", "Year"], top)
    used = [b for b in benchmarks.values() if b is not None]
    for offset, benchmark in enumerate(used, start=1):
        write_row(sheet, top + offset, (benchmark.figure_id, benchmark.source, benchmark.year_label))
    if not used:
        return
    top = top + len(used) + 2
    write_header(sheet, ["Statistical neighbour", "Name", "Rank (closest first)"], top)
    for rank, (code, name, _) in enumerate(used[0].sn_values, start=1):
        write_row(sheet, top + rank, (code, name, rank))


# --- Helpers ----------------------------------------------------------------------------------------


def _la_figures(trend: pd.DataFrame) -> dict[tuple[str, str], dict]:
    rows = trend[trend["level"] == "la"] if "level" in trend.columns else trend
    rows = rows.drop_duplicates(["kpi_id", "period"], keep="last")
    return {(r["kpi_id"], r["period"]): r for r in rows.to_dict("records")}


def _same_month_last_year(months: list[str]) -> str:
    return Period.month(months[-1]).shift(-12).id


def _month_label(period_id: str) -> str:
    return month_label(period_id, abbreviated=True)
