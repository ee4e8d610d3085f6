"""End to end (issue 15): the Prefect quarterly flow on a synthetic LA against a real
Prefect server: kpi_values.csv for the quarter against an independent computation from
the extract files, the three quarterly reports as a reader sees them (PDF text, small
numbers suppressed), the ledger and versioned outputs, and a re-run of two quarters."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from qaloop.synthetic import generate_la
from tasks.core.calendar import bank_holidays
from tasks.core.periods import Period
from tasks.warehouse.database import make_engine, read_sql
from tests.configs import write_config
from tests.pdfs import read_pdf

QUARTER = "2024-Q1"
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


def working_days(a: date, b: date) -> int:
    holidays = sorted(bank_holidays(2015, 2030))
    return int(np.busday_count(a + timedelta(days=1), b + timedelta(days=1), holidays=holidays))


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
    frame = published(quarter_run)
    complaints = extract(quarter_run, "complaints")
    received = complaints[complaints["received_date"].map(in_quarter)]
    assert int(float(la_row(frame, "CMP01")["value"])) == len(received) > 0
    assert int(float(la_row(frame, "CMP01:stage=1")["value"])) == (received["stage"].str.strip() == "1").sum()

    stage_1 = complaints[(complaints["stage"].str.strip() == "1") & complaints["response_date"].map(in_quarter)]
    in_time = sum(working_days(day(r.received_date), day(r.response_date)) <= (20 if r.extended == "Y" else 10)
                  for r in stage_1.itertuples())
    cmp02 = la_row(frame, "CMP02")
    assert (int(float(cmp02["numerator"])), int(float(cmp02["denominator"]))) == (in_time, len(stage_1))
    assert float(cmp02["value"]) == pytest.approx(100 * in_time / len(stage_1), abs=0.05)

    alerts = extract(quarter_run, "iro_drp_alerts")
    resolved = alerts[alerts["resolved_date"].map(in_quarter)]
    within = sum(working_days(day(r.raised_date), day(r.resolved_date)) <= 20 for r in resolved.itertuples())
    iro02 = la_row(frame, "IRO02")
    assert (int(float(iro02["numerator"])), int(float(iro02["denominator"]))) == (within, len(resolved))

    answers = extract(quarter_run, "survey_responses")
    answers = answers[answers["submitted_date"].map(in_quarter)]
    assert int(float(la_row(frame, "SUR01")["value"])) == answers["response_id"].nunique() > 0
    questions = extract(quarter_run, "survey_questions")
    scaled = questions[questions["scale"] == "likert5"]
    positive = {(q.survey_id, q.question_id): set(q.positive_values.split(";")) for q in scaled.itertuples()}
    rated = answers[[(s, q) in positive for s, q in zip(answers["survey_id"], answers["question_id"])]]
    rated = rated[rated["answer"].str.strip() != ""]
    good = sum(a.strip() in positive[(s, q)] for s, q, a in zip(rated["survey_id"], rated["question_id"],
                                                                 rated["answer"]))
    sur02 = la_row(frame, "SUR02")
    assert (int(float(sur02["numerator"])), int(float(sur02["denominator"]))) == (good, len(rated))


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
