"""Validation (Great Expectations suites + cross-table checks) and data-quality alerts.

One test per bad input of issue 3, each asserting the rule, the severity, the message
and the example record ids; a valid extract passing every critical rule; alerts sent
once; a real SMTP delivery; Data Docs; the pass-rate trend.
"""

from __future__ import annotations

import hashlib
import re
import socket
import time
from datetime import date, datetime, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import openpyxl
import pytest
import sqlalchemy as sa

from tasks.core.settings import SourceMapping
from tasks.operations.alerts import EmailSettings, build_alerts, deliver_alerts, render_markdown
from tasks.extract.extracts import extract_sources
from tasks.core.periods import Period
from tasks.core.sources import CASE_SYSTEM_TABLES, TABLES
from tasks.validate.validation import (ValidationSettings, dq_trend, loaded_row_counts, store_dq_results,
                            validate_extracts)

EXTRACT_DATE = date(2024, 4, 5)


# --- helpers ------------------------------------------------------------------------

def csv_text(table: str, rows: list[dict]) -> str:
    header = TABLES[table].column_names
    lines = [",".join(header)] + [",".join(str(row.get(c, "")) for c in header) for row in rows]
    return "\n".join(lines) + "\n"


def drop_folder(tmp_path, tables: dict[str, list[dict]] | None = None, skip: tuple = ()):
    """Every case-system table (header only unless rows are given), plus the given ones."""
    folder = tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    for name in set(CASE_SYSTEM_TABLES) | set(tables or {}):
        if name not in skip:
            (folder / f"{name}.csv").write_text(csv_text(name, (tables or {}).get(name, [])),
                                                encoding="utf-8")
    return folder


def validate(folder, only: list[str] | None = None, **kwargs):
    extracts = extract_sources(str(folder), strict=False)
    if only:
        extracts = {name: extracts[name] for name in only}
    return extracts, validate_extracts(extracts, EXTRACT_DATE, **kwargs)


def failed(report, table: str, rule: str, column: str | None = None):
    matches = [r for r in report.failures + report.warnings
               if r.table == table and r.rule == rule and (column is None or r.column == column)]
    assert len(matches) == 1, [r.message() for r in report.failures + report.warnings]
    return matches[0]


PEOPLE = [{"pers_person_id": "P1", "pers_sex": "F", "pers_ethnicity": "WBRI", "pers_dob": "2015-01-02"},
          {"pers_person_id": "P2", "pers_sex": "M", "pers_ethnicity": "AIND", "pers_dob": "2016-03-04"}]
CP_PLANS = [
    {"cppl_cp_plan_id": "CP1", "cppl_person_id": "P1", "cppl_cp_plan_start_date": "2024-01-10",
     "cppl_cp_plan_initial_category": "NEG", "cppl_cp_plan_latest_category": "NEG"},
    {"cppl_cp_plan_id": "CP2", "cppl_person_id": "P2", "cppl_cp_plan_start_date": "2024-02-01",
     "cppl_cp_plan_end_date": "2024-03-01", "cppl_cp_plan_initial_category": "Neglect"},
]


# --- one test per bad input ----------------------------------------------------------

def test_missing_file_blocks_only_that_table(tmp_path):
    folder = drop_folder(tmp_path, {"ssd_person": PEOPLE}, skip=("ssd_cp_visits",))
    extracts, report = validate(folder)
    result = failed(report, "ssd_cp_visits", "file_present")
    assert result.severity == "critical"
    assert "missing file for table ssd_cp_visits (expected ssd_cp_visits.csv or ssd_cp_visits.xlsx)" in result.detail
    assert report.blocked_tables == ["ssd_cp_visits"]
    assert len(extracts["ssd_person"].frame) == 2  # the rest is read as usual


def test_missing_column_names_table_and_column(tmp_path):
    folder = drop_folder(tmp_path)
    (folder / "ssd_person.csv").write_text("pers_person_id,pers_sex,pers_ethnicity,pers_death_date\n"
                                           "P1,F,WBRI,\n")
    _, report = validate(folder, only=["ssd_person"])
    result = failed(report, "ssd_person", "required_columns")
    assert (result.severity, result.column) == ("critical", "pers_dob")
    assert "ssd_person (ssd_person.csv): missing column(s) pers_dob; found pers_person_id" in result.detail
    assert report.blocked_tables == ["ssd_person"]


