"""Audit findings in the monthly QA outputs (issue 15 point 4): the rule that decides
which auditors' summaries may be shown (tasks/reports/findings.py), and the "Audit
findings" sections of the monthly QA report and QA on a page (QA12/QA13 by domain)."""

import logging

import pandas as pd
import pytest

from tasks.kpis.compute import VALUE_COLUMNS
from tasks.kpis.registry import load_registry
from tasks.reports import findings
from tasks.reports.findings import DEVELOPMENT, PERSON_ID, STAFF, STRENGTH, Identifiers, shareable_summaries
from tasks.reports.render import render_monthly_qa_report, render_qa_on_a_page
from tests.pdfs import read_pdf
from tests.test_qa_outputs import FEBRUARY, EARLIER, KPIS, LA, MARCH, PERIOD, TARGETS, run_info, table_row, \
    text_of

FINDINGS_KPIS = [k for k in load_registry() if k.scorecard == "qa_findings"]
IDS = Identifiers.of(person_ids=["P1001", "1234567", "C-88"], staff_ids=["S01", "PROF-7", "7"],
                     names=["Sarah O'Brien", "Tom Behind", "Al Li"])


@pytest.mark.parametrize("summary, reason", [
    ("Sarah's visits are purposeful", STAFF),                  # a first name, possessive
    ("Visits by SARAH are purposeful", STAFF),                 # case-insensitive
    ("The worker (O'Brien) knows the child well", STAFF),      # a surname with an apostrophe
    ("Tom Behind gives clear direction", STAFF),
    ("Allocated to s01 since March", STAFF),                   # a staff id
    ("Actions for prof-7 are overdue", STAFF),                 # an id of several words
    ("Child P1001 is seen alone", PERSON_ID),
    ("Case 1234567 has a clear plan", PERSON_ID),
    ("See c-88's chronology", PERSON_ID),
    ("The plan is specific, with clear timescales", None),
    ("Sarahs plans are clear", None),                          # whole words only
    ("Tomorrow the plan is reviewed", None),                   # "tom" is not inside "tomorrow"
    ("Al spoke to 7 agencies; Li was there", None),            # words and ids under 3 characters ignored
    ("P10011 is not P1001's neighbour... P1001", PERSON_ID),
])
def test_a_summary_naming_anyone_from_the_extracts_is_dropped(summary, reason):
    assert IDS.reason_to_drop(summary) == reason


def frame(rows):
    return pd.DataFrame(rows, columns=["finding_id", "domain", "finding_type", "summary", "share"])


def test_only_approved_summaries_naming_no_one_are_shown_and_drops_are_logged_without_text(caplog):
    rows = frame([
        ("F1", "Planning", "strength", "The plan is specific, with clear timescales", "Y"),
        ("F2", "Recording", "area_for_development", "Chronology is not up to date", "N"),   # not approved
        ("F3", "Supervision", "strength", "Sarah gives reflective supervision", "Y"),        # a worker's name
        ("F4", "Voice of the child", "area_for_development", "P1001's views are not recorded", "y"),  # a person id
        ("F5", "Assessment", "Area for development", "Case recording is not timely.", "Yes"),
        ("F6", "Planning", "strength", "The plan is specific, with clear timescales", "Y"),  # the same text again
        ("F7", "Planning", "strength", None, "Y"),
    ])
    with caplog.at_level(logging.WARNING, logger="qaloop.qa"):
        shared = shareable_summaries(rows, IDS)
    assert [s["summary"] for s in shared.shown] == ["The plan is specific, with clear timescales.",
                                                    "Case recording is not timely."]
    assert [s["domain"] for s in shared.of_type(STRENGTH)] == ["Planning"]
    assert [s["domain"] for s in shared.of_type(DEVELOPMENT)] == ["Assessment"]
    two = shareable_summaries(frame([("F1", "Planning", "strength", "A", "Y"),
                                     ("F2", "Recording", "strength", "B", "Y")]), IDS)
    assert [s["domain"] for s in two.of_type(STRENGTH, 1, ["Recording"])] == ["Recording"]  # most often first
    assert shared.dropped == {PERSON_ID: 1, STAFF: 1} and shared.not_approved == 1
    log = caplog.text
    assert "2 audit finding summaries approved for sharing not shown" in log
    assert "1 contains a person id" in log and "1 contains a staff member's or professional's name or id" in log
    assert "Sarah" not in log and "P1001" not in log and "views are not recorded" not in log


