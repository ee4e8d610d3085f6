"""Delivery to audiences (tasks/operations/delivery.py): each audience receives only the
detail and the scope it may, refusals are recorded before anything is sent, and what is
sent reaches a real SMTP server (aiosmtpd) or a folder. Synthetic data only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from tasks.core.settings import Settings, SettingsError, load_settings
from tasks.kpis.registry import load_registry, shown_in
from tasks.operations import delivery, versions
from tasks.publish.exceptions import publish_exceptions_workbook, team_pack_name
from tasks.publish.lineage import RunInfo
from tasks.warehouse import database as warehouse
from tests.test_validation import SmtpServer

MONTH, WEEK = "2024-03", "2024-03-17"
TEAMS = {"T1": "Assessment North", "T2": "Child Protection South"}
# synthetic children, two per team
CHILDREN = {"T1": ["P101", "P102"], "T2": ["P201", "P202"]}
# each team in its own service area (ssd_department: the hierarchy the lists are split by)
AREAS = {"T1": ("A1", "Social Care"), "T2": ("A2", "Early Help")}


def _workbook(path: Path, headers: list[str], rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def publish_run(engine, out: Path, flow: str, period: str, run_id: str, write, state: str = "Completed",
                message: str | None = None) -> Path:
    """A run of `flow` for `period` whose files `write(folder)` makes, published as the
    current version the way the flows publish (intent, switch, record)."""
    load_departments(engine)
    warehouse.start_run(engine, run_id, flow, period, "manual", "test", "synthetic", None)
    folder = versions.run_dir(out, flow, period, run_id)
    folder.mkdir(parents=True)
    outputs = [str(p) for p in write(folder)]
    versions.publish(engine, flow, period, run_id, versions.published_dir(out, flow, period), folder,
                     state, message, outputs)
    return folder


def load_departments(engine) -> None:
    pd.DataFrame([{"dept_team_id": team, "dept_team_name": name, "dept_team_parent_id": AREAS[team][0],
                   "dept_team_parent_name": AREAS[team][1]} for team, name in TEAMS.items()]
                 ).to_sql("ssd_department", engine, index=False, if_exists="replace")


def monthly_files(folder: Path) -> list[Path]:
    return [
        _workbook(folder / f"directorate_scorecard_{MONTH}.xlsx", ["KPI", "This month", "RAG"],
                  [["SAF01 Contacts", 120, "Green"]]),
        _pdf(folder / f"directorate_scorecard_{MONTH}.pdf", b"directorate"),
        _pdf(folder / f"qa_monthly_report_{MONTH}.pdf", b"qa report"),
        _workbook(folder / f"drift_delay_scorecard_{MONTH}.xlsx", ["Person ID", "Record ID", "Team", "Worker"],
                  [["P101", "R1", "Assessment North", "W1"]]),
        _write(folder / "run_metadata.json", json.dumps({"data_quality": "Passed", "synthetic": True}).encode()),
    ]


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _pdf(path: Path, text: bytes, level: str = "aggregate") -> Path:
    """A stand-in PDF carrying write_pdf's stamp of the level it was rendered from (the
    real renderer: test_a_child_level_pdf_never_reaches_an_aggregate_audience)."""
    return _write(path, b"%PDF-1.4 " + text + b"\n<</Keywords (qaloop-detail: " + level.encode() + b")>>")


def live_frames(output: str = "weekly"):
    """Synthetic kpis, values, records, teams, workers and run of a live list."""
    kpis = shown_in(load_registry(), output)
    listed = next(k for k in kpis if k.kind == "exception")
    records = pd.DataFrame([{"kpi_id": listed.id, "record_id": f"R-{child}", "person_id": child,
                             "team_id": team, "worker_id": f"W-{team}", "in_numerator": 1, "measure": 3.0}
                            for team, children in CHILDREN.items() for child in children])
    values = pd.DataFrame([{"kpi_id": listed.id, "period": WEEK, "level": "team", "unit_id": team,
                            "unit_name": name, "value": 2, "numerator": 2, "denominator": None}
                           for team, name in TEAMS.items()])
    teams = pd.DataFrame({"team_id": list(TEAMS), "team_name": list(TEAMS.values()),
                          "service_area_id": [AREAS[t][0] for t in TEAMS],
                          "service_name": [AREAS[t][1] for t in TEAMS]})
    workers = pd.DataFrame({"worker_id": [f"W-{t}" for t in TEAMS], "worker_name": ["Worker One", "Worker Two"]})
    run = RunInfo(period=WEEK, run_id="week-1", code_version="test", la_code="841", la_name="Testshire",
                  synthetic=True, started_at="2024-03-18T07:00:00", source="synthetic", population=1000,
                  population_year=2023)
    return kpis, values, records, teams, workers, run


def team_packs(folder: Path) -> list[Path]:
    """The real publisher's team packs (tasks.publish.exceptions), from synthetic rows."""
    kpis, values, records, teams, workers, run = live_frames()
    return [publish_exceptions_workbook(folder / team_pack_name(team, WEEK), f"pack {team}", kpis, values,
                                        records, teams, workers, run, team_id=team) for team in TEAMS]


def settings_with(audiences: dict, smtp: SmtpServer | None = None, **delivery_keys) -> Settings:
    notifications = {}
    if smtp is not None:
        notifications = {"smtp_host": smtp.controller.hostname, "smtp_port": smtp.controller.port,
                         "smtp_from": "qaloop@la.example"}
    return Settings(delivery={"audiences": audiences, **delivery_keys}, notifications=notifications)


DLT = {"recipients": ["dlt@la.example"], "outputs": ["directorate_scorecard", "directorate_scorecard_pdf",
                                                     "qa_monthly_report"],
       "cadence": "monthly", "level": "aggregate", "scope": "la", "approval": True}


@pytest.fixture
def month(sqlite_warehouse, tmp_path):
    publish_run(sqlite_warehouse, tmp_path / "out", "monthly", MONTH, "month-1", monthly_files)
    return sqlite_warehouse


# --- (a) configuration, catalogue, enforcement ---------------------------------------------

def test_the_example_configuration_documents_a_realistic_set_of_audiences():
    settings = load_settings(Path(__file__).parents[1] / "qaloop.example.toml", resolve_secrets=False)
    audiences = settings.delivery.audiences
    assert {"dlt", "extended_dlt", "improvement_board", "corporate_parenting_board", "safeguarding_partnership",
            "heads_of_service", "team_managers", "iro_forum", "performance_team"} <= set(audiences)
    for name, audience in audiences.items():
        for output in audience.outputs:
            assert output in delivery.CATALOGUE, (name, output)
    boards = [a for n, a in audiences.items() if "board" in n or n in ("dlt", "safeguarding_partnership")]
    assert all(a.level == "aggregate" and a.approval for a in boards)
    assert audiences["team_managers"].scope == "team" and not audiences["team_managers"].approval


