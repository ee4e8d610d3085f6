"""Issue 12, operating it day to day: a slow Prefect start, `qaloop status` against a real
Prefect server with a Late run, the Prefect state of a partly published run, the trigger
of a run started from a deployment, cancelled and killed runs, a kill between the switch
of the published folder and its record, revised trends, exit statuses, the weekly as-at."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from prefect import flow

from flows import runner
from tasks.core.periods import Period
from tasks.core.settings import load_settings
from tasks.operations import locks
from tasks.operations import versions
from tasks.warehouse import database as warehouse
from qaloop.synthetic import generate_la
from tasks.warehouse.database import read_sql
from tests.configs import write_config

REPO = Path(__file__).resolve().parent.parent


def config_in(folder: Path, **changes) -> tuple[str, object]:
    """A configuration file in `folder` (flows are given its path) and its settings."""
    return write_config(folder, synthetic=True, la_code="841", trend_months=2, **changes)


def settings_in(folder: Path, **changes):
    return config_in(folder, **changes)[1]


def engine_of(settings):
    return runner.migrated_engine(settings)


def ledger(settings) -> pd.DataFrame:
    return read_sql(engine_of(settings), "select run_id, flow, period, trigger, state, message from runs "
                                         "order by started_at")


class Inbox:
    """An SMTP sink on a free port, collecting the messages it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.messages = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                inbox.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def notifications(self) -> dict:
        return dict(smtp_host="127.0.0.1", smtp_port=self.port, smtp_from="qaloop@la.example",
                    smtp_to=["performance@la.example"])

    def wait(self, count: int, seconds: float = 15) -> list:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.messages


# --- a small ledgered flow: the runner without the reporting pipeline ----------------------

def write_one_file(context: runner.RunContext, partly: bool = False) -> list[str]:
    context.work_dir.mkdir(parents=True, exist_ok=True)
    path = context.work_dir / "figures.csv"
    path.write_text("kpi_id,value\nSAF01,7\n")
    if partly:
        context.completion_state = runner.PARTLY_PUBLISHED
        context.completion_message = "SAF12 withheld: ssd_cla_episodes failed its critical rules"
    return [str(path)]


@flow(name="tiny")
def tiny(period: str, out: str, data_dir: str, partly: bool = False, cancel: bool = False,
         trigger: str | None = None):
    settings = settings_in(Path(data_dir))

    def work(context):
        if cancel:  # someone cancels the flow run in Prefect while it works
            from prefect.client.orchestration import get_client
            from prefect.states import Cancelling
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(context.run_id, Cancelling(), force=True)
        return write_one_file(context, partly)

    return runner.prefect_outcome(runner.ledgered_run("monthly", Period.month(period), "test-source", out, settings,
                                                      trigger, None, work))


# --- 1. a busy machine ----------------------------------------------------------------------

def test_a_slow_prefect_start_is_one_line_exit_status_5_and_the_demo_tries_twice(tmp_path, monkeypatch, capsys):
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from qaloop import cli
    starts = []

    def never_answers(self):  # a server process that never becomes healthy: a very slow start
        starts.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    monkeypatch.setattr(SubprocessASGIServer, "_run_uvicorn_command", never_answers)
    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})  # not the test session's running server
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        status = cli.main(["demo", "--out", str(tmp_path / "out"), "--children", "60", "--period", "2024-03",
                           "--data-dir", str(tmp_path / "data")])
    assert status == cli.EXIT_INFRASTRUCTURE == 5
    assert len(starts) == 2  # the demo tried once more
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("qaloop:")]
    assert len(errors) == 2 and "temporary Prefect server did not start within 1 s" in errors[0]
    assert "Traceback" not in errors[0]
    assert not (tmp_path / "out" / "2024-03").exists()


def test_the_command_line_sets_a_start_up_wait_for_a_busy_machine(monkeypatch, tmp_path):
    from qaloop.cli import prepare_prefect_environment
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    monkeypatch.setenv("QALOOP_PREFECT_STARTUP_SECONDS", "240")
    prepare_prefect_environment(tmp_path)
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "240"


