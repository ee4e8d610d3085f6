"""The data-quality sheet that travels with every workbook (issue 3: "warnings travel
with the outputs"): this run's rules that did not pass, and the pass-rate trend per
table and rule month by month. Workbooks that leave the performance team get counts
and pass rates only, never example record ids.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook

from tasks.publish.cells import write_cell, write_row
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (DECIMAL_FORMAT, HEADER_ROW, finish_table, set_widths, write_header,
                                 write_heading)
from tasks.validate.quality import DataQuality

SHEET_NAME = "Data quality"
RESULT_HEADERS = ["Table", "Column", "Rule", "Severity", "Rows checked", "Rows failing",
                  "Pass rate %", "Detail"]


def write_data_quality_sheet(workbook: Workbook, quality: DataQuality, run: RunInfo,
                             with_record_ids: bool) -> None:
    sheet = workbook.create_sheet(SHEET_NAME)
    note = (f"Data quality: {quality.state}. Rules that did not pass in this run's extracts"
            + (f"; Data Docs: {quality.data_docs}" if quality.data_docs else "")
            + ". Pass-rate trend per table and rule below.")
    write_heading(sheet, f"{run.la_name}: data quality, {run.period}", note, run)
    headers = RESULT_HEADERS + (["Example record ids"] if with_record_ids else [])
    write_header(sheet, headers)
    row = HEADER_ROW
    for result in quality.not_passed.itertuples(index=False):
        row += 1
        cells = [result.table_name, result.column_name or None, result.rule, result.severity,
                 int(result.checked), int(result.unexpected), pass_rate_percent(result.checked, result.pass_rate),
                 result.detail or None]
        write_row(sheet, row, cells + ([result.example_ids or None] if with_record_ids else []))
        sheet.cell(row=row, column=7).number_format = DECIMAL_FORMAT
    if row == HEADER_ROW:
        row += 1
        write_row(sheet, row, ["Every rule passed."])
    finish_table(sheet, len(headers), row, frozen_columns=1)
    _write_trend(sheet, quality.trend, row + 3)
    set_widths(sheet, [24, 26, 26, 10, 12, 12, 11, 60, 40])


def pass_rate_percent(checked, pass_rate) -> float | None:
    """The pass rate in %, empty where no row was checked (a missing file or column):
    such a rule did not pass, but "0%" would misread as every row failing."""
    return round(100 * float(pass_rate), 1) if int(checked) else None


def _write_trend(sheet, trend: pd.DataFrame, start_row: int) -> None:
    """Pass rate % per table and rule (columns: periods), worst rules first."""
    if trend.empty:
        return
    table = trend.assign(pass_rate=100 * trend["pass_rate"].astype(float)).pivot_table(
        index=["table_name", "rule", "column_name"], columns="period", values="pass_rate",
        aggfunc="min")
    table = table[table.min(axis=1) < 100].sort_values(by=list(table.columns)[-1:])
    write_cell(sheet, start_row, 1, "Pass rate % by month (rules below 100% in any month)")
    write_header(sheet, ["Table", "Rule", "Column", *table.columns], row=start_row + 1)
    for offset, (key, rates) in enumerate(table.iterrows(), start=start_row + 2):
        write_row(sheet, offset, [*key, *[None if pd.isna(r) else round(r, 1) for r in rates]])
        for column in range(4, 4 + len(rates)):
            sheet.cell(row=offset, column=column).number_format = DECIMAL_FORMAT