def test_an_audience_key_not_understood_names_it(tmp_path):
    config = tmp_path / "qaloop.toml"
    config.write_text('[delivery.audiences.dlt]\nrecipients = ["a@b"]\nlevle = "child"\n')
    with pytest.raises(SettingsError, match=r"\[delivery.audiences.dlt\] levle: unknown key"):
        load_settings(config, resolve_secrets=False)
    config.write_text('[delivery.audiences.dlt]\nlevel = "everything"\n')
    with pytest.raises(SettingsError, match=r"\[delivery.audiences.dlt\] level"):
        load_settings(config, resolve_secrets=False)


def test_output_levels_come_from_the_publishers_and_the_registry():
    kpis = load_registry()
    levels = {name: delivery.output_level(spec, kpis) for name, spec in delivery.CATALOGUE.items()}
    assert levels["directorate_scorecard"] == levels["qa_monthly_report"] == "aggregate"
    assert levels["drift_delay_scorecard"] == levels["team_pack"] == levels["daily_exceptions"] == "child"
    assert levels["kpi_values"] == "staff"
    assert delivery.CATALOGUE["team_pack"].split_by == delivery.CATALOGUE["daily_team_list"].split_by == "team"
    assert delivery.CATALOGUE["inadequate_escalation"].split_by == "service_area"


def test_the_deployments_readme_names_every_output_at_its_level():
    """The table an administrator configures audiences from lists each catalogue output in
    the row of the level the code gives it."""
    kpis = load_registry()
    readme = (Path(__file__).resolve().parent.parent / "deployments" / "README.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line.split("|")[3] for line in readme.splitlines()
            if line.startswith(("| `aggregate`", "| `staff`", "| `child`"))}
    for name, spec in delivery.CATALOGUE.items():
        level = delivery.output_level(spec, kpis)
        assert f"`{name}`" in rows[level], (name, level)


@pytest.mark.parametrize("level", ["aggregate", "staff"])
def test_a_child_level_output_never_reaches_a_less_detailed_audience(month, tmp_path, level):
    audience = {**DLT, "level": level, "approval": False,
                "outputs": ["directorate_scorecard", "drift_delay_scorecard"]}
    with SmtpServer() as smtp:
        settings = settings_with({"dlt": audience}, smtp)
        planned = delivery.plan_period(month, settings, "monthly", MONTH, load_registry())
        outcomes = delivery.deliver(month, settings, planned)
    assert smtp.messages == []  # nothing at all was sent, not even the allowed file
    assert [o.outcome for o in outcomes] == ["refused"]
    assert "audience dlt" in outcomes[0].message and "drift_delay_scorecard" in outcomes[0].message
    recorded = delivery.ledger(month, MONTH)
    assert list(recorded["outcome"]) == ["refused"] and "drift_delay_scorecard" in recorded["message"][0]


def test_a_file_showing_children_is_refused_whatever_its_catalogue_level(sqlite_warehouse, tmp_path):
    """A Directorate Scorecard that (by a publisher's mistake) carried a child-level sheet
    is read before sending and refused to an aggregate audience."""
    def leaky(folder):
        path = _workbook(folder / f"directorate_scorecard_{MONTH}.xlsx", ["KPI", "This month"], [["SAF01", 1]])
        book = load_workbook(path)
        book.create_sheet("Children").append(["Person ID", "Record ID"])
        book.save(path)
        return [path]
    publish_run(sqlite_warehouse, tmp_path / "out", "monthly", MONTH, "leaky-1", leaky)
    settings = settings_with({"dlt": {**DLT, "approval": False, "outputs": ["directorate_scorecard"]}})
    [planned] = delivery.plan_period(sqlite_warehouse, settings, "monthly", MONTH)
    assert planned.refusal and "shows child detail" in planned.refusal and planned.attachments == []


def test_rows_outside_the_audience_scope_are_refused(month):
    audience = {**DLT, "level": "child", "approval": False, "scope": "team:T1",
                "outputs": ["drift_delay_scorecard"]}
    [planned] = delivery.plan_period(month, settings_with({"t1": audience}), "monthly", MONTH)
    assert "outside the audience's scope" in planned.refusal and "t1" in planned.refusal


def test_an_unknown_output_or_one_of_another_cadence_is_refused(month):
    settings = settings_with({"dlt": {**DLT, "outputs": ["directorate_scorecard", "team_pack"]},
                              "x": {**DLT, "outputs": ["directorate.xlsx"]}})
    refusals = {p.audience: p.refusal for p in delivery.plan_period(month, settings, "monthly", MONTH)}
    assert "published by the weekly flow" in refusals["dlt"]
    assert "not a known output" in refusals["x"]


# --- (b) channels, ledger, approval, dry run -------------------------------------------------

def test_an_approved_delivery_reaches_dlt_over_smtp_with_its_attachments(month, tmp_path):
    with SmtpServer() as smtp:
        settings = settings_with({"dlt": DLT}, smtp)
        first = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
        assert [o.outcome for o in first] == ["awaiting approval"] and smtp.messages == []
        assert delivery.approve(month, settings, MONTH, "dlt", by="Jo Director") == "month-1"
        sent = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
        again = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
    assert [o.outcome for o in sent] == ["sent"] and [o.outcome for o in again] == ["already sent"]
    [message] = smtp.messages
    assert message["To"] == "dlt@la.example" and MONTH in message["Subject"]
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == [f"directorate_scorecard_{MONTH}.pdf", f"directorate_scorecard_{MONTH}.xlsx",
                     f"qa_monthly_report_{MONTH}.pdf"]
    body = message.get_body(("plain",)).get_content()
    assert "Run: month-1" in body and "Data quality: Passed" in body and "first delivery" in body
    workbook = next(p for p in message.iter_attachments() if p.get_filename().endswith(".xlsx"))
    assert load_workbook(io.BytesIO(workbook.get_content())).active["A1"].value == "KPI"
    ledger = delivery.ledger(month, MONTH, "dlt")
    assert list(ledger["outcome"])[::-1] == ["awaiting approval", "sent"]
    outputs = json.loads(ledger["outputs"][0])
    assert {o["output"] for o in outputs} == set(DLT["outputs"]) and all(len(o["sha256"]) == 64 for o in outputs)
    assert "approved by Jo Director" in ledger["message"][0]