def test_renamed_header_is_named_with_its_likely_contract_column(tmp_path):
    folder = drop_folder(tmp_path)
    (folder / "ssd_person.csv").write_text("pers_person_id,pers_sex,pers_ethnicity,pers_date_of_birth,"
                                           "pers_death_date\nP1,F,WBRI,2015-01-02,\n")
    _, report = validate(folder, only=["ssd_person"])
    result = failed(report, "ssd_person", "required_columns")
    assert "header 'pers_date_of_birth' may be pers_dob renamed" in result.detail
    assert "[mapping.<table>.columns]" in result.detail
    # mapped in configuration, the same file passes
    mapped = extract_sources(str(folder), {"ssd_person": SourceMapping(
        columns={"pers_date_of_birth": "pers_dob"})}, strict=False)
    assert mapped["ssd_person"].usable and str(mapped["ssd_person"].frame.loc[0, "pers_dob"]) == "2015-01-02"


def test_dates_in_mixed_formats_are_read_and_unparseable_ones_reported_by_id(tmp_path):
    referrals = [{"cine_referral_id": rid, "cine_person_id": "P1", "cine_referral_date": day,
                  "cine_cin_primary_need_code": "N1", "cine_referral_nfa": "N"}
                 for rid, day in [("R1", "2024-03-01"), ("R2", "02/03/2024"), ("R3", "3 March 2024"),
                                  ("R4", "2024-03-04T10:30:00"), ("R5", "31/02/2024"), ("R6", "soon")]]
    folder = drop_folder(tmp_path, {"ssd_cin_episodes": referrals})
    extracts, report = validate(folder, only=["ssd_cin_episodes"])
    dates = [str(d) for d in extracts["ssd_cin_episodes"].frame["cine_referral_date"]]
    assert dates == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "None", "None"]
    result = failed(report, "ssd_cin_episodes", "dates_parseable", "cine_referral_date")
    assert (result.severity, result.unexpected, result.example_ids) == ("critical", 2, ["R5", "R6"])
    assert "31/02/2024" not in result.message() and "soon" not in result.message()  # ids only
    assert report.blocked_tables == []  # a column-level failure: only the column's readers stop
    assert report.failed_columns == {"ssd_cin_episodes": ["cine_referral_date"]}


def test_end_before_start(tmp_path):
    plans = CP_PLANS + [{"cppl_cp_plan_id": "CP3", "cppl_person_id": "P2",
                         "cppl_cp_plan_start_date": "2024-03-10", "cppl_cp_plan_end_date": "2024-03-09"}]
    folder = drop_folder(tmp_path, {"ssd_cp_plans": plans})
    _, report = validate(folder, only=["ssd_cp_plans"])
    result = failed(report, "ssd_cp_plans", "date_order")
    assert result.column == "cppl_cp_plan_start_date, cppl_cp_plan_end_date"
    assert (result.severity, result.unexpected, result.checked, result.example_ids) == ("critical", 1, 2, ["CP3"])
    assert result.detail == "cppl_cp_plan_start_date must not be after cppl_cp_plan_end_date"