def test_a_temporary_prefect_server_left_by_a_killed_run_is_stopped(tmp_path):
    from flows.infrastructure import SERVER_RECORD, process_alive, stop_leftover_server
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    owner.wait()  # the command that started the server is gone
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              env={**os.environ, "PREFECT__SERVER_EPHEMERAL": "1"})
    (tmp_path / SERVER_RECORD).write_text(f'{{"server_pid": {server.pid}, "owner_pid": {owner.pid}}}')
    try:
        note = stop_leftover_server(tmp_path)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert note == f"stopped the temporary Prefect server (process {server.pid}) a killed run left running"
    assert not process_alive(server.pid) and not (tmp_path / SERVER_RECORD).exists()


# --- 2. status from Prefect, versions, rollback ---------------------------------------------

def test_status_asks_prefect_shows_late_runs_and_unreplaced_failures(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from flows import status
    now = datetime.now(timezone.utc)
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("monthly")
        deployment_id = client.create_deployment(flow_id, name="monthly-scorecards-status-test")
        late = client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=now - timedelta(hours=2)), name="late-november")
        client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=now + timedelta(days=3)), name="next-one")

    settings = settings_in(tmp_path / "data")
    engine = engine_of(settings)
    warehouse.start_run(engine, "nov-run", "monthly", "2024-11", "schedule", "test", "src")
    warehouse.finish_run(engine, "nov-run", "Failed", "ExtractError: " + "the drop folder was empty " * 8)
    for run_id in ("aug-1", "aug-2"):  # a later re-run of August must not hide November
        warehouse.start_run(engine, run_id, "monthly", "2024-08", "manual", "test", "src")
        warehouse.complete_run(engine, run_id, "monthly", "2024-08", "Completed", None, [])

    views, error = status.prefect_view_or_error(now)
    assert error is None
    [view] = [v for v in views if v.name == "monthly/monthly-scorecards-status-test"]
    assert view.status == "NOT_READY"  # nothing serves it
    assert [name for name, _ in view.late] == [late.name] == ["late-november"]
    assert [t.date() for t in view.next_runs] == [(now + timedelta(days=3)).date()]

    text = status.status_text(engine, now=now, views=views, prefect_error=None)
    assert "nan" not in text.split()
    lines = text.splitlines()
    assert any("LATE: flow run late-november" in line for line in lines)
    assert any("nothing is serving it" in line for line in lines)
    assert any(line.strip().startswith("monthly  2024-08     run aug-2") for line in lines)
    november = next(i for i, line in enumerate(lines) if "2024-11" in line and "Failed" in line)
    assert lines[november + 1].startswith("      ExtractError: the drop folder was empty")  # wrapped
    assert max(len(line) for line in lines[november + 1:november + 3]) <= status.WIDTH
    found = status.problems(engine, views, None)
    assert "monthly 2024-11: Failed (run nov-run)" in found
    assert any("monthly-scorecards-status-test is NOT_READY" in p for p in found)
    assert any("late-november" in p and "Late" in p for p in found)


def test_status_alert_tells_people_once(prefect_server, tmp_path, capsys):
    from qaloop import cli
    with Inbox() as inbox:
        config = tmp_path / "qaloop.toml"
        config.write_text(textwrap.dedent(f"""
            data_dir = "{tmp_path / 'data'}"
            [notifications]
            smtp_host = "127.0.0.1"
            smtp_port = {inbox.port}
            smtp_to = ["performance@la.example"]
        """))
        engine = engine_of(load_settings(config))
        warehouse.start_run(engine, "oct-run", "monthly", "2024-10", "schedule", "test", "src")
        warehouse.finish_run(engine, "oct-run", "Failed: data quality", "DataQualityFailed: ssd_person")
        assert cli.main(["status", "--config", str(config), "--alert"]) == cli.EXIT_ALERTED == 6
        assert cli.main(["status", "--config", str(config), "--alert"]) == 6
        messages = inbox.wait(1)
        time.sleep(1)
    assert len(messages) == 1  # the same problems are told once
    assert "need attention" in messages[0]["Subject"]
    assert "monthly 2024-10: Failed: data quality (run oct-run)" in messages[0].get_content()
    assert "already told" in capsys.readouterr().err


def two_versions(tmp_path, prefect_server):
    out, data = tmp_path / "out", tmp_path / "data"
    first = tiny(period="2024-03", out=str(out), data_dir=str(data))
    second = tiny(period="2024-03", out=str(out), data_dir=str(data))
    return out, settings_in(data), first["run_id"], second["run_id"]


