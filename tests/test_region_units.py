"""The region's configuration, its secrets rule, and the regional workbook's ranks,
quartiles, mean and median worked out by hand (the end-to-end run: tests/test_region.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.core import settings as settings_module
from tasks.core.region import load_region, member_overrides
from tasks.core.settings import PasswordInParameter, Settings, SettingsError
from tasks.extract.extracts import is_database_url
from tasks.kpis.registry import load_registry
from tasks.publish.region_workbook import regional_figures

REGION = """
name = "North East"
out = "/srv/region"
data_dir = "/srv/data"
warehouse_url = "{warehouse}"

[[members]]
code = 841
name = "Darlington"
source = "/srv/drops/841"
out = "/srv/841"

[[members]]
code = "840"
name = "County Durham"
{source}
out = "/srv/840"
"""


def region_file(tmp_path, warehouse="postgresql+psycopg://qaloop@db:5432/region",
                source='source_secret = "durham-case-system"'):
    path = tmp_path / "region.toml"
    path.write_text(REGION.format(warehouse=warehouse, source=source))
    return path


def test_each_member_gets_its_own_schema_data_folder_and_a_source_without_credentials(tmp_path):
    region = load_region(region_file(tmp_path))
    darlington, durham = region.members
    assert darlington.code == "841" and darlington.run_source == "/srv/drops/841"
    assert durham.run_source == "secret:durham-case-system"
    settings = region.member_settings(durham)
    assert settings == {"la_code": "840", "data_dir": "/srv/data/840", "synthetic": False,
                        "warehouse_url": "postgresql+psycopg://qaloop@db:5432/region?options=-csearch_path%3Dla_840"}
    assert member_overrides(settings) == settings
    assert Settings(**member_overrides(settings)).la_code == "840"


@pytest.mark.parametrize("warehouse, source, problem", [
    ("postgresql+psycopg://qaloop:secret@db/region", 'source = "/d"', "password"),
    ("sqlite:///region.sqlite", 'source = "/d"', "PostgreSQL"),
    ("postgresql+psycopg://qaloop@db/region", 'source = "postgresql://reader@cases/ssd"', "source_secret"),
    ("postgresql+psycopg://qaloop@db/region", "", "either source"),
    ("postgresql+psycopg://qaloop@db/region", 'source = "/srv/drops/841"\ncode = "841"', "841"),
])
def test_a_region_file_with_a_credential_or_a_mistake_is_refused(tmp_path, warehouse, source, problem):
    path = region_file(tmp_path, warehouse, source)
    if 'code = "841"' in source:  # the second member repeats the first's code (and its own)
        path.write_text(path.read_text().replace('code = "840"\n', ""))
    with pytest.raises((SettingsError, PasswordInParameter)) as raised:
        load_region(path)
    assert problem in str(raised.value)
    assert "secret@" not in str(raised.value)


def test_member_settings_take_nothing_else_and_no_password():
    with pytest.raises(SettingsError, match="unknown smtp_password"):
        member_overrides({"la_code": "841", "smtp_password": "x"})
    with pytest.raises(PasswordInParameter):
        member_overrides({"warehouse_url": "postgresql://qaloop:secret@db/region"})


def test_a_source_named_by_its_secret_block_is_read_inside_the_run(monkeypatch):
    monkeypatch.setattr(settings_module, "_secret_block_value",
                        lambda name: {"durham-case-system": "postgresql://reader:pw@cases/ssd"}[name])
    assert Settings().source_to_read("secret:durham-case-system") == "postgresql://reader:pw@cases/ssd"
    assert is_database_url("secret:durham-case-system") and not is_database_url("/srv/drops/841")


def test_ranks_quartiles_mean_and_median_over_the_figures_shown_only():
    kpis = [k for k in load_registry() if k.headline]
    percent = next(k for k in kpis if k.kind == "percent" and k.polarity == "High" and k.directorate_figure == k.id)
    low = next(k for k in kpis if k.kind == "percent" and k.polarity == "Low" and k.directorate_figure == k.id)
    rows = []
    # percent, higher is better: 80.0 (40/50), 62.5 (5/8), 75.0 (3/4: denominator under 5,
    # suppressed), 80.0 (8/10), 50.0 (10/20)
    for code, value, numerator, denominator in [("A", 80.0, 40, 50), ("B", 62.5, 5, 8), ("C", 75.0, 3, 4),
                                                ("D", 80.0, 8, 10), ("E", 50.0, 10, 20)]:
        rows.append({"la_code": code, "la_name": code, "kpi_id": percent.id, "value": value,
                     "numerator": numerator, "denominator": denominator})
        rows.append({"la_code": code, "la_name": code, "kpi_id": low.id, "value": value,
                     "numerator": numerator, "denominator": denominator})
    figures = {f.figure.id: f for f in regional_figures(kpis, pd.DataFrame(rows), ["A", "B", "C", "D", "E"])}
    high = figures[percent.id]
    assert high.shown == {"A": 80, "B": 62.5, "C": "*", "D": 80, "E": 50}
    # shown: 80, 62.5, 80, 50 -> A and D share rank 1, B 3, E 4; bands (rank-1)*4//4: A, A, C, D
    assert high.ranks == {"A": (1, "A"), "B": (3, "C"), "D": (1, "A"), "E": (4, "D")}
    assert high.compared == 4
    assert high.mean == 68.1      # 272.5 / 4 = 68.125 -> 68.1
    assert high.median == 71.3    # (62.5 + 80) / 2 = 71.25 -> 71.3, half up
    lower = figures[low.id]       # lower is better: 50 first, then 62.5, then 80 and 80
    assert lower.ranks == {"E": (1, "A"), "B": (2, "B"), "A": (3, "C"), "D": (3, "C")}


def test_run_region_needs_its_config_and_the_workers_prefect_server(tmp_path, monkeypatch, capsys):
    from qaloop.cli import EXIT_INFRASTRUCTURE, main
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["run", "region", "--period", "2024-03"]) == 2
    assert main(["run", "region", "--period", "2024-03", "--config", str(region_file(tmp_path))]) \
        == EXIT_INFRASTRUCTURE
    assert "set PREFECT_API_URL" in capsys.readouterr().err
    assert main(["run", "monthly", "--period", "2024-03", "--out", str(tmp_path)]) == 2  # no --source
    assert "needs --source and --out" in capsys.readouterr().err


def test_the_workbook_shows_each_kpi_best_first_and_the_members_states(tmp_path):
    import openpyxl

    from tasks.publish.lineage import RunInfo
    from tasks.publish.region_workbook import MemberOutcome, publish_region_workbook
    kpis = [k for k in load_registry() if k.headline]
    high = next(k for k in kpis if k.kind == "percent" and k.polarity == "High" and k.directorate_figure == k.id)
    values = pd.DataFrame([{"la_code": code, "la_name": f"LA {code}", "kpi_id": high.id, "value": value,
                            "numerator": numerator, "denominator": denominator, "period": "2024-03", "run_id": "r"}
                           for code, value, numerator, denominator in [("A", 62.5, 5, 8), ("B", 75.0, 3, 4),
                                                                       ("C", 80.0, 8, 10)]])
    outcomes = [MemberOutcome("A", "LA A", "Completed", published=True),
                MemberOutcome("B", "LA B", "Completed", published=True),
                MemberOutcome("C", "LA C", "Completed", published=True),
                MemberOutcome("D", "LA D", "Failed", "2024-03 not published: failed export")]
    run = RunInfo("2024-03", "run-1", "test", "", "Test region", True, "2024-04-10T00:00:00", "", 0, 0)
    book = openpyxl.load_workbook(publish_region_workbook(kpis, values, outcomes, "Test region", run,
                                                          tmp_path / "region.xlsx"))
    rows = [[c.value for c in row] for row in book["By KPI"].iter_rows(min_row=5)]
    block = rows[[r[0] for r in rows].index(high.id):][:3]
    assert [r[2:6] for r in block] == [[1, "A", "LA C (C)", 80], [2, "C", "LA A (A)", 62.5], [None, None, "LA B (B)", "*"]]
    assert block[0][6:] == [71.3, 71.3]  # (80 + 62.5) / 2 = 71.25, half up
    members = [[c.value for c in row] for row in book["Members"].iter_rows(min_row=5, max_col=3)]
    assert members[3] == ["D", "LA D", "Failed"]
    assert "LA D (D): Failed" in book["Benchmarking"]["A3"].value


def test_a_regional_run_stopped_while_waiting_cancels_its_members_runs(tmp_path, monkeypatch, prefect_server):
    """Ctrl-C on `qaloop run region` while its members wait on the pool: their runs are
    cancelled on the (real) Prefect server, not left for the workers to run."""
    from types import SimpleNamespace

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows import region as region_flow
    from tasks.core.periods import Period
    pool = f"qaloop-cancel-{tmp_path.name[-12:]}"
    path = region_file(tmp_path, source='source = "/srv/drops/840"')
    path.write_text(path.read_text().replace('out = "/srv/region"', f'out = "/srv/region"\nwork_pool = "{pool}"'))
    region_config = load_region(path)
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))  # no worker polls it
    region_flow.deploy_member_runs(region_config)
    submitted = {member.code: region_flow.submit_member_run(region_config, member, Period.month("2024-03"))
                 for member in region_config.members}

    def interrupted(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(region_flow, "time", SimpleNamespace(monotonic=region_flow.time.monotonic, sleep=interrupted))
    with pytest.raises(KeyboardInterrupt):
        region_flow.wait_for_runs(submitted, 3600)
    with get_client(sync_client=True) as client:
        states = {code: client.read_flow_run(run.id).state for code, run in submitted.items()}
    assert {code: state.type.value for code, state in states.items()} == {"841": "CANCELLED", "840": "CANCELLED"}
    assert {state.message for state in states.values()} == {"The regional run that submitted it was stopped."}