def test_future_dates_fail_but_due_dates_may_lie_ahead(tmp_path):
    contacts = [{"cont_contact_id": "C1", "cont_person_id": "P1", "cont_contact_date": "2024-04-01"},
                {"cont_contact_id": "C2", "cont_person_id": "P1", "cont_contact_date": "2024-04-06"},
                {"cont_contact_id": "C3", "cont_person_id": "P2", "cont_contact_date": "2042-04-01"},
                {"cont_contact_id": "C4", "cont_person_id": "P2", "cont_contact_date": "0204-03-01"}]
    reviews = [{"cppr_cp_review_id": "RV1", "cppr_person_id": "P1", "cppr_cp_plan_id": "CP1",
                "cppr_cp_review_due": "2024-07-10", "cppr_cp_review_participation": "PN1"}]
    folder = drop_folder(tmp_path, {"ssd_contacts": contacts, "ssd_cp_reviews": reviews,
                                    "ssd_cp_plans": CP_PLANS})
    _, report = validate(folder, only=["ssd_contacts", "ssd_cp_reviews", "ssd_cp_plans"])
    result = failed(report, "ssd_contacts", "date_plausible", "cont_contact_date")
    assert (result.severity, result.unexpected, result.example_ids) == ("critical", 3, ["C2", "C3", "C4"])
    assert result.detail == "cont_contact_date must lie between 1900-01-01 and the extract date"
    assert report.failed_columns == {"ssd_contacts": ["cont_contact_date"]}
    due = [r for r in report.results if r.rule == "planned_date_plausible"]
    assert [(r.column, r.success) for r in due] == [("cppr_cp_review_due", True)]


def test_duplicate_ids(tmp_path):
    folder = drop_folder(tmp_path, {"ssd_person": PEOPLE + [dict(PEOPLE[0], pers_sex="M")]})
    _, report = validate(folder, only=["ssd_person"])
    result = failed(report, "ssd_person", "row_key_unique")
    assert (result.severity, result.unexpected, result.example_ids) == ("critical", 2, ["P1"])
    assert result.detail == "each pers_person_id must appear once"


def test_orphan_foreign_keys(tmp_path):
    visits = [{"cppv_cp_visit_id": "V1", "cppv_person_id": "P1", "cppv_cp_plan_id": "CP1",
               "cppv_cp_visit_date": "2024-03-01"},
              {"cppv_cp_visit_id": "V2", "cppv_person_id": "P1", "cppv_cp_plan_id": "CP9",
               "cppv_cp_visit_date": "2024-03-02"},
              {"cppv_cp_visit_id": "V3", "cppv_person_id": "P7", "cppv_cp_plan_id": "CP1",
               "cppv_cp_visit_date": "2024-03-03"}]
    folder = drop_folder(tmp_path, {"ssd_person": PEOPLE, "ssd_cp_plans": CP_PLANS,
                                    "ssd_cp_visits": visits})
    _, report = validate(folder, only=["ssd_person", "ssd_cp_plans", "ssd_cp_visits"])
    plan = failed(report, "ssd_cp_visits", "references", "cppv_cp_plan_id")
    assert (plan.severity, plan.unexpected, plan.checked, plan.example_ids) == ("critical", 1, 3, ["V2"])
    assert plan.detail == "cppv_cp_plan_id must match a cppl_cp_plan_id in ssd_cp_plans"
    person = failed(report, "ssd_cp_visits", "references", "cppv_person_id")
    assert (person.severity, person.example_ids) == ("warning", ["V3"])
    assert report.failed_columns == {"ssd_cp_visits": ["cppv_cp_plan_id"]}  # the join key


def test_codes_outside_the_list(tmp_path):
    people = PEOPLE + [{"pers_person_id": "P3", "pers_sex": "Male", "pers_ethnicity": "WBRI",
                        "pers_dob": "2017-01-01"}]
    placements = [{"clap_cla_placement_id": f"PL{i}", "clap_cla_id": "CLA1", "clap_person_id": "P1",
                   "clap_cla_placement_start_date": "2024-01-01", "clap_cla_placement_type": code}
                  for i, code in enumerate(["U1", "K2", "FOSTER", "U3"], start=1)]
    folder = drop_folder(tmp_path, {"ssd_person": people, "ssd_cla_placement": placements})
    _, report = validate(folder, only=["ssd_person", "ssd_cla_placement"])
    kind = failed(report, "ssd_cla_placement", "in_code_list", "clap_cla_placement_type")
    assert (kind.severity, kind.unexpected, kind.example_ids) == ("critical", 1, ["PL3"])
    assert "SSD ssd_cla_placement.yml clap_cla_placement_type (CLAP004A)" in kind.detail
    sex = failed(report, "ssd_person", "in_code_list", "pers_sex")
    assert (sex.severity, sex.example_ids) == ("warning", ["P3"])  # LAs vary: a warning
    assert report.failed_columns == {"ssd_cla_placement": ["clap_cla_placement_type"]}