def test_smtp_with_login_and_a_link_for_an_attachment_over_the_limit(month, tmp_path):
    """A file over the limit is copied to the audience's own link folder (only what this
    delivery carries, never the run folder with every team's files) and linked there."""
    qa_report = month_file(month, f"qa_monthly_report_{MONTH}.pdf")
    with SmtpServer(login=("qaloop", "s3cret")) as smtp:
        settings = settings_with({"dlt": {**DLT, "approval": False}}, smtp,
                                 max_attachment_bytes=qa_report.stat().st_size,
                                 link_folder=str(tmp_path / "links"), link_url="https://intranet.la.example/qaloop/")
        settings = settings.model_copy(update={"notifications": settings.notifications.model_copy(
            update={"smtp_username": "qaloop", "smtp_password": __import__("pydantic").SecretStr("s3cret")})})
        [outcome] = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
    assert outcome.outcome == "sent" and smtp.logins == ["qaloop"]
    [message] = smtp.messages
    attached = [p.get_filename() for p in message.iter_attachments()]
    assert attached == [qa_report.name]  # the smallest file: the only one within the limit
    body = message.get_body(("plain",)).get_content()
    linked = tmp_path / "links" / "dlt" / "la" / MONTH
    assert sorted(p.name for p in linked.iterdir()) == sorted(
        [f"directorate_scorecard_{MONTH}.pdf", f"directorate_scorecard_{MONTH}.xlsx", "manifest.json"])
    for name in (f"directorate_scorecard_{MONTH}.pdf", f"directorate_scorecard_{MONTH}.xlsx"):
        assert f"{name}: " in body and "too large to attach" in body
        assert f"https://intranet.la.example/qaloop/dlt/la/{MONTH}/{name}" in body
        assert (linked / name).read_bytes() == month_file(month, name).read_bytes()
    sent_as = {o["file"]: o["sent_as"] for o in json.loads(delivery.ledger(month, MONTH)["outputs"][0])}
    assert sent_as == {f"directorate_scorecard_{MONTH}.pdf": "link", f"directorate_scorecard_{MONTH}.xlsx": "link",
                       qa_report.name: "attachment"}


def month_file(engine, name: str) -> Path:
    return delivery.run_folder(engine, "month-1") / name


def test_a_dry_run_previews_and_records_nothing(month):
    with SmtpServer() as smtp:
        settings = settings_with({"dlt": {**DLT, "approval": False}}, smtp)
        [outcome] = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH),
                                     dry_run=True)
    assert outcome.outcome == "would send" and smtp.messages == []
    line = outcome.line()
    assert "dlt@la.example" in line and f"directorate_scorecard_{MONTH}.xlsx" in line and "Subject" not in line
    assert delivery.ledger(month, MONTH).empty


def test_the_folder_channel_drops_the_files_and_a_manifest(month, tmp_path):
    audience = {**DLT, "channel": "folder", "recipients": [], "approval": False}
    settings = settings_with({"board": audience}, folder=str(tmp_path / "shared"))
    [outcome] = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
    assert outcome.outcome == "sent"
    dropped = tmp_path / "shared" / "board" / "la" / MONTH
    manifest = json.loads((dropped / "manifest.json").read_text())
    assert sorted(f["file"] for f in manifest["files"]) == sorted(p.name for p in dropped.iterdir()
                                                                  if p.name != "manifest.json")
    assert manifest["run_id"] == "month-1" and all(f["level"] == "aggregate" for f in manifest["files"])


