"""How every published workbook prints: the page set-up applied once, when it is saved.

Each sheet meant to be read prints A4 landscape, one page wide (as many pages tall as its
rows need), with its heading and column headers repeated on every page, a print title
(LA, output, period: the workbook's title) and a footer (page x of y, the run, and
"SYNTHETIC DATA" where it is). Sheets that only feed charts are hidden, so they neither
print nor distract. Line charts draw straight segments: LibreOffice and Excel draw the
smoothed default as curves that overshoot (below zero for a count).

The publishers say what they are through the workbook's properties (title: LA, output
and period; subject: "period P, run R"; keywords: "synthetic"), so no publisher repeats
this set-up.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

SYNTHETIC_KEYWORD = "synthetic"
SYNTHETIC_FOOTER = "SYNTHETIC DATA"
# Sheet names whose rows feed charts and are not read on paper.
CHART_DATA_SHEETS = ("Trend data", "Chart targets")
LINE_HEIGHT = 15  # points per line of 11-point text
DEFAULT_COLUMN_WIDTH = 9.14  # openpyxl's default, in characters


def apply_print_layout(workbook: Workbook, pages_tall: dict[str, int] | None = None) -> None:
    """Set every sheet's page set-up; `pages_tall` fits a named sheet onto that many
    pages (the Directorate Scorecard's two), the others are one page wide only."""
    pages_tall = pages_tall or {}
    title = workbook.properties.title or ""
    run = _run_of(workbook.properties.subject)
    synthetic = (workbook.properties.keywords or "") == SYNTHETIC_KEYWORD
    _hide_chart_data(workbook)
    for sheet in workbook.worksheets:
        _page_setup(sheet, pages_tall.get(sheet.title, 0))
        _wrap_long_notes(sheet)
        header_row = _header_row(sheet)
        if header_row:
            fit_row_height(sheet, header_row)
            sheet.print_title_rows = f"1:{header_row}"
        _header_and_footer(sheet, title, run, synthetic)
        _straight_lines(sheet)


def _hide_chart_data(workbook: Workbook) -> None:
    """Sheets that only feed charts: hidden, after the sheets people read."""
    chart_data = [s for s in workbook.worksheets if s.title in CHART_DATA_SHEETS]
    if len(chart_data) == len(workbook.worksheets):
        return
    for sheet in chart_data:
        sheet.sheet_state = "hidden"
        workbook.move_sheet(sheet, len(workbook.worksheets) - 1 - workbook.worksheets.index(sheet))


def _page_setup(sheet: Worksheet, pages_tall: int) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = pages_tall  # 0: as many pages as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True


def _header_row(sheet: Worksheet) -> int | None:
    """The column headers: the last row above the frozen pane (title, banner and note
    rows come before it); these rows repeat on every printed page."""
    frozen = sheet.freeze_panes
    row = sheet[frozen].row - 1 if frozen else 0
    return row or None


def _wrap_long_notes(sheet: Worksheet) -> None:
    """A title, banner, note or footnote that spills to the right widens the printed
    page to hold it: wrap each within the table's width instead."""
    last_column = max(sheet.max_column, 1)
    width = sum(_width(sheet, column) for column in range(1, last_column + 1))
    for row in sheet.iter_rows():
        note, rest = row[0], row[1:]
        if not isinstance(note.value, str) or len(note.value) <= _width(sheet, 1) \
                or any(cell.value is not None for cell in rest):
            continue
        if last_column > 1:
            sheet.merge_cells(start_row=note.row, start_column=1, end_row=note.row, end_column=last_column)
        note.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[note.row].height = LINE_HEIGHT * _lines(note.value, width)


def fit_row_height(sheet: Worksheet, row: int, cells=None) -> int:
    """Wrapped headers (or wrapped names in a data row: tasks.publish.excel.write_units)
    get the height they need, so they do not run into the next row; returns its lines.
    `cells`: the row's cells when the caller has them (`sheet[row]` scans the whole
    sheet for its width)."""
    cells = sheet[row] if cells is None else cells
    lines = max((_lines(str(cell.value), _width(sheet, cell.column))
                 for cell in cells if cell.value is not None), default=1)
    sheet.row_dimensions[row].height = LINE_HEIGHT * lines
    return lines


def _width(sheet: Worksheet, column: int) -> float:
    return sheet.column_dimensions[get_column_letter(column)].width or DEFAULT_COLUMN_WIDTH


def _lines(text: str, width: float) -> int:
    """Lines a text wraps into in a column `width` characters wide (word wrap, roughly)."""
    usable = max(int(width) - 1, 1)
    lines = 0
    for paragraph in text.splitlines() or [""]:
        length = 0
        lines += 1
        for word in paragraph.split():
            if length and length + 1 + len(word) > usable:
                lines, length = lines + 1, len(word)
            else:
                length += (1 if length else 0) + len(word)
            while length > usable:  # a word longer than the column breaks
                lines, length = lines + 1, length - usable
    return max(lines, 1)


def _header_and_footer(sheet: Worksheet, title: str, run: str, synthetic: bool) -> None:
    sheet.oddHeader.center.text = _escaped(f"{title}: {sheet.title}" if title else sheet.title)
    sheet.oddHeader.center.size = 9
    sheet.oddFooter.left.text = _escaped(f"run {run}") if run else ""
    sheet.oddFooter.center.text = "Page &P of &N"
    sheet.oddFooter.right.text = SYNTHETIC_FOOTER if synthetic else ""
    for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right):
        part.size = 8


def _straight_lines(sheet: Worksheet) -> None:
    for chart in sheet._charts:
        for series in chart.series:
            series.smooth = False


def _run_of(subject: str | None) -> str:
    """The run id from a subject "period P, run R"."""
    marker = "run "
    if not subject or marker not in subject:
        return ""
    return subject.rsplit(marker, 1)[1].strip()


def _escaped(text: str) -> str:
    """Header and footer text treats '&' as a code (&P page, &N pages): keep it literal."""
    return text.replace("&", "&&")
