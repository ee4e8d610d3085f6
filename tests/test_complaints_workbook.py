"""The monthly "Complaints, compliments and participation" workbook (issue 15 point 2):
the KPIs computed from tiny hand-made tables for March 2024 (SQLite), the workbook
published, opened back and its cells compared with the hand-worked figures, small numbers
suppressed (primary and secondary), and its catalogue level.

Working days in March 2024 (Good Friday 29 March is a bank holiday): 1 March is a Friday.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tasks.core.periods import Period
from tasks.kpis.registry import computed_for, load_registry
from tasks.operations import delivery
from tasks.publish.complaints_workbook import SCORECARD_SHEETS, publish_complaints_workbook, workbook_kpis
from tasks.publish.lineage import RunInfo
from tasks.publish.style import FIRST_DATA_ROW, HEADER_ROW
from tasks.reports.quarterly import COUNT_TABLES, count_table, report_counts
from tests.kpi_harness import run_kpi

MONTH = "2024-03"


def complaint(complaint_id, received, stage="1", complainant="parent or carer", team="T1", area="Social Care",
              **fields) -> dict:
    # S1-S6 are about delay; S7-S9 have no category
    category = "Delay" if complaint_id in ("S1", "S2", "S3", "S4", "S5", "S6") else None
    return {"complaint_id": complaint_id, "received_date": received, "stage": stage, "category": category,
            "complainant_type": complainant, "team_id": team, "service_area": area, **fields}


TABLES = {
    "complaints": [
        # stage 1: 7 received, S1-S6 answered in March
        complaint("S1", "2024-03-01", complainant="child or young person", response_date="2024-03-15",
                  outcome="upheld"),                                             # 10 working days: in time
        complaint("S2", "2024-03-01", complainant="child or young person", response_date="2024-03-18",
                  outcome="partially upheld"),                                   # 11: late
        complaint("S3", "2024-03-04", response_date="2024-03-06", outcome="not upheld"),
        complaint("S4", "2024-03-04", response_date="2024-03-28", extended="Y", outcome="not upheld"),  # 18 of 20
        complaint("S5", "2024-03-05", response_date="2024-03-07", outcome="withdrawn"),
        complaint("S6", "2024-03-05", response_date="2024-03-08", outcome="upheld"),
        complaint("S7", "2024-03-06"),
        # stage 2: 2 received; S8 answered in 13 working days
        complaint("S8", "2024-03-01", stage="2", response_date="2024-03-20", outcome="not upheld"),
        complaint("S9", "2024-03-11", stage="2", team="T2", area="Early Help"),
        complaint("S0", "2024-02-28"),  # February: not this month
    ],
    "compliments": [
        *({"compliment_id": f"K{i}", "received_date": "2024-03-12", "team_id": "T1", "theme": "communication"}
          for i in range(4)),
        {"compliment_id": "K4", "received_date": "2024-03-13", "team_id": "T1", "theme": "support"},
        {"compliment_id": "K5", "received_date": "2024-03-14", "team_id": "T2", "theme": "support"},
    ],
    "iro_drp_alerts": [
        *({"drp_id": f"D{i}", "raised_date": "2024-03-05", "person_id": f"P{i}", "team_id": "T1",
           "stage": "informal", "theme": "care plan drift"} for i in range(4)),
        {"drp_id": "D4", "raised_date": "2024-03-06", "person_id": "P4", "team_id": "T1", "stage": "1",
         "theme": "care plan drift"},
    ],
    "survey_questions": [{"survey_id": "SV01", "survey_name": "Children's survey", "question_id": "Q1",
                          "question_text": "My worker listens to me", "scale": "likert5",
                          "positive_values": "Agree;Strongly agree"}],
    "survey_responses": [
        {"survey_id": "SV01", "response_id": f"R{i}", "respondent_type": kind, "submitted_date": "2024-03-20",
         "team_id": "T1", "question_id": "Q1", "answer": answer}
        for i, (kind, answer) in enumerate([("child or young person", "Agree"),
                                            ("child or young person", "Strongly agree"),
                                            ("child or young person", "Disagree"),
                                            ("child or young person", "Agree"),
                                            ("parent or carer", "Agree"), ("parent or carer", "Neutral")])],
}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    from tasks.warehouse.database import make_engine, upgrade_schema
    folder = tmp_path_factory.mktemp("complaints_workbook")
    engine = make_engine(f"sqlite:///{folder / 'warehouse.sqlite'}")
    upgrade_schema(engine)
    kpis = workbook_kpis(computed_for(load_registry(), Period.month(MONTH)))
    figures = run_kpi(engine, [k.id for k in kpis], MONTH, TABLES)
    run = RunInfo(period=MONTH, run_id="run-cmp", code_version="0", la_code="999", la_name="Test LA",
                  synthetic=True, started_at="2024-04-03T07:00:00", source="x", population=20000,
                  population_year=2023, trend_months=3)
    trend = figures.values[figures.values["level"] == "la"]
    counts = report_counts(engine, Period.month(MONTH))
    tables = [t for t in (count_table(COUNT_TABLES[name], rows) for name, rows in counts.items()) if t]
    path = publish_complaints_workbook(kpis, figures.values, trend, run, folder / f"complaints_participation_{MONTH}.xlsx",
                                       {"SV01/Q1": "My worker listens to me"}, None, tables)
    engine.dispose()
    return {"path": path, "book": load_workbook(path), "kpis": kpis}


def rows_by_id(sheet) -> dict[str, dict]:
    headers = [c.value for c in sheet[HEADER_ROW]]
    return {row[0]: dict(zip(headers, row)) for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True)
            if row[0]}


def test_the_sheets_follow_the_registry(workbook):
    assert workbook["book"].sheetnames == ["Summary", *SCORECARD_SHEETS.values(), "Themes and outcomes", "Teams",
                                           "Definitions", "Run"]
    summary = rows_by_id(workbook["book"]["Summary"])
    # every CMP, IRO and SUR measure computed for a month: all but the escalation to stage 2
    assert list(summary) == [k.id for k in workbook["kpis"]]
    assert not [k for k in load_registry() if k.scorecard in SCORECARD_SHEETS and k.id not in summary
                and "month" in k.periods]


def test_the_month_figures_equal_the_hand_worked_ones(workbook):
    complaints = rows_by_id(workbook["book"]["Complaints"])
    value = {figure_id: row["This month"] for figure_id, row in complaints.items()}
    base = {figure_id: row["Based on"] for figure_id, row in complaints.items()}
    assert value["CMP01"] == 9
    # stage: 7, 2, 0, 0 beside the total 9: the lone <5 takes the smallest other (stage 3's 0)
    assert [value[f"CMP01:stage={s}"] for s in ("1", "2", "3", "Ombudsman")] == [7, "<5", "*", 0]
    # complainant: 2 children, 7 adults: 9 - 7 would give the 2
    assert (value["CMP01:complainant=child or young person"], value["CMP01:complainant=adult"]) == ("<5", "*")
    assert (value["CMP01:service_area=Early Help"], value["CMP01:service_area=Social Care"]) == ("<5", "*")
    assert (value["CMP02"], base["CMP02"]) == (83.3, 6)        # S1, S3, S4, S5, S6 of S1-S6
    assert (value["CMP03"], base["CMP03"]) == ("*", "<5")      # S8 alone
    assert (value["CMP04"], base["CMP04"]) == (42.9, 7)        # S1, S2, S6 of S1-S6 and S8
    assert (value["CMP04:upheld"], value["CMP04:partially_upheld"]) == (28.6, 14.3)
    assert value["CMP06"] == 6
    assert (value["CMP06:theme=communication"], value["CMP06:theme=support"]) == ("<5", "<5")  # 4 and 2
    assert value["CMP07"] == 0
    assert complaints["CMP01:stage=2"]["Breakdown"] == "stage" and complaints["CMP01:stage=2"]["Category"] == "2"

    iro = rows_by_id(workbook["book"]["DRP and IRO"])
    assert iro["IRO01"]["This month"] == 5
    assert [iro[f"IRO01:stage={s}"]["This month"] for s in ("informal", "1", "2")] == ["<5", "<5", 0]
    assert iro["IRO02"]["This month"] == "n/a" and iro["IRO03"]["This month"] == 0

    surveys = rows_by_id(workbook["book"]["Participation"])
    assert surveys["SUR01"]["This month"] == 6
    assert (surveys["SUR02"]["This month"], surveys["SUR02"]["Based on"]) == (66.7, 6)
    question = surveys["SUR02:question=SV01/Q1"]
    assert (question["This month"], question["Based on"], question["Question text"]) == (
        66.7, 6, "My worker listens to me")
    child = surveys["SUR02:question=SV01/Q1:respondent_type=child or young person"]
    assert (child["This month"], child["Based on"], child["Category"]) == ("*", "<5", "SV01/Q1 / child or young person")


def test_the_month_themes_are_counted_and_suppressed_beside_their_total(workbook):
    sheet = workbook["book"]["Themes and outcomes"]
    rows = [row[:4] for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True)]
    # 6 about delay, 3 not recorded, of the 9 received: the 3 is <5, so the 6 goes too
    assert [r for r in rows if r[0] == "Complaints received by theme"] == [
        ("Complaints received by theme", "Delay", "Complaints", "*"),
        ("Complaints received by theme", "Not recorded", "Complaints", "<5"),
        ("Complaints received by theme", "Total", "Complaints", 9)]
    assert not [r for r in rows if r[0] == "DRP alerts closed, by outcome"]  # none closed in March


def test_the_summary_and_teams_are_suppressed_too(workbook):
    book = workbook["book"]
    summary = rows_by_id(book["Summary"])
    assert summary["CMP01"][MONTH] == 9 and summary["CMP03"][MONTH] == "*"
    assert summary["CMP02"]["Based on (this month)"] == 6
    teams = {row[1]: row for row in book["Teams"].iter_rows(min_row=FIRST_DATA_ROW, values_only=True)}
    headers = [c.value for c in book["Teams"][HEADER_ROW]]
    column = {h.split()[0] if h.endswith("received") else h: i for i, h in enumerate(headers)}
    # complaints by team: T1 8, T2 1 beside the LA's 9; compliments T1 5, T2 1 beside 6
    assert (teams["T1"][column["CMP01"]], teams["T2"][column["CMP01"]]) == ("*", "<5")
    assert (teams["T1"][column["CMP06"]], teams["T2"][column["CMP06"]]) == ("*", "<5")


def test_no_cell_shows_a_count_of_one_to_four(workbook):
    book = workbook["book"]
    for name in ("Summary", *SCORECARD_SHEETS.values(), "Themes and outcomes", "Teams"):
        sheet = book[name]
        headers = [c.value for c in sheet[HEADER_ROW]]
        figure_columns = [i for i, h in enumerate(headers) if h not in ("KPI", "Measure", "Polarity", "Unit",
                                                                     "Breakdown", "Category", "Question text",
                                                                     "Team ID", "Team", "Table", "Count of")]
        for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
            for i in figure_columns:
                cell = row[i]
                assert not (isinstance(cell, int) and 1 <= cell <= 4), (name, row[0], headers[i], cell)


def test_the_workbook_is_an_aggregate_output_that_prints(workbook):
    assert delivery.CATALOGUE["complaints_participation"].level == "aggregate"
    assert delivery.content_level(workbook["path"]) == "aggregate"
    sheet = workbook["book"]["Complaints"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert "SYNTHETIC DATA" in sheet.oddFooter.center.text + sheet.oddFooter.left.text + \
        sheet.oddFooter.right.text
