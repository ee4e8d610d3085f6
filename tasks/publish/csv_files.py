"""kpi_values.csv: the machine-readable figures for Power BI and other tools, plus a
run_metadata.json beside every output folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from tasks.core.figure_ids import base_id
from tasks.kpis.registry import Kpi

CSV_COLUMNS = ["kpi_id", "period", "level", "unit_id", "unit_name", "value",
               "numerator", "denominator"]
NUMERIC_COLUMNS = ("value", "numerator", "denominator")
# OWASP "CSV injection": a spreadsheet opening the CSV would run a cell beginning with
# one of these as a formula (or a DDE command); text cells so beginning get a leading '
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LEVEL_ORDER = {"la": 0, "service_area": 1, "team": 2, "worker": 3}


def figure_kind(kpi_id: str, kpis: dict[str, Kpi]) -> str:
    """count-like figures print as whole numbers; the others to one decimal place."""
    return kpis[base_id(kpi_id)].figure_kind(kpi_id)


def _whole(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return str(int(round(float(value))))


def _one_decimal(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.1f}"


def format_values(values: pd.DataFrame, kpis: list[Kpi]) -> pd.DataFrame:
    by_id = {k.id: k for k in kpis}
    rows = values.copy()
    kinds = rows["kpi_id"].map(lambda i: figure_kind(i, by_id))
    whole = kinds.isin(["count", "exception"])
    rows["value"] = [(_whole if w else _one_decimal)(v) for v, w in zip(rows["value"], whole)]
    mean_rows = kinds == "mean"
    rows["numerator"] = [_one_decimal(v) if m and not float(v).is_integer() else _whole(v)
                         for v, m in zip(rows["numerator"], mean_rows)]
    rows["denominator"] = rows["denominator"].map(_whole)
    rows["_order"] = rows["level"].map(LEVEL_ORDER)
    rows = rows.sort_values(["kpi_id", "_order", "unit_id"], kind="stable")
    return rows[CSV_COLUMNS]


def write_atomically(path: Path, text: str) -> Path:
    return write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    """Write next to the destination, then rename: a reader never sees a half-written
    file, and a failed write leaves the earlier file as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; outputs are for readers
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def neutralise(value):
    """`'=1+1` for the text `=1+1`; other values as they are. A carriage return inside
    text becomes a line feed, which the CSV writer quotes (a bare CR would end the row
    for many readers)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def write_csv(frame: pd.DataFrame, path: Path, numeric_columns=()) -> Path:
    """The one way qaloop writes a CSV: every column but `numeric_columns` is text from
    the data, neutralised; numeric columns (negative figures too) stay as they are."""
    safe = frame.assign(**{column: frame[column].map(neutralise)
                           for column in frame.columns if column not in numeric_columns})
    return write_atomically(path, safe.to_csv(index=False, lineterminator="\n"))


def publish_kpi_values(values: pd.DataFrame, kpis: list[Kpi], path: Path) -> Path:
    return write_csv(format_values(values, kpis), path, NUMERIC_COLUMNS)


def publish_run_metadata(metadata: dict, path: Path) -> Path:
    return write_atomically(path, json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n")
