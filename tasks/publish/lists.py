"""The child-level (and DD10's worker-level) exception lists as a manager reads them: one
row per listed record, most overdue first, with headers in words.

The same table is written by the monthly Drift and Delay workbook (tasks/publish/excel.py
`write_exceptions`) and by the daily lists and weekly team packs
(tasks/publish/exceptions.py). Its columns:

- who: "Child" (the person id) and, when the list's unit is not the child, the record
  ("Assessment", "CP plan", ...: the registry's grain); a list of workers (grain worker,
  DD10) starts with "Worker" (the id) and "Name" instead;
- "Worker" and "Team": the names of the attributed worker and team (kpis.md, Team /
  worker attribution), "Unallocated" when there is none;
- the registry's `list_columns` in order (dates, days or working days overdue, the
  measure), with their headers in words.

Rows are sorted by the `overdue` column when the list has one, else by the measure
(largest first), then by child and record id. A list's extra columns are carried in the
run's records, not stored in kpi_records: rows carried forward from an earlier run (a
withheld KPI) show them empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from tasks.kpis.registry import Kpi
from tasks.publish.cells import is_missing, number_value, text_value
from tasks.publish.style import DECIMAL_FORMAT, WHOLE_FORMAT

DATE_FORMAT = "dd/mm/yyyy"
OVERDUE = "overdue"
MEASURE = "measure"
DATE_WIDTH, NUMBER_WIDTH, NAME_WIDTH, TEAM_WIDTH, ID_WIDTH = 12, 13, 24, 38, 12


@dataclass
class ListTable:
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    formats: dict[int, str] = field(default_factory=dict)  # 1-based column -> number format
    widths: list[float] = field(default_factory=list)


def listed_rows(records: pd.DataFrame, kpi: Kpi, team_id: str | None = None,
                period: str | None = None) -> pd.DataFrame:
    """The listed rows of one KPI (in_numerator = 1), optionally of one period and one
    team, most overdue first (the `overdue` column if the list has one, else the
    measure), then by person and record id."""
    rows = records[records["kpi_id"] == kpi.id]
    if period is not None:
        rows = rows[rows["period"] == period]
    rows = rows[pd.to_numeric(rows["in_numerator"]).fillna(0).astype(int) == 1]
    if team_id is not None:
        rows = rows[rows["team_id"].astype(str) == str(team_id)]
    rows = rows.assign(measure=pd.to_numeric(rows["measure"], errors="coerce"),
                       person_id=rows["person_id"].astype(str), record_id=rows["record_id"].astype(str))
    sort = [MEASURE]
    if OVERDUE in dict(kpi.list_columns) and OVERDUE in rows.columns:
        rows = rows.assign(overdue=pd.to_numeric(rows[OVERDUE], errors="coerce"))
        sort = [OVERDUE, MEASURE]
    return rows.sort_values(sort + ["person_id", "record_id"], ascending=[False] * len(sort) + [True, True],
                            na_position="last").reset_index(drop=True)


def record_header(kpi: Kpi) -> str | None:
    """The record's column when the list's unit is not the child: its grain in words."""
    if kpi.grain in ("child", "worker"):
        return None
    return kpi.grain[:1].upper() + kpi.grain[1:]


def list_headers(kpi: Kpi) -> tuple[list[str], list[str]]:
    """(leading headers, the list's own columns' headers) of one KPI's list."""
    if kpi.grain == "worker":
        leading = ["Worker", "Name", "Team"]
    else:
        leading = ["Child"] + ([record_header(kpi)] if record_header(kpi) else []) + ["Worker", "Team"]
    return leading, [header for _, header in _columns(kpi)]


def list_table(kpi: Kpi, rows: pd.DataFrame, team_names: dict, worker_names: dict) -> ListTable:
    """The headers, cells, number formats and widths of one list (rows from `listed_rows`)."""
    leading, own = list_headers(kpi)
    columns = _columns(kpi)
    table = ListTable(leading + own)
    numeric = {column: _number_format(rows, column) for column, _ in columns if not _is_date(rows, column)}
    for record in rows.to_dict("records"):
        team, worker = text_value(record.get("team_id")), text_value(record.get("worker_id"))
        team_name, worker_name = team_names.get(team, team), worker_names.get(worker, worker)
        if kpi.grain == "worker":
            cells = [worker, worker_name, team_name]
        else:
            cells = [text_value(record.get("person_id"))]
            if record_header(kpi):
                cells.append(text_value(record.get("record_id")))
            cells += [worker_name, team_name]
        for column, _ in columns:
            value = record.get(column)
            cells.append(number_value(value) if column in numeric else as_date(value))
        table.rows.append(cells)
    for offset, (column, _) in enumerate(columns, start=len(leading) + 1):
        table.formats[offset] = numeric.get(column) or DATE_FORMAT
    table.widths = ([ID_WIDTH, NAME_WIDTH, TEAM_WIDTH] if kpi.grain == "worker" else
                    [ID_WIDTH] + ([ID_WIDTH + 2] if record_header(kpi) else []) + [NAME_WIDTH, TEAM_WIDTH])
    table.widths += [NUMBER_WIDTH if column in numeric else DATE_WIDTH for column, _ in columns]
    return table


def as_date(value) -> date | None:
    """A date column's value (ISO text from SQLite, a date from PostgreSQL) as a date."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _columns(kpi: Kpi) -> list[tuple[str, str]]:
    columns = list(kpi.list_columns)
    if MEASURE not in dict(columns):
        columns.append((MEASURE, f"Measure ({kpi.measure_unit})" if kpi.measure_unit else "Measure"))
    return columns


def _is_date(rows: pd.DataFrame, column: str) -> bool:
    """A list column holds dates unless it is the measure, days overdue or numbers."""
    if column in (MEASURE, OVERDUE):
        return False
    if column not in rows.columns:
        return True
    present = rows[column].dropna()
    return present.empty or not pd.api.types.is_numeric_dtype(present.infer_objects())


def _number_format(rows: pd.DataFrame, column: str) -> str:
    if column not in rows.columns:
        return WHOLE_FORMAT
    values = pd.to_numeric(rows[column], errors="coerce").dropna()
    return WHOLE_FORMAT if (values == values.round()).all() else DECIMAL_FORMAT
