"""Issue 10: nothing leaks and nothing executes.

Unit tests of each defence, then whole runs of every flow (monthly, daily, weekly, the
monthly re-run) on a synthetic LA whose team, worker and theme names are formula
payloads, with known secrets in the environment: no secret may reach Prefect's
database, the ledger, the logs, the artifacts or the outputs, and no cell taken from the
data may be a formula.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from tasks.core.settings import (PasswordInParameter, config_text, load_settings, refuse_password_in,
                             with_password)
from tasks.publish.cells import write_cell
from tasks.core.figure_ids import breakdown_name, decode_value, encode_value, parse_figure_id
from tasks.publish.csv_files import neutralise, write_csv
from qaloop.synthetic import generate_la
from tasks.warehouse.database import make_engine, read_sql
from tests.conftest import POSTGRES_URL, drop_postgres_schema, postgres_engine_or_skip
from tests.configs import write_config

PAYLOADS = ['=HYPERLINK("http://127.0.0.1/x","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)"]
THEMES = ["=1+1", "Neglect: home/school", "Négligence à 100%"]


# --- figure ids (kpis.md: breakdown values percent-encoded) ------------------------------------

@pytest.mark.parametrize("value, encoded", [
    ("=1+1", "%3D1+1"), ("a:b", "a%3Ab"), ("home/school", "home%2Fschool"), ("100%", "100%25"),
    ("Négligence", "Négligence"), ("Social Care", "Social Care"), ("%3D", "%253D")])
def test_breakdown_values_are_percent_encoded_and_decode_back(value, encoded):
    assert encode_value(value) == encoded
    assert decode_value(encoded) == value
    parsed = parse_figure_id(f"QA03:{breakdown_name('theme', value)}:grade=Good")
    assert (parsed.kpi_id, parsed.names, parsed.dimensions) == ("QA03", (), (("theme", value), ("grade", "Good")))


def test_a_theme_with_any_text_is_a_figure_of_qa03():
    from tasks.kpis.compute import figure_specs
    from tasks.kpis.registry import load_registry
    qa03 = next(k for k in load_registry() if k.id == "QA03")
    rows = pd.DataFrame({"in_numerator": [1, 1, 1, 1], "grade": ["Good", "Inadequate", "Good", "Good"],
                         "auditor_role": "Team Manager", "service_area": "Social Care",
                         "theme": [*THEMES, "Neglect"], "measure": None})
    ids = [spec.figure_id for spec in figure_specs(qa03, rows)]
    assert "QA03:theme=%3D1+1" in ids and "QA03:theme=%3D1+1:grade=Good" in ids
    assert "QA03:theme=Neglect%3A home%2Fschool:grade=Inadequate" in ids
    assert "QA03:theme=Négligence à 100%25" in ids
    kinds = {figure_id: qa03.figure_kind(figure_id) for figure_id in ids}  # raised KeyError before
    assert kinds["QA03:theme=%3D1+1"] == "count" and kinds["QA03:theme=%3D1+1:grade=Good"] == "count"
    themes = {parse_figure_id(i).dimension.get("theme") for i in ids} - {None}
    assert themes == {*THEMES, "Neglect"}


# --- cells and CSV ------------------------------------------------------------------------------

def test_text_is_written_as_a_string_never_a_formula(tmp_path):
    workbook = openpyxl.Workbook()
    for row, value in enumerate([*PAYLOADS, "=1+1", -3, 2.5, None, date(2024, 3, 1)], start=1):
        write_cell(workbook.active, row, 1, value)
    workbook.save(tmp_path / "cells.xlsx")
    cells = [row[0] for row in openpyxl.load_workbook(tmp_path / "cells.xlsx").active.iter_rows()]
    assert [c.value for c in cells[:4]] == [*PAYLOADS, "=1+1"]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "n", "n", "n", "d"]


def test_csv_text_columns_are_neutralised_and_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"unit_name": [*PAYLOADS, "-x", "\tTab", "\rCR", "Plain"],
                          "value": ["-1.5", "2", "-3", "4", "5", "6", "-7"]})
    write_csv(frame, tmp_path / "out.csv", numeric_columns=("value",))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as stream:
        header, *rows = list(csv.reader(stream))
    assert header == ["unit_name", "value"]
    assert [r[0] for r in rows] == [f"'{p}" for p in PAYLOADS] + ["'-x", "'\tTab", "'\nCR", "Plain"]
    assert [float(r[1]) for r in rows] == [-1.5, 2, -3, 4, 5, 6, -7]
    assert neutralise(-3) == -3 and neutralise(None) is None


# --- secrets: resolved inside the run, refused as parameters ------------------------------------

def test_a_source_or_schedule_carrying_a_password_is_refused(monkeypatch, capsys):
    from flows.cadences import resolve_parameters
    from qaloop.cli import main
    url = "postgresql+psycopg://reader:S3cret@dbhost/ssd"
    with pytest.raises(PasswordInParameter, match="QALOOP_SOURCE_PASSWORD"):
        refuse_password_in(url)
    refuse_password_in("postgresql+psycopg://reader@dbhost/ssd")  # no password: fine
    refuse_password_in("/data/drop")
    assert main(["run", "monthly", "--period", "2024-03", "--source", url, "--out", "x"]) == 2
    error = capsys.readouterr().err
    assert "carries a password" in error and "S3cret" not in error and "reader:***@dbhost" in error
    monkeypatch.setenv("QALOOP_SOURCE", url)
    with pytest.raises(PasswordInParameter):
        resolve_parameters({}, {"out": "/out"})  # the source from QALOOP_SOURCE


def test_a_flow_given_a_password_in_its_source_fails_before_recording_anything(tmp_path, prefect_server):
    from flows.monthly import monthly
    config, settings = write_config(tmp_path / "data")
    with pytest.raises(PasswordInParameter, match="QALOOP_SOURCE_PASSWORD"):
        monthly(period="2024-03", source="postgresql+psycopg://reader:S3cret@dbhost/ssd",
                out=str(tmp_path / "out"), config=config)
    engine = make_engine(settings.resolved_warehouse_url)
    assert sa.inspect(engine).has_table("runs") is False or read_sql(engine, "select * from runs").empty
    engine.dispose()
    assert not (tmp_path / "out").exists()


def test_passwords_come_from_the_environment_into_the_urls_the_run_connects_with(tmp_path, monkeypatch):
    config, _ = write_config(tmp_path, warehouse_url="postgresql+psycopg://qaloop@dbhost/qaloop",
                             notifications={"smtp_host": "smtp.la.example", "smtp_username": "qaloop"})
    monkeypatch.setenv("QALOOP_WAREHOUSE_PASSWORD", "WHsecret")
    monkeypatch.setenv("QALOOP_SOURCE_PASSWORD", "SRCsecret")
    monkeypatch.setenv("QALOOP_SMTP_PASSWORD", "SMTPsecret")
    settings = load_settings(config)
    assert settings.resolved_warehouse_url == "postgresql+psycopg://qaloop:WHsecret@dbhost/qaloop"
    assert settings.source_to_read("mssql+pyodbc://reader@case/ssd") == "mssql+pyodbc://reader:SRCsecret@case/ssd"
    assert settings.source_to_read("/data/drop") == "/data/drop"
    assert settings.notifications.smtp_password.get_secret_value() == "SMTPsecret"
    assert "secret" not in repr(settings).lower()  # a settings object printed shows none
    assert with_password("postgresql://a:own@h/d", "other") == "postgresql://a:own@h/d"


def test_a_secret_block_named_in_the_configuration_is_read_inside_the_run(tmp_path, monkeypatch,
                                                                          prefect_server):
    from prefect.blocks.system import Secret
    block = f"qaloop-test-{uuid.uuid4().hex[:8]}"
    Secret(value="BLOCKsecret").save(block)
    for variable in ("QALOOP_SMTP_PASSWORD", "QALOOP_WAREHOUSE_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    config, _ = write_config(tmp_path, warehouse_url="postgresql+psycopg://qaloop@dbhost/qaloop",
                             secrets={"warehouse_password": block, "smtp_password": block})
    settings = load_settings(config)
    assert settings.resolved_warehouse_url == "postgresql+psycopg://qaloop:BLOCKsecret@dbhost/qaloop"
    assert settings.notifications.smtp_password.get_secret_value() == "BLOCKsecret"
    assert load_settings(config, resolve_secrets=False).notifications.smtp_password.get_secret_value() == ""
    monkeypatch.setenv("QALOOP_SMTP_PASSWORD", "from-env")  # the environment wins
    assert load_settings(config).notifications.smtp_password.get_secret_value() == "from-env"


def test_configuration_text_reads_back_as_written(tmp_path):
    values = {"la_code": "841", "synthetic": True, "trend_months": 2, "data_dir": "/x y/ü",
              "notifications": {"smtp_to": ["a@b.example"], "smtp_port": 2525},
              "qa": {"themes": {"2024-03": 'Neglect "and" abuse'}}}
    (tmp_path / "c.toml").write_text(config_text(values), encoding="utf-8")
    settings = load_settings(tmp_path / "c.toml")
    assert (settings.la_code, settings.synthetic, settings.trend_months) == ("841", True, 2)
    assert settings.notifications.smtp_to == ("a@b.example",) and settings.notifications.smtp_port == 2525
    assert settings.qa.themes == {"2024-03": 'Neglect "and" abuse'}


# --- archive: owner only, deleted after keep_months, recorded in the ledger ---------------------

def test_archives_are_owner_only_and_deleted_after_keep_months(tmp_path, sqlite_warehouse):
    from tasks.warehouse import database as warehouse
    from tasks.extract.archive import RETENTION_FLOW, delete_old_archives
    from tasks.extract.extracts import archive_extracts, extract_sources
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "ssd_person.csv").write_text("pers_person_id,pers_sex,pers_dob\nP1,F,2015-01-02\n")
    extracts = extract_sources(str(folder), required=[], strict=False)
    archive_dir, today = tmp_path / "archive", date(2026, 12, 2)
    manifests = {}
    for run_id, started in (("old-run", datetime(2024, 11, 30, tzinfo=timezone.utc)),
                            ("kept-run", datetime(2024, 12, 3, tzinfo=timezone.utc))):
        warehouse.start_run(sqlite_warehouse, run_id, "monthly", "2024-11", "manual", "v", "drop")
        with sqlite_warehouse.begin() as connection:
            runs = warehouse.table("runs", connection)
            connection.execute(runs.update().where(runs.c.run_id == run_id).values(started_at=started))
        manifests[run_id] = archive_extracts(extracts, archive_dir, run_id)
        warehouse.record_extracts(sqlite_warehouse, run_id, manifests[run_id])
    # a later month of old-run's re-run, which listed the archive of its first month (a shared extract)
    warehouse.start_run(sqlite_warehouse, "old-run-month-2", "monthly", "2024-10", "backfill", "v", "drop")
    warehouse.record_extracts(sqlite_warehouse, "old-run-month-2", manifests["old-run"])
    assert stat.S_IMODE(os.stat(archive_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(archive_dir / "kept-run").st_mode) == 0o700
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in (archive_dir / "kept-run").iterdir()} == {0o400}

    message = delete_old_archives(sqlite_warehouse, archive_dir, 24, today, "this-run")
    assert sorted(p.name for p in archive_dir.iterdir()) == ["kept-run"]
    ledger = read_sql(sqlite_warehouse, "select flow, period, state, message from runs where flow = :f",
                      {"f": RETENTION_FLOW})
    assert ledger[["flow", "period", "state"]].values.tolist() == [[RETENTION_FLOW, "2024-12-02", "Completed"]]
    assert ledger["message"][0] == message and "old-run" in message and "kept-run" not in message
    paths = read_sql(sqlite_warehouse, "select run_id, archived_path from extract_files order by run_id")
    assert paths["archived_path"].isna().tolist() == [False, True, True]  # kept-run, old-run, its second month
    assert delete_old_archives(sqlite_warehouse, archive_dir, 24, today, "next-run") is None


# --- whole runs with known secrets and formula payloads -----------------------------------------

SECRET = uuid.uuid4().hex[:8]
SMTP_PASSWORD, WAREHOUSE_PASSWORD, WEBHOOK_TOKEN = f"SMTP{SECRET}", f"PG{SECRET}", f"HOOK{SECRET}"
SOURCE_PASSWORD = f"SRC{SECRET}"  # in the URL of the case system's database, held by a Secret block
SECRETS = (SMTP_PASSWORD, WAREHOUSE_PASSWORD, WEBHOOK_TOKEN, SOURCE_PASSWORD)


def inject_payloads(source: Path) -> None:
    """Formula payloads as team names, worker and staff names, and themes of the audits
    completed in March 2024."""
    def rewrite(name: str, change) -> None:
        frame = pd.read_csv(source / f"{name}.csv", dtype=str, keep_default_na=False)
        change(frame)
        frame.to_csv(source / f"{name}.csv", index=False)

    def names(frame, column):
        frame.loc[frame.index[:len(PAYLOADS)], column] = PAYLOADS

    rewrite("ssd_department", lambda f: names(f, "dept_team_name"))
    rewrite("ssd_professionals", lambda f: names(f, "prof_professional_name"))
    rewrite("qa_staff", lambda f: names(f, "name"))

    def themes(frame):
        march = frame.index[frame["completed_date"].str[:7] == "2024-03"]
        for offset, theme in enumerate(THEMES):
            frame.loc[march[offset::len(THEMES)], "theme"] = theme
    rewrite("qa_audits", themes)


def case_system_database(folder: Path, schema: str) -> str:
    """The extract's tables in a PostgreSQL schema, as an LA's reporting database holds
    them (empty values NULL): its URL, with the source password (trust auth ignores it)."""
    engine = postgres_engine_or_skip(schema)
    with engine.begin() as connection:
        for path in sorted(folder.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
            frame.to_sql(path.stem, connection, index=False)
    engine.dispose()
    user, host = POSTGRES_URL.split("://", 1)[1].split("@")
    return f"postgresql+psycopg://{user}:{SOURCE_PASSWORD}@{host}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def secret_runs(tmp_path_factory, prefect_server):
    """monthly, daily, weekly and the re-run of two months, with the secrets set; then
    March again, read from the case system's database, named by its Prefect Secret block
    (the source a regional member gives as `source_secret`)."""
    from prefect.blocks.system import Secret
    from flows.backfill import rerun_monthly
    from flows.exceptions import daily, weekly
    from flows.monthly import monthly
    from tasks.operations import notify
    root = tmp_path_factory.mktemp("secrets")
    source = root / "extracts"
    generate_la(source, as_at=date(2024, 4, 5), children=200, seed=11)
    inject_payloads(source)
    schema = f"qaloop_sec_{uuid.uuid4().hex[:8]}"
    postgres_engine_or_skip(schema).dispose()
    source_block, source_schema = f"qaloop-case-system-{SECRET}", f"qaloop_src_{SECRET}"
    Secret(value=case_system_database(source, source_schema)).save(source_block)
    user_and_host = POSTGRES_URL.split("://", 1)[1].split("@")
    warehouse_url = (f"postgresql+psycopg://{user_and_host[0]}:{WAREHOUSE_PASSWORD}@{user_and_host[1]}"
                     f"?options=-csearch_path%3D{schema}")
    config, _ = write_config(root / "data", synthetic=True, la_code="841", trend_months=2,
                             notifications={"smtp_host": "127.0.0.1", "smtp_port": 9,
                                            "smtp_to": ["performance@la.example"],
                                            "smtp_username": "qaloop"},
                             # deliveries run with the secrets too: an email one (its server
                             # refuses: failed, recorded, alerted) and a folder drop
                             delivery={"folder": str(root / "delivered"), "audiences": {
                                 "dlt": {"recipients": ["dlt@la.example"], "approval": False,
                                         "outputs": ["directorate_scorecard", "qa_monthly_report"]},
                                 "performance_team": {"channel": "folder", "level": "child", "approval": False,
                                                      "outputs": ["drift_delay_scorecard"]}}})
    out = root / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QALOOP_SMTP_PASSWORD", SMTP_PASSWORD)
        patch.setenv("QALOOP_WAREHOUSE_URL", warehouse_url)
        patch.setenv("QALOOP_WEBHOOK_URL", f"json://127.0.0.1:9/hooks/{WEBHOOK_TOKEN}")
        patch.setattr(notify, "RETRY_DELAYS_SECONDS", (0.0,))
        settings = load_settings(config)
        assert (settings.notifications.smtp_password.get_secret_value(),
                settings.notifications.webhook_url.get_secret_value()[-12:]) == \
               (SMTP_PASSWORD, WEBHOOK_TOKEN)
        common = {"source": str(source), "out": str(out), "config": config}
        runs = {"monthly": monthly(period="2024-03", reason="security test", **common),
                "daily": daily(as_at="2024-03-14", **common),
                "weekly": weekly(as_at="2024-03-17", **common),
                "rerun": rerun_monthly(first="2024-02", last="2024-03", reason="re-run", **common)}
        with pytest.raises(Exception):  # a failure: its state message and notification hook too
            monthly(period="2024-01", source=str(root / "no-such-folder"), out=str(out), config=config)
        runs["database"] = monthly(period="2024-03", source=f"secret:{source_block}", out=str(root / "out-database"),
                                   config=config, reason="read from the case system")
    _flush_prefect()
    yield {"root": root, "out": out, "runs": runs, "warehouse_url": warehouse_url,
           "data_dir": root / "data", "source_block": source_block}
    drop_postgres_schema(schema)
    drop_postgres_schema(source_schema)


def _flush_prefect() -> None:
    """Logs and events are sent to the server in the background: send them now."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler
    APILogHandler().flush()
    EventsWorker.drain_all()


