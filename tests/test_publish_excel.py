"""Excel scorecards: RAG rules and the cells of the published workbooks."""

from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from tasks.core.settings import KpiTarget
from tasks.kpis.compute import RECORD_COLUMNS, UNALLOCATED, VALUE_COLUMNS
from tasks.core.periods import Period
from tasks.publish.excel import publish_scorecard
from tasks.publish.lineage import RunInfo
from tasks.kpis.rag import direction_of_travel, effective_tolerance, rag_status, targets_for
from tasks.kpis.registry import load_registry

PERIOD = "2024-03"
SHA = "3f" * 32
REGISTRY = {kpi.id: kpi for kpi in load_registry()}


# --- rag.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (85.0, "Green"),   # exactly at target
    (90.0, "Green"),
    (84.9, "Amber"),
    (80.0, "Amber"),   # exactly target - tolerance
    (79.9, "Red"),     # just beyond
])
def test_rag_high_polarity_boundaries(value, expected):
    assert rag_status(value, 85, 5, "High") == expected


@pytest.mark.parametrize("value, expected", [
    (23.0, "Green"),   # exactly at target
    (10.0, "Green"),
    (23.1, "Amber"),
    (25.3, "Amber"),   # exactly target + 10% of 23 (float noise must not make it Red)
    (25.4, "Red"),     # just beyond
])
def test_rag_low_polarity_boundaries(value, expected):
    tolerance = effective_tolerance(REGISTRY["SAF12"], 23, None)  # a count: 10% of target
    assert tolerance == pytest.approx(2.3)
    assert rag_status(value, 23, tolerance, "Low") == expected


def test_rag_is_none_without_polarity_value_or_target():
    assert rag_status(50.0, 40, 5, "None") is None
    assert rag_status(None, 40, 5, "High") is None
    assert rag_status(50.0, None, 5, "Low") is None


def test_effective_tolerance_defaults_and_configured():
    assert effective_tolerance(REGISTRY["SAF07"], 85, None) == 5.0          # percent: 5 points
    assert effective_tolerance(REGISTRY["SAF12"], 40, None) == pytest.approx(4.0)  # count: 10%
    assert effective_tolerance(REGISTRY["SAF12"], 7.5, None, kind="rate") == pytest.approx(0.75)
    assert effective_tolerance(REGISTRY["SAF07"], 85, 2) == 2.0


@pytest.mark.parametrize("current, previous, polarity, expected", [
    (82.0, 80.0, "High", "Improving"),
    (78.0, 80.0, "High", "Declining"),
    (18.0, 20.0, "Low", "Improving"),
    (22.0, 20.0, "Low", "Declining"),
    (20.0, 20.0, "Low", "No change"),
    (20.0, 20.0, "High", "No change"),
    (120, 100, "None", "Higher"),
    (90, 100, "None", "Lower"),
    (None, 100, "High", None),
    (90, None, "Low", None),
])
def test_direction_of_travel(current, previous, polarity, expected):
    assert direction_of_travel(current, previous, polarity) == expected


def test_targets_for_merges_registry_defaults_with_configuration():
    kpis = [REGISTRY[i] for i in ("SAF01", "SAF07", "SAF11")]
    targets = targets_for(kpis, {"SAF07": KpiTarget(90.0, 3.0),
                                 "SAF12:rate_per_10k": KpiTarget(40.0)})
    assert targets == {"SAF07": KpiTarget(90.0, 3.0), "SAF11": KpiTarget(23.0, None),
                       "SAF12:rate_per_10k": KpiTarget(40.0, None)}


# --- inputs ------------------------------------------------------------------------------------

MONTHS = [p.id for p in Period.month(PERIOD).trailing(13)]  # 2023-03 .. 2024-03

TEAMS = pd.DataFrame({"team_id": ["T1", "T2"], "team_name": ["Assessment East", "Child Protection"],
                      "service_area_id": ["S1", "S2"], "service_name": ["Front Door", "Safeguarding"]})
WORKERS = pd.DataFrame({"worker_id": ["W1", "W2"], "worker_name": ["Ann Able", "Ben Bold"],
                        "team_id": ["T1", "T2"]})


def run_info(synthetic=True):
    return RunInfo(period=PERIOD, run_id="run-42", code_version="0.1.0+gabc123", la_code="841",
                   la_name="Darlington", synthetic=synthetic, started_at="2024-04-03T07:00:00+00:00",
                   source="/data/extracts/2024-04-03", population=22000, population_year=2023,
                   extracts=[{"table_name": "ssd_cin_assessments", "source_name": "assessments.csv",
                              "sha256": SHA, "row_count": 1234}])