def test_empty_file(tmp_path):
    folder = drop_folder(tmp_path)
    (folder / "ssd_contacts.csv").write_bytes(b"")
    _, report = validate(folder, only=["ssd_contacts"])
    result = failed(report, "ssd_contacts", "file_not_empty")
    assert result.severity == "critical" and result.detail.endswith("(ssd_contacts.csv): the file is empty")
    assert report.blocked_tables == ["ssd_contacts"]


def test_truncated_file_cut_mid_row(tmp_path):
    text = csv_text("ssd_contacts", [
        {"cont_contact_id": "C1", "cont_person_id": "P1", "cont_contact_date": "2024-04-01", "cont_contact_source_code": "1A"},
        {"cont_contact_id": "C2", "cont_person_id": "P2", "cont_contact_date": "2024-04-02", "cont_contact_source_code": "1B"}])
    folder = drop_folder(tmp_path)
    (folder / "ssd_contacts.csv").write_text(text + "C3,P3,2024-0")  # the copy stopped here
    extracts, report = validate(folder, only=["ssd_contacts"])
    result = failed(report, "ssd_contacts", "file_complete")
    assert result.severity == "critical"
    assert "truncated: its last line (line 4) stops after 3 of 4 columns" in result.detail
    assert report.blocked_tables == ["ssd_contacts"]
    assert extracts["ssd_contacts"].raw_bytes.endswith(b"2024-0")  # archived as read


def test_cp1252_file_with_pound_sign_and_accented_names(tmp_path):
    text = csv_text("ssd_professionals", [
        {"prof_professional_id": "W1", "prof_staff_id": "S1", "prof_professional_name": "Zoë Brontë",
         "prof_professional_job_title": "Social Worker £ band", "prof_full_time_equivalency": "1",
         "prof_agency_worker_flag": "N"},
        {"prof_professional_id": "W1", "prof_staff_id": "S2", "prof_professional_name": "José Núñez",
         "prof_full_time_equivalency": "0.5", "prof_agency_worker_flag": "Y"}])
    folder = drop_folder(tmp_path)
    (folder / "ssd_professionals.csv").write_bytes(text.encode("cp1252"))
    extracts, report = validate(folder, only=["ssd_professionals"])
    frame = extracts["ssd_professionals"].frame
    assert list(frame["prof_professional_name"]) == ["Zoë Brontë", "José Núñez"]
    assert frame.loc[0, "prof_professional_job_title"] == "Social Worker £ band"
    result = failed(report, "ssd_professionals", "row_key_unique")
    assert result.example_ids == ["W1"]
    text = "\n".join(a.text() for a in build_alerts(report, Period.month("2024-03")))
    assert "Zoë" not in text and "José" not in text and "W1" in text  # ids only, never names


def test_xlsx_with_title_rows_above_the_header_and_merged_cells(tmp_path):
    folder = drop_folder(tmp_path, skip=("ssd_person",))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Children's services: people extract"])
    sheet.merge_cells("A1:E1")
    sheet.append(["Run 05/04/2024"])
    sheet.append([])
    sheet.append(["pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob", "pers_death_date"])
    sheet.append(["P1", "F", "WBRI", date(2015, 1, 2), None])
    sheet.append(["P2", None, "WBRI", "04/03/2016", None])
    sheet.append(["P3", "M", "APKN", date(2017, 5, 6), None])
    sheet.merge_cells("B5:B6")  # sex recorded once for two siblings
    workbook.save(folder / "ssd_person.xlsx")
    extracts, report = validate(folder, only=["ssd_person"])
    frame = extracts["ssd_person"].frame
    assert list(frame["pers_person_id"]) == ["P1", "P2", "P3"]
    assert list(frame["pers_sex"]) == ["F", "F", "M"]
    assert [str(d) for d in frame["pers_dob"]] == ["2015-01-02", "2016-03-04", "2017-05-06"]
    assert report.blocked_tables == [] and not report.warnings