def test_versions_lists_a_period_and_rollback_makes_an_earlier_one_current(prefect_server, tmp_path, capsys):
    from qaloop import cli
    out, settings, first, second = two_versions(tmp_path, prefect_server)
    config = tmp_path / "qaloop.toml"
    config.write_text(f'data_dir = "{settings.data_dir}"\n')
    assert cli.main(["versions", "--period", "2024-03", "--config", str(config)]) == 0
    listing = capsys.readouterr().out
    assert f"current version: {second}" in listing
    assert f" * {second}" in listing and f"   {first}" in listing

    assert cli.main(["rollback", "--period", "2024-03", "--to", first, "--reason", "March re-run was wrong",
                     "--config", str(config)]) == 0
    assert (out / "2024-03").resolve() == (out / "runs" / "monthly" / "2024-03" / first).resolve()
    engine = engine_of(settings)
    assert warehouse.current_run_id(engine, "monthly", "2024-03") == first
    history = warehouse.switch_history(engine, "monthly", "2024-03")
    assert history[["kind", "from_run_id", "to_run_id", "state", "reason"]].values.tolist()[-1] == [
        "rollback", second, first, "done", "March re-run was wrong"]
    assert cli.main(["rollback", "--period", "2024-03", "--to", "no-such-run", "--reason", "x",
                     "--config", str(config)]) == cli.EXIT_REFUSED


# --- 3. failures say what happened -------------------------------------------------------------