def value(kpi_id, level, unit_id, unit_name, figure, numerator=None, denominator=None, period=PERIOD):
    return {"kpi_id": kpi_id, "period": period, "level": level, "unit_id": unit_id,
            "unit_name": unit_name, "value": figure, "numerator": numerator,
            "denominator": denominator}


def la_trend(kpi_id, figures):
    """LA rows for the last len(figures) months, oldest first."""
    return [value(kpi_id, "la", "841", "Darlington", f, period=m)
            for m, f in zip(MONTHS[-len(figures):], figures)]


def frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def safety_book(tmp_path):
    kpis = [REGISTRY[i] for i in ("SAF01", "SAF04", "SAF07", "SAF11", "SAF12")]
    trend = frame(la_trend("SAF07", [70.0] * 11 + [82.0, 85.0])      # Green, exactly at 85
                  + la_trend("SAF04", [22.0, 25.0])                  # Amber, exactly 20 + 5
                  + la_trend("SAF11", [28.1])                        # Red, just beyond 23 + 5
                  + la_trend("SAF01", [100, 120])
                  + la_trend("SAF12", [41, 40]) + la_trend("SAF12:rate_per_10k", [18.6, 18.2]),
                  VALUE_COLUMNS)
    values = frame(trend[trend["period"] == PERIOD].to_dict("records") + [
        value("SAF07", "team", "T1", "Assessment East", 80.0, 8, 10),
        value("SAF07", "team", UNALLOCATED, UNALLOCATED, 100.0, 2, 2),
        value("SAF01", "team", "T1", "Assessment East", 120),
        value("SAF07", "worker", "W1", "Ann Able", 75.0, 3, 4),
        value("SAF07", "service_area", "S1", "Front Door", 80.0, 8, 10),
        value("SAF07", "service_area", UNALLOCATED, UNALLOCATED, 100.0, 2, 2),
        value("SAF01", "service_area", "S1", "Front Door", 120),
        # a figure stored before the service-area level, against a parent department
        value("SAF01", "team", "S2", "S2", 0),
    ], VALUE_COLUMNS)
    out = publish_scorecard("safety", kpis, values, trend, frame([], RECORD_COLUMNS), TEAMS, WORKERS,
                            targets_for(kpis, {}), run_info(), tmp_path / "out" / "safety.xlsx")
    assert out == tmp_path / "out" / "safety.xlsx"
    assert [p.name for p in out.parent.iterdir()] == ["safety.xlsx"]  # no temporary left
    return load_workbook(out)


def summary_rows(sheet):
    """{figure id: {header: value}} from the Summary table (header on row 4)."""
    headers = [c.value for c in sheet[4]]
    rows = {}
    for row in sheet.iter_rows(min_row=5, values_only=True):
        if row[0] is None:
            break
        rows[row[0]] = dict(zip(headers, row))
    return rows


def test_safety_workbook_sheets_and_properties(safety_book):
    assert safety_book.sheetnames == ["Summary", "Service areas", "Teams", "Workers", "Definitions", "Run",
                                      "Chart targets"]
    assert safety_book["Chart targets"].sheet_state == "hidden"  # the target lines' data only
    assert safety_book.properties.creator == "qaloop"
    assert safety_book.properties.subject == "period 2024-03, run run-42"
    assert "Safety Scorecard" in safety_book.properties.title