def test_database_source_whose_table_is_missing(tmp_path):
    url = f"sqlite:///{tmp_path / 'cms.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for name in CASE_SYSTEM_TABLES:
            if name != "ssd_cp_reviews":
                columns = ", ".join(f"{c} text" for c in TABLES[name].column_names)
                connection.execute(sa.text(f"create table {name} ({columns})"))
        connection.execute(sa.text("insert into ssd_person (pers_person_id, pers_sex, pers_dob) "
                                   "values ('P1', 'F', '2015-01-02')"))
    engine.dispose()
    extracts = extract_sources(url, strict=False)
    report = validate_extracts(extracts, EXTRACT_DATE)
    result = failed(report, "ssd_cp_reviews", "table_present")
    assert result.detail == "database source: table ssd_cp_reviews not found (nor a view of that name)"
    assert report.blocked_tables == ["ssd_cp_reviews"]
    assert str(extracts["ssd_person"].frame.loc[0, "pers_dob"]) == "2015-01-02"


def test_a_stale_extract_is_reported_by_file_age_and_by_the_newest_record(tmp_path):
    import os
    contacts = [{"cont_contact_id": "C1", "cont_person_id": "P1", "cont_contact_date": "2024-01-31"}]
    folder = drop_folder(tmp_path, {"ssd_contacts": contacts, "ssd_person": PEOPLE})
    old = datetime(2024, 3, 1, 9, tzinfo=timezone.utc).timestamp()
    os.utime(folder / "ssd_contacts.csv", (old, old))
    _, report = validate(folder, only=["ssd_contacts", "ssd_person"])
    age = failed(report, "ssd_contacts", "file_age")
    assert age.severity == "warning"
    assert age.detail == "the file was last changed 35 days before the extract date (limit 7 days)"
    fresh = failed(report, "ssd_contacts", "freshness", "cont_contact_date")
    assert fresh.severity == "warning" and "the newest cont_contact_date is 2024-01-31" in fresh.detail
    assert "on or after 2024-03-22 (14 days before the extract date)" in fresh.detail
    assert report.blocked_tables == []  # stale is a warning: the run goes ahead and says so


# --- the gate as a whole --------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_extracts(tmp_path_factory):
    from qaloop.synthetic import generate_la
    folder = tmp_path_factory.mktemp("synthetic")
    generate_la(folder, EXTRACT_DATE, children=400, seed=7)
    return extract_sources(str(folder), strict=False)


def test_a_valid_extract_passes_every_critical_rule_and_builds_data_docs(synthetic_extracts, tmp_path):
    report = validate_extracts(synthetic_extracts, EXTRACT_DATE, docs_dir=tmp_path / "docs")
    assert set(synthetic_extracts) == set(TABLES)  # every contract table
    assert report.failures == [] and report.blocked_tables == []
    critical = [r for r in report.results if r.severity == "critical"]
    assert len(critical) > 250 and all(r.success for r in critical)
    checked = {r.table for r in report.results if r.rule == "row_key_unique"}
    assert checked == set(TABLES)
    index = report.data_docs_index
    assert index == tmp_path / "docs" / "index.html" and index.exists()
    assert "ssd_cp_visits" in index.read_text(encoding="utf-8")
    assert (tmp_path / "docs" / "expectations" / "ssd_cp_visits.html").exists()


OUTSIDE_FETCH = re.compile(r"<(?:link|script|img)\b[^>]*(?:href|src)=\"https?://", re.I)


