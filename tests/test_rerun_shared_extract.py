"""Issue 17: `qaloop rerun monthly` loads a shared extract once and computes many months
(flows/backfill.py, tasks/operations/shared_extract.py). Each month keeps everything a
single run gives it (its ledger row, run id, lock, outputs, the same figures); the
extract is read, archived, validated and loaded once, its alerts sent once; a month that
fails (here: refused on its lock) stops none of the others."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from qaloop.synthetic import generate_la
from tasks.core.sources import TABLES
from tasks.extract.extracts import conform
from tasks.operations import locks, pipeline
from tasks.operations import shared_extract
from tasks.warehouse.database import latest_load_id, make_engine, read_sql, replace_source_tables
from tests.conftest import POSTGRES_URL, drop_postgres_schema, postgres_engine_or_skip
from tests.configs import write_config
from tests.test_validation import SmtpServer

MONTHS = ["2024-02", "2024-03"]
TREND = {"2024-02": {"2023-12", "2024-01", "2024-02"}, "2024-03": {"2024-01", "2024-02", "2024-03"}}  # trend_months=3


# --- the parts, without Prefect ------------------------------------------------------------

def people(count: int) -> SimpleNamespace:
    """An extract of `count` people (what load_extracts reads of an Extract: its frame)."""
    frame = pd.DataFrame({"pers_person_id": [f"P{i}" for i in range(count)]})
    return SimpleNamespace(frame=conform(TABLES["ssd_person"], frame.reindex(columns=TABLES["ssd_person"].column_names)))


def person_rows(engine) -> int:
    return int(read_sql(engine, "select count(*) as n from ssd_person")["n"][0])


def test_a_load_is_reused_only_while_the_source_tables_still_hold_it(warehouse):
    first, loaded = pipeline.load_extracts(warehouse, {"ssd_person": people(5)}, "run-a")
    assert loaded and latest_load_id(warehouse) == first
    again, loaded = pipeline.load_extracts(warehouse, {"ssd_person": people(5)}, "run-b", earlier_load=first)
    assert (again, loaded) == (first, False)  # nothing loaded: the tables still hold it
    replace_source_tables(warehouse, {"ssd_person": people(2).frame})  # another run's load in between
    reloaded, loaded = pipeline.load_extracts(warehouse, {"ssd_person": people(5)}, "run-c", earlier_load=first)
    assert loaded and reloaded > first and person_rows(warehouse) == 5
    loads = read_sql(warehouse, "select load_id, run_id from source_loads where load_id >= :first order by load_id",
                     {"first": first})
    assert loads["run_id"].fillna("").tolist() == ["run-a", "", "run-c"]


def test_what_the_first_month_makes_the_others_take_and_a_failure_is_not_kept():
    shared = shared_extract.SharedExtract("extracts/", {}, "2024-01 to 2024-12", {})
    made = []

    def failing():
        raise OSError("disk full")
    with pytest.raises(OSError):
        shared.once("archive", failing)
    assert shared.once("archive", lambda: made.append(1) or "manifest") == ("manifest", True)
    assert shared.once("archive", lambda: made.append(2) or "another") == ("manifest", False)
    assert made == [1]
    assert shared_extract.once(None, "archive", lambda: "own") == ("own", True)  # a run of its own


def test_a_shared_extract_is_known_only_while_its_re_run_runs():
    shared = shared_extract.SharedExtract("extracts/", {}, "2024-03", {})
    with shared_extract.registered(shared) as key:
        assert shared_extract.lookup(key) is shared
    with pytest.raises(shared_extract.UnknownSharedExtract, match="qaloop rerun monthly"):
        shared_extract.lookup(key)
    with shared_extract.registered(None) as none:
        assert none is None and shared_extract.lookup(None) is None


# --- the re-run flow -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared") / "extracts"
    generate_la(folder, as_at=date(2024, 4, 5), children=200, seed=11)
    return folder


def warehouse_url(dialect: str, root: Path):
    """(the warehouse setting, a clean-up); PostgreSQL in a fresh schema."""
    if dialect == "sqlite":
        return {}, lambda: None
    schema = f"qaloop_rerun_{uuid.uuid4().hex[:8]}"
    postgres_engine_or_skip(schema).dispose()
    return {"warehouse_url": f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"}, lambda: drop_postgres_schema(schema)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def singles_then_rerun(request, source, tmp_path_factory, prefect_server):
    """Each month run on its own, then the months re-run, on one warehouse and extract."""
    from flows.backfill import rerun_monthly
    from flows.monthly import monthly
    root = tmp_path_factory.mktemp(f"rerun-{request.param}")
    where, drop = warehouse_url(request.param, root)
    config, settings = write_config(root / "data", synthetic=True, la_code="841", trend_months=3, **where)
    common = {"source": str(source), "out": str(root / "out"), "config": config}
    singles = {month: monthly(period=month, **common) for month in MONTHS}
    reruns = {r["period"]: r for r in rerun_monthly(first=MONTHS[0], last=MONTHS[-1], reason="shared", **common)}
    engine = make_engine(settings.resolved_warehouse_url)
    yield {"root": root, "singles": singles, "reruns": reruns, "engine": engine, "settings": settings}
    engine.dispose()
    drop()


def run_figures(engine, run_id: str) -> pd.DataFrame:
    """Every kpi_values row of a run (the month at every level and its trend months)."""
    frame = read_sql(engine, "select period, kpi_id, level, unit_id, unit_name, value, numerator, denominator "
                             "from kpi_values where run_id = :run", {"run": run_id})
    return frame.sort_values(["period", "kpi_id", "level", "unit_id"]).reset_index(drop=True)


def test_each_month_of_the_re_run_has_the_figures_of_its_single_run(singles_then_rerun):
    runs = singles_then_rerun
    for month in MONTHS:
        single = run_figures(runs["engine"], runs["singles"][month]["run_id"])
        rerun = run_figures(runs["engine"], runs["reruns"][month]["run_id"])
        assert len(single) > 100 and set(single["period"]) == TREND[month]
        pd.testing.assert_frame_equal(single, rerun)
        assert runs["reruns"][month]["revision_note"] == "no figure changed"


def test_the_months_share_one_read_archive_and_load_and_keep_their_own_runs(singles_then_rerun):
    runs = singles_then_rerun
    rerun_ids = [runs["reruns"][m]["run_id"] for m in MONTHS]
    ledger = read_sql(runs["engine"], "select run_id, period, trigger, reason, state, load_id, extract_checksums "
                                      "from runs where trigger = 'backfill' order by period")
    assert ledger[["period", "reason", "state"]].values.tolist() == [[m, "shared", "Completed"] for m in MONTHS]
    assert sorted(ledger["run_id"]) == sorted(rerun_ids) and len(set(rerun_ids)) == len(MONTHS)
    assert ledger["load_id"].nunique() == 1  # loaded once, both months computed from it
    single_loads = read_sql(runs["engine"], "select load_id from runs where trigger <> 'backfill'")["load_id"]
    assert single_loads.nunique() == len(MONTHS)  # a single run loads its own
    loader = read_sql(runs["engine"], "select run_id from source_loads where load_id = :l",
                      {"l": int(ledger["load_id"][0])})["run_id"][0]
    assert loader in rerun_ids
    assert ledger["extract_checksums"].nunique() == 1 and json.loads(ledger["extract_checksums"][0])
    archived = read_sql(runs["engine"], "select distinct archived_path from extract_files where run_id in "
                                        f"({', '.join(repr(r) for r in rerun_ids)})")["archived_path"]
    assert {Path(p).parent.name for p in archived} == {loader}  # archived once, by the month that loaded
    dq_runs = read_sql(runs["engine"], "select distinct run_id from dq_results")["run_id"]
    assert set(rerun_ids) <= set(dq_runs)  # each month's own data-quality results
    out = runs["root"] / "out"
    for month in MONTHS:  # each month's own version, published
        assert (out / month).resolve() == (out / "runs" / "monthly" / month / runs["reruns"][month]["run_id"]).resolve()
        assert (out / month / "kpi_values.csv").is_file()


# --- alerts once; one month refused, the others published ------------------------------------

def test_alerts_go_once_for_the_months_and_a_refused_month_stops_none_of_the_others(source, tmp_path,
                                                                                    prefect_server):
    import shutil

    from flows.backfill import rerun_monthly
    from tasks.operations.pipeline import warehouse_engine
    broken = tmp_path / "extracts"
    shutil.copytree(source, broken)
    workers = pd.read_csv(broken / "ssd_professionals.csv", dtype=str, keep_default_na=False)
    pd.concat([workers, workers.head(1)]).to_csv(broken / "ssd_professionals.csv", index=False)  # a critical rule
    with SmtpServer() as server:
        config, settings = write_config(tmp_path / "data", synthetic=True, la_code="841", trend_months=2,
                                        notifications={"smtp_host": "127.0.0.1", "smtp_port": server.controller.port,
                                                       "smtp_to": ["performance@la.example"]})
        engine = warehouse_engine(settings.resolved_warehouse_url)
        with locks.hold(engine, locks.run_lock_name("monthly", "2024-01"), 0):  # another run of January
            with pytest.raises(RuntimeError, match=r"1 of 3 periods failed: 2024-01: .*still being run"):
                rerun_monthly(first="2024-01", last="2024-03", source=str(broken), out=str(tmp_path / "out"),
                              config=config, reason="alerts once", lock_wait_seconds=1)
        time.sleep(0.2)
    ledger = read_sql(engine, "select period, state from runs order by period")
    assert ledger.values.tolist() == [["2024-01", "Refused: locked"], ["2024-02", "Completed"],
                                      ["2024-03", "Completed"]]  # the duplicate worker id withholds nothing
    subjects = [str(m["Subject"]) for m in server.messages]
    assert "qaloop: monthly 2024-01 run FAILED" in subjects  # the refused month's failure notification
    alerted = [s for s in subjects if s.startswith("[qaloop data quality]")]
    assert len(alerted) == len(set(alerted)) == 2, subjects  # once, not once a month
    assert all("2024-01 to 2024-03" in s for s in alerted), alerted  # they name the re-run's months
    sent = read_sql(engine, "select period, rule from dq_alerts_sent")
    # the critical one (which each month would have sent) and the warning
    assert sorted(sent["rule"]) == ["freshness", "row_key_unique"] and set(sent["period"]) == {"2024-01 to 2024-03"}
