"""The quarterly reports' small-number suppression, on hand-made stored values (no flow):
a count of 1-4 is `<5`, a lone `<5` among counts shown beside their total takes the
smallest other with it, a percentage on a base under 5 is `*` (tasks/publish/suppression.py)."""

from __future__ import annotations

import re

import pandas as pd

from tasks.core.periods import Period
from tasks.kpis.registry import load_registry
from tasks.reports.quarterly import REPORTS, breakdown_table, headline_lines, team_table, quarter_label

COLUMNS = ["kpi_id", "period", "level", "unit_id", "unit_name", "value", "numerator", "denominator"]


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, row)) for row in rows], columns=COLUMNS)


def kpi(kpi_id):
    return next(k for k in load_registry() if k.id == kpi_id)


def test_quarter_label():
    assert quarter_label("2024-Q1") == "Q1 2024 (January to March 2024)"
    assert quarter_label("2023-Q4") == "Q4 2023 (October to December 2023)"


def test_the_months_of_a_count_are_suppressed_beside_the_quarter():
    quarter = Period.quarter("2024-Q1")
    values = frame([("CMP06", "2024-Q1", "la", "841", "LA", 8, 8, None)])
    months = frame([("CMP06", m, "la", "841", "LA", v, v, None) for m, v in
                    (("2024-01", 0), ("2024-02", 5), ("2024-03", 3))])
    [line] = headline_lines([kpi("CMP06")], values, frame([]), months, quarter)
    assert line["value"] == "8"
    # the shared rule hides the smallest other count, here January's 0: March is then
    # 1 to 3, not worked out exactly from 8 - 5
    assert line["months"] == ["*", "5", "<5"]


def test_percent_breakdowns_on_small_bases_are_suppressed():
    values = frame([("CMP04", "2024-Q1", "la", "841", "LA", 50.0, 2, 4),
                    ("CMP04:upheld", "2024-Q1", "la", "841", "LA", 25.0, 1, 4),
                    ("CMP04:partially_upheld", "2024-Q1", "la", "841", "LA", 40.0, 4, 10)])
    rows = breakdown_table(kpi("CMP04"), "", values, "2024-Q1")
    assert [(r["value"], r["base"]) for r in rows] == [("*", "<5"), ("40.0%", "10")]


def test_counts_by_team_take_a_second_count_with_a_lone_small_one():
    values = frame([("IRO01", "2024-Q1", "team", "T1", "Team A", 9, 9, None),
                    ("IRO01", "2024-Q1", "team", "T2", "Team B", 2, 2, None),
                    ("IRO01", "2024-Q1", "team", "T3", "Team C", 6, 6, None)])
    table = team_table(("IRO01",), values, "2024-Q1", None)
    assert [(r["name"], r["cells"]) for r in table["rows"]] == [
        ("Team A", ["9"]), ("Team B", ["<5"]), ("Team C", ["*"])]


def test_every_report_names_a_scorecard_of_the_registry():
    scorecards = {k.scorecard for k in load_registry()}
    assert {r.scorecard for r in REPORTS} <= scorecards


def test_questions_show_their_text_and_the_three_quarters_before():
    from tasks.reports.quarterly import question_lines
    values = frame([("SUR02:question=SV01/Q1", "2024-Q1", "la", "841", "LA", 75.0, 6, 8)])
    trend = frame([("SUR02:question=SV01/Q1", "2023-Q3", "la", "841", "LA", 50.0, 2, 4),
                   ("SUR02:question=SV01/Q1", "2023-Q4", "la", "841", "LA", 60.0, 6, 10)])
    [line] = question_lines(values, "2024-Q1", {"SV01/Q1": "My worker listens to me"}, trend, "SUR02")
    assert (line["text"], line["value"], line["base"]) == ("My worker listens to me", "75.0%", "8")
    assert line["quarters"] == ["n/a", "*", "60.0%"]  # 2023-Q2 none; 2023-Q3 on a base of 4


def test_the_tables_follow_the_registry():
    from tasks.reports.quarterly import breakdowns_of, question_kpi
    assert breakdowns_of(kpi("CMP01")) == [("stage", "Complaints received by stage"),
                                           ("complainant", "Complaints received by complainant"),
                                           ("service_area", "Complaints received by service area")]
    assert breakdowns_of(kpi("CMP04")) == [("", "Complaints upheld %: upheld %, partially upheld %")]
    assert breakdowns_of(kpi("SUR02")) == []
    assert question_kpi([kpi("SUR01"), kpi("SUR02")]).id == "SUR02"


def test_period_labels_of_every_kind():
    from tasks.reports.quarterly import period_label
    assert period_label("2024-25-H1") == "2024-25 H1 (April to September 2024)"
    assert period_label("2024-25-H2") == "2024-25 H2 (October 2024 to March 2025)"
    assert period_label("2024-25") == "2024-25 (April 2024 to March 2025)"


def run_info(period: str):
    from tasks.publish.lineage import RunInfo
    return RunInfo(period=period, run_id="run-q1", code_version="0", la_code="841", la_name="Testshire",
                   synthetic=True, started_at="2024-10-03T07:00:00", source="x", population=20000,
                   population_year=2023, trend_months=4)