def test_the_most_often_named_domains_leave_out_small_counts():
    counts = {"Recording": 9.0, "Planning": 9.0, "Assessment": 6.0, "Voice": 5.0, "Supervision": 4.0,
              "Outcomes": None}
    assert findings.most_often(counts, 5) == [("Planning", 9.0), ("Recording", 9.0), ("Assessment", 6.0)]
    assert findings.most_often({"Planning": 7.0, "Supervision": 4.0}, 5) == [("Planning", 7.0)]
    assert findings.most_often({"Planning": 4.0, "Recording": 2.0}, 5) == []


# --- the reports -----------------------------------------------------------------------------------


def la(kpi_id, value, period=PERIOD):
    return (kpi_id, period, "la", LA[0], LA[1], value, value, None)


FINDING_VALUES = [
    la("QA12", 14), la("QA13", 11),
    la("QA12:domain=Voice of the child", 8), la("QA12:domain=Planning", 8), la("QA12:domain=Assessment", 3),
    la("QA12:domain=Recording", 0),
    la("QA13:domain=Recording", 7), la("QA13:domain=Planning", 2), la("QA13:domain=Voice of the child", 0),
    la("QA13:domain=Supervision", 5),
]
SHARED = shareable_summaries(frame([
    ("F1", "Voice of the child", "strength", "The child's wishes and feelings are recorded in their own words", "Y"),
    ("F2", "Planning", "strength", "Partner agencies contributed to the plan", "Y"),
    ("F3", "Recording", "area_for_development", "Chronology is not up to date", "Y"),
    ("F4", "Recording", "area_for_development", "Case recording is not timely", "N"),
    ("F5", "Supervision", "strength", "Tom Behind gives clear direction", "Y"),
]), IDS)


@pytest.fixture
def frames():
    values = pd.DataFrame(MARCH + FINDING_VALUES, columns=VALUE_COLUMNS)
    trend = pd.DataFrame(FEBRUARY + EARLIER, columns=VALUE_COLUMNS)
    return values, trend


def test_the_monthly_report_has_the_audit_findings_section(frames, tmp_path):
    values, trend = frames
    html_path, pdf_path = render_monthly_qa_report(values, trend, KPIS, run_info(), tmp_path, TARGETS,
                                                   findings=FINDINGS_KPIS, summaries=SHARED)
    markup = html_path.read_text(encoding="utf-8")
    assert table_row(markup, "Voice of the child") == ["Voice of the child", "8", "0"]
    assert table_row(markup, "Planning") == ["Planning", "8", "<5"]
    assert table_row(markup, "Assessment") == ["Assessment", "<5", "n/a"]
    assert table_row(markup, "Recording") == ["Recording", "0", "7"]
    assert table_row(markup, "Supervision") == ["Supervision", "n/a", "5"]
    text = read_pdf(pdf_path).text
    assert "Audit findings" in text
    assert ("Of the 20 audits completed this month, 14 recorded at least one strength and 11 at least one "
            "area for development") in text
    assert "Strengths most often recorded: Planning (8 audits); Voice of the child (8 audits)." in text
    assert "Areas for development most often recorded: Recording (7 audits); Supervision (5 audits)." in text
    assert "The child's wishes and feelings are recorded in their own words." in text
    assert "Chronology is not up to date." in text
    assert "Case recording is not timely" not in text           # share = N
    assert "Tom Behind" not in text and "gives clear direction" not in text  # names a worker: dropped
    assert "1 approved summary was left out" in " ".join(text_of(markup).split())


def test_qa_on_a_page_leads_the_learning_and_stays_one_page(frames, tmp_path):
    values, trend = frames
    pdf = read_pdf(render_qa_on_a_page(values, trend, KPIS, run_info(), tmp_path, TARGETS,
                                       findings=FINDINGS_KPIS, summaries=SHARED))
    assert pdf.pages == 1 and pdf.a4_portrait
    assert pdf.text.index("What audits found this month") < pdf.text.index("What changed since")
    assert "Strengths most often recorded: Planning (8 audits); Voice of the child (8 audits)." in pdf.text
    assert "Areas for development most often recorded: Recording (7 audits); Supervision (5 audits)." in pdf.text
    assert "Chronology is not up to date." in pdf.text
    assert "Tom Behind" not in pdf.text


