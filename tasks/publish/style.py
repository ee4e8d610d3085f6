"""How every qaloop workbook looks, in one place.

A sheet starts with a title (row 1), the SYNTHETIC DATA banner when the data are
synthetic (row 2), a note (row 3) and its column headers (row 4); data rows follow.
The banner spans the table: its fill is stretched over every column the sheet uses
when the workbook is saved (`save_workbook`), whatever the sheet. Saving is also where
the page set-up (tasks.publish.workbook_print) is applied, from the properties that
`describe_workbook` sets.

Numbers are stored as numbers: percentages as 0-100 with one decimal place (kpis.md),
rates and means with one decimal place, counts whole.
"""

from __future__ import annotations

import calendar
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.core.periods import Period
from tasks.publish.cells import write_cell, write_row
from tasks.publish.csv_files import write_bytes_atomically
from tasks.publish.lineage import RunInfo
from tasks.publish.workbook_print import SYNTHETIC_KEYWORD, apply_print_layout

TITLE_ROW, BANNER_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3, 4
FIRST_DATA_ROW = HEADER_ROW + 1

DECIMAL_FORMAT = "0.0"
PERCENT_FORMAT = DECIMAL_FORMAT  # a percentage is stored as 0-100
WHOLE_FORMAT = "0"
THOUSANDS_FORMAT = "#,##0"
KIND_FORMATS = {"percent": PERCENT_FORMAT, "rate": DECIMAL_FORMAT, "mean": DECIMAL_FORMAT,
                "count": WHOLE_FORMAT, "exception": WHOLE_FORMAT}

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True)
HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
BANNER_FONT = Font(bold=True, size=12, color="FFFFFF")
BANNER_FILL = PatternFill("solid", start_color="C00000", end_color="C00000")
WRAP = Alignment(wrap_text=True, vertical="top")
RAG_FILLS = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE"}
SYNTHETIC_BANNER = "SYNTHETIC DATA: not real children's records; for testing and demonstration only"


def write_heading(sheet: Worksheet, title: str, note: str, run: RunInfo) -> None:
    """Title, the SYNTHETIC banner (synthetic runs only) and the note above a table."""
    write_cell(sheet, TITLE_ROW, 1, title).font = TITLE_FONT
    if run.synthetic:
        banner = write_cell(sheet, BANNER_ROW, 1, SYNTHETIC_BANNER)
        banner.font, banner.fill = BANNER_FONT, BANNER_FILL
    write_cell(sheet, NOTE_ROW, 1, note).font = NOTE_FONT


def write_header(sheet: Worksheet, headers: list[str], row: int = HEADER_ROW) -> None:
    for cell in write_row(sheet, row, headers):
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP


def finish_table(sheet: Worksheet, columns: int, last_row: int, frozen_columns: int) -> None:
    """A filter on the header row and the panes frozen below it and right of
    `frozen_columns`."""
    last_row = max(last_row, HEADER_ROW)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(columns)}{last_row}"
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=frozen_columns + 1)


def set_widths(sheet: Worksheet, widths: list[float]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def add_rag_fills(sheet: Worksheet, cell_range: str) -> None:
    """Green, Amber and Red cells in `cell_range` coloured as the words say."""
    for status, colour in RAG_FILLS.items():
        fill = PatternFill("solid", start_color=colour, end_color=colour)
        sheet.conditional_formatting.add(
            cell_range, CellIsRule(operator="equal", formula=[f'"{status}"'], fill=fill))


def month_label(period_id: str, abbreviated: bool = False) -> str:
    """"March 2024" (or "Mar 2024") for a month's period id."""
    start = Period.month(period_id).start
    names = calendar.month_abbr if abbreviated else calendar.month_name
    return f"{names[start.month]} {start.year}"


def describe_workbook(workbook: Workbook, title: str, run: RunInfo) -> None:
    """The properties the page set-up reads (tasks.publish.workbook_print): title, run, synthetic."""
    workbook.properties.title = title
    workbook.properties.subject = f"period {run.period}, run {run.run_id}"
    workbook.properties.creator = "qaloop"
    workbook.properties.keywords = SYNTHETIC_KEYWORD if run.synthetic else None


def save_workbook(workbook: Workbook, out_path: Path, pages_tall: dict[str, int] | None = None) -> Path:
    """Stretch the banners, set up the pages, then save through a temporary file and a
    rename (tasks.publish.csv_files.write_bytes_atomically); returns the path."""
    for sheet in workbook.worksheets:
        _stretch_banner(sheet)
    apply_print_layout(workbook, pages_tall)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return write_bytes_atomically(Path(out_path), buffer.getvalue())


def _stretch_banner(sheet: Worksheet) -> None:
    if sheet.cell(row=BANNER_ROW, column=1).value != SYNTHETIC_BANNER:
        return
    for column in range(2, sheet.max_column + 1):
        sheet.cell(row=BANNER_ROW, column=column).fill = BANNER_FILL