def test_data_docs_read_offline_and_show_a_warning_as_a_warning(synthetic_extracts, tmp_path):
    """GE's pages fetch Bootstrap, jQuery and icons from CDNs and fill the index by script:
    on a network without internet they were blank. Here nothing is fetched from outside."""
    extracts = {n: synthetic_extracts[n] for n in ("ssd_contacts", "ssd_person")}
    now = {n: len(e.frame) for n, e in extracts.items()}
    previous = {"ssd_contacts": int(now["ssd_contacts"] / 1.4), "ssd_person": now["ssd_person"]}
    report = validate_extracts(extracts, EXTRACT_DATE, previous,
                               ValidationSettings(row_change_limit=0.3, row_shrink_limit=0.5),
                               docs_dir=tmp_path / "docs")
    assert report.failures == [] and [w.rule for w in report.warnings] == ["row_count_change"]
    pages = list((tmp_path / "docs").rglob("*.html"))
    assert len(pages) >= 5
    assert [p for p in pages if OUTSIDE_FETCH.search(p.read_text(encoding="utf-8"))] == []
    assert [p for p in pages if "<script" in p.read_text(encoding="utf-8")] == []
    assert (tmp_path / "docs" / "static" / "styles" / "qaloop_offline.css").is_file()
    index = report.data_docs_index.read_text(encoding="utf-8")
    assert "1 warning(s), no critical rule broken." in index
    assert "Warning: 1 rule(s) not met; figures published" in index  # ssd_contacts' row
    assert "row_count_change" in index and "Failed" not in index
    results_page = next((tmp_path / "docs" / "validations" / "ssd_contacts").rglob("*.html"))
    html = results_page.read_text(encoding="utf-8")
    assert "Warning: 1 rule(s) not met (no critical rule broken)" in html and "Failed</" not in html
    assert 'class="met">Met</span>' in html and "fa-check-circle" not in html


def test_row_count_change_warns_and_drastic_shrinkage_blocks(synthetic_extracts):
    extracts = {n: synthetic_extracts[n] for n in ("ssd_contacts", "ssd_person", "ssd_cp_plans")}
    now = {n: len(e.frame) for n, e in extracts.items()}
    previous = {"ssd_contacts": now["ssd_contacts"] * 3, "ssd_person": int(now["ssd_person"] / 1.4),
                "ssd_cp_plans": now["ssd_cp_plans"]}
    report = validate_extracts(extracts, EXTRACT_DATE, previous,
                               ValidationSettings(row_change_limit=0.3, row_shrink_limit=0.5))
    shrunk = failed(report, "ssd_contacts", "row_count_shrunk")
    assert shrunk.severity == "critical" and f"against {now['ssd_contacts'] * 3}" in shrunk.detail
    grown = failed(report, "ssd_person", "row_count_change")
    assert grown.severity == "warning" and "+40%" in grown.detail
    assert report.blocked_tables == ["ssd_contacts"]


# --- alerts ---------------------------------------------------------------------------