def test_safety_summary_cells(safety_book):
    sheet = safety_book["Summary"]
    assert sheet["A1"].value == "Darlington: Safety Scorecard, March 2024"
    assert sheet["A2"].value.startswith("SYNTHETIC DATA")
    assert [c.value for c in sheet[4]][4:17] == MONTHS
    rows = summary_rows(sheet)
    assert list(rows) == ["SAF01", "SAF04", "SAF07", "SAF11", "SAF12", "SAF12:rate_per_10k"]
    saf07 = rows["SAF07"]
    assert (saf07["2023-03"], saf07["2024-02"], saf07["2024-03"]) == (70, 82, 85)
    assert (saf07["Target"], saf07["RAG"], saf07["Direction of travel"]) == (85, "Green", "Improving")
    assert (rows["SAF04"]["RAG"], rows["SAF04"]["Direction of travel"]) == ("Amber", "Declining")
    assert (rows["SAF11"]["RAG"], rows["SAF11"]["Direction of travel"]) == ("Red", None)
    assert rows["SAF11"]["2024-02"] is None  # no figure that month: empty, not 0
    assert (rows["SAF01"]["RAG"], rows["SAF01"]["Direction of travel"]) == (None, "Higher")
    assert rows["SAF12:rate_per_10k"]["2024-03"] == 18.2
    # SAF07 is on row 7; 2024-03 is column Q (4 leading columns + 13 months)
    assert sheet["Q7"].value == 85 and sheet["Q7"].number_format == "0.0"
    assert sheet["Q5"].value == 120 and sheet["Q5"].number_format == "0"
    assert sheet.freeze_panes == "E5"
    fills = [rule.formula for cf in sheet.conditional_formatting for rule in cf.rules]
    assert ['"Green"'] in fills and ['"Amber"'] in fills and ['"Red"'] in fills


def test_safety_summary_has_a_chart_per_headline_percentage(safety_book):
    charts = safety_book["Summary"]._charts
    # headline percentages among the five: SAF04, SAF07, SAF11
    assert len(charts) == 3


def test_a_trend_chart_draws_its_target_as_a_dashed_line(safety_book):
    targets = safety_book["Chart targets"]
    rows = {row[0]: row[1:] for row in targets.iter_rows(values_only=True)}
    assert rows["SAF07"] == (85,) * 13  # the SAF07 target in each of the 13 months
    saf07 = next(c for c in safety_book["Summary"]._charts if "SAF07" in str(c.title.tx.rich.p[0].r[0].t))
    assert len(saf07.series) == 2
    line = saf07.series[1]
    assert line.tx.strRef is None and line.tx.v == "Target"
    assert line.graphicalProperties.line.prstDash == "dash"
    assert line.val.numRef.f.startswith("'Chart targets'!")


SAF07_HEADER = "SAF07 Assessments completed within 45 working days %"


def sheet_rows(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]


def test_teams_and_workers_sheets(safety_book):
    teams = safety_book["Teams"]
    headers = [c.value for c in teams[4]]
    assert headers[:3] == ["Team ID", "Team", "Service area"]
    saf07 = headers.index(SAF07_HEADER)
    # the value, its RAG in words against the target, then the folded numerator and denominator
    assert headers[saf07 + 1:saf07 + 4] == ["SAF07 RAG (target 85%)", "SAF07 numerator", "SAF07 denominator"]
    assert "SAF01 Contacts in month (count)" in headers
    assert not any(h.startswith("SAF12:rate_per_10k") for h in headers)  # rates are LA only
    assert not any(h.startswith("SAF01 RAG") for h in headers)  # a team's count has no LA target
    rows = sheet_rows(teams)
    # only real teams: no row for the parent department S2 (a service area)
    assert [r[:3] for r in rows] == [["T1", "Assessment East", "Front Door"],
                                     ["T2", "Child Protection", "Safeguarding"],
                                     [UNALLOCATED, UNALLOCATED, None]]
    assert rows[0][saf07:saf07 + 4] == [80, "Amber", 8, 10]
    assert rows[1][saf07:saf07 + 4] == [None, None, None, None]  # no assessments: n/a, no RAG
    assert rows[2][saf07:saf07 + 2] == [100, "Green"]
    assert rows[1][headers.index("SAF01 Contacts in month (count)")] == 0   # no contacts: a count of 0
    assert teams.cell(row=5, column=saf07 + 1).number_format == "0.0"
    assert teams.freeze_panes == "C5"
    assert teams.auto_filter.ref == f"A4:{teams.cell(row=7, column=len(headers)).column_letter}7"
    fills = [rule.formula for cf in teams.conditional_formatting for rule in cf.rules]
    assert ['"Green"'] in fills and ['"Red"'] in fills

    workers = safety_book["Workers"]
    worker_rows = sheet_rows(workers)
    assert worker_rows[0][:3] == ["W1", "Ann Able", "Assessment East"]
    assert worker_rows[0][saf07:saf07 + 2] == [75, "Red"]