def prefect_database() -> Path:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    assert url and url.startswith("sqlite"), url
    return Path(url.split(":///", 1)[1])


def text_of_every_table(database: Path) -> dict[str, str]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in connection.execute("select name from sqlite_master where type = 'table'")]
        return {t: json.dumps(connection.execute(f'select * from "{t}"').fetchall(), default=str)
                for t in tables}
    finally:
        connection.close()


def files_under(folder: Path):
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def test_no_secret_is_in_prefects_database(secret_runs):
    tables = text_of_every_table(prefect_database())
    flow_runs = tables["flow_run"]
    assert "2024-03-14" in flow_runs and "security test" in flow_runs  # this test's runs are there
    for secret in SECRETS:
        leaking = [name for name, text in tables.items() if secret in text]
        assert leaking == [], f"{secret} found in Prefect tables {leaking}"
    assert "2024-03" in tables["artifact"] and "extracted" in tables["log"]  # artifacts and logs were searched


def test_no_secret_is_in_the_ledger_logs_results_or_outputs(secret_runs):
    engine = make_engine(secret_runs["warehouse_url"])  # the PostgreSQL warehouse, password in the URL
    ledger = read_sql(engine, "select * from runs")
    alerts = read_sql(engine, "select * from dq_alerts_sent")
    deliveries = read_sql(engine, "select * from deliveries")
    engine.dispose()
    assert set(ledger["flow"]) >= {"monthly", "daily", "weekly"} and len(ledger) >= 6
    assert {"failed", "sent"} <= set(deliveries["outcome"])  # the email failed, the folder drop went
    text = ledger.to_json() + alerts.to_json() + deliveries.to_json()
    prefect_home = Path(os.environ["PREFECT_HOME"])
    for path in (files_under(secret_runs["out"]) + files_under(secret_runs["data_dir"]) + files_under(prefect_home)
                 + files_under(secret_runs["root"] / "delivered") + files_under(secret_runs["root"] / "out-database")):
        if path.suffix != ".toml":  # the configuration written by the test names no secret either
            text += path.read_bytes().decode("utf-8", errors="replace")
    for secret in SECRETS:
        assert secret not in text


