"""End to end (issue 15): the Prefect quarterly flow on a synthetic LA against a real
Prefect server: kpi_values.csv for the quarter against an independent computation from
the extract files, the three quarterly reports as a reader sees them (PDF text, small
numbers suppressed), the ledger and versioned outputs, and a re-run of two quarters."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

from qaloop.synthetic import generate_la
from tasks.core.periods import Period
from tasks.warehouse.database import make_engine, read_sql
from tests.configs import write_config
from tests.independent.complaints_participation import differences_from_the_reference, reference_figures
from tests.pdfs import read_pdf

QUARTER = "2024-Q1"
EDGE_MONTH = "2024-02"
START, END = date(2024, 1, 1), date(2024, 3, 31)
REPORTS = ("complaints_compliments", "drp_iro", "participation_surveys")


@pytest.fixture(scope="module")
def quarter_run(tmp_path_factory, prefect_server):
    from flows.quarterly import quarterly
    root = tmp_path_factory.mktemp("quarterly")
    source = root / "extracts"
    generate_la(source, as_at=date(2024, 4, 5), children=3000, seed=2024)
    config, settings = write_config(root / "data", synthetic=True, la_code="841")
    result = quarterly(period=QUARTER, source=str(source), out=str(root / "out"), config=config)
    return {"root": root, "source": source, "settings": settings, "config": config, "result": result,
            "out": root / "out" / "quarterly" / QUARTER}


def extract(run, table: str) -> pd.DataFrame:
    return pd.read_csv(run["source"] / f"{table}.csv", dtype=str, keep_default_na=False)


def published(run) -> pd.DataFrame:
    return pd.read_csv(run["out"] / "kpi_values.csv", dtype=str, keep_default_na=False)


def la_row(frame: pd.DataFrame, kpi_id: str) -> pd.Series:
    rows = frame[(frame["kpi_id"] == kpi_id) & (frame["level"] == "la")]
    assert len(rows) == 1, kpi_id
    return rows.iloc[0]


def day(text: str) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def in_quarter(text: str) -> bool:
    found = day(text)
    return found is not None and START <= found <= END


def test_the_synthetic_la_has_complaints_iro_and_surveys_across_the_quarter(quarter_run):
    for table, column in (("complaints", "received_date"), ("compliments", "received_date"),
                          ("iro_drp_alerts", "raised_date"), ("survey_responses", "submitted_date")):
        months = {day(d).month for d in extract(quarter_run, table)[column] if in_quarter(d)}
        assert months == {1, 2, 3}, table


def test_the_quarter_is_published_with_its_outputs_and_ledger(quarter_run):
    assert quarter_run["result"]["state"] == "Completed" and quarter_run["result"]["period"] == QUARTER
    names = sorted(p.name for p in quarter_run["out"].iterdir())
    assert names == sorted(["SYNTHETIC_DATA.txt", "kpi_values.csv", "run_metadata.json",
                            *(f"{r}_{QUARTER}.{ext}" for r in (*REPORTS, "qa_quarterly_report")
                              for ext in ("html", "pdf"))])
    frame = published(quarter_run)
    assert (frame["period"] == QUARTER).all()
    headline = {k for k in frame["kpi_id"] if ":" not in k}
    assert headline == {f"CMP0{i}" for i in range(1, 8)} | {f"IRO0{i}" for i in range(1, 6)} \
        | {"SUR01", "SUR02", "QA12", "QA13"}  # the other QA measures stay monthly
    metadata = json.loads((quarter_run["out"] / "run_metadata.json").read_text())
    assert metadata["period"] == QUARTER and metadata["synthetic"] is True
    engine = make_engine(quarter_run["settings"].resolved_warehouse_url)
    runs = read_sql(engine, "select flow, period, state from runs")
    stored = read_sql(engine, f"select count(*) as n from kpi_values where period = '{QUARTER}'")
    engine.dispose()
    assert runs.values.tolist() == [["quarterly", QUARTER, "Completed"]]
    assert int(stored["n"].iloc[0]) == len(frame)


def test_figures_equal_an_independent_computation_from_the_extracts(quarter_run):
    """Every LA-level CMP/IRO/SUR figure (value, numerator, denominator) of the quarter,
    sub-measures included, equals tests/independent/complaints_participation.py's."""
    frame = published(quarter_run)
    assert differences_from_the_reference(frame, quarter_run["source"], START, END) == []
    expected = reference_figures(quarter_run["source"], START, END)
    assert expected["CMP01"][0] > 0 and expected["SUR01"][0] > 0 and expected["IRO02"][2] > 0
    assert expected["CMP02"][2] > 0 and expected["CMP05"][2] > 0 and expected["IRO05"][2] > 0


