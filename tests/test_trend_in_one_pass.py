"""The speed paths give the figures and rows of the plain paths (issue 17).

- The trend: `compute_periods` (each KPI's SQL prepared once, run for every month, no
  attribution for LA-only figures) equals `compute_period` month by month, for every
  figure of the synthetic LA over 13 months; `compute_with_trend` is built from it, and
  its second process (the earlier half of the trend) gives the same figures.
- The bulk load (COPY on PostgreSQL, one executemany on SQLite) stores what
  SQLAlchemy's own insert stores, value for value, type for type.

On SQLite and PostgreSQL (the `warehouse` fixture).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from qaloop.synthetic import generate_la
from tasks.core.periods import Period
from tasks.extract.extracts import extract_sources
from tasks.kpis.compute import LaContext, compute_period, compute_periods
from tasks.kpis.registry import computed_for, load_registry
from tasks.operations.pipeline import TREND_PROCESS_FROM_MONTHS, compute_with_trend
from tasks.warehouse.database import insert_frame, read_sql, replace_source_tables, table

MONTH = Period.month("2024-03")
CONTEXT = LaContext(la_code="999", la_name="Synthetic LA", population_0_17=20000)


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic-trend")
    generate_la(folder, as_at=date(2024, 4, 5), children=400, seed=2024)
    return {name: extract.frame for name, extract in extract_sources(str(folder)).items()}


def test_the_trend_in_one_pass_equals_each_month_computed_alone(warehouse, frames):
    replace_source_tables(warehouse, frames)
    kpis = computed_for(load_registry(), MONTH)
    months = MONTH.trailing(13)
    assert len(months) == 13
    month_by_month = pd.concat([compute_period(warehouse, kpis, month, CONTEXT, levels=("la",))[0]
                                for month in months], ignore_index=True)
    assert month_by_month["period"].nunique() == 13
    assert len(month_by_month) > 13 * len(kpis)  # extras and breakdowns as well as headlines
    assert month_by_month["numerator"].fillna(0).sum() > 0
    pd.testing.assert_frame_equal(compute_periods(warehouse, kpis, months, CONTEXT), month_by_month)

    assert len(months) - 1 >= TREND_PROCESS_FROM_MONTHS  # half the earlier months in a second process
    results = compute_with_trend(warehouse, kpis, MONTH, CONTEXT, 13)
    pd.testing.assert_frame_equal(results.trend, month_by_month)
    values, records = compute_period(warehouse, kpis, MONTH, CONTEXT)
    pd.testing.assert_frame_equal(results.values, values)
    pd.testing.assert_frame_equal(results.records, records)


def test_the_bulk_load_stores_what_a_plain_insert_stores(warehouse):
    frame = pd.DataFrame({
        "cla_id": ["C1", "C2", "C3", "O'Brien \"quoted\"\ttab"],
        "person_id": ["P1", None, "P3", "P4"],
        "entry_date": [date(2024, 2, 29), None, pd.Timestamp("2023-12-31"), date(1999, 1, 1)],
        "count": [1.0, float("nan"), 3.5, 0.0],
        # Python datetimes (a pandas datetime column's Timestamps are stored as dates, as before)
        "at": pd.Series([datetime(2024, 3, 1, 10, 0), None, datetime(2024, 3, 1, 10, 0, 5, 250),
                         datetime(1999, 1, 1)], dtype=object),
    })
    with warehouse.begin() as connection:
        for name in ("bulk_loaded", "plain_inserted"):
            connection.execute(sa.text(f"drop table if exists {name}"))
        metadata = sa.MetaData()
        for name in ("bulk_loaded", "plain_inserted"):
            sa.Table(name, metadata, sa.Column("cla_id", sa.String(64)), sa.Column("person_id", sa.String(64)),
                     sa.Column("entry_date", sa.Date), sa.Column("count", sa.Float), sa.Column("at", sa.DateTime))
        metadata.create_all(connection)
        insert_frame(connection, table("bulk_loaded", connection), frame)
        plain = [{"cla_id": "C1", "person_id": "P1", "entry_date": date(2024, 2, 29), "count": 1.0,
                  "at": datetime(2024, 3, 1, 10, 0)},
                 {"cla_id": "C2", "person_id": None, "entry_date": None, "count": None, "at": None},
                 {"cla_id": "C3", "person_id": "P3", "entry_date": date(2023, 12, 31), "count": 3.5,
                  "at": datetime(2024, 3, 1, 10, 0, 5, 250)},
                 {"cla_id": "O'Brien \"quoted\"\ttab", "person_id": "P4", "entry_date": date(1999, 1, 1),
                  "count": 0.0, "at": datetime(1999, 1, 1)}]
        connection.execute(table("plain_inserted", connection).insert(), plain)
    stored = "select cla_id, person_id, entry_date, count, at, entry_date = :day as on_day from {} order by cla_id"
    bulk = read_sql(warehouse, stored.format("bulk_loaded"), {"day": date(2024, 2, 29)})
    inserted = read_sql(warehouse, stored.format("plain_inserted"), {"day": date(2024, 2, 29)})
    pd.testing.assert_frame_equal(bulk, inserted)
    assert bulk["on_day"].fillna(0).astype(int).tolist() == [1, 0, 0, 0]


def test_a_load_failing_half_way_leaves_the_previous_good_load(warehouse, frames):
    """The bulk path keeps the failed-load rule: every table in one transaction."""
    replace_source_tables(warehouse, frames)
    before = {name: read_sql(warehouse, f"select count(*) as n from {name}")["n"].iloc[0]
              for name in ("ssd_person", "ssd_cla_episodes")}
    indexes = index_names(warehouse)
    broken = frames["ssd_cla_episodes"].copy()
    broken["clae_cla_episode_start_date"] = "not a date"
    with pytest.raises(Exception):  # the first table loads, the second fails on its dates
        replace_source_tables(warehouse, {"ssd_person": frames["ssd_person"].head(3),
                                          "ssd_cla_episodes": broken})
    after = {name: read_sql(warehouse, f"select count(*) as n from {name}")["n"].iloc[0] for name in before}
    assert after == before
    assert before["ssd_person"] > 3
    assert index_names(warehouse) == indexes  # dropped for the load, back with the rollback


def index_names(engine) -> dict[str, list[str]]:
    inspector = sa.inspect(engine)
    return {name: sorted(index["name"] for index in inspector.get_indexes(name))
            for name in ("ssd_person", "ssd_cla_episodes")}


def test_a_load_rebuilds_the_indexes_of_the_tables_it_fills(warehouse, frames):
    replace_source_tables(warehouse, frames)
    indexes = index_names(warehouse)
    assert "ix_ssd_cla_episodes_clae_person_id" in indexes["ssd_cla_episodes"]
    replace_source_tables(warehouse, {"ssd_cla_episodes": frames["ssd_cla_episodes"]})
    assert index_names(warehouse) == indexes
