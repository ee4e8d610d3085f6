"""The one way qaloop writes a workbook cell.

openpyxl stores any `str` beginning with "=" as a formula (data type "f"), so a worker,
team or theme named `=HYPERLINK(...)` would become a live formula in a workbook opened
by hundreds of staff. Every text value is therefore written as a string (data type
"s"): Excel shows it as typed and never evaluates it. Numbers, dates and empty cells
are written as they are. qaloop's workbooks have no formulas of their own.
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

TEXT = "s"


def write_cell(sheet: Worksheet, row: int, column: int, value) -> Cell:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = TEXT
    return cell


def write_row(sheet: Worksheet, row: int, values, first_column: int = 1) -> list[Cell]:
    return [write_cell(sheet, row, column, value) for column, value in enumerate(values, start=first_column)]