def test_the_reports_read_as_a_reader_sees_them(quarter_run):
    texts = {}
    for report in REPORTS:
        pdf = read_pdf(quarter_run["out"] / f"{report}_{QUARTER}.pdf")
        assert pdf.a4_portrait and pdf.pages >= 1
        texts[report] = " ".join(pdf.text.split())
        assert "SYNTHETIC DATA" in texts[report] and quarter_run["result"]["run_id"] in texts[report]
        assert "Q1 2024 (January to March 2024)" in texts[report]
        assert "'<5' = a count of 1 to 4" in texts[report]
    complaints, iro, surveys = (texts[r] for r in REPORTS)
    for heading in ("Complaints and compliments report", "Complaints received by stage",
                    "Complaints received by complainant", "Complaints received by service area",
                    "Complaints upheld %: upheld %, partially upheld %", "Compliments received by theme", "By team",
                    "Trend over the last four quarters", "Stage 1 responded within timescale",
                    "Learning actions overdue", "Escalated to stage 2", "Complaints received by theme",
                    "Learning actions Raised from Raised in the period Completed in the period"):
        assert heading in complaints, heading
    for heading in ("Dispute resolution (DRP) and IRO report", "Dispute resolution alerts raised by stage",
                    "Dispute resolution alerts raised by theme", "Child participation in reviews", "Monitoring forms completed",
                    "DRP alerts open over 20 working days", "DRP alerts closed, by outcome"):
        assert heading in iro, heading
    for heading in ("Participation and survey report", "Positive answers by question", "Survey responses by survey",
                    "Survey responses by respondent type"):
        assert heading in surveys, heading
    assert "My worker listens to me" in surveys  # the question's text
    frame = published(quarter_run)
    cmp01 = la_row(frame, "CMP01")["value"]
    assert f"CMP01 Complaints received {int(float(cmp01)):,}" in complaints or int(float(cmp01)) < 5
    sur01 = int(float(la_row(frame, "SUR01")["value"]))
    assert f"SUR01 Survey responses {sur01:,}" in surveys


def test_no_count_of_one_to_four_is_shown_in_the_reports(quarter_run):
    """Every count of 1-4 in the quarter's figures is `<5` in the HTML the PDF is made from:
    no table cell of a count shows 1, 2, 3 or 4."""
    for report in REPORTS:
        html = (quarter_run["out"] / f"{report}_{QUARTER}.html").read_text()
        cells = re.findall(r'<td class="num">(?:<strong>)?([^<]*)', html)
        assert cells and not [c for c in cells if c.strip() in {"1", "2", "3", "4"}], report
        assert "&lt;5" in html or "*" in html  # the synthetic LA's quarter has small numbers to hide


def test_rerun_quarterly_over_two_quarters(quarter_run):
    from flows.backfill import rerun_quarterly
    results = rerun_quarterly(first="2023-Q4", last=QUARTER, source=str(quarter_run["source"]),
                              out=str(quarter_run["root"] / "out"), config=quarter_run["config"],
                              reason="complaints extract corrected")
    assert [r["period"] for r in results] == ["2023-Q4", QUARTER]
    assert results[1]["revision_note"] == "no figure changed"
    engine = make_engine(quarter_run["settings"].resolved_warehouse_url)
    runs = read_sql(engine, "select period, trigger, reason, state from runs where flow = 'quarterly' "
                            "order by started_at")
    engine.dispose()
    backfill = runs[runs["trigger"] == "backfill"].sort_values("period")  # run two at a time
    assert backfill[["period", "reason", "state"]].values.tolist() == [
        ["2023-Q4", "complaints extract corrected", "Completed"],
        [QUARTER, "complaints extract corrected", "Completed"]]
    assert (quarter_run["root"] / "out" / "quarterly" / "2023-Q4" / "kpi_values.csv").is_file()
    assert Period.quarter("2023-Q4").end == date(2023, 12, 31)


