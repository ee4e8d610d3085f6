"""The regional benchmarking workbook: the member LAs side by side on each headline KPI
(the Directorate Scorecard's rows), with each LA's rank and quartile band among the
members and the regional mean and median.

It leaves the performance team (a region's directors and boards), so it is aggregate
and suppressed (tasks.publish.suppression, kpis.md "Small numbers"): LA-level figures
only; a count of 1-4 is `<5`, a percentage on a denominator under 5 is `*`. A figure not
shown is neither ranked nor counted in the mean or median (either would give it back:
the mean times the LAs less the figures shown).

Ranks follow DfE's LAIT (tasks.kpis.benchmarks): rank 1 and band A are the best by the
KPI's polarity (highest when higher is better, lowest when lower is better, lowest first
for context-only measures); ties share the better rank. Mean and median are rounded
half up to one decimal place (kpis.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tasks.kpis.benchmarks import _mean, _median, _quartile, _rank
from tasks.kpis.registry import Figure, Kpi
from tasks.publish.cells import write_cell, write_row
from tasks.publish.directorate import POLARITY_LABELS, headline_rows, unit_words
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (FIRST_DATA_ROW, NOTE_FONT, WRAP, decimal_format, describe_workbook, finish_table,
                                 month_label, save_workbook, set_widths, write_header, write_heading)
from tasks.publish.suppression import FOOTNOTE, shown_figure

TITLE = "Regional benchmarking"
FIXED_HEADERS = ["KPI", "Measure", "Polarity", "Unit", "Regional mean", "Regional median",
                 "LAs compared"]
PER_LA_HEADERS = ("", "Rank", "Quartile")  # the first is the LA's name and code
METHOD_NOTE = (
    "Rank and quartile band among the member LAs with a figure shown, as DfE's LAIT: rank 1 and "
    "band A are the best by polarity (highest when higher is better, lowest when lower is better, "
    "lowest first for context-only measures); ties share the better rank. Regional mean and median "
    "are over the same figures, rounded half up to one decimal place. A figure not shown ('<5', "
    "'*', 'n/a') is not ranked and not in the mean or median.")


@dataclass(frozen=True)
class MemberOutcome:
    """One member LA's monthly run, as the regional run saw it end."""
    code: str
    name: str
    state: str          # the Prefect state name: Completed, Partly published, Failed, Crashed ...
    message: str = ""
    flow_run_id: str = ""
    published: bool = False


@dataclass(frozen=True)
class RegionalFigure:
    """One headline figure across the members: each LA's shown cell, rank and band."""
    figure: Figure
    shown: dict[str, object]           # la_code -> number or suppression symbol
    ranks: dict[str, tuple[int, str]]  # la_code -> (rank, quartile band) of the figures shown
    mean: float | None
    median: float | None

    @property
    def compared(self) -> int:
        return len(self.ranks)


def regional_figures(kpis: list[Kpi], values: pd.DataFrame, codes: list[str]) -> list[RegionalFigure]:
    """Each headline figure (the Directorate Scorecard's rows) across the LAs `codes`,
    from their LA-level `values` (tasks.warehouse.region.COLUMNS)."""
    by_key = {(row["la_code"], row["kpi_id"]): row for row in values.to_dict("records")}
    figures = []
    for figure in headline_rows(kpis):
        shown = {code: shown_figure(figure.kind, *_value_parts(by_key.get((code, figure.id)))) for code in codes}
        numbers = {code: cell for code, cell in shown.items() if isinstance(cell, (int, float))}
        population = list(numbers.values())
        ranks = {}
        for code, number in numbers.items():
            rank, count = _rank(number, population, figure.polarity)
            ranks[code] = (rank, _quartile(rank, count))
        figures.append(RegionalFigure(figure, shown, ranks, _mean(population), _median(population)))
    return figures


def _value_parts(row: dict | None) -> tuple:
    row = row or {}
    return row.get("value"), row.get("numerator"), row.get("denominator")


def publish_region_workbook(kpis: list[Kpi], values: pd.DataFrame, outcomes: list[MemberOutcome],
                            region_name: str, run: RunInfo, out_path: Path) -> Path:
    """Write the regional benchmarking workbook for `run.period`; returns its path.
    `values`: the members' published LA-level figures of the period (regional table)."""
    names = dict(zip(values["la_code"], values["la_name"]))
    codes = sorted(names)  # the members with published figures this period
    figures = regional_figures(kpis, values, codes)
    workbook = Workbook()
    write_benchmarking(workbook.active, figures, codes, names, outcomes, region_name, run)
    write_by_kpi(workbook.create_sheet("By KPI"), figures, names, region_name, run)
    write_members(workbook.create_sheet("Members"), outcomes, run)
    describe_workbook(workbook, f"{region_name} {TITLE} {run.period}", run)
    return save_workbook(workbook, Path(out_path))