def test_a_partly_published_run_has_a_named_prefect_state_with_its_message(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    state = tiny(period="2024-03", out=str(tmp_path / "out"), data_dir=str(tmp_path / "data"), partly=True,
                 return_state=True)
    assert (state.type.value, state.name) == ("COMPLETED", "Partly published")
    assert state.message == "SAF12 withheld: ssd_cla_episodes failed its critical rules"
    result = state.result()
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(result["run_id"]).state
    assert (stored.name, stored.message) == ("Partly published", state.message)
    assert ledger(settings_in(tmp_path / "data"))["state"].tolist() == ["Partly published: data quality"]


def test_a_scheduled_failure_email_names_the_period_the_prefect_run_and_what_to_do(prefect_server, tmp_path,
                                                                                   monkeypatch):
    from prefect.settings import PREFECT_API_URL

    from flows.monthly import monthly
    from tasks.extract.extracts import ExtractError
    monkeypatch.setattr(runner, "london_today", lambda: date(2024, 4, 8))
    with Inbox() as inbox:
        config, settings = config_in(tmp_path / "data", notifications=inbox.notifications())
        with pytest.raises(ExtractError):  # no period given, as by the schedule
            monthly(source=str(tmp_path / "no-such-folder"), out=str(tmp_path / "out"), config=config)
        [message] = inbox.wait(1)
    assert message["Subject"] == "qaloop: monthly 2024-03 run FAILED"
    body = message.get_content()
    run_id = ledger(settings)["run_id"][0]
    api = PREFECT_API_URL.value().removesuffix("/api")
    assert "Period: 2024-03" in body and "State: Failed" in body
    assert f"Prefect: {api}/runs/flow-run/{run_id}" in body
    assert "What to do next: check that the source (drop folder or database) is there" in body


def test_failure_message_links_data_docs_by_the_published_url(tmp_path):
    settings = settings_in(tmp_path, published_url="https://intranet.la.example/qaloop/")
    docs = tmp_path / "out" / "data_quality" / "2024-03" / "r1" / "index.html"
    cause = f"Flow run encountered an exception: DataQualityFailed: 2024-03 not published: FAILED. Data Docs: {docs}"
    subject, body = runner.failure_message("monthly", "2024-03", "r1", "brave-fox", "Failed", cause, settings,
                                           str(tmp_path / "out"))
    assert subject == "qaloop: monthly 2024-03 run FAILED ON DATA QUALITY"
    assert "Data Docs: https://intranet.la.example/qaloop/data_quality/2024-03/r1/index.html" in body
    assert "What to do next: read the data-quality alerts and the Data Docs" in body


def test_prefect_run_url_prefers_the_ui_url(monkeypatch):
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from tasks.operations.notify import prefect_run_url
    with temporary_settings({PREFECT_API_URL: "http://prefect.la:4200/api"}):
        assert prefect_run_url("abc") == "http://prefect.la:4200/runs/flow-run/abc"
    with temporary_settings({PREFECT_API_URL: "http://prefect.la:4200/api",
                             PREFECT_UI_URL: "https://prefect.intranet"}):
        assert prefect_run_url("abc") == "https://prefect.intranet/runs/flow-run/abc"


# --- 4. the ledger records what really happened ---------------------------------------------

def test_a_run_started_from_a_deployment_by_hand_is_recorded_as_manual(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    parameters = {"period": "2024-03", "out": str(tmp_path / "out"), "data_dir": str(tmp_path / "data")}
    with get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(client.create_flow(tiny), name="tiny-by-hand")
        flow_run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)  # as the UI does
    assert flow_run.auto_scheduled is False
    result = run_flow(tiny, flow_run=flow_run, parameters=parameters)
    assert result["run_id"] == str(flow_run.id)
    assert ledger(settings_in(tmp_path / "data"))[["run_id", "trigger"]].values.tolist() == [
        [str(flow_run.id), "manual"]]


def test_a_run_the_scheduler_created_is_recorded_as_schedule(monkeypatch):
    from types import SimpleNamespace

    import prefect.context
    scheduled = SimpleNamespace(flow_run=SimpleNamespace(auto_scheduled=True))
    monkeypatch.setattr(prefect.context.FlowRunContext, "get", classmethod(lambda cls: scheduled))
    assert runner.resolve_trigger(None) == "schedule"
    assert runner.resolve_trigger("backfill") == "backfill"


def test_a_cancelled_run_is_recorded_cancelled_and_publishes_nothing(prefect_server, tmp_path):
    with pytest.raises(runner.RunCancelled):
        tiny(period="2024-03", out=str(tmp_path / "out"), data_dir=str(tmp_path / "data"), cancel=True)
    assert ledger(settings_in(tmp_path / "data"))["state"].tolist() == ["Cancelled"]
    assert not (tmp_path / "out" / "2024-03").exists()
    assert list((tmp_path / "out" / "runs" / "monthly" / "2024-03").iterdir()) == []


KILLED_RUN = """
import sys, time
from tasks.operations import locks
from tasks.warehouse import database as warehouse
engine = warehouse.make_engine(sys.argv[1])
warehouse.start_run(engine, "killed-run", "monthly", "2024-03", "manual", "test", "src")
with locks.hold(engine, locks.run_lock_name("monthly", "2024-03"), 5):
    print("ready", flush=True)
    time.sleep(120)
"""


def test_a_run_killed_outright_is_reconciled_to_crashed_and_its_folder_removed(prefect_server, tmp_path):
    settings = settings_in(tmp_path / "data")
    engine = engine_of(settings)
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, settings.resolved_warehouse_url],
                               stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert process.stdout.readline().strip() == "ready"
    partial = tmp_path / "out" / "runs" / "monthly" / "2024-03" / "killed-run"
    partial.mkdir(parents=True)
    (partial / "half_written.xlsx").write_bytes(b"PK")
    warehouse.start_run(engine, "alive-run", "daily", "2024-03-04", "manual", "test", "src")  # this process
    assert runner.reconcile_dead_runs(engine) == []  # its process is alive: left alone
    process.send_signal(signal.SIGKILL)
    process.wait()

    [line] = runner.reconcile_dead_runs(engine)
    assert line.startswith("monthly 2024-03 run killed-run: Crashed")
    rows = read_sql(engine, "select run_id, state, message from runs").set_index("run_id")
    assert rows.loc["killed-run", "state"] == "Crashed"
    assert "killed outright" in rows.loc["killed-run", "message"]
    assert rows.loc["alive-run", "state"] == "Running"
    with locks.hold(engine, locks.run_lock_name("monthly", "2024-03"), 0):
        pass  # the lock is free

    tiny(period="2024-03", out=str(tmp_path / "out"), data_dir=str(tmp_path / "data"))
    assert not partial.exists()  # the next run of the period removed the partial folder


# --- 6. a kill between the switch and the record ---------------------------------------------

KILLED_AT_SWITCH = """
import os, signal, sys
from pathlib import Path
from tasks.operations import versions
from tasks.warehouse import database as warehouse
engine = warehouse.make_engine(sys.argv[1])
out, where = Path(sys.argv[2]), sys.argv[3]
warehouse.start_run(engine, "new-run", "monthly", "2024-03", "manual", "test", "src")
target = versions.run_dir(out, "monthly", "2024-03", "new-run")
target.mkdir(parents=True)
(target / "figures.csv").write_text("kpi_id,value\\nSAF01,9\\n")
kill = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
if where == "after switch":
    warehouse.settle_switch = kill
else:
    versions.switch_current = kill
versions.publish(engine, "monthly", "2024-03", "new-run", versions.published_dir(out, "monthly", "2024-03"),
                 target, "Completed", None, [str(target / "figures.csv")])
"""