def report_kpis():
    return [k for k in load_registry() if k.scorecard in ("complaints", "iro")]


def counts_built_with_small_numbers() -> dict:
    return {"complaint_themes": pd.DataFrame({"name": ["Communication", "Delay", "Placement", "Not recorded"],
                                              "complaints": [12, 3, 7, 0]}),
            "learning_actions_by_source": pd.DataFrame({"name": ["complaint", "audit", "drp"],
                                                        "raised": [9, 6, 2], "completed": [5, 8, 0],
                                                        "overdue": [7, 0, 11]}),
            "drp_outcomes": pd.DataFrame({"name": ["resolved", "escalated", "withdrawn"], "alerts": [20, 6, 1]})}


def test_the_complaints_and_drp_reports_show_themes_outcomes_and_learning_actions_for_a_half(tmp_path):
    """A financial-year half through the same renderer as a quarter; the counts are built to
    have 1-4s, and no cell shows one, directly or by subtraction from the total beside it."""
    from tasks.reports.quarterly import render_quarterly_reports
    from tests.pdfs import read_pdf
    period = "2024-25-H1"
    values = frame([("CMP01", period, "la", "841", "LA", 22, 22, None),
                    ("CMP01:complainant=child or young person", period, "la", "841", "LA", 4, 4, None),
                    ("CMP01:complainant=adult", period, "la", "841", "LA", 18, 18, None),
                    ("CMP06", period, "la", "841", "LA", 30, 30, None),
                    ("CMP06", period, "team", "T1", "Team A", 27, 27, None),
                    ("CMP06", period, "team", "T2", "Team B", 3, 3, None),
                    ("IRO01", period, "la", "841", "LA", 40, 40, None),
                    ("IRO01:stage=informal", period, "la", "841", "LA", 38, 38, None),
                    ("IRO01:stage=Cafcass", period, "la", "841", "LA", 2, 2, None),
                    ("IRO02", period, "la", "841", "LA", 70.4, 19, 27)])
    paths = render_quarterly_reports(report_kpis(), values, frame([]), frame([]), run_info(period), tmp_path,
                                     counts=counts_built_with_small_numbers())
    assert sorted(p.name for p in paths) == sorted(f"{r}_{period}.{e}" for r in ("complaints_compliments", "drp_iro")
                                                   for e in ("html", "pdf"))
    complaints = read_pdf(tmp_path / f"complaints_compliments_{period}.pdf").text
    assert "2024-25 H1 (April to September 2024)" in complaints and "This half-year" in complaints
    assert "Complaints received by theme Theme Complaints Communication 12 Delay <5 Placement 7 " \
           "Not recorded * Total 22" in complaints
    assert ("Learning actions Raised from Raised in the period Completed in the period Overdue at the period's end "
            "audit * 8 0 complaint 9 5 7 drp <5 0 11 Total 17 13 18") in complaints
    assert "child or young person <5" in complaints and "adult *" in complaints  # 22 - 4 = 18 hidden
    assert "Team A 0 * Team B 0 <5" in complaints  # complaints, compliments by team (total 30)
    drp = read_pdf(tmp_path / f"drp_iro_{period}.pdf").text
    assert "DRP alerts closed, by outcome Outcome Alerts escalated * resolved 20 withdrawn <5 Total 27" in drp
    assert "Cafcass <5" in drp and "informal *" in drp
    for report in ("complaints_compliments", "drp_iro"):  # every figure cell of the HTML the PDF is made from
        cells = re.findall(r'<td class="num">(?:<strong>)?([^<]*)', (tmp_path / f"{report}_{period}.html").read_text())
        assert cells and not {c.strip() for c in cells} & {"1", "2", "3", "4"}, report


def test_the_annual_complaints_report_shows_the_four_quarters_together(tmp_path):
    """The annual report (the representations regulations' report for the financial year):
    the year's figure beside its four quarters, the quarters' counts suppressed as parts of
    the year (a lone <5 takes the next smallest with it)."""
    from tasks.reports.quarterly import REPORTS, render_quarterly_reports
    from tests.pdfs import read_pdf
    year = "2024-25"
    values = frame([("CMP01", year, "la", "841", "LA", 33, 33, None)])
    quarters = frame([("CMP01", q, "la", "841", "LA", n, n, None)
                      for q, n in (("2024-Q2", 12), ("2024-Q3", 9), ("2024-Q4", 8), ("2025-Q1", 4))])
    complaints_only = [k for k in report_kpis() if k.scorecard == REPORTS[0].scorecard]
    render_quarterly_reports(complaints_only, values, frame([]), quarters, run_info(year), tmp_path)
    text = read_pdf(tmp_path / f"complaints_compliments_{year}.pdf").text
    assert "2024-25 (April 2024 to March 2025)" in text
    assert "This year Based on 2024-Q2 2024-Q3 2024-Q4 2025-Q1 2021-22 2022-23 2023-24" in text
    assert "33 12 9 * <5 n/a n/a n/a" in text
    assert "The year's quarters are shown beside it" in text