def write_benchmarking(sheet: Worksheet, figures: list[RegionalFigure], codes: list[str], names: dict,
                       outcomes: list[MemberOutcome], region_name: str, run: RunInfo) -> None:
    sheet.title = "Benchmarking"
    missing = [o for o in outcomes if o.code not in codes]
    note = f"{len(codes)} member LAs side by side, LA-level figures of {month_label(run.period)}. " + \
        ("Not in this comparison (no figures published for the month): " +
         "; ".join(f"{o.name} ({o.code}): {o.state}" for o in missing) + ". " if missing else "") + METHOD_NOTE
    write_heading(sheet, f"{region_name}: {TITLE}, {month_label(run.period)}", note, run)
    headers = FIXED_HEADERS + [header or f"{names[code]} ({code})" for code in codes for header in PER_LA_HEADERS]
    write_header(sheet, headers)
    row = FIRST_DATA_ROW
    for item in figures:
        write_benchmark_row(sheet, row, item, codes)
        row += 1
    footnote = write_cell(sheet, row + 1, 1, FOOTNOTE)
    footnote.font, footnote.alignment = NOTE_FONT, WRAP
    finish_table(sheet, len(headers), row - 1, frozen_columns=2)
    set_widths(sheet, [10, 40, 14, 14, 10, 10, 9] + [12, 6, 8] * len(codes))


def write_benchmark_row(sheet: Worksheet, row: int, item: RegionalFigure, codes: list[str]) -> None:
    figure = item.figure
    number_format = decimal_format(figure.precision)
    cells = write_row(sheet, row, [figure.id, figure.name, POLARITY_LABELS.get(figure.polarity, figure.polarity),
                                   unit_words(figure), item.mean, item.median, item.compared])
    for cell in cells[:2]:
        cell.alignment = WRAP
    for cell in cells[4:6]:
        cell.number_format = number_format
    column = len(FIXED_HEADERS) + 1
    for code in codes:
        rank, band = item.ranks.get(code, (None, None))
        shown, *_ = write_row(sheet, row, [item.shown[code], rank, band], first_column=column)
        shown.number_format = number_format
        column += len(PER_LA_HEADERS)


def write_by_kpi(sheet: Worksheet, figures: list[RegionalFigure], names: dict, region_name: str,
                 run: RunInfo) -> None:
    """The same figures one KPI at a time, its LAs in rank order (those not ranked last):
    the sheet that prints readably however many members the region has."""
    write_heading(sheet, f"{region_name}: {TITLE} by KPI, {month_label(run.period)}",
                  "Each headline KPI's member LAs best first; the regional mean and median on its first row. "
                  + METHOD_NOTE, run)
    headers = ["KPI", "Measure", "Rank", "Quartile", "LA", "Figure", "Regional mean", "Regional median"]
    write_header(sheet, headers)
    row = FIRST_DATA_ROW
    for item in figures:
        number_format = decimal_format(item.figure.precision)
        order = sorted(item.shown, key=lambda code: (item.ranks.get(code, (len(names) + 1,))[0], code))
        for position, code in enumerate(order):
            rank, band = item.ranks.get(code, (None, None))
            first = position == 0
            cells = write_row(sheet, row, [item.figure.id if first else None, item.figure.name if first else None,
                                           rank, band, f"{names[code]} ({code})", item.shown[code],
                                           item.mean if first else None, item.median if first else None])
            for column in (5, 6, 7):
                cells[column].number_format = number_format
            cells[1].alignment = WRAP
            row += 1
    footnote = write_cell(sheet, row + 1, 1, FOOTNOTE)
    footnote.font, footnote.alignment = NOTE_FONT, WRAP
    finish_table(sheet, len(headers), row - 1, frozen_columns=2)
    set_widths(sheet, [12, 44, 7, 9, 26, 10, 10, 10])


def write_members(sheet: Worksheet, outcomes: list[MemberOutcome], run: RunInfo) -> None:
    """Each member LA's run this month: how it ended (aggregate: no record is named)."""
    write_heading(sheet, "Member LAs", f"Each member's monthly run for {month_label(run.period)} "
                  f"(regional run {run.run_id}); one LA's failure does not stop the others.", run)
    headers = ["LA code", "LA", "State", "Flow run", "Message"]
    write_header(sheet, headers)
    for row, outcome in enumerate(sorted(outcomes, key=lambda o: o.code), start=FIRST_DATA_ROW):
        write_row(sheet, row, [outcome.code, outcome.name, outcome.state, outcome.flow_run_id,
                               outcome.message])
        sheet.cell(row=row, column=5).alignment = WRAP
    finish_table(sheet, len(headers), FIRST_DATA_ROW + len(outcomes) - 1, frozen_columns=2)
    set_widths(sheet, [9, 24, 18, 38, 70])