def test_a_database_source_named_by_its_secret_block_gives_the_folders_figures(secret_runs):
    """The block is read inside the run: the flow run's parameter is only its name, and
    the March published from the database equals the March published from the folder."""
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    out_database = secret_runs["root"] / "out-database"
    [database_run] = [run for run in runs if run.parameters.get("out") == str(out_database)]
    assert database_run.parameters["source"] == f"secret:{secret_runs['source_block']}"
    assert database_run.state.is_completed()
    columns = ["kpi_id", "level", "unit_id", "value", "numerator", "denominator"]
    from_folder, from_database = (
        pd.read_csv(out / "2024-03" / "kpi_values.csv", dtype=str, keep_default_na=False)[columns]
        .sort_values(columns).reset_index(drop=True)
        for out in (secret_runs["out"], out_database))
    assert len(from_database) > 1000 and from_database.equals(from_folder)
    metadata = json.loads((out_database / "2024-03" / "run_metadata.json").read_text())
    assert "(database)" in json.dumps(metadata)


def published_files(out: Path, suffix: str) -> list[Path]:
    return sorted(p for p in (out / "runs").rglob(f"*{suffix}") if p.is_file())


def test_no_cell_from_the_data_is_a_formula_in_any_workbook(secret_runs):
    workbooks = published_files(secret_runs["out"], ".xlsx")
    names = {p.name.split("_20")[0] for p in workbooks}
    assert {"safety_scorecard", "drift_delay_scorecard", "directorate_scorecard", "qa_activity",
            "daily_exceptions"} <= names and any(n.startswith("team_pack") for n in names)
    shown = set()
    for path in workbooks:
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name}!{sheet.title}!{cell.coordinate}: {cell.value}"
                    if isinstance(cell.value, str):
                        shown.update(p for p in [*PAYLOADS, *THEMES] if p in cell.value)
    assert shown == {*PAYLOADS, *THEMES}  # the payloads reached the workbooks, as text


