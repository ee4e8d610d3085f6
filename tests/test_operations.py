"""Issue 4 against a real Prefect server (the session test harness): deployments and
their schedules, historic re-runs, revisions, versioned outputs, the per-period lock,
failure notifications over real SMTP, daily and weekly lists, and `qaloop status`."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.configs import write_config
from tasks.operations import locks
from qaloop.synthetic import generate_la
from tasks.warehouse.database import make_engine, read_sql

MONTHS = ["2024-01", "2024-02", "2024-03"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ops") / "extracts"
    generate_la(folder, as_at=date(2024, 4, 5), children=200, seed=11)
    return folder


def settings_in(folder: Path, **changes):
    """The settings of a configuration file written in `folder` (config_of: its path)."""
    return write_config(folder, synthetic=True, la_code="841", trend_months=2, **changes)[1]


def config_of(settings) -> str:
    return str(settings.data_dir / "qaloop.toml")


def current_values(settings, period: str) -> pd.DataFrame:
    engine = make_engine(settings.resolved_warehouse_url)
    frame = read_sql(engine, "select v.kpi_id, v.level, v.unit_id, v.value, v.numerator, v.denominator "
                             "from kpi_values v join current_runs c on c.run_id = v.run_id "
                             "where c.flow = 'monthly' and c.period = :p and v.period = :p",
                     {"p": period})
    engine.dispose()
    return frame.sort_values(["kpi_id", "level", "unit_id"]).reset_index(drop=True)


# --- deployments -------------------------------------------------------------------------

def test_deployments_exist_with_their_schedules_and_next_runs(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.server.schemas.schedules import CronSchedule

    from flows.cadences import build_deployments
    deployments, notes = build_deployments({"source": str(tmp_path / "in"), "out": str(tmp_path / "out")})
    assert sorted(d.name for d in deployments) == ["daily-exceptions", "monthly-scorecards",
                                                   "quarterly-reports", "weekly-team-packs"]
    assert notes == ["six-monthly-qa-report: not served (six-monthly QA report flow not built yet)"]
    for deployment in deployments:
        deployment.apply()

    after = datetime(2026, 3, 27, 12, 0, tzinfo=timezone.utc)  # Friday; BST starts Sun 29 March
    expected = {
        "daily/daily-exceptions": ("30 6 * * 1-5", True, ["2026-03-30T05:30:00+00:00",
                                                          "2026-03-31T05:30:00+00:00"]),
        "weekly/weekly-team-packs": ("0 7 * * 1", True, ["2026-03-30T06:00:00+00:00",
                                                         "2026-04-06T06:00:00+00:00"]),
        # second Mondays: 13 April (6 April is the first), 11 May
        "monthly/monthly-scorecards": ("30 7 8-14 * 1", False, ["2026-04-13T06:30:00+00:00",
                                                                "2026-05-11T06:30:00+00:00"]),
        # second Tuesdays of each quarter's first month, 08:00 BST: 14 April, 14 July
        "quarterly/quarterly-reports": ("0 8 8-14 1,4,7,10 2", False, ["2026-04-14T07:00:00+00:00",
                                                                       "2026-07-14T07:00:00+00:00"]),
    }
    with get_client(sync_client=True) as client:
        for name, (cron, day_or, runs) in expected.items():
            deployment = client.read_deployment_by_name(name)
            assert len(deployment.schedules) == 1 and deployment.schedules[0].active
            schedule = deployment.schedules[0].schedule
            assert (schedule.cron, schedule.timezone, schedule.day_or) == (cron, "Europe/London", day_or)
            assert deployment.parameters["source"] == str(tmp_path / "in")
            assert "trigger" not in deployment.parameters  # taken from the flow run (issue 12)
            import asyncio
            dates = asyncio.run(CronSchedule(**schedule.model_dump()).get_dates(n=2, start=after))
            assert [d.astimezone(timezone.utc).isoformat() for d in dates] == runs
        daily = client.read_deployment_by_name("daily/daily-exceptions")
        assert daily.parameters["working_days_only"] is True


def test_next_runs_follow_london_time():
    from flows.cadences import load_cadences, next_runs
    monthly = next(c for c in load_cadences() if c.name == "monthly-scorecards")
    winter = next_runs(monthly, datetime(2026, 11, 22, tzinfo=timezone.utc), 2)
    assert [d.isoformat() for d in winter] == ["2026-12-14T07:30:00+00:00", "2027-01-11T07:30:00+00:00"]


# --- historic re-runs, versions and revisions ----------------------------------------------

@pytest.fixture(scope="module")
def single_and_backfill(source, tmp_path_factory, prefect_server):
    from flows.backfill import rerun_monthly
    from flows.monthly import monthly
    root = tmp_path_factory.mktemp("backfill")
    single = settings_in(root / "single-data")
    singles = {p: monthly(period=p, source=str(source), out=str(root / "single-out"), config=config_of(single))
               for p in MONTHS}
    backfill = settings_in(root / "backfill-data")
    results = rerun_monthly(first=MONTHS[0], last=MONTHS[-1], source=str(source),
                            out=str(root / "backfill-out"), config=config_of(backfill), reason="year re-run")
    return {"root": root, "single": single, "singles": singles, "backfill": backfill,
            "results": results}


def test_backfill_figures_are_identical_to_single_runs(single_and_backfill):
    runs = single_and_backfill
    assert [r["period"] for r in runs["results"]] == MONTHS
    for period in MONTHS:
        single, backfill = current_values(runs["single"], period), current_values(runs["backfill"], period)
        assert len(single) > 100
        pd.testing.assert_frame_equal(single, backfill)
        single_csv = runs["root"] / "single-out" / period / "kpi_values.csv"
        backfill_csv = runs["root"] / "backfill-out" / period / "kpi_values.csv"
        assert single_csv.read_bytes() == backfill_csv.read_bytes()
    engine = make_engine(runs["backfill"].resolved_warehouse_url)
    ledger = read_sql(engine, "select period, trigger, reason, state from runs order by period")
    engine.dispose()
    assert ledger.values.tolist() == [[p, "backfill", "year re-run", "Completed"] for p in MONTHS]


def test_each_run_is_kept_and_the_current_version_is_a_switched_link(single_and_backfill):
    runs = single_and_backfill
    out = runs["root"] / "backfill-out"
    for result in runs["results"]:
        published = out / result["period"]
        assert published.is_symlink()
        assert published.resolve() == (out / "runs" / "monthly" / result["period"] / result["run_id"]).resolve()
        period = result["period"]
        names = sorted(p.name for p in published.iterdir())
        area_lists = [n for n in names if n.startswith("drift_delay_lists_")]  # per service area
        assert area_lists and all(n.endswith(f"_{period}.xlsx") for n in area_lists)
        assert [n for n in names if n not in area_lists] == [
            "SYNTHETIC_DATA.txt", f"complaints_participation_{period}.xlsx",
            f"directorate_scorecard_{period}.pdf", f"directorate_scorecard_{period}.xlsx",
            f"drift_delay_scorecard_{period}.xlsx",
            "kpi_values.csv", f"qa_activity_{period}.xlsx", f"qa_monthly_report_{period}.html",
            f"qa_monthly_report_{period}.pdf", f"qa_on_a_page_{period}.pdf", "run_metadata.json",
            f"safety_scorecard_{period}.xlsx"]


def test_rerun_with_newer_extracts_writes_a_revisions_report(single_and_backfill, source, tmp_path):
    from flows.monthly import monthly
    runs = single_and_backfill
    newer = tmp_path / "newer"
    shutil.copytree(source, newer)
    contacts = pd.read_csv(newer / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    in_march = contacts["cont_contact_date"].between("2024-03-01", "2024-03-31")
    removed = contacts[in_march].head(3)["cont_contact_id"].tolist()
    contacts[~contacts["cont_contact_id"].isin(removed)].to_csv(newer / "ssd_contacts.csv", index=False)
    march_contacts = int(in_march.sum())

    out = runs["root"] / "single-out"
    old_run = runs["singles"]["2024-03"]["run_id"]
    old_folder = (out / "2024-03").resolve()
    result = monthly(period="2024-03", source=str(newer), out=str(out), config=config_of(runs["single"]),
                     reason="contacts corrected")

    report = pd.read_csv(out / "2024-03" / "revisions_2024-03.csv", dtype=str, keep_default_na=False)
    saf01 = report[(report["kpi_id"] == "SAF01") & (report["level"] == "la")]
    assert saf01[["old_value", "new_value", "old_run_id", "new_run_id", "reason"]].values.tolist() == [
        [str(march_contacts), str(march_contacts - 3), old_run, result["run_id"], "contacts corrected"]]
    assert set(report["kpi_id"].str[:5]) <= {"SAF01", "SAF03", "SAF04", "SAF05", "SAF06"}
    assert old_folder.is_dir() and (old_folder / "kpi_values.csv").exists()  # the old run is kept
    assert (out / "2024-03").resolve() == (out / "runs" / "monthly" / "2024-03" / result["run_id"]).resolve()


# --- the per-period lock -----------------------------------------------------------------

def test_two_runs_of_one_period_are_serialised(source, tmp_path, prefect_server, monkeypatch):
    import flows.monthly as monthly_module
    settings = settings_in(tmp_path / "data")
    spans, original = [], monthly_module._run_steps

    def timed_steps(month, run, *options):
        started = time.monotonic()
        outputs = original(month, run, *options)
        spans.append((started, time.monotonic(), run.run_id))
        return outputs

    monkeypatch.setattr(monthly_module, "_run_steps", timed_steps)
    results, errors = [], []

    def run_once():
        try:
            results.append(monthly_module.monthly(period="2024-02", source=str(source),
                                                  out=str(tmp_path / "out"), config=config_of(settings)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [] and len(results) == 2
    (first_start, first_end, _), (second_start, _, _) = sorted(spans)
    assert second_start >= first_end  # never interleaved
    engine = make_engine(settings.resolved_warehouse_url)
    states = read_sql(engine, "select state from runs where period = '2024-02'")["state"].tolist()
    engine.dispose()
    assert states == ["Completed", "Completed"]


def test_a_run_that_cannot_get_the_lock_is_refused_and_told_why(source, tmp_path, prefect_server):
    from flows.monthly import monthly
    from flows.runner import RunRefused
    from tasks.operations.pipeline import warehouse_engine
    settings = settings_in(tmp_path / "data")
    engine = warehouse_engine(settings.resolved_warehouse_url)
    with locks.hold(engine, locks.run_lock_name("monthly", "2024-01"), 0):
        with pytest.raises(RunRefused, match="monthly 2024-01 was still being run"):
            monthly(period="2024-01", source=str(source), out=str(tmp_path / "out"),
                    config=config_of(settings), lock_wait_seconds=1)
    ledger = read_sql(engine, "select state, message from runs")
    assert ledger["state"].tolist() == ["Refused: locked"]
    assert "this run changed nothing" in ledger["message"][0]
    assert not (tmp_path / "out" / "2024-01").exists()


# --- failure notification over real SMTP ---------------------------------------------------

def test_a_failed_run_sends_an_email_with_its_cause(tmp_path, prefect_server):
    from aiosmtpd.controller import Controller

    from flows.monthly import monthly
    from tasks.extract.extracts import ExtractError

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = settings_in(tmp_path / "data", notifications=dict(
            smtp_host="127.0.0.1", smtp_port=port, smtp_from="qaloop@la.example",
            smtp_to=["performance@la.example"]))
        with pytest.raises(ExtractError):
            monthly(period="2024-03", source=str(tmp_path / "no-such-folder"),
                    out=str(tmp_path / "out"), config=config_of(settings))
        deadline = time.monotonic() + 15
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["performance@la.example"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "qaloop: monthly 2024-03 run FAILED"
    body = message.get_content()
    assert "Cause: Flow run encountered an exception: ExtractError: source folder not found" in body
    engine = make_engine(settings.resolved_warehouse_url)
    ledger = read_sql(engine, "select state, message from runs")
    engine.dispose()
    assert ledger["state"].tolist() == ["Failed"]
    assert ledger["message"][0].startswith("ExtractError: source folder not found")


# --- daily and weekly lists, status ------------------------------------------------------

def test_daily_lists_are_as_at_the_day_and_weekly_packs_split_by_team(source, tmp_path, prefect_server):
    from flows.exceptions import daily, weekly
    settings = settings_in(tmp_path / "data")
    result = daily(as_at="2024-03-14", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
    assert result["period"] == "2024-03-14"
    workbook = openpyxl.load_workbook(tmp_path / "out" / "daily" / "2024-03-14" / "daily_exceptions_2024-03-14.xlsx")
    assert workbook.sheetnames == ["Summary", "Inadequate audits", "Workers", "DD01", "DD02", "DD03", "DD04",
                                   "DD06", "SAF22", "Data quality", "Run"]
    quality = [str(v) for row in workbook["Data quality"].iter_rows(values_only=True) for v in row if v]
    assert any(text.startswith("Data quality: passed") for text in quality)

    missing = pd.read_csv(source / "ssd_missing.csv", dtype=str, keep_default_na=False)
    month_to_date = int(missing["miss_missing_episode_start_date"].between("2024-03-01", "2024-03-14").sum())
    summary = {row[0]: row[2] for row in workbook["Summary"].iter_rows(min_row=5, values_only=True)}
    assert summary["SAF22"] == month_to_date
    listed = [r for r in workbook["SAF22"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert len(listed) == month_to_date
    for kpi_id in ("DD01", "DD02", "DD03", "DD04", "DD06"):
        rows = [r for r in workbook[kpi_id].iter_rows(min_row=5, values_only=True) if r[0]]
        assert len(rows) == summary[kpi_id]
    # the dates a manager needs, in words, most overdue first
    dd04 = workbook["DD04"]
    assert [c.value for c in dd04[4]][:8] == ["Child", "CP plan", "Worker", "Team", "CP plan start", "Last visit",
                                             "Visit due", "Working days overdue"]
    overdue = [r[7] for r in dd04.iter_rows(min_row=5, values_only=True) if r[0]]
    assert overdue and overdue == sorted(overdue, reverse=True)
    assert all(r[4] is not None and r[6] is not None for r in dd04.iter_rows(min_row=5, values_only=True) if r[0])

    packs = weekly(as_at="2024-03-14", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
    dd01_by = {"team_pack_": 0, "area_pack_": 0}  # each team's pack, and each service area's
    for path in [p for p in packs["outputs"] if p.endswith(".xlsx")]:
        pack = openpyxl.load_workbook(path)
        unit = {row[0]: row[2] for row in pack["Summary"].iter_rows(min_row=5, values_only=True)}
        dd01_by[Path(path).name[:10]] += unit["DD01"]
        assert len([r for r in pack["DD01"].iter_rows(min_row=5, values_only=True) if r[0]]) == unit["DD01"]
        assert [c.value for c in pack["DD01"][4]] == ["Child", "Worker", "Team", "Referral date",
                                                      "Last allocated worker ended", "Days unallocated"]
    assert dd01_by == {"team_pack_": summary["DD01"], "area_pack_": summary["DD01"]}


def test_an_inadequate_audit_is_escalated_in_the_next_daily_list(source, tmp_path, prefect_server):
    from flows.exceptions import daily
    settings = settings_in(tmp_path / "data")
    result = daily(as_at="2024-03-11", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
    workbook = openpyxl.load_workbook(result["outputs"][0])
    # the first list escalates every Inadequate audit of the last 30 days (the synthetic LA
    # has a Friday and a Sunday one before this Monday)
    audits = pd.read_csv(source / "qa_audits.csv", dtype=str, keep_default_na=False)
    inadequate = audits[(audits["grade"] == "Inadequate")
                        & audits["completed_date"].str[:10].between("2024-02-10", "2024-03-11")]
    assert len(inadequate) >= 2
    sheet = workbook["Inadequate audits"]
    listed = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[2]]
    assert {r[2] for r in listed} == set(inadequate["audit_id"])
    staff = pd.read_csv(source / "qa_staff.csv", dtype=str, keep_default_na=False)
    heads = staff[(staff["role"] == "Head of Service") & (staff["end_date"] == "")]
    for row in listed:
        area_heads = heads[heads["service_area"] == row[1]]
        expected = {f"{h.name} ({h.staff_id})" for h in area_heads.itertuples()} or {"none in post"}
        assert row[0] in expected
    summary = {r[0]: r[2] for r in workbook["Summary"].iter_rows(min_row=5, values_only=True)}
    assert summary["Inadequate audits"] == len(inadequate)

    # Tuesday's list has only what is new: each audit is escalated once
    tuesday = daily(as_at="2024-03-12", source=str(source), out=str(tmp_path / "out"), config=config_of(settings))
    sheet = openpyxl.load_workbook(tuesday["outputs"][0])["Inadequate audits"]
    new_ones = audits[(audits["grade"] == "Inadequate") & (audits["completed_date"].str[:10] == "2024-03-12")]
    assert {r[2] for r in sheet.iter_rows(min_row=5, values_only=True) if r[2]} == set(new_ones["audit_id"])


def test_daily_lists_are_not_published_from_an_extract_that_fails_its_critical_rules(source, tmp_path,
                                                                                  prefect_server):
    from flows.exceptions import daily
    from flows.runner import DataQualityFailed
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in source.glob("*.csv"):
        (broken / path.name).write_bytes(path.read_bytes())
    visits = pd.read_csv(source / "ssd_cp_visits.csv", dtype=str, keep_default_na=False)
    pd.concat([visits, visits.head(2)]).to_csv(broken / "ssd_cp_visits.csv", index=False)  # duplicate ids
    settings = settings_in(tmp_path / "data")
    with pytest.raises(DataQualityFailed, match="ssd_cp_visits"):
        daily(as_at="2024-03-14", source=str(broken), out=str(tmp_path / "out"), config=config_of(settings))
    assert not (tmp_path / "out" / "daily" / "2024-03-14").exists()
    engine = make_engine(settings.resolved_warehouse_url)
    assert read_sql(engine, "select state from runs")["state"].tolist() == ["Failed: data quality"]
    engine.dispose()


def test_status_shows_latest_runs_next_runs_and_source_freshness(single_and_backfill, source):
    from flows.status import status_text
    from tasks.extract.extracts import sha256_of
    engine = make_engine(single_and_backfill["backfill"].resolved_warehouse_url)
    text = status_text(engine, now=datetime(2026, 3, 27, 12, tzinfo=timezone.utc))
    engine.dispose()
    lines = text.splitlines()
    assert lines[1].startswith("Prefect: not reachable (PREFECT_API_URL is not set)")  # planned, not confirmed
    monthly = next(line for line in lines if line.strip().startswith("monthly-scorecards"))
    assert "planned 2026-04-13 07:30 BST" in monthly
    quarterly = next(line for line in lines if line.strip().startswith("quarterly-reports"))
    assert "planned 2026-04-14 08:00 BST" in quarterly  # served, like the monthly deployment
    assert any(line.strip().startswith("six-monthly-qa-report") and "not built yet" in line for line in lines)
    for period in MONTHS:
        current = next(line for line in lines if line.strip().startswith(f"monthly  {period}"))
        assert "Completed" in current and "(backfill)" in current
    contacts = next(line for line in lines if line.strip().startswith("ssd_contacts "))
    assert sha256_of((source / "ssd_contacts.csv").read_bytes())[:12] in contacts


def test_prefect_yaml_is_generated_from_the_declared_cadences(tmp_path, monkeypatch):
    from flows import cadences
    from qaloop.cli import main
    assert main(["prefect-yaml", "--check"]) == 0  # the committed file is up to date
    stale = tmp_path / "prefect.yaml"
    stale.write_text(cadences.PREFECT_YAML.read_text().replace('"30 6 * * 1-5"', '"0 6 * * 1-5"'))
    monkeypatch.setattr(cadences, "PREFECT_YAML", stale)
    assert main(["prefect-yaml", "--check"]) == 1
    assert main(["prefect-yaml"]) == 0 and main(["prefect-yaml", "--check"]) == 0
    assert '"30 6 * * 1-5"' in stale.read_text()


def test_shared_parameters_come_from_the_options_else_the_environment(monkeypatch):
    from flows.cadences import SharedParameters, resolve_parameters
    for variable in SharedParameters.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ValueError, match=r"--source \(or QALOOP_SOURCE\), --out \(or QALOOP_PUBLISH_DIR\)"):
        SharedParameters.resolve()
    monkeypatch.setenv("QALOOP_SOURCE", "/data/drop")
    monkeypatch.setenv("QALOOP_PUBLISH_DIR", "/data/published")
    assert resolve_parameters({"working_days_only": True}, {"out": "/elsewhere"}) == {
        "source": "/data/drop", "out": "/elsewhere", "working_days_only": True}
    monkeypatch.setenv("QALOOP_CONFIG", "/etc/qaloop.toml")
    assert SharedParameters.resolve().config == "/etc/qaloop.toml"


def test_prefect_yaml_mirrors_the_declared_cadences():
    import yaml

    from flows.cadences import load_cadences
    from tasks.core.paths import DEPLOYMENTS_DIR
    from prefect.cli.deploy._models import PrefectYamlModel  # what `prefect deploy` validates
    raw = yaml.safe_load((DEPLOYMENTS_DIR / "prefect.yaml").read_text())
    assert len(PrefectYamlModel.model_validate(raw).deployments) == 4  # daily, weekly, monthly, quarterly
    production = raw["deployments"]
    declared = {c.name: c for c in load_cadences() if c.enabled}
    assert sorted(d["name"] for d in production) == sorted(declared)
    for deployment in production:
        cadence = declared[deployment["name"]]
        module, function = cadence.flow.split(":")
        assert deployment["entrypoint"] == f"{module.replace('.', '/')}.py:{function}"
        [schedule] = deployment["schedules"]
        assert (schedule["cron"], schedule["timezone"], schedule["day_or"]) == (
            cadence.cron, cadence.timezone, cadence.day_or)
        assert deployment["work_pool"]["name"] == "qaloop"
