"""The one way qaloop writes a workbook cell.

openpyxl stores any `str` beginning with "=" as a formula (data type "f"), so a worker,
team or theme named `=HYPERLINK(...)` would become a live formula in a workbook opened
by hundreds of staff. Every text value is therefore written as a string (data type
"s"): Excel shows it as typed and never evaluates it. Numbers, dates and empty cells
are written as they are. qaloop's workbooks have no formulas of their own.

The values written come from pandas frames: `number_value`, `text_value` and
`cell_value` turn a frame's value (NaN, numpy scalars, Timestamps) into a cell's.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
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


def is_missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def number_value(value) -> int | float | None:
    """None (an empty cell, "n/a") for missing; whole numbers as int."""
    if is_missing(value):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def text_value(value) -> str | None:
    return None if is_missing(value) else str(value)


def cell_value(value):
    """Any frame value as a cell's: numbers, dates and text; None for missing."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, (bool, date, datetime)):
        return value
    if isinstance(value, (int, float)):
        return number_value(value)
    return str(value)