def test_service_areas_sheet(safety_book):
    areas = safety_book["Service areas"]
    assert areas["A1"].value == "Darlington: Service areas, March 2024"
    assert "parent departments" in areas["A3"].value
    headers = [c.value for c in areas[4]]
    assert headers[:3] == ["Service area ID", "Service area", "Teams in it"]
    saf07 = headers.index(SAF07_HEADER)
    rows = sheet_rows(areas)
    assert [r[:3] for r in rows] == [["S1", "Front Door", 1], ["S2", "Safeguarding", 1],
                                     [UNALLOCATED, UNALLOCATED, None]]
    assert rows[0][saf07:saf07 + 4] == [80, "Amber", 8, 10]
    assert rows[0][headers.index("SAF01 Contacts in month (count)")] == 120
    assert rows[1][headers.index("SAF01 Contacts in month (count)")] == 0


def test_definitions_and_run_sheets(safety_book):
    definitions = {row[0]: row for row in safety_book["Definitions"].iter_rows(min_row=5, values_only=True)}
    assert definitions["SAF07"][1] == "Assessments completed within 45 working days %"
    assert definitions["SAF07"][9:12] == (85, 5, "safety/saf07_assessments_45wd.sql")
    assert definitions["SAF12"][7] == "SAF12:rate_per_10k"
    run = safety_book["Run"]
    facts = {row[0]: row[1] for row in run.iter_rows(min_row=5, max_row=14, values_only=True)}
    assert facts["Run ID"] == "run-42" and facts["Population aged 0-17 used"] == 22000
    assert facts["Population estimate year"] == 2023 and facts["Synthetic data"] == "Yes"
    assert [c.value for c in run[16][:4]] == ["Table", "File", "Rows", "SHA-256"]
    assert [c.value for c in run[17][:4]] == ["ssd_cin_assessments", "assessments.csv", 1234, SHA]


def test_no_banner_for_real_data(tmp_path):
    kpis = [REGISTRY["SAF01"]]
    trend = frame(la_trend("SAF01", [5]), VALUE_COLUMNS)
    out = publish_scorecard("safety", kpis, trend, trend, frame([], RECORD_COLUMNS), TEAMS, WORKERS,
                            {}, run_info(synthetic=False), tmp_path / "safety.xlsx")
    book = load_workbook(out)
    assert book["Summary"]["A2"].value is None
    assert book["Run"]["B14"].value == "No"


def drift_kpis():
    return [k for k in REGISTRY.values() if k.scorecard == "drift_delay"]


@pytest.fixture
def drift_book(tmp_path):
    kpis = [REGISTRY["DD02"], REGISTRY["DD04"], REGISTRY["DD10"]]
    trend = frame(la_trend("DD02", [4, 3, 2]) + la_trend("DD10", [1, 1])
                  + la_trend("DD10:mean_caseload", [18.5, 19.25]), VALUE_COLUMNS)
    values = frame(trend[trend["period"] == PERIOD].to_dict("records") + [
        value("DD02", "team", "T1", "Assessment East", 1),
        value("DD02", "team", UNALLOCATED, UNALLOCATED, 1),
        value("DD02", "worker", "W1", "Ann Able", 1),
    ], VALUE_COLUMNS)
    records = frame([
        {"period": PERIOD, "kpi_id": "DD02", "record_id": "A1", "person_id": "P1", "team_id": "T1",
         "worker_id": "W1", "in_numerator": 1, "measure": 50,
         "assessment_start": "2024-01-02", "due_date": "2024-03-05", "overdue": 5},
        {"period": PERIOD, "kpi_id": "DD02", "record_id": "A2", "person_id": "P2",
         "team_id": UNALLOCATED, "worker_id": UNALLOCATED, "in_numerator": 1, "measure": 61,
         "assessment_start": "2023-12-18", "due_date": "2024-02-22", "overdue": 16},
        {"period": PERIOD, "kpi_id": "DD02", "record_id": "A3", "person_id": "P3", "team_id": "T1",
         "worker_id": "W1", "in_numerator": 0, "measure": 70},
        # DD04: sorted by working days overdue; the plan never visited has no last visit
        {"period": PERIOD, "kpi_id": "DD04", "record_id": "CP1", "person_id": "P4", "team_id": "T2",
         "worker_id": "W2", "in_numerator": 1, "measure": 12, "plan_start": "2023-06-01",
         "last_visit": "2024-03-14", "due_date": "2024-03-28", "overdue": 2},
        {"period": PERIOD, "kpi_id": "DD04", "record_id": "CP2", "person_id": "P5", "team_id": "T1",
         "worker_id": "W1", "in_numerator": 1, "measure": 30, "plan_start": "2024-02-16",
         "last_visit": None, "due_date": "2024-03-01", "overdue": 20},
        {"period": PERIOD, "kpi_id": "DD10", "record_id": "W2", "person_id": None, "team_id": "T2",
         "worker_id": "W2", "in_numerator": 1, "measure": 23},
    ], RECORD_COLUMNS + ["assessment_start", "due_date", "overdue", "plan_start", "last_visit"])
    out = publish_scorecard("drift_delay", kpis, values, trend, records, TEAMS, WORKERS,
                            targets_for(kpis, {"DD02": KpiTarget(2)}), run_info(),
                            tmp_path / "drift.xlsx")
    return load_workbook(out)


