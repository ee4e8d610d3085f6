"""Every published workbook prints: A4 landscape, one page wide, headers repeated on each
page, a print title and a footer (tasks/publish/workbook_print.py).

The page counts themselves are checked by rendering with LibreOffice:
`tests/visual/render_workbooks.py` (it needs `soffice`, so it is a script, not a test).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import LineChart, Reference, Series
from pypdf import PdfReader

from tasks.core.settings import KpiTarget
from tasks.kpis.benchmarks import benchmarks_for
from tasks.publish.directorate import publish_directorate_pdf
from tasks.kpis.rag import targets_for

from tasks.publish.style import save_workbook
from tasks.publish.workbook_print import apply_print_layout

from test_publish_excel import safety_book  # noqa: F401  (fixtures)
from test_benchmarks_directorate import reference, workbook as directorate_book  # noqa: F401


def titled_sheet(workbook: Workbook, note: str = "A short note") -> None:
    sheet = workbook.active
    sheet.title = "Summary"
    sheet["A1"] = "Darlington: Safety Scorecard, March 2024"
    sheet["A3"] = note
    for column, header in enumerate(["KPI", "A header long enough to wrap over several lines", "Value"], 1):
        sheet.cell(row=4, column=column, value=header)
    sheet.column_dimensions["A"].width = 10
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 10
    for row in range(5, 8):
        sheet.append([f"SAF0{row}", "figure", row])
    sheet.freeze_panes = "B5"
    workbook.properties.title = "Darlington Safety Scorecard 2024-03"
    workbook.properties.subject = "period 2024-03, run run-42"
    workbook.properties.keywords = "synthetic"


def test_every_sheet_prints_landscape_one_page_wide_with_headers_repeated():
    workbook = Workbook()
    titled_sheet(workbook)
    workbook.create_sheet("Run")["A1"] = "Run"
    apply_print_layout(workbook)
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    summary = workbook["Summary"]
    assert summary.print_title_rows == "$1:$4"  # title, banner, note and column headers
    assert workbook["Run"].print_title_rows is None


def test_print_title_and_footer_name_the_output_page_run_and_synthetic():
    workbook = Workbook()
    titled_sheet(workbook)
    workbook.properties.title = "Darlington & Stockton Safety Scorecard 2024-03"
    apply_print_layout(workbook)
    sheet = workbook["Summary"]
    assert sheet.oddHeader.center.text == "Darlington && Stockton Safety Scorecard 2024-03: Summary"
    assert sheet.oddFooter.center.text == "Page &P of &N"
    assert sheet.oddFooter.left.text == "run run-42"
    assert sheet.oddFooter.right.text == "SYNTHETIC DATA"


def test_real_data_has_no_synthetic_footer():
    workbook = Workbook()
    titled_sheet(workbook)
    workbook.properties.keywords = None
    apply_print_layout(workbook)
    assert not workbook["Summary"].oddFooter.right.text


def test_wrapped_headers_get_the_height_they_need():
    workbook = Workbook()
    titled_sheet(workbook)
    apply_print_layout(workbook)
    # in a 12-character column: "A header | long enough | to wrap | over | several | lines"
    assert workbook["Summary"].row_dimensions[4].height == 6 * 15


def test_a_long_note_wraps_within_the_table_instead_of_widening_the_page():
    workbook = Workbook()
    titled_sheet(workbook, note="word " * 40)  # 200 characters over 32 of columns
    apply_print_layout(workbook)
    sheet = workbook["Summary"]
    assert "A3:C3" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A3"].alignment.wrap_text
    assert sheet.row_dimensions[3].height >= 7 * 15
    assert sheet["B5"].value == "figure"  # data rows are never merged


def test_line_charts_draw_straight_segments_and_chart_data_is_hidden():
    workbook = Workbook()
    titled_sheet(workbook)
    data = workbook.create_sheet("Trend data")
    data.append([1, 2, 3])
    chart = LineChart()
    chart.series.append(Series(Reference(data, min_col=1, max_col=3, min_row=1, max_row=1)))
    workbook["Summary"].add_chart(chart, "E5")
    apply_print_layout(workbook)
    assert all(series.smooth is False for series in chart.series)
    assert workbook["Trend data"].sheet_state == "hidden"


def test_saved_workbook_keeps_the_page_set_up(tmp_path: Path):
    workbook = Workbook()
    titled_sheet(workbook)
    path = save_workbook(workbook, tmp_path / "book.xlsx")
    sheet = load_workbook(path)["Summary"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$4"
    assert sheet.oddFooter.center.text == "Page &P of &N"


def test_published_scorecard_sheets_are_set_up_for_print(safety_book):  # noqa: F811
    for sheet in safety_book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1, sheet.title
        assert sheet.oddFooter.left.text == "run run-42", sheet.title
    assert safety_book["Summary"].print_title_rows == "$1:$4"
    assert safety_book["Teams"].print_title_rows == "$1:$4"


def test_directorate_scorecard_fits_two_pages_and_ids_do_not_wrap(directorate_book):  # noqa: F811
    sheet = directorate_book["Scorecard"]
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 2)
    ids = [c.value for c in sheet["A"][4:] if isinstance(c.value, str) and re.fullmatch(r"[A-Z]+\d+(:\w+)?", c.value)]
    assert "SAF12:rate_per_10k" in ids
    longest_id = max(len(i) for i in ids)
    assert sheet.column_dimensions["A"].width > longest_id
    assert directorate_book["Trend data"].sheet_state == "hidden"
    percent_charts = [c for c in sheet._charts if c.y_axis.scaling.max == 100]
    assert percent_charts, "percentage trend charts stop at 100"


# --- the Directorate Scorecard PDF for board packs ------------------------------------------------


@pytest.fixture(scope="module")
def directorate_pdf(reference, directorate_book, tmp_path_factory):  # noqa: F811
    from test_benchmarks_directorate import KPIS, directorate_trend, run_info
    targets = targets_for(KPIS, {"DD10:mean_caseload": KpiTarget(18.0)})
    path = tmp_path_factory.mktemp("directorate-pdf") / "directorate_scorecard_2024-03.pdf"
    benchmarks = benchmarks_for(KPIS, "841", *reference)
    assert publish_directorate_pdf(KPIS, directorate_trend(), targets, benchmarks, run_info(), path) == path
    return PdfReader(path)


def test_directorate_pdf_is_at_most_two_landscape_pages(directorate_pdf):
    assert 1 <= len(directorate_pdf.pages) <= 2
    box = directorate_pdf.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape


def test_directorate_pdf_shows_the_workbook_cells(directorate_pdf, directorate_book):  # noqa: F811
    text = " ".join(page.extract_text() for page in directorate_pdf.pages)
    words = " ".join(text.split())
    assert "Darlington: Directorate Scorecard, Mar 2024" in words
    assert "SYNTHETIC" in words and "run-dir-1" in words
    # every headline figure id, and this month's shown value of each, as in the workbook
    sheet = directorate_book["Scorecard"]
    for row in sheet.iter_rows(min_row=5, values_only=True):
        if not row[0] or not re.fullmatch(r"[A-Z]+\d+(:\w+)?", str(row[0])):
            continue
        assert row[0] in words
        this_month = row[4]
        shown = f"{this_month:.0f}" if row[3] == "children" else (
            f"{this_month:.1f}" if isinstance(this_month, float | int) else str(this_month))
        assert shown in words, (row[0], shown)
    assert "Green" in words or "Amber" in words or "Red" in words  # RAG in words
    # SAF09: 3 ICPCs this month, suppressed ("*") as in the workbook
    assert next(r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0] == "SAF09")[4] == "*"
    assert re.search(r"SAF09 [^*]{0,160} \* ", words)