def test_a_failed_delivery_is_retried_then_recorded_and_alerted(month, monkeypatch):
    from tasks.operations import notify
    monkeypatch.setattr(notify, "RETRY_DELAYS_SECONDS", (0.0, 0.0))
    with SmtpServer() as alerts:
        settings = settings_with({"dlt": {**DLT, "approval": False}})
        settings = settings.model_copy(update={"notifications": settings.notifications.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": 1, "smtp_to": ("ops@la.example",)})})
        calls = []
        real = notify.smtp_send

        def smtp_send(notifications, messages):
            if any(isinstance(m, notify.Outgoing) for m in messages):
                calls.append(1)
                raise ConnectionRefusedError("no server")
            return real(notifications.model_copy(update={"smtp_port": alerts.controller.port}), messages)
        monkeypatch.setattr(notify, "smtp_send", smtp_send)
        [outcome] = delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
    assert outcome.outcome == "failed" and len(calls) == 3
    assert [m["Subject"] for m in alerts.messages] == [f"qaloop: delivery FAILED: dlt [la] {MONTH}"]
    assert list(delivery.ledger(month, MONTH)["outcome"]) == ["failed"]


# --- team packs -------------------------------------------------------------------------------

def test_each_team_manager_receives_only_their_teams_pack(sqlite_warehouse, tmp_path):
    publish_run(sqlite_warehouse, tmp_path / "out", "weekly", WEEK, "week-1", team_packs)
    managers = {"team_recipients": {"T1": ["tm.north@la.example"], "T2": ["tm.south@la.example"]},
                "outputs": ["team_pack"], "cadence": "weekly", "level": "child", "scope": "team",
                "approval": False}
    with SmtpServer() as smtp:
        settings = settings_with({"team_managers": managers, "dlt": DLT}, smtp)
        planned = delivery.plan_period(sqlite_warehouse, settings, "weekly", WEEK, load_registry())
        outcomes = delivery.deliver(sqlite_warehouse, settings, planned)
    assert sorted(o.outcome for o in outcomes) == ["sent", "sent"]  # DLT: monthly, not weekly
    received = {m["To"]: m for m in smtp.messages}
    assert set(received) == {"tm.north@la.example", "tm.south@la.example"}
    for address, team in (("tm.north@la.example", "T1"), ("tm.south@la.example", "T2")):
        [pack] = list(received[address].iter_attachments())
        assert pack.get_filename() == team_pack_name(team, WEEK)
        book = load_workbook(io.BytesIO(pack.get_content()), read_only=True)
        people = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                  for v in row if isinstance(v, str) and v.startswith("P") and v[1:].isdigit()}
        assert people == set(CHILDREN[team])  # its own children, and no other team's
    assert sorted(delivery.ledger(sqlite_warehouse, WEEK)["scope"]) == ["team:T1", "team:T2"]


# --- the commands -----------------------------------------------------------------------------

def write_config(tmp_path: Path, engine, audiences: dict, smtp: SmtpServer) -> str:
    from tasks.core.settings import config_text
    values = {"warehouse_url": str(engine.url), "data_dir": str(tmp_path / "data"),
              "notifications": {"smtp_host": smtp.controller.hostname, "smtp_port": smtp.controller.port,
                                "smtp_from": "qaloop@la.example"},
              "delivery": {"audiences": audiences}}
    path = tmp_path / "qaloop.toml"
    path.write_text(config_text(values))
    return str(path)


def test_deliver_dry_run_approve_deliveries_and_a_resend_by_hand(month, tmp_path, capsys):
    from qaloop.cli import main
    with SmtpServer() as smtp:
        config = write_config(tmp_path, month, {"dlt": DLT}, smtp)
        assert main(["deliver", "--period", MONTH, "--dry-run", "--config", config]) == 0
        preview = capsys.readouterr().out
        assert "DRY RUN" in preview and "dlt@la.example" in preview and "AWAITING APPROVAL" in preview
        assert f"attachment: directorate_scorecard_{MONTH}.pdf" in preview and "subject: [qaloop]" in preview
        assert smtp.messages == [] and delivery.ledger(month, MONTH).empty

        assert main(["approve", "--period", MONTH, "--audience", "dlt", "--by", "Jo Director",
                     "--config", config]) == 0
        assert "approved: dlt 2024-03 (run month-1)" in capsys.readouterr().out
        assert len(smtp.messages) == 1

        assert main(["deliver", "--period", MONTH, "--config", config]) == 0  # a re-run: nothing again
        assert "ALREADY SENT" in capsys.readouterr().out and len(smtp.messages) == 1
        assert main(["deliver", "--period", MONTH, "--audience", "dlt", "--config", config]) == 0
        assert len(smtp.messages) == 2  # re-sent by hand
        assert "dlt [la]: SENT" in capsys.readouterr().out

        assert main(["deliveries", "--period", MONTH, "--config", config]) == 0
        ledger = capsys.readouterr().out
        assert ledger.count("  SENT  ") == 2 and "approved by Jo Director" in ledger and "dlt@la.example" in ledger and f"directorate_scorecard_{MONTH}.xlsx" in ledger
        assert main(["deliver", "--period", MONTH, "--audience", "nobody", "--config", config]) == 2


# --- the flows: deliver after publishing, approval, no re-send on a re-run, team packs ----------

def example_delivery(tmp_path: Path, extracts: Path) -> dict:
    """qaloop.example.toml's [delivery] as it stands, its folders moved under tmp_path, and
    an address for each synthetic Team Manager and Head of Service in qa_staff (by staff id,
    as an LA lists them in [delivery.staff_addresses])."""
    import tomllib
    configured = tomllib.loads((Path(__file__).parents[1] / "qaloop.example.toml").read_text())["delivery"]
    configured["folder"], configured["link_folder"] = str(tmp_path / "drop"), str(tmp_path / "links")
    for name, audience in configured["audiences"].items():
        if "folder" in audience:
            audience["folder"] = str(tmp_path / name)
    staff = pd.read_csv(extracts / "qa_staff.csv", dtype=str)
    managers = staff[staff["role"].isin(["Team Manager", "Head of Service"]) & staff["end_date"].isna()]
    configured["staff_addresses"] = {i: f"{i.lower()}@la.example" for i in managers["staff_id"]}
    return configured


def child_ids_in(attachment) -> set[str]:
    """The ids in the Child column of every list sheet of an attached workbook."""
    book = load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
    ids = set()
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(max_row=4, values_only=True))
        if len(rows) == 4 and rows[3] and rows[3][0] == "Child":
            ids |= {str(row[0]) for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    return ids


def test_the_example_configuration_end_to_end(prefect_server, tmp_path):
    """Issue 16's "Done when", with qaloop.example.toml's delivery configuration: an
    approved monthly run sends the Directorate Scorecard (and its PDF) and the monthly QA
    report to DLT and nothing child-level to any aggregate audience; a weekly run sends each
    team manager exactly their team's pack (only their children) and each Head of Service
    their area's; the ledger shows it; a re-run sends nothing."""
    from datetime import date

    from flows.exceptions import weekly
    from flows.monthly import monthly
    from qaloop.cli import main
    from qaloop.synthetic import generate_la
    from tests.configs import write_config
    extracts, out = tmp_path / "extracts", tmp_path / "out"
    generate_la(extracts, as_at=date(2024, 4, 5), children=150, seed=12)
    configured = example_delivery(tmp_path, extracts)
    with SmtpServer() as smtp:
        config, settings = write_config(tmp_path / "data", synthetic=True, la_code="841", trend_months=2,
                                        notifications={"smtp_host": smtp.controller.hostname,
                                                       "smtp_port": smtp.controller.port,
                                                       "smtp_from": "qaloop@la.example"},
                                        delivery=configured)
        first = monthly(period=MONTH, source=str(extracts), out=str(out), config=config)
        engine = delivery.warehouse.make_engine(settings.resolved_warehouse_url)
        outcomes = {o.split(":")[0]: o for o in first["deliveries"]}
        for board in ("dlt [la]", "extended_dlt [la]", "improvement_board [la]", "heads_of_service [la]",
                      "iro_forum [la]", "corporate_parenting_board [la]", "safeguarding_partnership [la]"):
            assert "AWAITING APPROVAL" in outcomes[board], outcomes[board]
        assert "SENT folder" in outcomes["performance_team [la]"]
        dropped = tmp_path / "drop" / "performance_team" / "la" / MONTH
        assert (dropped / f"drift_delay_scorecard_{MONTH}.xlsx").is_file() and (dropped / "manifest.json").is_file()
        # each Head of Service with an address: their area's Drift and Delay lists, sent at once
        lists = {m["To"]: m for m in smtp.messages}
        assert set(lists) == {"hos.safeguarding@la.example", "hos.children-in-care@la.example"}
        records = delivery.warehouse.read_sql(engine, "select person_id, team_id, kpi_id from kpi_records "
                                                      "where run_id = :r and in_numerator = 1", {"r": first["run_id"]})
        areas = {"hos.safeguarding@la.example": ("Safeguarding_and_Family_Support", {"T05", "T06", "T07"}),
                 "hos.children-in-care@la.example": ("Children_in_Care", {"T08", "T09", "T10", "T11"})}
        for address, (area, teams) in areas.items():
            [attachment] = list(lists[address].iter_attachments())
            assert attachment.get_filename() == f"drift_delay_lists_{area}_{MONTH}.xlsx"
            shown = child_ids_in(attachment)
            listed = set(records.loc[records["team_id"].isin(teams) & records["kpi_id"].str.startswith("DD"),
                                     "person_id"].astype(str))
            assert shown and shown <= listed
            assert not shown & (set(records.loc[~records["team_id"].isin(teams), "person_id"].astype(str)) - listed)
        smtp.messages.clear()

        assert main(["approve", "--period", MONTH, "--audience", "dlt", "--by", "Jo Director",
                     "--config", config]) == 0
        [to_dlt] = smtp.messages
        assert to_dlt["To"] == "dcs@la.example, ad.safeguarding@la.example, ad.corporate-parenting@la.example"
        assert sorted(p.get_filename() for p in to_dlt.iter_attachments()) == [
            f"directorate_scorecard_{MONTH}.pdf", f"directorate_scorecard_{MONTH}.xlsx",
            f"qa_monthly_report_{MONTH}.pdf"]

        again = monthly(period=MONTH, source=str(extracts), out=str(out), config=config)
        assert again["run_id"] != first["run_id"] and len(smtp.messages) == 1  # a re-run sends nothing
        assert not any(": SENT " in line for line in again["deliveries"])
        assert any(": ALREADY SENT " in line for line in again["deliveries"])

        week = weekly(as_at="2024-03-31", source=str(extracts), out=str(out), config=config)
        records = delivery.warehouse.read_sql(engine, "select person_id, team_id from kpi_records "
                                                      "where run_id = :r and in_numerator = 1", {"r": week["run_id"]})
        packs = {Path(p).name for p in week["outputs"] if "team_pack_" in p}
        staff = pd.read_csv(extracts / "qa_staff.csv", dtype=str)
        in_post = staff[(staff["role"] == "Team Manager") & staff["end_date"].isna()]
        manager_of = {"T01": "tm.assessment-north@la.example", "T02": "tm.child-protection-south@la.example"} | {
            team: f"{i.lower()}@la.example" for i, team in zip(in_post["staff_id"], in_post["team_id"])
            if team not in ("T01", "T02")}
        received = {}
        for message in smtp.messages[1:]:
            [pack] = list(message.iter_attachments())
            received.setdefault(message["To"], []).append(pack)
        sent_packs = set()
        for team, address in manager_of.items():
            if team_pack_name(team, "2024-03-31") not in packs:
                continue
            [pack] = [p for p in received.pop(address) if p.get_filename().startswith("team_pack_")]
            assert pack.get_filename() == team_pack_name(team, "2024-03-31")
            shown = child_ids_in(pack)
            own = set(records.loc[records["team_id"] == team, "person_id"].astype(str))
            assert shown and shown <= own  # only their children
            sent_packs.add(pack.get_filename())
        assert len(sent_packs) >= 5  # the packs of teams with no Team Manager in post are refused, never sent
        week_ledger = delivery.ledger(engine, "2024-03-31", "team_managers")
        for row in week_ledger.itertuples():
            if row.outcome == "refused":
                assert "no Team Manager in post in qa_staff or ssd_professionals" in row.message
                assert json.loads(row.outputs) == []
        assert set(week_ledger.loc[week_ledger["outcome"] == "sent", "scope"]) == {
            f"team:{team}" for team in manager_of if team_pack_name(team, "2024-03-31") in packs}
        assert set(received) <= {"hos.safeguarding@la.example", "hos.children-in-care@la.example"}

        ledger = delivery.ledger(engine)
        aggregate = [n for n, a in settings.delivery.audiences.items() if a.level == "aggregate"]
        for row in ledger[ledger["audience"].isin(aggregate)].itertuples():
            assert all(o["level"] == "aggregate" for o in json.loads(row.outputs)), row
        dlt = ledger[(ledger["audience"] == "dlt") & (ledger["outcome"] == "sent")]
        assert len(dlt) == 1 and dlt["message"].iloc[0].startswith("approved by Jo Director")
        assert sorted(o["output"] for o in json.loads(dlt["outputs"].iloc[0])) == [
            "directorate_scorecard", "directorate_scorecard_pdf", "qa_monthly_report"]
        # what `qaloop deliveries --period` prints (no capsys here: Prefect's log handlers
        # outlive a captured stream and break later flow tests of the session)
        shown = delivery.ledger_text(engine, MONTH)
        assert "dlt [la]  email -> dcs@la.example" in shown and "  SENT  " in shown


def test_the_daily_lists_reach_each_team_manager_and_escalations_their_head_of_service(sqlite_warehouse, tmp_path):
    """The daily flow's publisher splits the lists per team and the Inadequate audits per
    service area; each manager and Head of Service receives only their own."""
    from flows.exceptions import publish_daily
    kpis, values, records, teams, workers, run = live_frames("daily")
    escalations = pd.DataFrame([
        {"head_of_service_id": "H1", "head_of_service_name": "Hos Social", "service_area": "Social Care",
         "audit_id": "A1", "completed_date": "2024-03-15", "audit_type": "case_file", "theme": "Neglect",
         "person_id": "P101", "team_id": "T1", "worker_id": "W-T1", "auditor_id": "S9", "auditor_role": "Team Manager"},
        {"head_of_service_id": "H2", "head_of_service_name": "Hos Early", "service_area": "Early Help",
         "audit_id": "A2", "completed_date": "2024-03-16", "audit_type": "case_file", "theme": "Neglect",
         "person_id": "P201", "team_id": "T2", "worker_id": "W-T2", "auditor_id": "S8", "auditor_role": "Team Manager"}])
    publish_run(sqlite_warehouse, tmp_path / "out", "daily", WEEK, "day-1",
                lambda folder: publish_daily(folder, kpis, values, records, teams, workers, run,
                                             escalations=escalations))
    audiences = {
        "team_managers_daily": {"team_recipients": {"T1": ["tm.north@la.example"], "T2": ["tm.south@la.example"]},
                                "outputs": ["daily_team_list"], "cadence": "daily", "level": "child",
                                "scope": "team", "approval": False},
        "heads_of_service": {"service_area_recipients": {"Social Care": ["hos.sc@la.example"],
                                                         "Early Help": ["hos.eh@la.example"]},
                             "outputs": ["inadequate_escalation"], "cadence": "daily", "level": "child",
                             "scope": "service_area", "approval": False},
        "dlt": DLT}
    with SmtpServer() as smtp:
        settings = settings_with(audiences, smtp)
        outcomes = delivery.deliver(sqlite_warehouse, settings,
                                    delivery.plan_period(sqlite_warehouse, settings, "daily", WEEK, load_registry()))
    assert sorted(o.outcome for o in outcomes) == ["sent"] * 4
    people = {}
    for message in smtp.messages:
        [attachment] = list(message.iter_attachments())
        book = load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
        people[message["To"]] = {v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                                 for v in row if isinstance(v, str) and v.startswith("P") and v[1:].isdigit()}
    assert people == {"tm.north@la.example": set(CHILDREN["T1"]), "tm.south@la.example": set(CHILDREN["T2"]),
                      "hos.sc@la.example": {"P101"}, "hos.eh@la.example": {"P201"}}


def test_a_split_output_never_crosses_its_unit(sqlite_warehouse, tmp_path):
    publish_run(sqlite_warehouse, tmp_path / "out", "weekly", WEEK, "week-1", team_packs)
    audiences = {"area": {"recipients": ["x@la.example"], "outputs": ["team_pack"], "cadence": "weekly",
                          "level": "child", "scope": "service_area:Social Care", "approval": False},
                 "t1": {"recipients": ["t1@la.example"], "outputs": ["team_pack"], "cadence": "weekly",
                        "level": "child", "scope": "team:T1", "approval": False}}
    planned = {p.audience: p for p in delivery.plan_period(sqlite_warehouse, settings_with(audiences), "weekly", WEEK)}
    assert "split by team, not by service_area" in planned["area"].refusal
    assert [a.path.name for a in planned["t1"].attachments] == [team_pack_name("T1", WEEK)]


def test_a_team_without_a_configured_address_goes_to_its_team_manager_in_qa_staff_or_the_professionals(
        sqlite_warehouse, tmp_path):
    """The audience names no address: the Team Manager in post in qa_staff, else the one in
    the professionals extract (job title, department), at their staff_addresses address;
    neither: refused, saying who was found without an address."""
    publish_run(sqlite_warehouse, tmp_path / "out", "weekly", WEEK, "week-1", team_packs)
    pd.DataFrame([
        {"staff_id": "S1", "name": "Manager North", "role": "Team Manager", "team_id": "T1",
         "service_area": "Social Care", "start_date": "2023-01-01", "end_date": None},
        {"staff_id": "S0", "name": "Left North", "role": "Team Manager", "team_id": "T1",
         "service_area": "Social Care", "start_date": "2020-01-01", "end_date": "2023-12-31"},
        {"staff_id": "S2", "name": "Manager South", "role": "Team Manager", "team_id": "T2",
         "service_area": "Social Care", "start_date": "2023-01-01", "end_date": None},
    ]).to_sql("qa_staff", sqlite_warehouse, index=False, if_exists="append")
    pd.DataFrame([{"prof_professional_id": "W9", "prof_staff_id": "E9", "prof_professional_name": "Manager South",
                   "prof_professional_job_title": "Team Manager", "prof_professional_department": TEAMS["T2"]},
                  {"prof_professional_id": "W8", "prof_staff_id": "E8", "prof_professional_name": "A Worker",
                   "prof_professional_job_title": "Social Worker", "prof_professional_department": TEAMS["T2"]}]
                 ).to_sql("ssd_professionals", sqlite_warehouse, index=False, if_exists="append")
    managers = {"outputs": ["team_pack"], "cadence": "weekly", "level": "child", "scope": "team", "approval": False}
    addresses = {"S0": "left@la.example", "S1": "tm.north@la.example", "E8": "worker@la.example"}
    settings = settings_with({"team_managers": managers}, staff_addresses=addresses)
    planned = {p.scope: p for p in delivery.plan_period(sqlite_warehouse, settings, "weekly", WEEK)}
    assert planned["team:T1"].recipients == ("tm.north@la.example",) and not planned["team:T1"].refusal
    # S2 (qa_staff) and E9 (the professionals extract) have no address: never guessed
    assert planned["team:T2"].refusal == (
        "audience team_managers [team:T2]: no recipients: none configured for T2 in the audience, and Team "
        "Manager E9, S2, W9 found in qa_staff / ssd_professionals but with no address in [delivery] "
        "staff_addresses: refused, nothing sent")
    with_e9 = settings_with({"team_managers": managers}, staff_addresses={**addresses, "E9": "tm.south@la.example"})
    planned = {p.scope: p for p in delivery.plan_period(sqlite_warehouse, with_e9, "weekly", WEEK)}
    assert planned["team:T2"].recipients == ("tm.south@la.example",) and not planned["team:T2"].refusal
    delivery.deliver(sqlite_warehouse, settings, delivery.plan_period(sqlite_warehouse, settings, "weekly", WEEK))
    recorded = delivery.ledger(sqlite_warehouse, WEEK)
    assert list(recorded.loc[recorded["scope"] == "team:T2", "outcome"]) == ["refused"]
    assert "Team Manager E9, S2, W9" in recorded.loc[recorded["scope"] == "team:T2", "message"].iloc[0]


def test_a_backfill_delivers_nothing_unless_asked_and_status_lists_deliveries(month, monkeypatch):
    from flows import steps
    calls = []
    monkeypatch.setattr(delivery, "deliver_run", lambda *args, **kwargs: calls.append(kwargs) or [])
    result = {"flow": "monthly", "period": MONTH, "run_id": "month-1"}
    settings = settings_with({"dlt": DLT})
    assert steps.deliver_outputs.fn(result, settings, "backfill") == [] and calls == []
    assert delivery.status_lines(month) == ["Deliveries: none recorded"]
    [planned] = delivery.plan_period(month, settings, "monthly", MONTH)
    delivery.deliver(month, settings, [planned])
    assert delivery.status_lines(month)[1].endswith(f"{MONTH}  dlt [la]  awaiting approval")


def test_a_partly_published_run_says_so_in_the_email(sqlite_warehouse, tmp_path):
    publish_run(sqlite_warehouse, tmp_path / "out", "monthly", MONTH, "partly-1", monthly_files,
                state="Partly published: data quality", message="SAF12 withheld: ssd_cla_episodes")
    with SmtpServer() as smtp:
        settings = settings_with({"dlt": {**DLT, "approval": False}}, smtp)
        delivery.deliver(sqlite_warehouse, settings, delivery.plan_period(sqlite_warehouse, settings, "monthly", MONTH))
    [message] = smtp.messages
    assert message["Subject"].endswith("PARTLY PUBLISHED")
    assert "PARTLY PUBLISHED" in message.get_body(("plain",)).get_content()
    assert "SAF12 withheld" in message.get_body(("plain",)).get_content()


def quality_naming_a_child():
    """A data-quality warning on a child table, with a failing row's child id."""
    from datetime import date
    from tasks.validate.quality import assess
    from tasks.validate.validation import WARNING, RuleResult, ValidationReport
    return assess(ValidationReport(date(2024, 3, 20), [RuleResult(
        "ssd_person.csv", "ssd_person", "pers_dob", "date_plausible", WARNING, False, 40, 1, ["P9999"],
        "a date of birth in the future")]), [])


def test_a_team_pack_names_no_record_from_the_la_wide_data_quality_results(tmp_path):
    """The data-quality results are the whole LA's: a team's pack says what failed, never
    which records (a child of another team among them)."""
    kpis, values, records, teams, workers, run = live_frames()
    pack = publish_exceptions_workbook(tmp_path / team_pack_name("T1", WEEK), "pack T1", kpis, values, records,
                                       teams, workers, run, team_id="T1", data_quality=quality_naming_a_child())
    book = load_workbook(pack, read_only=True)
    cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v}
    assert "date_plausible" in cells and "P9999" not in cells and "Example record ids" not in cells