def test_drift_delay_summary(drift_book):
    assert drift_book.sheetnames == ["Summary", "Service areas", "Teams", "Workers", "DD02", "DD04", "DD10",
                                     "Definitions", "Run", "Chart targets"]
    rows = summary_rows(drift_book["Summary"])
    dd02 = rows["DD02"]
    assert (dd02["2024-01"], dd02["2024-02"], dd02["2024-03"]) == (4, 3, 2)
    # exactly at a configured target of 2 exceptions (Low polarity): Green, and fewer than last month
    assert (dd02["Target"], dd02["RAG"], dd02["Direction of travel"]) == (2, "Green", "Improving")
    assert (rows["DD10"]["Target"], rows["DD10"]["RAG"]) == (None, None)
    assert rows["DD10:mean_caseload"]["2024-03"] == 19.25
    # one small chart per list (not one chart of every list's line), side by side
    charts = drift_book["Summary"]._charts
    assert [c.title.tx.rich.p[0].r[0].t for c in charts] == [
        "DD02 Assessment open over 45 working days", "DD04 CP visit overdue", "DD10 Caseload above threshold"]
    # each list's own line; DD02's configured target as a dashed line beside it
    assert [len(c.series) for c in charts] == [2, 1, 1]
    assert charts[1].legend is None and charts[2].legend is None
    anchors = [c.anchor._from for c in charts]
    assert len({a.row for a in anchors}) == 1 and len({a.col for a in anchors}) == 3


def test_every_drift_delay_list_has_a_chart_of_its_own(tmp_path):
    kpis = drift_kpis()
    trend = frame([row for k in kpis for row in la_trend(k.id, [3, 2])], VALUE_COLUMNS)
    out = publish_scorecard("drift_delay", kpis, trend[trend["period"] == PERIOD], trend,
                            frame([], RECORD_COLUMNS), TEAMS, WORKERS, targets_for(kpis, {}), run_info(),
                            tmp_path / "drift.xlsx")
    charts = load_workbook(out)["Summary"]._charts
    assert len(kpis) == 11 and len(charts) == 11
    assert all(len(c.series) == 1 for c in charts)
    rows = sorted({c.anchor._from.row for c in charts})
    assert len(rows) == 3  # four a row


def test_drift_delay_exception_list(drift_book):
    sheet = drift_book["DD02"]
    assert [c.value for c in sheet[4]] == ["Child", "Assessment", "Worker", "Team", "Assessment start",
                                           "Due (45 working days)", "Working days overdue", "Working days open"]
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True)]
    # only in_numerator = 1, most overdue first; A3 (in_numerator 0) is not an exception
    assert rows == [("P2", "A2", UNALLOCATED, UNALLOCATED, datetime(2023, 12, 18), datetime(2024, 2, 22), 16, 61),
                    ("P1", "A1", "Ann Able", "Assessment East", datetime(2024, 1, 2), datetime(2024, 3, 5), 5, 50)]
    assert sheet["E5"].number_format == "dd/mm/yyyy" and sheet["G5"].number_format == "0"
    assert sheet.freeze_panes == "B5"
    assert sheet.auto_filter.ref == "A4:H6"
    assert sheet["A1"].value == "DD02 Assessment open over 45 working days: 2 at 31 March 2024"


def test_cp_visit_list_shows_plan_start_last_visit_due_date_most_overdue_first(drift_book):
    sheet = drift_book["DD04"]
    assert [c.value for c in sheet[4]] == ["Child", "CP plan", "Worker", "Team", "CP plan start", "Last visit",
                                           "Visit due", "Working days overdue",
                                           "Working days since last visit or plan start"]
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert rows == [("P5", "CP2", "Ann Able", "Assessment East", datetime(2024, 2, 16), None,
                     datetime(2024, 3, 1), 20, 30),
                    ("P4", "CP1", "Ben Bold", "Child Protection", datetime(2023, 6, 1), datetime(2024, 3, 14),
                     datetime(2024, 3, 28), 2, 12)]