def test_csv_text_cells_from_the_data_are_neutralised(secret_runs):
    csvs = published_files(secret_runs["out"], ".csv")
    assert any(p.name == "kpi_values.csv" for p in csvs) and any(p.name.startswith("daily_") for p in csvs)
    quoted = 0
    for path in csvs:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        numeric = {"value", "numerator", "denominator", "measure", "old_value", "new_value"}
        for column in frame.columns:
            cells = frame[column]
            if column in numeric:
                pd.to_numeric(cells.replace("", None))  # numbers, negative ones too, stay numbers
                continue
            assert not cells.str.match(r"^[=+\-@\t\r]").any(), f"{path.name}:{column}"
            quoted += int(cells.str.startswith("'").sum())
    kpi_values = pd.read_csv(secret_runs["out"] / "2024-03" / "kpi_values.csv", dtype=str, keep_default_na=False)
    assert {f"'{p}" for p in PAYLOADS} <= set(kpi_values["unit_name"]) and quoted > 0
    themes = set(kpi_values.loc[kpi_values["kpi_id"].str.startswith("QA03:theme="), "kpi_id"])
    assert {"QA03:theme=%3D1+1", "QA03:theme=Neglect%3A home%2Fschool", "QA03:theme=Négligence à 100%25"} <= themes