def test_the_safety_scorecard_stays_staff_level_when_a_rule_names_a_child(tmp_path):
    from tasks.publish.excel import publish_scorecard
    from tasks.kpis.compute import RECORD_COLUMNS, VALUE_COLUMNS
    from tests.test_publish_excel import TEAMS as UNIT_TEAMS, WORKERS as UNIT_WORKERS, run_info
    safety = [k for k in load_registry() if k.scorecard == "safety"][:2]
    nothing = pd.DataFrame(columns=VALUE_COLUMNS)
    out = publish_scorecard("safety", safety, nothing, nothing, pd.DataFrame(columns=RECORD_COLUMNS),
                            UNIT_TEAMS, UNIT_WORKERS, {}, run_info(), tmp_path / "safety.xlsx",
                            data_quality=quality_naming_a_child())
    assert delivery.content_level(out) == "staff"
    cells = {str(v) for sheet in load_workbook(out, read_only=True).worksheets
             for row in sheet.iter_rows(values_only=True) for v in row if v}
    assert "date_plausible" in cells and "P9999" not in cells


def test_record_ids_or_a_spaced_child_header_make_a_file_child_level(tmp_path):
    book = _workbook(tmp_path / "dq.xlsx", ["Table", "Rule", "Example record ids"], [["ssd_person", "dob", "P1"]])
    assert delivery.content_level(book) == "child"
    page = _write(tmp_path / "list.html", b"<table><tr><th> Person ID </th></tr></table>")
    assert delivery.content_level(page) == "child"


