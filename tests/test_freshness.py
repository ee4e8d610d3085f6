"""Issue 11, points 2-4 as plain functions: the extract date (manifest, database time, file
times with a note), the staleness rule in working days, waiting for a late extract on an
injected clock, alerts once per extract checksum and rule with a daily digest, webhook
severity (a real HTTP server) and the Prefect run link."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tasks.extract import arrival
from tasks.extract import freshness
from tasks.operations import notify
from tasks.operations.alerts import (RunLinks, build_alerts, deliver_alerts, send_webhooks,
                          standing_warnings_digest)
from tasks.extract.extracts import extract_sources
from tasks.core.periods import MonthToDate, Period
from tasks.core.settings import ArrivalSettings, SettingsError, section
from tasks.core.sources import CASE_SYSTEM_TABLES
from test_validation import PEOPLE, SmtpServer, drop_folder, validate


def touch(path, day: datetime) -> None:
    os.utime(path, (day.timestamp(), day.timestamp()))


# --- the extract date ------------------------------------------------------------------

def test_the_extract_date_comes_from_the_manifest_not_the_file_times(tmp_path):
    folder = drop_folder(tmp_path)
    for path in folder.iterdir():
        touch(path, datetime(2024, 11, 20, 9, tzinfo=timezone.utc))  # copied later
    (folder / "extract_manifest.json").write_text(
        json.dumps({"extracted_at": "2024-11-03T23:30:00+00:00", "system": "Mosaic SSD"}))
    extracts = extract_sources(str(folder), strict=False)
    dated = freshness.extract_date_of(str(folder), extracts)
    # 23:30 UTC on 3 November is 3 November in London (GMT); the manifest wins over mtimes
    assert (dated.day, dated.basis, dated.note) == (date(2024, 11, 3), "extract_manifest.json", None)
    (folder / "extract_manifest.json").write_text(json.dumps({"extracted_at": "2024-06-30T23:30:00Z"}))
    assert freshness.extract_date_of(str(folder), extracts).day == date(2024, 7, 1)  # BST


def test_without_a_manifest_the_newest_file_time_is_used_and_said(tmp_path):
    folder = drop_folder(tmp_path)
    for path in folder.iterdir():
        touch(path, datetime(2024, 11, 3, 8, tzinfo=timezone.utc))
    touch(folder / "ssd_contacts.csv", datetime(2024, 11, 4, 8, tzinfo=timezone.utc))
    dated = freshness.extract_date_of(str(folder), extract_sources(str(folder), strict=False))
    assert (dated.day, dated.basis) == (date(2024, 11, 4), "file times")
    assert dated.note == ("no extract_manifest.json in the drop folder: the extract date 2024-11-04 "
                          "is the newest file's modification time (a copy changes it)")


def test_a_manifest_without_a_date_is_an_error_that_says_the_format(tmp_path):
    folder = drop_folder(tmp_path)
    (folder / "extract_manifest.json").write_text(json.dumps({"extracted": "yesterday"}))
    with pytest.raises(freshness.ManifestError, match="cannot read `extracted_at`"):
        freshness.extract_date_of(str(folder), {})


def test_a_database_extract_is_dated_by_the_databases_own_clock(warehouse):
    url = warehouse.url.render_as_string(hide_password=False)
    stamp = freshness.database_now(url)
    with warehouse.connect() as connection:
        import sqlalchemy as sa
        own = connection.execute(sa.select(sa.func.current_timestamp())).scalar()
    own = own if isinstance(own, datetime) else datetime.fromisoformat(str(own))
    assert abs((stamp.replace(tzinfo=None) - own.replace(tzinfo=None)).total_seconds()) < 60
    dated = freshness.extract_date_of(url, {}, stamp)
    assert (dated.day, dated.basis) == (stamp.date(), "database time")


# --- stale or not ------------------------------------------------------------------------

EXTRACT = freshness.ExtractDate(date(2024, 4, 2), "extract_manifest.json")


def test_a_quiet_weekend_and_easter_are_not_stale_but_four_working_days_are():
    march_end = date(2024, 3, 31)  # a Sunday; 29 March is Good Friday
    # Tuesday 26th: Wednesday 27th and Thursday 28th are the only working days after it
    fresh = freshness.staleness(EXTRACT, (date(2024, 3, 26), "ssd_contacts.cont_contact_date"),
                                march_end, "period end", None, 3)
    assert fresh.reasons == [] and not fresh.stale
    stale = freshness.staleness(EXTRACT, (date(2024, 3, 22), "ssd_contacts.cont_contact_date"),
                                march_end, "period end", None, 3)
    assert stale.stale and stale.message() == (
        "the latest activity in the extract is 2024-03-22 (ssd_contacts.cont_contact_date), 4 working "
        "days before the period end 2024-03-31 (at most 3 allowed); extract dated 2024-04-02 (from "
        "extract_manifest.json)")
    lenient = freshness.staleness(EXTRACT, (date(2024, 3, 22), "x.y"), march_end, "period end", None, 5)
    assert not lenient.stale


def test_an_extract_older_than_the_current_versions_is_stale_unless_it_is_the_periods_archive():
    current = ("run-current", date(2024, 4, 5))
    older = freshness.staleness(EXTRACT, (date(2024, 4, 1), "t.c"), date(2024, 3, 31), "period end",
                                current, 3)
    assert older.stale and older.message() == (
        "the extract is dated 2024-04-02 (from extract_manifest.json), older than the extract of the "
        "current version (run run-current, extract dated 2024-04-05)")
    archived = freshness.staleness(EXTRACT, (date(2024, 4, 1), "t.c"), date(2024, 3, 31), "period end",
                                   current, 3, archived_run="run-april")
    assert not archived.stale and archived.exempt_because == "a re-run with the archived extract of run run-april"
    same_day = freshness.staleness(EXTRACT, None, date(2024, 3, 31), "period end",
                                   ("r", date(2024, 4, 2)), 3)
    assert not same_day.stale


def test_the_latest_activity_is_the_newest_case_date_up_to_the_extract_date(tmp_path):
    contacts = [{"cont_contact_id": "C1", "cont_person_id": "P1", "cont_contact_date": "2024-03-20"},
                {"cont_contact_id": "C2", "cont_person_id": "P1", "cont_contact_date": "2024-03-27"},
                {"cont_contact_id": "C3", "cont_person_id": "P1", "cont_contact_date": "2044-03-27"}]
    folder = drop_folder(tmp_path, {"ssd_contacts": contacts, "ssd_person": PEOPLE})
    extracts = extract_sources(str(folder), strict=False)
    columns = {"ssd_contacts": "cont_contact_date", "ssd_cin_episodes": "cine_referral_date",
               "qa_audits": "allocated_date"}
    assert freshness.latest_activity(extracts, columns, date(2024, 4, 2)) == (
        date(2024, 3, 27), "ssd_contacts.cont_contact_date")  # the typing slip in 2044 is ignored
    assert freshness.latest_activity(extracts, {"qa_audits": "allocated_date"}, date(2024, 4, 2)) is None


# --- waiting for a late extract ------------------------------------------------------------

class FakeClock:
    """A clock that only `sleep` moves."""

    def __init__(self, start: datetime):
        self.now, self.slept = start, []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_a_run_waits_until_the_window_closes_and_tells_once(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    clock = FakeClock(datetime(2024, 4, 8, 7, 30, tzinfo=arrival.LONDON))
    settings = ArrivalSettings(wait_until="12:00", poll_seconds=600)
    deadline = arrival.deadline_on(clock(), settings)
    notices = []
    started = time.perf_counter()
    missing = arrival.wait_for_extract(lambda: arrival.missing_tables(str(folder)), deadline, clock,
                                       clock.sleep, settings.poll_seconds, notices.append)
    assert time.perf_counter() - started < 5
    assert missing == list(CASE_SYSTEM_TABLES)
    assert len(notices) == 1 and clock.now == deadline == datetime(2024, 4, 8, 12, 0, tzinfo=arrival.LONDON)
    assert sum(clock.slept) == 4.5 * 3600 and max(clock.slept) == 600


def test_a_run_goes_ahead_as_soon_as_the_last_table_arrives(tmp_path):
    folder = drop_folder(tmp_path, skip=("ssd_contacts", "ssd_person"))
    clock = FakeClock(datetime(2024, 4, 8, 6, 30, tzinfo=arrival.LONDON))

    def sleep(seconds):
        clock.sleep(seconds)
        if len(clock.slept) == 3:  # the export finishes while we wait
            drop_folder(tmp_path)
    notices = []
    missing = arrival.wait_for_extract(lambda: arrival.missing_tables(str(folder)),
                                       arrival.deadline_on(clock(), ArrivalSettings()),
                                       clock, sleep, 300, notices.append)
    assert missing == [] and clock.now == datetime(2024, 4, 8, 6, 45, tzinfo=arrival.LONDON)
    assert notices == [[t for t in CASE_SYSTEM_TABLES if t in ("ssd_contacts", "ssd_person")]]


def test_a_database_source_is_complete_when_every_case_table_or_view_is_there(tmp_path):
    import sqlalchemy as sa
    url = f"sqlite:///{tmp_path / 'ssd.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in CASE_SYSTEM_TABLES[:-1]:
            connection.execute(sa.text(f"create table {table} (id text)"))
    assert arrival.missing_tables(url) == [CASE_SYSTEM_TABLES[-1]]
    with engine.begin() as connection:
        connection.execute(sa.text(f"create view {CASE_SYSTEM_TABLES[-1]} as select 1 as id"))
    engine.dispose()
    assert arrival.missing_tables(url) == []


def test_arrival_settings_reject_unknown_keys():
    with pytest.raises(SettingsError, match=r"\[arrival\] wait_untill: unknown key"):
        section(ArrivalSettings, {"wait_untill": "12:00"}, "arrival")


# --- alerts: once per extract and rule, a daily digest, severity and links ----------------

def sex_warning_report(tmp_path):
    people = PEOPLE + [{"pers_person_id": "P8", "pers_sex": "Q", "pers_dob": "2015-03-01"}]
    return validate(drop_folder(tmp_path, {"ssd_person": people}), only=["ssd_person"])


def test_a_standing_warning_is_sent_once_across_periods_then_only_in_the_daily_digest(
        tmp_path, sqlite_warehouse):
    extracts, report = sex_warning_report(tmp_path)
    checksums = {n: e.sha256 for n, e in extracts.items()}
    assert [(r.table, r.column, r.rule, r.severity) for r in report.warnings] == [
        ("ssd_person", "pers_sex", "in_code_list", "warning")]
    links = RunLinks("monthly", "run-feb", "http://prefect.la.example/runs/flow-run/run-feb",
                     "file:///published/data_quality/index.html")
    with SmtpServer() as server:
        february = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-02"), checksums, links),
                                  "run-feb", email=server.settings)
        march = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-03"), checksums), "run-mar",
                               email=server.settings)
        daily = deliver_alerts(sqlite_warehouse, build_alerts(report, MonthToDate.as_at(date(2024, 3, 14)), checksums),
                               "run-day", email=server.settings)
        digest = standing_warnings_digest(sqlite_warehouse, daily.already_sent, MonthToDate.as_at(date(2024, 3, 14)))
        first_digest = deliver_alerts(sqlite_warehouse, [digest], "run-day", email=server.settings)
        again = deliver_alerts(sqlite_warehouse, [digest], "run-day-2", email=server.settings)
        time.sleep(0.2)
    assert (len(february.sent), len(march.sent), len(march.already_sent), len(daily.sent)) == (1, 0, 1, 0)
    assert (len(first_digest.sent), len(again.sent)) == (1, 0)  # one digest a day
    subjects = [str(m["Subject"]).strip() for m in server.messages]
    assert subjects == ["[qaloop data quality] WARNING 2024-02 ssd_person.pers_sex: in_code_list",
                        "[qaloop data quality] DIGEST 2024-03-14: 1 standing warning"]
    first = server.messages[0].get_content()
    assert "Run:         monthly 2024-02, run run-feb" in first
    assert "Prefect:     http://prefect.la.example/runs/flow-run/run-feb" in first
    assert "Data Docs:   file:///published/data_quality/index.html" in first
    body = server.messages[1].get_content()
    assert "- WARNING ssd_person.csv ssd_person.pers_sex in_code_list: 1 rows e.g. P8 (first sent " in body


def test_a_critical_failure_is_told_for_each_period(tmp_path, sqlite_warehouse):
    from test_validation import pii_report
    extracts, report = pii_report(tmp_path)
    checksums = {n: e.sha256 for n, e in extracts.items()}
    with SmtpServer() as server:
        february = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-02"), checksums), "r1",
                                  email=server.settings)
        march = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-03"), checksums), "r2",
                               email=server.settings)
    assert len(february.sent) == len(march.sent) == 2


class WebhookInbox(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    WebhookInbox.received = []
    server = HTTPServer(("127.0.0.1", 0), WebhookInbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_port}/hook", WebhookInbox.received
    server.shutdown()


def test_webhook_alerts_carry_their_severity(tmp_path, webhook):
    from test_validation import pii_report
    url, received = webhook
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, critical = pii_report(tmp_path / "a")
    _, warning = sex_warning_report(tmp_path / "b")
    alerts = build_alerts(critical, Period.month("2024-03"))[:1] + build_alerts(warning, Period.month("2024-03"))
    send_webhooks(alerts, [url])
    notify.post_webhook(url, "qaloop: monthly 2024-03 run FAILED", "Cause: ...")
    assert [(m["type"], m["title"]) for m in received] == [
        ("failure", "[qaloop data quality] CRITICAL 2024-03 ssd_professionals.prof_professional_id: row_key_unique"),
        ("warning", "[qaloop data quality] WARNING 2024-03 ssd_person.pers_sex: in_code_list"),
        ("failure", "qaloop: monthly 2024-03 run FAILED")]


def test_the_prefect_run_url_comes_from_the_ui_or_the_api_url():
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings
    with temporary_settings(updates={PREFECT_API_URL: "http://prefect.la.example:4200/api/"},
                            restore_defaults={PREFECT_UI_URL}):
        assert notify.prefect_run_url("abc") == "http://prefect.la.example:4200/runs/flow-run/abc"
        assert notify.prefect_run_url(None) is None
    with temporary_settings(updates={PREFECT_API_URL: "http://10.0.0.5:4200/api",
                                     PREFECT_UI_URL: "https://prefect.la.example/"}):
        assert notify.prefect_run_url("abc") == "https://prefect.la.example/runs/flow-run/abc"


def test_the_command_line_wants_a_reason_to_accept_a_stale_extract(tmp_path, capsys):
    from qaloop.cli import build_parser, main
    assert main(["run", "monthly", "--period", "2024-03", "--source", str(tmp_path), "--out",
                 str(tmp_path / "out"), "--accept-stale"]) == 2
    assert "--accept-stale needs --reason TEXT" in capsys.readouterr().err
    args = build_parser().parse_args(["run", "daily", "--source", "s", "--out", "o", "--wait",
                                      "--accept-stale", "--reason", "why"])
    assert (args.wait, args.accept_stale, args.reason) == (True, True, "why")