# --- the edge cases of kpis.md, appended to a synthetic LA's extracts ---------------------

def append_rows(folder, table: str, rows: list[dict]) -> None:
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    template = frame.iloc[0].to_dict()
    frame = pd.concat([frame, pd.DataFrame([template | row for row in rows])], ignore_index=True)
    frame.to_csv(path, index=False)


def add_edge_cases(folder) -> None:
    """Hand-worked rows for 2024-Q1 (period_end Sunday 31 March 2024; Good Friday 29 March,
    Christmas, Boxing Day and New Year's Day are bank holidays)."""
    complaint = {"parent_complaint_id": "", "extended": "N", "complainant_type": "parent or carer",
                 "outcome": "not upheld"}
    append_rows(folder, "complaints", [complaint | row | {"acknowledged_date": row["received_date"],
                                                          "response_due_date": row["received_date"]} for row in (
        # 15 Dec 2023 -> 3 Jan 2024 = 10 working days across Christmas and New Year: in time
        {"complaint_id": "CMPX01", "stage": "1", "received_date": "2023-12-15", "response_date": "2024-01-03",
         "outcome": "upheld"},
        # 1 Feb -> 29 Feb = 20 working days: in time only because extended ("yes" = Y)
        {"complaint_id": "CMPX02", "stage": "1", "received_date": "2024-02-01", "response_date": "2024-02-29",
         "extended": "yes", "outcome": "partially upheld"},
        # withdrawn with a response: in CMP02 and CMP04
        {"complaint_id": "CMPX03", "stage": "1", "received_date": "2024-01-10", "response_date": "2024-01-12",
         "outcome": "withdrawn"},
        # the Ombudsman, from "other": an adult
        {"complaint_id": "CMPX04", "stage": "LGSCO", "received_date": "2024-03-01", "response_date": "",
         "complainant_type": "other", "outcome": ""},
        # two stage 1 complaints responded to in 2023-Q4; one escalated in the quarter, one after it
        {"complaint_id": "CMPX05", "stage": "1", "received_date": "2023-11-01", "response_date": "2023-11-20"},
        {"complaint_id": "CMPX06", "stage": "1", "received_date": "2023-11-01", "response_date": "2023-11-21"},
        {"complaint_id": "CMPX07", "stage": "2", "parent_complaint_id": "CMPX05", "received_date": "2024-01-15",
         "response_date": "2024-03-28"},
        {"complaint_id": "CMPX08", "stage": "2", "parent_complaint_id": "CMPX06", "received_date": "2024-04-02",
         "response_date": ""},
    )])
    action = {"source": "complaint", "source_id": "CMPX01", "raised_date": "2024-01-05"}
    append_rows(folder, "learning_actions", [action | row for row in (
        {"action_id": "LAX1", "due_date": "2024-03-31", "completed_date": ""},  # due on period_end: not overdue
        {"action_id": "LAX2", "due_date": "2024-03-01", "completed_date": "2024-03-31"},  # closed on period_end
        {"action_id": "LAX3", "due_date": "2024-03-01", "completed_date": "2024-04-02"},  # open and overdue
    )])
    # 29 Feb -> 28 Mar (and -> 31 Mar) = 20 working days; from 28 Feb = 21
    append_rows(folder, "iro_drp_alerts", [row | {"resolution_due_date": row["raised_date"]} for row in (
        {"drp_id": "DX1", "raised_date": "2024-02-29", "resolved_date": "", "outcome": ""},
        {"drp_id": "DX2", "raised_date": "2024-02-28", "resolved_date": "", "outcome": ""},
        {"drp_id": "DX3", "raised_date": "2024-02-29", "resolved_date": "2024-03-28", "outcome": "resolved"},
        {"drp_id": "DX4", "raised_date": "2024-02-28", "resolved_date": "2024-03-28", "outcome": "resolved"},
    )])
    # PN0 (under 4) and PN7 (no views conveyed) and an empty code, in the quarter
    append_rows(folder, "ssd_cp_reviews", [
        {"cppr_cp_review_id": f"CPRX{i}", "cppr_cp_review_date": day, "cppr_cp_review_participation": code}
        for i, (day, code) in enumerate((("2024-02-05", "PN0"), ("2024-02-06", "PN7"), ("2024-02-07", "")))])
    # IRO05: a cancelled CLA review with a form is not held; a transfer-in ICPC is a CP
    # conference; a form a day away from its CP review does not match
    cla = pd.read_csv(folder / "ssd_cla_reviews.csv", dtype=str, keep_default_na=False).iloc[0]
    icpc = pd.read_csv(folder / "ssd_initial_cp_conference.csv", dtype=str, keep_default_na=False).iloc[0]
    cp = pd.read_csv(folder / "ssd_cp_reviews.csv", dtype=str, keep_default_na=False).iloc[0]
    append_rows(folder, "ssd_cla_reviews", [
        {"clar_cla_review_id": "CLRX1", "clar_cla_review_due_date": "2024-02-12", "clar_cla_review_date": "2024-02-12",
         "clar_cla_review_cancelled": "Y", "clar_cla_review_participation": "PN1"},
        {"clar_cla_review_id": "CLRX2", "clar_cla_review_due_date": "2024-02-13", "clar_cla_review_date": "2024-02-13",
         "clar_cla_review_cancelled": "N", "clar_cla_review_participation": "PN2"}])
    append_rows(folder, "ssd_initial_cp_conference", [
        {"icpc_icpc_id": "ICX1", "icpc_icpc_transfer_in": "Y", "icpc_icpc_target_date": "2024-03-05",
         "icpc_icpc_date": "2024-03-05"}])
    append_rows(folder, "iro_monitoring_forms", [
        {"form_id": "FX1", "meeting_type": "CLA review", "person_id": cla["clar_cla_person_id"],
         "meeting_date": "2024-02-12"},
        {"form_id": "FX2", "meeting_type": "ICPC", "person_id": icpc["icpc_person_id"], "meeting_date": "2024-03-05"},
        {"form_id": "FX3", "meeting_type": "CP review", "person_id": cp["cppr_person_id"], "meeting_date": "2024-02-04"}])
    # a blank answer is not an answer; an answer outside the likert scale
    answer = {"survey_id": "SV01", "response_id": "SRX1", "respondent_type": "foster carer",
              "submitted_date": "2024-02-10"}
    append_rows(folder, "survey_responses", [answer | {"question_id": "Q1", "answer": ""},
                                              answer | {"question_id": "Q2", "answer": "6"}])