def test_an_audience_folder_keeps_each_teams_pack_apart(sqlite_warehouse, tmp_path):
    publish_run(sqlite_warehouse, tmp_path / "out", "weekly", WEEK, "week-1", team_packs)
    managers = {"channel": "folder", "folder": str(tmp_path / "shared"), "outputs": ["team_pack"],
                "cadence": "weekly", "level": "child", "scope": "team", "approval": False,
                "team_recipients": {"T1": ["tm.north@la.example"], "T2": ["tm.south@la.example"]}}
    settings = settings_with({"team_managers": managers})
    planned = delivery.plan_period(sqlite_warehouse, settings, "weekly", WEEK, load_registry())
    assert sorted(o.outcome for o in delivery.deliver(sqlite_warehouse, settings, planned)) == ["sent", "sent"]
    for team in TEAMS:
        folder = tmp_path / "shared" / f"team_{team}" / WEEK
        assert sorted(p.name for p in folder.iterdir()) == sorted([team_pack_name(team, WEEK), "manifest.json"])


def test_a_head_of_service_is_found_for_an_area_whose_name_has_spaces(sqlite_warehouse):
    from tests.kpi_harness import load_tables
    load_tables(sqlite_warehouse, {"qa_staff": [
        {"staff_id": "H1", "name": "Hos Social", "role": "Head of Service", "team_id": "S1",
         "service_area": "Social Care", "start_date": "2020-01-01"},
        {"staff_id": "H2", "name": "Hos Early", "role": "Head of Service", "team_id": "S2",
         "service_area": "Early Help", "start_date": "2020-01-01"}]})
    settings = settings_with({}, staff_addresses={"H1": "hos.sc@la.example", "H2": "hos.eh@la.example"})
    # the scope carries the area as the escalation's file name writes it
    assert delivery.staff_recipients(sqlite_warehouse, settings, "service_area:Social_Care", WEEK) == \
        (("hos.sc@la.example",), "")