@pytest.mark.parametrize("where", ["after switch", "before switch"])
def test_a_kill_at_the_switch_is_finished_or_undone_by_status(prefect_server, tmp_path, where):
    from flows import status
    settings = settings_in(tmp_path / "data")
    out = tmp_path / "out"
    old = tiny(period="2024-03", out=str(out), data_dir=str(tmp_path / "data"))["run_id"]
    engine = engine_of(settings)
    killed = subprocess.run([sys.executable, "-c", KILLED_AT_SWITCH, settings.resolved_warehouse_url, str(out),
                             where], cwd=REPO)
    assert killed.returncode == -signal.SIGKILL
    assert warehouse.current_run_id(engine, "monthly", "2024-03") == old  # the record did not follow
    assert len(warehouse.pending_switches(engine)) == 1

    lines = status.housekeeping(engine)
    rows = read_sql(engine, "select run_id, state, message from runs").set_index("run_id")
    [switch] = warehouse.switch_history(engine, "monthly", "2024-03").tail(1).itertuples()
    if where == "after switch":  # readers saw the new run: the record is finished
        assert (out / "2024-03").resolve() == (out / "runs" / "monthly" / "2024-03" / "new-run").resolve()
        assert warehouse.current_run_id(engine, "monthly", "2024-03") == "new-run"
        assert rows.loc["new-run", "state"] == "Completed" and switch.state == "done"
        assert any("switch to run new-run finished" in line for line in lines)
    else:  # the folder was never switched: undone, the old version stays
        assert (out / "2024-03").resolve() == (out / "runs" / "monthly" / "2024-03" / old).resolve()
        assert warehouse.current_run_id(engine, "monthly", "2024-03") == old
        assert rows.loc["new-run", "state"] == "Crashed" and switch.state == "undone"
        assert not (out / "runs" / "monthly" / "2024-03" / "new-run").exists()
    assert warehouse.pending_switches(engine) == []


# --- 5. revisions reach every output showing the figure ---------------------------------------

