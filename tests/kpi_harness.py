"""Run one KPI on tiny hand-written tables: the given/expect pattern of SQL tests.

    figures = run_kpi(warehouse, "SAF07", "2024-03", {"ssd_cin_assessments": [...]})
    figures = run_kpi(warehouse, "CMP02", "2024-Q1", {"complaints": [...]})  # any period id
    assert figures.la("SAF07") == (50.0, 1, 2)

Tables not given are empty. Columns not given are empty (NULL). Dates are ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tasks.kpis.compute import LaContext, compute_period
from tasks.extract.extracts import conform
from tasks.core.periods import Period
from tasks.kpis.registry import Kpi, load_registry
from tasks.core.sources import TABLES
from tasks.warehouse.database import replace_source_tables

CONTEXT = LaContext(la_code="999", la_name="Test LA", population_0_17=20000)
REGISTRY = {k.id: k for k in load_registry()}


@dataclass
class Figures:
    values: pd.DataFrame
    records: pd.DataFrame

    def get(self, kpi_id: str, level: str = "la", unit_id: str | None = None) -> tuple:
        """(value, numerator, denominator) of one published figure."""
        rows = self.values[(self.values["kpi_id"] == kpi_id) & (self.values["level"] == level)]
        if unit_id is not None:
            rows = rows[rows["unit_id"] == unit_id]
        assert len(rows) == 1, f"expected one {kpi_id} {level} {unit_id} row, got {len(rows)}"
        row = rows.iloc[0]
        return tuple(None if pd.isna(row[c]) else row[c] for c in ("value", "numerator", "denominator"))

    def ids(self, prefix: str) -> list[str]:
        """The LA-level figure ids of one KPI (`prefix` = its id), sorted."""
        rows = self.values[(self.values["level"] == "la") & self.values["kpi_id"].str.startswith(prefix)]
        return sorted(rows["kpi_id"])

    def la(self, kpi_id: str) -> tuple:
        return self.get(kpi_id, "la")

    def record_ids(self, kpi_id: str, numerator_only: bool = False) -> list[str]:
        rows = self.records[self.records["kpi_id"] == kpi_id]
        if numerator_only:
            rows = rows[rows["in_numerator"] == 1]
        return sorted(rows["record_id"].astype(str))

    def listed(self, kpi_id: str) -> dict[str, tuple]:
        """{record id: the values of its list columns (registry list_columns, not the
        measure)} of the listed rows: dates as ISO text (SQLite and PostgreSQL alike)."""
        columns = [c for c, _ in REGISTRY[kpi_id].list_columns if c != "measure"]
        rows = self.records[(self.records["kpi_id"] == kpi_id) & (self.records["in_numerator"] == 1)]
        return {str(row["record_id"]): tuple(_plain(row[c]) for c in columns) for _, row in rows.iterrows()}

    def measures(self, kpi_id: str) -> dict[str, float]:
        rows = self.records[(self.records["kpi_id"] == kpi_id) & (self.records["in_numerator"] == 1)]
        return {str(r): m for r, m in zip(rows["record_id"], rows["measure"])}


def load_tables(engine, tables: dict[str, list[dict]]) -> None:
    unknown = set(tables) - set(TABLES)
    assert not unknown, f"unknown tables {unknown}"
    frames = {}
    for name, source in TABLES.items():
        frame = pd.DataFrame(tables.get(name, []), columns=source.column_names)
        frames[name] = conform(source, frame)
    replace_source_tables(engine, frames)


def run_kpi(engine, kpi_ids: str | list[str], period: str, tables: dict[str, list[dict]],
            context: LaContext = CONTEXT, registry: list[Kpi] | None = None) -> Figures:
    """`registry`: the KPIs to look the ids up in (default: sql/registry.yml)."""
    load_tables(engine, tables)
    ids = [kpi_ids] if isinstance(kpi_ids, str) else kpi_ids
    by_id = REGISTRY if registry is None else {kpi.id: kpi for kpi in registry}
    values, records = compute_period(engine, [by_id[i] for i in ids], Period.parse(period), context)
    return Figures(values, records)


def _plain(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        return int(value)
    return str(value)[:10]