def test_a_quarterly_audience_receives_the_quarterly_reports_and_the_quarter_end_months_outputs(month, tmp_path):
    quarter = "2024-Q1"
    publish_run(month, tmp_path / "out", "quarterly", quarter, "quarter-1", lambda folder: [
        _pdf(folder / f"drp_iro_{quarter}.pdf", b"drp"),
        _pdf(folder / f"complaints_compliments_{quarter}.pdf", b"complaints"),
        _write(folder / "run_metadata.json", json.dumps({"data_quality": "Passed"}).encode())])
    board = {"recipients": ["cpb@la.example"], "cadence": "quarterly", "level": "aggregate", "scope": "la",
             "approval": False, "outputs": ["drp_iro_report", "complaints_compliments_report",
                                            "directorate_scorecard_pdf"]}
    settings = settings_with({"board": board})
    [from_quarter] = delivery.plan_period(month, settings, "quarterly", quarter, load_registry())
    assert from_quarter.refusal is None
    assert sorted(a.path.name for a in from_quarter.attachments) == [f"complaints_compliments_{quarter}.pdf",
                                                                    f"drp_iro_{quarter}.pdf"]
    [from_march] = delivery.plan_period(month, settings, "monthly", MONTH, load_registry())
    assert [a.path.name for a in from_march.attachments] == [f"directorate_scorecard_{MONTH}.pdf"]
    assert delivery.due(settings.delivery.audiences["board"], "monthly", "2024-04") is False


# --- the review's gaps: service areas, changes, PDFs, one alert per refusal -------------------

def test_a_head_of_service_receives_only_their_service_areas_lists(sqlite_warehouse, tmp_path):
    """The daily and weekly lists are split by service area as they are by team: each Head
    of Service receives their own area's workbook, holding only its teams' children."""
    from flows.exceptions import publish_daily, publish_team_packs
    for flow, kpis_of, publish, output in (("daily", "daily", publish_daily, "daily_area_list"),
                                          ("weekly", "weekly", publish_team_packs, "area_pack")):
        kpis, values, records, teams, workers, run = live_frames(kpis_of)
        publish_run(sqlite_warehouse, tmp_path / "out", flow, WEEK, f"{flow}-1",
                    lambda folder: publish(folder, kpis, values, records, teams, workers, run))
        heads = {"service_area_recipients": {"Social Care": ["hos.sc@la.example"], "Early Help": ["hos.eh@la.example"]},
                 "outputs": [output], "cadence": flow, "level": "child", "scope": "service_area", "approval": False}
        with SmtpServer() as smtp:
            settings = settings_with({f"heads_of_service_{flow}": heads}, smtp)
            outcomes = delivery.deliver(sqlite_warehouse, settings,
                                        delivery.plan_period(sqlite_warehouse, settings, flow, WEEK, load_registry()))
        assert sorted(o.outcome for o in outcomes) == ["sent", "sent"], [o.line() for o in outcomes]
        people = {}
        for message in smtp.messages:
            [attachment] = list(message.iter_attachments())
            book = load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
            people[message["To"], attachment.get_filename()] = {
                v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                for v in row if isinstance(v, str) and v.startswith("P") and v[1:].isdigit()}
        assert people == {("hos.sc@la.example", f"{output}_Social_Care_{WEEK}.xlsx"): set(CHILDREN["T1"]),
                          ("hos.eh@la.example", f"{output}_Early_Help_{WEEK}.xlsx"): set(CHILDREN["T2"])}


def test_a_file_holding_rows_of_another_unit_is_refused(sqlite_warehouse, tmp_path):
    """Whatever a file is called, its rows are read: a team pack (area pack) holding another
    team's (area's) rows is refused before anything is sent."""
    def swapped(folder):
        packs = team_packs(folder)
        packs[1].replace(packs[0])  # T2's rows under T1's name
        return [packs[0]]
    publish_run(sqlite_warehouse, tmp_path / "out", "weekly", WEEK, "week-1", swapped)
    managers = {"team_recipients": {"T1": ["tm.north@la.example"]}, "outputs": ["team_pack"], "cadence": "weekly",
                "level": "child", "scope": "team", "approval": False}
    with SmtpServer() as smtp:
        settings = settings_with({"team_managers": managers}, smtp)
        [outcome] = delivery.deliver(sqlite_warehouse, settings,
                                     delivery.plan_period(sqlite_warehouse, settings, "weekly", WEEK))
    assert smtp.messages == [] and outcome.outcome == "refused"
    assert outcome.message == (f"audience team_managers [team:T1]: output team_pack ({team_pack_name('T1', WEEK)}) "
                               "holds rows of Child Protection South, outside the audience's scope: refused, "
                               "nothing sent")