@pytest.fixture(scope="module")
def edge_run(tmp_path_factory, prefect_server):
    from flows.monthly import monthly
    from flows.quarterly import quarterly
    root = tmp_path_factory.mktemp("quarterly_edges")
    source = root / "extracts"
    generate_la(source, as_at=date(2024, 4, 5), children=400, seed=15)
    add_edge_cases(source)
    config, _ = write_config(root / "data", synthetic=True, la_code="841")
    result = quarterly(period=QUARTER, source=str(source), out=str(root / "out"), config=config)
    month = monthly(period=EDGE_MONTH, source=str(source), out=str(root / "out"), config=config)
    return {"source": source, "result": result, "out": root / "out" / "quarterly" / QUARTER,
            "month": month, "month_out": root / "out" / EDGE_MONTH}


def test_the_edge_cases_of_kpis_md_equal_the_independent_computation(edge_run):
    assert edge_run["result"]["state"] == "Completed"
    assert differences_from_the_reference(published(edge_run), edge_run["source"], START, END) == []


def test_the_edge_cases_of_a_month_equal_the_independent_computation(edge_run):
    """February 2024 of the same extracts, by the monthly flow (CMP05 is not a month's)."""
    assert edge_run["month"]["state"] == "Completed"
    frame = pd.read_csv(edge_run["month_out"] / "kpi_values.csv", dtype=str, keep_default_na=False)
    assert differences_from_the_reference(frame, edge_run["source"], date(2024, 2, 1), date(2024, 2, 29)) == []