def test_without_the_findings_table_the_sections_say_so_in_one_line(tmp_path):
    values = pd.DataFrame(MARCH, columns=VALUE_COLUMNS)
    trend = pd.DataFrame(FEBRUARY + EARLIER, columns=VALUE_COLUMNS)
    html_path, pdf_path = render_monthly_qa_report(values, trend, KPIS, run_info(), tmp_path, TARGETS)
    page = read_pdf(render_qa_on_a_page(values, trend, KPIS, run_info(), tmp_path, TARGETS))
    report = read_pdf(pdf_path).text
    for text in (report, page.text):
        assert "Audit findings were not supplied this month" in text
    assert "Practice domain" not in report and page.pages == 1


# --- read from the warehouse -----------------------------------------------------------------------


def test_the_month_s_shareable_summaries_are_read_from_the_warehouse(warehouse, caplog):
    from tasks.core.periods import Period
    from tasks.reports.qa_outputs import shared_summaries
    from tests.kpi_harness import load_tables

    def finding(finding_id, audit_id, summary, share="Y", finding_type="strength"):
        return {"finding_id": finding_id, "audit_id": audit_id, "domain": "Planning",
                "finding_type": finding_type, "summary": summary, "share": share}

    load_tables(warehouse, {
        "ssd_person": [{"pers_person_id": "P7001"}],
        "ssd_professionals": [{"prof_professional_id": "W1", "prof_staff_id": "STF-22",
                               "prof_professional_name": "Priya Patel"}],
        "qa_staff": [{"staff_id": "S9", "name": "Gareth Jones", "role": "Team Manager"}],
        "qa_audits": [{"audit_id": "A1", "completed_date": "2024-03-05"},
                      {"audit_id": "A2", "completed_date": "2024-02-28"}],
        "qa_audit_findings": [
            finding("F1", "A1", "The plan is specific"),
            finding("F2", "A1", "Priya's visits are purposeful"),        # a professional's name
            finding("F3", "A1", "Gareth gives clear direction"),          # a staff member's name
            finding("F4", "A1", "Recorded for STF-22 and p7001"),         # ids
            finding("F5", "A1", "Chronology is not up to date", "N", "area_for_development"),
            finding("F6", "A2", "Last month's audit"),                    # not this month
        ]})
    with caplog.at_level(logging.WARNING, logger="qaloop.qa"):
        shared = shared_summaries(warehouse, Period.month("2024-03"))
    assert [s["summary"] for s in shared.shown] == ["The plan is specific."]
    assert shared.dropped == {PERSON_ID: 1, STAFF: 2} and shared.not_approved == 1
    assert "3 audit finding summaries approved for sharing not shown" in caplog.text


def test_the_qa_workbook_lists_findings_by_domain_and_the_shareable_summaries(frames, tmp_path):
    from openpyxl import load_workbook
    from tasks.publish.qa_workbook import Findings, publish_qa_workbook
    from tests.test_qa_outputs import STAFF, records_frame, row_starting

    values, trend = frames
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa.xlsx", findings=Findings(FINDINGS_KPIS, SHARED.shown, 1))
    sheet = load_workbook(path)["Findings"]
    assert row_starting(sheet, "All domains (audits with any)")[:5] == ["All domains (audits with any)", 14, None,
                                                                        11, None]
    assert row_starting(sheet, "Assessment")[:5] == ["Assessment", 3, None, None, None]  # internal: not suppressed
    assert row_starting(sheet, "Supervision")[:4] == ["Supervision", None, None, 5]
    assert row_starting(sheet, "Chronology is not up to date.")[:3] == [
        "Chronology is not up to date.", "Area for development", "Recording"]
    texts = [c.value for r in sheet.iter_rows() for c in r if isinstance(c.value, str)]
    assert not any("Tom Behind" in t or "Case recording is not timely" in t for t in texts)

    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa2.xlsx", findings=Findings([], []))
    assert "was not supplied" in load_workbook(path)["Findings"]["A3"].value