def test_what_changed_since_the_last_delivery_names_new_changed_and_unchanged_files(month, tmp_path):
    """Two versions of March: one figure of the Directorate Scorecard changes, the PDFs do not."""
    def revised(folder):
        files = monthly_files(folder)
        _workbook(folder / f"directorate_scorecard_{MONTH}.xlsx", ["KPI", "This month", "RAG"],
                  [["SAF01 Contacts", 121, "Green"]])
        return files
    audience = {**DLT, "approval": False, "outputs": ["directorate_scorecard", "directorate_scorecard_pdf"]}
    with SmtpServer() as smtp:
        settings = settings_with({"dlt": audience}, smtp)
        delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH))
        publish_run(month, tmp_path / "out", "monthly", MONTH, "month-2", revised)
        audience["outputs"].append("qa_monthly_report")
        settings = settings_with({"dlt": audience}, smtp)
        delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH), force=True)
    first, second = (m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert "Changed since the last delivery: first delivery to this audience" in first
    changed = next(line for line in second.splitlines() if line.startswith("Changed since"))
    assert changed.startswith(f"Changed since the last delivery: a new version of {MONTH} (last sent ")
    assert changed.endswith(f"run month-1); changed: directorate_scorecard_{MONTH}.xlsx; "
                            f"new: qa_monthly_report_{MONTH}.pdf; unchanged: directorate_scorecard_{MONTH}.pdf")


def test_a_child_level_pdf_never_reaches_an_aggregate_audience(sqlite_warehouse, tmp_path):
    """A PDF carries the level of the HTML it is rendered from (write_pdf stamps it): a
    child-level list rendered under the Directorate PDF's name is refused to DLT; a PDF
    qaloop did not render counts as child-level."""
    from tasks.publish.html import write_pdf
    child_html = "<h1>Drift</h1><table><tr><th>Person ID</th><th>Team</th></tr><tr><td>P101</td><td>T1</td></tr></table>"
    figures_html = "<h1>Directorate Scorecard</h1><table><tr><th>KPI</th><th>Value</th></tr><tr><td>SAF01</td><td>120</td></tr></table>"

    def rendered(folder):
        return [write_pdf(child_html, folder / f"directorate_scorecard_{MONTH}.pdf")[0],
                write_pdf(figures_html, folder / f"qa_monthly_report_{MONTH}.pdf")[0],
                _write(folder / f"qa_on_a_page_{MONTH}.pdf", b"%PDF-1.4 made elsewhere")]
    folder = publish_run(sqlite_warehouse, tmp_path / "out", "monthly", MONTH, "month-1", rendered)
    assert delivery.content_level(folder / f"directorate_scorecard_{MONTH}.pdf") == "child"
    assert delivery.content_level(folder / f"qa_monthly_report_{MONTH}.pdf") == "aggregate"
    assert delivery.content_level(folder / f"qa_on_a_page_{MONTH}.pdf") == "child"
    audiences = {name: {**DLT, "approval": False, "outputs": [output]} for name, output in (
        ("dlt", "directorate_scorecard_pdf"), ("board", "qa_monthly_report"), ("iro_forum", "qa_on_a_page"))}
    with SmtpServer() as smtp:
        settings = settings_with(audiences, smtp)
        outcomes = {o.planned.audience: o for o in delivery.deliver(
            sqlite_warehouse, settings, delivery.plan_period(sqlite_warehouse, settings, "monthly", MONTH))}
    assert outcomes["dlt"].outcome == outcomes["iro_forum"].outcome == "refused"
    assert outcomes["dlt"].message == (f"audience dlt may receive aggregate detail only; output directorate_scorecard_pdf "
                                       f"(directorate_scorecard_{MONTH}.pdf) shows child detail: refused, nothing sent")
    assert outcomes["board"].outcome == "sent"
    assert [[p.get_filename() for p in m.iter_attachments()] for m in smtp.messages] == [
        [f"qa_monthly_report_{MONTH}.pdf"]]


def test_a_refusal_is_alerted_once_and_recorded_every_time(month):
    audience = {**DLT, "approval": False, "outputs": ["directorate_scorecard", "drift_delay_scorecard"]}
    with SmtpServer() as alerts:
        settings = settings_with({"dlt": audience}, alerts)
        settings = settings.model_copy(update={"notifications": settings.notifications.model_copy(
            update={"smtp_to": ("ops@la.example",)})})
        for _ in range(3):
            delivery.deliver(month, settings, delivery.plan_period(month, settings, "monthly", MONTH, load_registry()))
        other = settings_with({"dlt": {**audience, "outputs": ["qa_activity"]}}, alerts)
        other = other.model_copy(update={"notifications": settings.notifications})
        delivery.deliver(month, other, delivery.plan_period(month, other, "monthly", MONTH, load_registry()))
    assert [m["Subject"] for m in alerts.messages] == [f"qaloop: delivery REFUSED: dlt [la] {MONTH}"] * 2
    assert "drift_delay_scorecard" in alerts.messages[0].get_content()
    assert "qa_activity" in alerts.messages[1].get_content()  # another output: its own alert
    assert list(delivery.ledger(month, MONTH)["outcome"]) == ["refused"] * 4


def test_managers_and_units_are_read_alike_on_sqlite_and_postgresql(warehouse):
    """The recipients' and the scopes' SQL on both dialects: a Team Manager from qa_staff
    and from the professionals extract, a Head of Service whose team_id is the service
    area's department, and the teams of each unit from ssd_department."""
    from tests.kpi_harness import load_tables
    load_tables(warehouse, {
        "ssd_department": [{"dept_team_id": "T1", "dept_team_name": "Assessment North", "dept_team_parent_id": "A1",
                            "dept_team_parent_name": "Social Care"},
                           {"dept_team_id": "A1", "dept_team_name": "Social Care", "dept_team_parent_id": None,
                            "dept_team_parent_name": None}],
        "qa_staff": [{"staff_id": "S1", "name": "Manager North", "role": "Team Manager", "team_id": "T1",
                      "service_area": "Social Care", "start_date": "2023-01-01"},
                     {"staff_id": "H1", "name": "Hos", "role": "Head of Service", "team_id": "A1",
                      "service_area": "Children's Services", "start_date": "2023-01-01"},
                     {"staff_id": "H0", "name": "Hos gone", "role": "Head of Service", "team_id": "A1",
                      "service_area": "Social Care", "start_date": "2020-01-01", "end_date": "2023-12-31"}],
        "ssd_professionals": [{"prof_professional_id": "W1", "prof_staff_id": "E1", "prof_professional_name": "M N",
                               "prof_professional_job_title": "team manager",
                               "prof_professional_department": "Assessment North"}]})
    assert delivery.managers_in_qa_staff(warehouse, "team", "T1", MONTH) == {"S1"}
    assert delivery.managers_in_qa_staff(warehouse, "service_area", "Social_Care", MONTH) == {"H1"}
    assert delivery.managers_in_professionals(warehouse, "Team Manager", "T1") == {"E1", "W1"}
    assert delivery.department_units(warehouse) == {"team:T1": {"T1", "Assessment North"},
                                                   "service_area:Social_Care": {"T1", "Assessment North"}}
