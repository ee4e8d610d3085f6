"""The target line of a workbook's trend charts: a dashed series over the chart's months,
its data on a hidden sheet (tasks/publish/workbook_print.py CHART_DATA_SHEETS)."""

from __future__ import annotations

from openpyxl.chart import Reference, Series

from tasks.core.settings import KpiTarget
from tasks.publish.cells import write_row

TARGETS_SHEET = "Chart targets"
TARGET_COLOUR = "505A5F"


def target_lines(workbook, figures: list, targets: dict[str, KpiTarget],
                 month_count: int) -> dict[str, Reference]:
    """{figure id: its target in every month}, on the hidden chart-data sheet: the
    dashed target line of each figure's trend chart."""
    with_target = [f for f in figures if targets.get(f.id) is not None]
    if not with_target:
        return {}
    sheet = workbook.create_sheet(TARGETS_SHEET)
    lines = {}
    for row, figure in enumerate(with_target, start=1):
        write_row(sheet, row, [figure.id, *[targets[figure.id].target] * month_count])
        lines[figure.id] = Reference(sheet, min_col=2, max_col=1 + month_count, min_row=row, max_row=row)
    return lines


def target_series(values: Reference) -> Series:
    line = Series(values, title="Target")
    line.graphicalProperties.line.dashStyle = "dash"
    line.graphicalProperties.line.solidFill = TARGET_COLOUR
    return line