def run_sheet_revisions(workbook_path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(workbook_path)["Run"]
    return [row[1] for row in sheet.iter_rows(values_only=True) if row[0] == "Revisions"]


def test_a_revised_month_is_noticed_in_every_current_trend_that_shows_it(prefect_server, tmp_path, extracts):
    import shutil

    from flows.monthly import monthly
    from flows.status import status_text
    (config, settings), out = config_in(tmp_path / "data"), tmp_path / "out"
    february = monthly(period="2024-02", source=str(extracts), out=str(out), config=config)
    march = monthly(period="2024-03", source=str(extracts), out=str(out), config=config)
    assert february["revision_note"] == "first publication"
    assert run_sheet_revisions(out / "2024-02" / "safety_scorecard_2024-02.xlsx") == [
        "This version: first publication"]

    corrected = tmp_path / "corrected"
    shutil.copytree(extracts, corrected)
    contacts = pd.read_csv(corrected / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    in_february = contacts["cont_contact_date"].between("2024-02-01", "2024-02-29")
    removed = contacts[in_february].head(3)["cont_contact_id"]
    contacts[~contacts["cont_contact_id"].isin(removed)].to_csv(corrected / "ssd_contacts.csv", index=False)
    revised = monthly(period="2024-02", source=str(corrected), out=str(out), config=config,
                      reason="February contacts corrected")
    assert "revised; 1 other periods' current outputs show other figures" in revised["revision_note"]

    trends = pd.read_csv(out / "2024-02" / "revised_trends_2024-02.csv", dtype=str, keep_default_na=False)
    saf01 = trends[trends["kpi_id"] == "SAF01"]
    assert saf01[["period", "run_id", "revised_period", "shown_value", "revised_value"]].values.tolist() == [
        ["2024-03", march["run_id"], "2024-02", str(int(in_february.sum())), str(int(in_february.sum()) - 3)]]

    engine = engine_of(settings)
    notices = versions.revised_trend_notices(engine)
    assert notices[["period", "run_id", "revised_period", "revised_by"]].values.tolist() == [
        ["2024-03", march["run_id"], "2024-02", revised["run_id"]]]
    assert "SAF01" in notices["kpis"][0].split(", ")
    assert f"2024-03 outputs (run {march['run_id']}) show 2024-02 as first published" in status_text(engine)

    # March re-run from its own (uncorrected) extract: its Run sheet says February was revised
    again = monthly(period="2024-03", source=str(extracts), out=str(out), config=config)
    [this_version, note] = run_sheet_revisions(out / "2024-03" / "safety_scorecard_2024-03.xlsx")
    assert this_version == "This version: no figure changed"
    assert note.startswith("February 2024 revised on ") and f"(run {revised['run_id']})" in note
    assert "differs for" in note and "SAF01" in note
    assert versions.revised_trend_notices(engine).empty  # the current March was made after the revision
    assert again["revision_note"] == "no figure changed"


# --- 7. exit statuses ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("day-to-day") / "extracts"
    generate_la(folder, as_at=date(2024, 4, 5), children=150, seed=12)
    return folder


@pytest.mark.parametrize("warehouse_url", [
    "postgresql+psycopg://postgres@127.0.0.1:1/test",             # unreachable
    "postgresql+psycopg://no_such_role_qaloop@127.0.0.1:5432/test",  # unknown role
])
def test_an_unusable_warehouse_is_one_line_and_exit_status_5(prefect_server, tmp_path, extracts, capsys,
                                                           warehouse_url, monkeypatch):
    from qaloop import cli
    monkeypatch.setenv("QALOOP_WAREHOUSE_URL", warehouse_url)
    status = cli.main(["run", "monthly", "--period", "2024-03", "--source", str(extracts),
                       "--out", str(tmp_path / "out")])
    assert status == cli.EXIT_INFRASTRUCTURE
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("qaloop:")]
    assert "the warehouse postgresql+psycopg://" in line and "cannot be used" in line
    assert not (tmp_path / "out").exists()


def test_a_source_database_gone_for_good_is_exit_status_2_with_the_detail_in_the_ledger(
        prefect_server, tmp_path, capsys, monkeypatch):
    from flows import steps
    from qaloop import cli
    monkeypatch.setattr(steps, "extract_sources", steps.extract_sources.with_options(retry_delay_seconds=0))
    monkeypatch.setenv("QALOOP_DATA_DIR", str(tmp_path / "data"))
    status = cli.main(["run", "monthly", "--period", "2024-03", "--source",
                       "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_qaloop",
                       "--out", str(tmp_path / "out")])
    assert status == cli.EXIT_BAD_SOURCE == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("qaloop:")]
    assert "the source database postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_qaloop" in line
    [row] = ledger(load_settings(None)).itertuples()
    assert row.state == "Failed: source unavailable"
    assert "no_such_database_qaloop" in row.message and "does not exist" in row.message


# --- 8. the weekly pack's default day -----------------------------------------------------------

@pytest.mark.parametrize("today, sunday", [
    (date(2024, 3, 13), date(2024, 3, 10)),  # Wednesday: the Sunday before
    (date(2024, 3, 11), date(2024, 3, 10)),  # Monday (the scheduled run): yesterday
    (date(2024, 3, 17), date(2024, 3, 10)),  # Sunday: its week is not complete yet
])
def test_a_weekly_pack_without_as_at_is_as_at_the_last_complete_week(monkeypatch, today, sunday):
    from flows import exceptions
    monkeypatch.setattr(runner, "london_today", lambda: today)
    assert exceptions.weekly_as_at_day(None) == sunday
    assert exceptions.weekly_as_at_day("2024-03-14") == date(2024, 3, 14)
    assert exceptions.as_at_day(None) == today - timedelta(days=1)  # the daily lists: yesterday


def test_the_demo_runs_the_month_the_quarters_last_month_the_quarter_and_the_half():
    from qaloop.cli import demo_runs
    assert demo_runs("2026-11") == [("monthly", "2026-11"), ("monthly", "2026-09"), ("quarterly", "2026-Q3"),
                                    ("six-monthly", "2026-27-H1")]
    # a quarter-end month is run once; March ends the quarter and the half
    assert demo_runs("2024-03") == [("monthly", "2024-03"), ("quarterly", "2024-Q1"), ("six-monthly", "2023-24-H2")]
