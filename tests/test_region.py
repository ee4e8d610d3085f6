"""End to end: a region of three synthetic LAs on a real Prefect server on PostgreSQL, a
process work pool and two process workers, all started here (flows/region.py).

One LA's extract lacks most of its tables, so its monthly run fails its data-quality
gate; the other two publish figures equal to their runs alone (the default SQLite
warehouse, no region), their rows reach the region's warehouse keyed by LA code, and the
regional workbook ranks them and takes their median as worked out here from the figures
each LA published alone. Skips only when PostgreSQL cannot be reached (never under CI=true).
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from datetime import date
from pathlib import Path

import httpx
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from qaloop.synthetic import generate_la
from tasks.core.settings import config_text
from tasks.extract.arrival import CASE_SYSTEM_TABLES
from tasks.kpis.benchmarks import headline_figure_id
from tasks.kpis.registry import Figure, load_registry
from tests.test_prefect_postgres import (PREFECT, drop_database, recreate_database, start_prefect_server,
                                         stop)

pytestmark = pytest.mark.flow

ROOT = Path(__file__).resolve().parents[1]
QALOOP = str(Path(sys.executable).parent / "qaloop")
PREFECT_DATABASE, WAREHOUSE_DATABASE = "qaloop_region_prefect", "qaloop_region_warehouse"
POOL = "qaloop-region-test"
PERIOD = "2024-03"
# code, name, children, seed; the last one's extract is broken
MEMBERS = [("841", "Darlington", 260, 11), ("805", "Hartlepool", 140, 12), ("840", "County Durham", 180, 13)]
BROKEN = "840"


def make_extracts(root: Path) -> dict[str, Path]:
    folders = {}
    for code, _, children, seed in MEMBERS:
        folders[code] = root / "extracts" / code
        generate_la(folders[code], as_at=date(2024, 4, 5), children=children, seed=seed)
    for table in CASE_SYSTEM_TABLES[:len(CASE_SYSTEM_TABLES) // 2 + 1]:  # a failed export
        (folders[BROKEN] / f"{table}.csv").unlink()
    return folders


def write_region(root: Path, folders: dict[str, Path], warehouse_url: str) -> Path:
    members = "".join(f'\n[[members]]\ncode = "{code}"\nname = "{name}"\nsource = "{folders[code]}"\n'
                      f'out = "{root / "out" / code}"\nsynthetic = true\n' for code, name, _, _ in MEMBERS)
    path = root / "region.toml"
    path.write_text(f'name = "Test region"\nwork_pool = "{POOL}"\nout = "{root / "region-out"}"\n'
                    f'data_dir = "{root / "data"}"\nwarehouse_url = "{warehouse_url}"\n' + members)
    return path


def run_alone(root: Path, code: str, source: Path, env: dict) -> subprocess.Popen:
    """The LA's monthly run by itself: its own SQLite warehouse, no region."""
    data = root / "alone" / code
    data.mkdir(parents=True)
    config = data / "qaloop.toml"
    config.write_text(config_text({"data_dir": str(data), "la_code": code, "synthetic": True}))
    return subprocess.Popen([QALOOP, "run", "monthly", "--period", PERIOD, "--source", str(source),
                             "--out", str(data / "out"), "--config", str(config)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kpi_values(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / PERIOD / "kpi_values.csv", dtype=str, keep_default_na=False)


def expected_cell(kind: str, values: pd.DataFrame, figure_id: str):
    """kpis.md "Small numbers", by hand: a percentage on a denominator under 5 is '*', a
    count (or a rate's count of children) of 1-4 is '<5', no figure is 'n/a'."""
    if figure_id not in values.index or values.loc[figure_id, "value"] == "":
        return "n/a"
    row = values.loc[figure_id]
    value = float(row["value"])
    if kind == "percent" and 0 < float(row["denominator"]) < 5:
        return "*"
    if (kind in ("count", "exception") and 0 < value < 5) or (kind == "rate" and 0 < float(row["numerator"]) < 5):
        return "<5"
    return value


def round_half_up(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def region_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("region")
    prefect_url = recreate_database(PREFECT_DATABASE)
    warehouse_url = recreate_database(WAREHOUSE_DATABASE, "postgresql+psycopg")
    server, api, env = start_prefect_server(root / "prefect-home", prefect_url)
    env = {**env, "PREFECT_WORKER_QUERY_SECONDS": "2", "QALOOP_PREFECT_STARTUP_SECONDS": "120"}
    workers = []
    try:
        subprocess.run([PREFECT, "work-pool", "create", POOL, "--type", "process"], env=env, check=True,
                       capture_output=True, timeout=120)
        for number in (1, 2):
            log = (root / f"worker-{number}.log").open("w")
            workers.append((subprocess.Popen([PREFECT, "worker", "start", "--pool", POOL, "--name",
                                              f"worker-{number}", "--limit", "1"], env=env, cwd=ROOT, stdout=log,
                                             stderr=subprocess.STDOUT), log))
        folders = make_extracts(root)
        config = write_region(root, folders, warehouse_url.render_as_string(hide_password=False))
        region = subprocess.run([QALOOP, "run", "region", "--period", PERIOD, "--config", str(config)],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=1500)
        alone = {code: run_alone(root, code, folders[code], env) for code, *_ in MEMBERS if code != BROKEN}
        for code, process in alone.items():
            output = process.communicate(timeout=900)[0]
            assert process.returncode == 0, output[-3000:]
        engine = sa.create_engine(warehouse_url)
        with engine.connect() as connection:
            regional = pd.read_sql(sa.text("select * from region.kpi_values"), connection)
        engine.dispose()
        flow_runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 50}, timeout=30).json()
        yield {"root": root, "region": region, "regional": regional, "flow_runs": flow_runs,
               "worker_logs": [(root / f"worker-{n}.log") for n in (1, 2)]}
    finally:
        for process, log in workers:
            stop(process)
            log.close()
        stop(server)
        drop_database(PREFECT_DATABASE)
        drop_database(WAREHOUSE_DATABASE)


def test_each_la_ran_on_the_pool_and_the_broken_one_failed_alone(region_run):
    region = region_run["region"]
    assert region.returncode == 8, region.stdout[-3000:] + region.stderr[-3000:]  # a member did not publish
    assert "841 Darlington: Completed" in region.stdout
    assert "805 Hartlepool: Completed" in region.stdout
    assert "840 County Durham: Failed" in region.stdout and "failed export" in region.stdout
    runs = [run for run in region_run["flow_runs"] if "region" in (run["tags"] or [])]
    by_la = {tag: run["state"]["type"] for run in runs for tag in run["tags"] if tag.startswith("la:")}
    assert by_la == {"la:841": "COMPLETED", "la:805": "COMPLETED", "la:840": "FAILED"}
    assert all(run["name"] == f"monthly {PERIOD}" for run in runs)  # named by the monthly flow
    regional = [run for run in region_run["flow_runs"]
                if str(run["parameters"].get("config")).endswith("region.toml")]
    assert len(regional) == 1 and regional[0]["state"]["name"] == "Some LAs failed"
    assert {run["parent_task_run_id"] is not None for run in runs} == {True}  # subflows of the region's run
    # every member's run went through a worker; two workers polling at once may both try
    # one run (Prefect lets one have it), so runs are counted, not the workers' attempts
    submitted = {line.rsplit("'", 2)[-2] for log in region_run["worker_logs"]
                 for line in log.read_text().splitlines() if "submitting flow run" in line}
    assert submitted == {str(run["id"]) for run in runs}, submitted


def test_each_good_la_published_its_own_figures_equal_to_its_run_alone(region_run):
    root = region_run["root"]
    for code, *_ in MEMBERS:
        if code == BROKEN:
            assert not (root / "out" / code / PERIOD).exists()  # nothing published
            continue
        in_region, alone = kpi_values(root / "out" / code), kpi_values(root / "alone" / code / "out")
        assert len(in_region) > 100
        pd.testing.assert_frame_equal(in_region, alone)
        metadata = json.loads((root / "out" / code / PERIOD / "run_metadata.json").read_text())
        assert metadata["la_code"] == code


def test_the_regional_table_holds_each_published_las_la_level_rows_by_code(region_run):
    regional = region_run["regional"]
    assert sorted(regional["la_code"].unique()) == ["805", "841"]
    for code in ("805", "841"):
        alone = kpi_values(region_run["root"] / "alone" / code / "out")
        la_rows = alone[alone["level"] == "la"]
        assert len(regional[regional["la_code"] == code]) == len(la_rows)


def test_the_regional_workbook_ranks_and_takes_the_median_of_the_figures_shown(region_run):
    root = region_run["root"]
    book = openpyxl.load_workbook(root / "region-out" / PERIOD / f"regional_benchmarking_{PERIOD}.xlsx")
    sheet = book["Benchmarking"]
    headers = [cell.value for cell in sheet[4]]
    assert headers[:7] == ["KPI", "Measure", "Polarity", "Unit", "Regional mean", "Regional median",
                           "LAs compared"]
    assert headers[7:] == ["Hartlepool (805)", "Rank", "Quartile", "Darlington (841)", "Rank", "Quartile"]
    rows = {row[0].value: [cell.value for cell in row] for row in sheet.iter_rows(min_row=5) if row[0].value
            and row[1].value}
    alone = {code: kpi_values(root / "alone" / code / "out").query("level == 'la'").set_index("kpi_id")
             for code in ("805", "841")}
    ranked = suppressed = 0
    for kpi in load_registry():
        if not kpi.headline:
            continue
        figure = Figure.of(kpi, headline_figure_id(kpi))
        cells = rows[figure.id]
        shown = {code: expected_cell(figure.kind, alone[code], figure.id) for code in ("805", "841")}
        assert (cells[7], cells[10]) == (shown["805"], shown["841"]), figure.id
        numbers = {code: Decimal(str(v)) for code, v in shown.items() if isinstance(v, float)}
        assert cells[6] == len(numbers)
        if len(numbers) < 2:  # a small number, or none: not ranked, not in the median
            suppressed += len(shown) - len(numbers)
            assert [cells[8], cells[11]].count(None) == 2 - len(numbers), figure.id
            continue
        a, b = numbers["805"], numbers["841"]
        hartlepool_first = (a > b) if figure.polarity == "High" else (a < b)
        expected = (1 if hartlepool_first or a == b else 2, 1 if not hartlepool_first or a == b else 2)
        assert (cells[8], cells[11]) == expected, figure.id
        assert (cells[9], cells[12]) == tuple("A" if r == 1 else "C" for r in expected)  # (rank-1)*4//2
        assert cells[5] == round_half_up((a + b) / 2), figure.id  # the median of two: their mean
        assert cells[4] == cells[5]
        ranked += 1
    assert ranked >= 6 and suppressed >= 1, (ranked, suppressed)
    members = {row[0].value: row[2].value for row in book["Members"].iter_rows(min_row=5) if row[0].value}
    assert members == {"805": "Completed", "840": "Failed", "841": "Completed"}
    note = sheet.cell(row=3, column=1).value
    assert "County Durham (840): Failed" in note
