"""The region's warehouse: one PostgreSQL database for every member LA.

Each LA has a schema of its own (`la_<code>`) holding its staging tables, ledger,
locks and results exactly as a single LA's warehouse does: the monthly flow runs
unchanged on it (its connection's search_path is that schema), two LAs' loads never
touch each other's tables and their locks do not collide (tasks/operations/locks.py
keys them by schema). What the region compares is gathered into one table,
`region.kpi_values`, keyed by LA code: each member's published LA-level figures
(no team, worker or child rows), replaced per LA and period when the LA publishes.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.warehouse.database import utcnow

REGION_SCHEMA = "region"
_metadata = sa.MetaData(schema=REGION_SCHEMA)
REGIONAL_VALUES = sa.Table(
    "kpi_values", _metadata,
    sa.Column("la_code", sa.String(16), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("kpi_id", sa.String(120), primary_key=True),
    sa.Column("la_name", sa.Text),
    sa.Column("value", sa.Float),
    sa.Column("numerator", sa.Float),
    sa.Column("denominator", sa.Float),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("gathered_at", sa.DateTime(timezone=True), nullable=False),
)
COLUMNS = ["la_code", "la_name", "period", "kpi_id", "value", "numerator", "denominator", "run_id"]


def prepare(engine: Engine, schemas: list[str]) -> None:
    """Every member's schema and the regional table, if not there yet."""
    with engine.begin() as connection:
        for schema in [REGION_SCHEMA, *schemas]:
            connection.execute(sa.text(f'create schema if not exists "{schema}"'))
        _metadata.create_all(connection)


def gather_published(engine: Engine, schema: str, la_code: str, la_name: str, run_id: str,
                     period: str) -> int:
    """Copy the LA-level figures one member's run published for `period` into the
    regional table, replacing the LA's earlier figures of the period; the number of rows."""
    own = sa.table("kpi_values", sa.column("kpi_id"), sa.column("period"), sa.column("level"),
                   sa.column("value"), sa.column("numerator"), sa.column("denominator"),
                   sa.column("run_id"), schema=schema)
    with engine.begin() as connection:
        rows = connection.execute(sa.select(own.c.kpi_id, own.c.value, own.c.numerator, own.c.denominator)
                                  .where((own.c.run_id == run_id) & (own.c.period == period)
                                         & (own.c.level == "la"))).mappings().all()
        connection.execute(REGIONAL_VALUES.delete().where(
            (REGIONAL_VALUES.c.la_code == la_code) & (REGIONAL_VALUES.c.period == period)))
        stamp = utcnow()
        if rows:
            connection.execute(REGIONAL_VALUES.insert(), [
                {**row, "la_code": la_code, "la_name": la_name, "period": period, "run_id": run_id,
                 "gathered_at": stamp} for row in rows])
    return len(rows)


def regional_values(engine: Engine, period: str) -> pd.DataFrame:
    """Every member's published LA-level figures of `period` (COLUMNS)."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*[REGIONAL_VALUES.c[c] for c in COLUMNS])
                                  .where(REGIONAL_VALUES.c.period == period)
                                  .order_by(REGIONAL_VALUES.c.la_code, REGIONAL_VALUES.c.kpi_id)).all()
    return pd.DataFrame(rows, columns=COLUMNS)