class SmtpServer:
    """A real SMTP server (aiosmtpd) collecting what it receives; with `login`, it
    requires that user name and password (AUTH PLAIN/LOGIN, allowed without TLS here)."""

    def __init__(self, login: tuple[str, str] | None = None, port: int | None = None):
        from aiosmtpd.controller import Controller
        self.messages, self.logins = [], []
        if port is None:
            with socket.socket() as probe:  # a free port
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        options = {}
        if login:
            options = {"authenticator": self._authenticate(login), "auth_required": True,
                       "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=port, **options)

    def _authenticate(self, login):
        from aiosmtpd.smtp import AuthResult

        def check(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            self.logins.append(given[0])
            return AuthResult(success=given == login)
        return check

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def settings(self) -> EmailSettings:
        return EmailSettings(self.controller.hostname, self.controller.port,
                             "qaloop@la.example", ("performance@la.example",))


def pii_report(tmp_path):
    """A duplicate worker (with a name) and a date of birth in the future."""
    professionals = [{"prof_professional_id": "W7", "prof_professional_name": "Zoë Brontë",
                      "prof_agency_worker_flag": "N"},
                     {"prof_professional_id": "W7", "prof_professional_name": "Amira Khan",
                      "prof_agency_worker_flag": "N"}]
    people = PEOPLE + [{"pers_person_id": "P9", "pers_sex": "F", "pers_dob": "2031-07-14"}]
    folder = drop_folder(tmp_path, {"ssd_professionals": professionals, "ssd_person": people})
    return validate(folder, only=["ssd_professionals", "ssd_person"])


def test_alerts_are_delivered_over_smtp_with_ids_and_no_personal_data(tmp_path, sqlite_warehouse):
    extracts, report = pii_report(tmp_path)
    alerts = build_alerts(report, Period.month("2024-03"), {n: e.sha256 for n, e in extracts.items()})
    assert [(a.table, a.rule) for a in alerts] == [("ssd_professionals", "row_key_unique"),
                                                  ("ssd_person", "date_plausible")]
    with SmtpServer() as server:
        delivery = deliver_alerts(sqlite_warehouse, alerts, "run-1", email=server.settings)
        time.sleep(0.2)
    assert len(delivery.sent) == 2 and not delivery.errors
    subjects = [str(m["Subject"]).strip() for m in server.messages]
    assert subjects == ["[qaloop data quality] CRITICAL 2024-03 ssd_professionals.prof_professional_id: row_key_unique",
                        "[qaloop data quality] CRITICAL 2024-03 ssd_person.pers_dob: date_plausible"]
    body = server.messages[1].get_content()
    assert "Table:       ssd_person" in body and "Column:      pers_dob" in body
    assert "Rows:        1 of 3" in body and "Example ids: P9" in body
    assert "What to do:  Correct the date on the example records" in body
    # a column-level failure withholds only the KPIs reading the column, a table-level one the table
    assert "the KPIs reading ssd_person.pers_dob are withheld for 2024-03" in body
    assert "ssd_professionals is blocked for 2024-03" in server.messages[0].get_content()
    everything = "\n".join(m.get_content() for m in server.messages)
    assert "W7" in everything
    for personal in ("Zoë", "Brontë", "Amira", "Khan", "2031-07-14", "14/07/2031", "2015-01-02"):
        assert personal not in everything
    assert server.messages[0]["To"] == "performance@la.example"


def test_rerunning_the_same_period_on_the_same_extracts_sends_nothing_twice(tmp_path, sqlite_warehouse):
    extracts, report = pii_report(tmp_path)
    checksums = {n: e.sha256 for n, e in extracts.items()}
    alerts = build_alerts(report, Period.month("2024-03"), checksums)
    with SmtpServer() as server:
        first = deliver_alerts(sqlite_warehouse, alerts, "run-1", email=server.settings)
        again = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-03"), checksums),
                               "run-2", email=server.settings)
        changed = dict(checksums, ssd_person=hashlib.sha256(b"a new extract").hexdigest())
        new_extract = deliver_alerts(sqlite_warehouse, build_alerts(report, Period.month("2024-03"), changed),
                                     "run-3", email=server.settings)
        time.sleep(0.2)
    assert (len(first.sent), len(again.sent), len(again.already_sent)) == (2, 0, 2)
    assert [a.table for a in new_extract.sent] == ["ssd_person"]
    assert len(server.messages) == 3
    markdown = render_markdown(alerts, "data_docs/index.html")
    assert "| critical | ssd_person.csv | ssd_person | pers_dob | date_plausible" in markdown


def test_a_failing_channel_is_reported_and_retried_next_time(tmp_path, sqlite_warehouse, monkeypatch):
    from tasks.operations import notify
    monkeypatch.setattr(notify, "RETRY_DELAYS_SECONDS", (0.1, 0.1))
    _, report = pii_report(tmp_path)
    alerts = build_alerts(report, Period.month("2024-03"))
    down = EmailSettings("127.0.0.1", 9, "qaloop@la.example", ("performance@la.example",))
    failed_delivery = deliver_alerts(sqlite_warehouse, alerts, "run-1", email=down)
    assert failed_delivery.sent == [] and "ConnectionRefusedError" in failed_delivery.errors[0]
    with SmtpServer() as server:
        retried = deliver_alerts(sqlite_warehouse, alerts, "run-2", email=server.settings)
    assert len(retried.sent) == 2


def test_delivery_is_retried_with_back_off_within_the_run(tmp_path, sqlite_warehouse, monkeypatch):
    import threading
    from tasks.operations import notify
    _, report = pii_report(tmp_path)
    alerts = build_alerts(report, Period.month("2024-03"))
    server = SmtpServer()
    monkeypatch.setattr(notify, "RETRY_DELAYS_SECONDS", (1.5, 1.5))
    starter = threading.Timer(0.5, server.controller.start)  # the mail server comes back
    starter.start()
    try:
        delivery = deliver_alerts(sqlite_warehouse, alerts, "run-1", email=server.settings)
    finally:
        starter.join()
        time.sleep(0.2)
        server.controller.stop()
    assert len(delivery.sent) == 2 and not delivery.errors
    assert len(server.messages) == 2


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_alerts_log_in_to_an_smtp_server_that_requires_it(tmp_path, sqlite_warehouse):
    from tasks.core.settings import Notifications
    _, report = pii_report(tmp_path)
    alerts = build_alerts(report, Period.month("2024-03"))
    with SmtpServer(login=("qaloop", "s3cret")) as server:
        notifications = Notifications(smtp_host="127.0.0.1", smtp_port=server.controller.port,
                                      smtp_from="qaloop@la.example", smtp_to=("performance@la.example",),
                                      smtp_username="qaloop", smtp_password="s3cret")
        delivery = deliver_alerts(sqlite_warehouse, alerts, "run-1",
                                  email=EmailSettings.from_notifications(notifications))
        time.sleep(0.2)
    assert len(delivery.sent) == 2 and server.logins == ["qaloop"]
    assert "s3cret" not in repr(notifications)


def test_pass_rates_are_stored_per_run_for_the_trend(tmp_path, warehouse):
    _, report = pii_report(tmp_path)
    stored = store_dq_results(warehouse, "dq-run-1", Period.month("2099-02"), report)
    assert stored == len(report.results)
    store_dq_results(warehouse, "dq-run-2", Period.month("2099-03"), report)
    trend = dq_trend(warehouse)
    trend = trend[trend["period"].isin(["2099-02", "2099-03"])]
    dob = trend[(trend["table_name"] == "ssd_person") & (trend["rule"] == "date_plausible")
                & (trend["column_name"] == "pers_dob")]
    assert list(dob["period"]) == ["2099-02", "2099-03"]
    assert list(dob["pass_rate"].round(4)) == [round(2 / 3, 4)] * 2


def test_row_counts_are_those_of_the_tables_last_good_load_whatever_its_source(sqlite_warehouse):
    """The baseline of the row-count rules is the warehouse itself (a table failing a
    critical table-level rule is never loaded), not a run from the same source path."""
    import pandas as pd
    from tasks.extract.extracts import conform
    from tasks.warehouse.database import replace_source_tables
    people = pd.DataFrame({"pers_person_id": [f"P{i}" for i in range(12)]})
    replace_source_tables(sqlite_warehouse, {"ssd_person": conform(TABLES["ssd_person"], people.reindex(
        columns=TABLES["ssd_person"].column_names))})
    assert loaded_row_counts(sqlite_warehouse) == {"ssd_person": 12}  # empty tables left out


def test_validation_limits_come_from_the_settings_file(tmp_path):
    from tasks.core.settings import SettingsError, load_settings
    config = tmp_path / "qaloop.toml"
    config.write_text("[validation]\nrow_change_limit = 0.1\nmax_file_age_days = 2\n", encoding="utf-8")
    limits = load_settings(config).validation
    assert (limits.row_change_limit, limits.row_shrink_limit, limits.max_file_age_days) == (0.1, 0.5, 2)
    people = [{"pers_person_id": f"P{i}", "pers_sex": "F", "pers_dob": "2015-01-02"} for i in range(8)]
    folder = drop_folder(tmp_path, {"ssd_person": people})
    _, by_default = validate(folder, only=["ssd_person"], previous_row_counts={"ssd_person": 10})
    assert not [r for r in by_default.warnings if r.rule == "row_count_change"]  # -20% is within 25%
    _, report = validate(folder, only=["ssd_person"], previous_row_counts={"ssd_person": 10},
                         settings=limits)
    moved = failed(report, "ssd_person", "row_count_change")  # 8 rows against 10: -20% > 10%
    assert moved.severity == "warning" and "limits 10% change" in moved.detail
    config.write_text("[validation]\nrow_limit = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[validation\] row_limit: unknown key"):
        load_settings(config)