def test_the_caseload_list_is_a_list_of_workers(drift_book):
    dd10 = drift_book["DD10"]
    assert [c.value for c in dd10[4]] == ["Worker", "Name", "Team", "Children allocated"]
    assert [c.value for c in dd10[5]] == ["W2", "Ben Bold", "Child Protection", 23]


def test_a_list_carried_forward_without_its_dates_still_reads(tmp_path):
    """Rows from kpi_records (a withheld KPI's last published list) have no list columns."""
    kpi = REGISTRY["DD05"]
    records = frame([{"period": PERIOD, "kpi_id": "DD05", "record_id": "CP1", "person_id": "P1",
                      "team_id": "T1", "worker_id": "W1", "in_numerator": 1, "measure": 9}], RECORD_COLUMNS)
    out = publish_scorecard("drift_delay", [kpi], frame([], VALUE_COLUMNS), frame([], VALUE_COLUMNS), records,
                            TEAMS, WORKERS, {}, run_info(), tmp_path / "drift.xlsx")
    sheet = load_workbook(out)["DD05"]
    assert [c.value for c in sheet[4]] == ["Child", "CP plan", "Worker", "Team", "CP plan start", "Last review",
                                           "Review due", "Days overdue"]
    assert [c.value for c in sheet[5]] == ["P1", "CP1", "Ann Able", "Assessment East", None, None, None, 9]


def test_daily_lists_and_team_packs_show_the_same_columns_most_overdue_first(tmp_path):
    from tasks.publish.exceptions import publish_exceptions_workbook
    kpis = [REGISTRY["DD04"], REGISTRY["DD10"]]
    values = frame([value("DD04", "la", "841", "Darlington", 3), value("DD04", "team", "T1", "Assessment East", 2)],
                   VALUE_COLUMNS)
    columns = RECORD_COLUMNS + ["plan_start", "last_visit", "due_date", "overdue"]
    records = frame([
        {"period": PERIOD, "kpi_id": "DD04", "record_id": "CP1", "person_id": "P1", "team_id": "T1",
         "worker_id": "W1", "in_numerator": 1, "measure": 12, "plan_start": "2023-06-01",
         "last_visit": "2024-03-14", "due_date": "2024-03-28", "overdue": 2},
        {"period": PERIOD, "kpi_id": "DD04", "record_id": "CP2", "person_id": "P2", "team_id": "T1",
         "worker_id": "W1", "in_numerator": 1, "measure": 30, "plan_start": "2024-02-16",
         "last_visit": None, "due_date": "2024-03-01", "overdue": 20},
        {"period": PERIOD, "kpi_id": "DD04", "record_id": "CP3", "person_id": "P3", "team_id": "T2",
         "worker_id": "W2", "in_numerator": 1, "measure": 40, "plan_start": "2024-01-02",
         "last_visit": "2024-02-01", "due_date": "2024-02-15", "overdue": 30},
        {"period": PERIOD, "kpi_id": "DD10", "record_id": "W2", "person_id": None, "team_id": "T2",
         "worker_id": "W2", "in_numerator": 1, "measure": 23},
    ], columns)
    daily = load_workbook(publish_exceptions_workbook(tmp_path / "daily.xlsx", "Daily", kpis, values, records,
                                                      TEAMS, WORKERS, run_info()))
    header = ["Child", "CP plan", "Worker", "Team", "CP plan start", "Last visit", "Visit due",
              "Working days overdue", "Working days since last visit or plan start"]
    assert [c.value for c in daily["DD04"][4]] == header
    assert [r[1] for r in daily["DD04"].iter_rows(min_row=5, values_only=True)] == ["CP3", "CP2", "CP1"]
    assert [c.value for c in daily["DD10"][4]] == ["Worker", "Name", "Team", "Children allocated"]
    pack = load_workbook(publish_exceptions_workbook(tmp_path / "pack.xlsx", "Pack", kpis, values, records,
                                                     TEAMS, WORKERS, run_info(), team_id="T1"))
    assert [c.value for c in pack["DD04"][4]] == header
    assert [r[:2] + r[7:] for r in pack["DD04"].iter_rows(min_row=5, values_only=True)] == [
        ("P2", "CP2", 20, 30), ("P1", "CP1", 2, 12)]
    assert pack["DD04"]["E5"].number_format == "dd/mm/yyyy"
