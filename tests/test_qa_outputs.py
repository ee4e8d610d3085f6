"""QA outputs: the QA workbook, the monthly QA report (HTML, PDF) and QA on a page (PDF),
from hand-made stored KPI values (the QA01-QA11 contract of kpis.md)."""

import html as html_lib
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from tasks.core.settings import KpiTarget
from tasks.kpis.compute import RECORD_COLUMNS, UNALLOCATED, VALUE_COLUMNS
from tasks.publish.excel import la_trend_rows
from tasks.publish.lineage import RunInfo
from tasks.publish.suppression import FOOTNOTE
from tasks.core.figure_ids import parse_figure_id
from tests.pdfs import read_pdf
from tasks.publish.qa_workbook import publish_qa_workbook
from tasks.publish.html import bar_chart_svg, line_chart_svg
from tasks.reports.render import narrative, render_monthly_qa_report, render_qa_on_a_page, show_count, show_percent
from tasks.kpis.registry import load_registry

PERIOD, PREVIOUS = "2024-03", "2024-02"
LA = ("841", "Testshire")
RUN_ID = "run-qa-0001"

QA_KPIS = [
    ("QA01", "Audits completed on time %", "percent", "High"),
    ("QA02", "Audit compliance by auditor", "percent", "High"),
    ("QA03", "Audit grades", "count", "None"),
    ("QA04", "Moderation coverage %", "percent", "High"),
    ("QA05", "Moderation agreement %", "percent", "High"),
    ("QA06", "Inadequate cases re-audited %", "percent", "High"),
    ("QA07", "Follow-up within 2 weeks %", "percent", "High"),
    ("QA08", "Stretch target recorded %", "percent", "High"),
    ("QA09", "Submitted within 5 working days %", "percent", "High"),
    ("QA10", "Child or family feedback sought %", "percent", "High"),
    ("QA11", "Practice observations coverage %", "percent", "High"),
]
# The registry's QA KPIs: their sub-measures' labels and polarities, and the sections
# that show them, are the registry's (issue 13).
KPIS = [k for k in load_registry() if k.scorecard == "qa"]
assert [(k.id, k.name, k.kind, k.polarity) for k in KPIS] == QA_KPIS
TARGETS = {"QA01": KpiTarget(88.0), "QA02": KpiTarget(100.0), "QA05": KpiTarget(80.0),
           "QA06": KpiTarget(100.0), "QA07": KpiTarget(90.0), "QA08": KpiTarget(100.0),
           "QA09": KpiTarget(90.0), "QA10": KpiTarget(75.0), "QA11": KpiTarget(100.0),
           "QA04:service_area=Social Care": KpiTarget(20.0),
           "QA04:service_area=Early Help": KpiTarget(10.0),
           "QA04:grade=Inadequate": KpiTarget(100.0)}


def la(kpi_id, period, value, numerator=None, denominator=None):
    numerator = value if numerator is None and denominator is None else numerator
    return (kpi_id, period, "la", LA[0], LA[1], value, numerator, denominator)


def unit(level, unit_id, name, kpi_id, value, numerator=None, denominator=None):
    numerator = value if numerator is None and denominator is None else numerator
    return (kpi_id, PERIOD, level, unit_id, name, value, numerator, denominator)


MARCH = [
    la("QA01", PERIOD, 84.2, 16, 19),
    la("QA01:role=Team Manager", PERIOD, 80.0, 8, 10), la("QA01:service_area=Early Help", PERIOD, 75.0, 3, 4),
    la("QA02", PERIOD, 75.0, 9, 12), la("QA02:below_requirement", PERIOD, 3),
    la("QA03", PERIOD, 20),
    la("QA03:grade=Outstanding", PERIOD, 10.0, 2, 20), la("QA03:grade=Good", PERIOD, 45.0, 9, 20),
    la("QA03:grade=Requires improvement", PERIOD, 25.0, 5, 20),
    la("QA03:grade=Inadequate", PERIOD, 15.0, 3, 20),
    la("QA03:rolling_3m", PERIOD, 55),
    la("QA03:rolling_3m:grade=Outstanding", PERIOD, 6), la("QA03:rolling_3m:grade=Good", PERIOD, 25),
    la("QA03:rolling_3m:grade=Requires improvement", PERIOD, 15),
    la("QA03:rolling_3m:grade=Inadequate", PERIOD, 7),
    la("QA03:theme=Neglect:grade=Good", PERIOD, 4), la("QA03:theme=Neglect:grade=Inadequate", PERIOD, 1),
    la("QA03:theme=Neglect:grade=Requires improvement", PERIOD, 2),
    la("QA04", PERIOD, 25.0, 5, 20),
    la("QA04:service_area=Social Care", PERIOD, 20.0, 3, 15),
    la("QA04:service_area=Early Help", PERIOD, 40.0, 2, 5),
    la("QA04:grade=Inadequate", PERIOD, 66.7, 2, 3),
    la("QA05", PERIOD, 71.4, 5, 7), la("QA05:moderated_up", PERIOD, 1), la("QA05:moderated_down", PERIOD, 1),
    la("QA06", PERIOD, 66.7, 2, 3),
    la("QA07", PERIOD, 89.5, 17, 19), la("QA08", PERIOD, 95.0, 19, 20), la("QA09", PERIOD, 90.0, 18, 20),
    la("QA10", PERIOD, 60.0, 12, 20), la("QA11", PERIOD, 75.0, 30, 40),
    unit("team", "T1", "Assessment Team A", "QA01", 80.0, 8, 10),
    unit("team", "T1", "Assessment Team A", "QA02", 75.0, 3, 4),
    unit("team", "T1", "Assessment Team A", "QA03", 10),
    unit("team", "T2", "Early Help East", "QA01", 88.9, 8, 9),
    unit("team", "T2", "Early Help East", "QA03", 3),
    unit("team", "Unallocated", "Unallocated", "QA02", 100.0, 2, 2),  # S11 and S12 have no team
    unit("worker", "S01", "Ann Auditor", "QA01", 75.0, 3, 4),
    unit("worker", "S03", "Tom Behind", "QA03", 0),
    unit("service_area", "SV1", "Front Door", "QA01", 84.2, 16, 19),
    unit("service_area", "SV1", "Front Door", "QA02", 75.0, 3, 4),
    unit("service_area", "SV1", "Front Door", "QA03", 13),
]
# the real teams (not their parent departments) with their service area (unit_tables)
TEAMS = pd.DataFrame({"team_id": ["T1", "T2"], "team_name": ["Assessment Team A", "Early Help East"],
                      "service_area_id": ["SV1", "SV1"], "service_name": ["Front Door", "Front Door"]})
FEBRUARY = [
    la("QA01", PREVIOUS, 78.0, 39, 50), la("QA02", PREVIOUS, 80.0, 8, 10), la("QA03", PREVIOUS, 18),
    la("QA04", PREVIOUS, 22.2, 4, 18), la("QA05", PREVIOUS, 85.7, 6, 7), la("QA06", PREVIOUS, 50.0, 1, 2),
    la("QA07", PREVIOUS, 90.0, 18, 20), la("QA08", PREVIOUS, 95.0, 19, 20), la("QA09", PREVIOUS, 85.0, 17, 20),
    la("QA10", PREVIOUS, 60.0, 12, 20), la("QA11", PREVIOUS, 72.5, 29, 40),
    la("QA05:moderated_up", PREVIOUS, 0),
]
EARLIER = [la("QA01", f"2023-{m:02d}", 80.0, 40, 50) for m in range(3, 13)] + [la("QA01", "2024-01", 82.0, 41, 50)]

STAFF = pd.DataFrame([
    # staff_id, name, role, team_id, service_area, audits_required
    ("S01", "Ann Auditor", "Team Manager", "T1", "Social Care", 1),
    ("S02", "Bob Brown", "Team Manager", "T1", "Social Care", 1),
    ("S03", "Tom Behind", "Team Manager", "T2", "Early Help", 1),
    ("S09", "Cat Cole", "Team Manager", "T2", "Early Help", 1),
    ("S10", "Dan Doe", "Team Manager", "T1", "Social Care", 1),
    ("S04", "Sue Short", "Service Manager", "T1", "Social Care", 3),
    ("S05", "Eve East", "Service Manager", "T2", "Early Help", 1),
    ("S06", "Fay Fox", "Service Manager", "T1", "Social Care", 1),
    ("S07", "Ray Res", "Residential Manager", "T3", "Residential", 1),
    ("S08", "Gus Gray", "Residential Manager", "T3", "Residential", 1),
    ("S11", "Ada Ames", "Assistant Director", None, "Social Care", 1),
    ("S12", "Cllr Ivy", "Elected Member", None, None, 1),
], columns=["staff_id", "name", "role", "team_id", "service_area", "audits_required"])
# QA02 records: measure = audits short of the requirement; S03, S04 (1 of 3) and S07 behind.
QA02_MEASURES = {"S01": 0, "S02": 0, "S03": 1, "S09": 0, "S10": 0, "S04": 2, "S05": 0, "S06": 0,
                 "S07": 1, "S08": 0, "S11": 0, "S12": 0}
BEHIND = {"S03", "S04", "S07"}


def records_frame() -> pd.DataFrame:
    # as the computation attributes them: a staff member with no team is under "Unallocated"
    teams = {staff: team or UNALLOCATED for staff, team in zip(STAFF["staff_id"], STAFF["team_id"])}
    rows = [(PERIOD, "QA02", staff, None, teams[staff], staff, 0 if staff in BEHIND else 1, counted)
            for staff, counted in QA02_MEASURES.items()]
    rows += [(PERIOD, "QA06", "A101", "P1001", "T1", "S01", 1, None),
             (PERIOD, "QA06", "A102", "P1002", "T2", "S03", 0, None),
             (PERIOD, "QA06", "A103", "P1003", "T1", "S02", 1, None)]
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def run_info() -> RunInfo:
    return RunInfo(period=PERIOD, run_id=RUN_ID, code_version="0.1.0+test", la_code=LA[0], la_name=LA[1],
                   synthetic=True, started_at="2024-04-02T06:00:00", source="synthetic", population=100000,
                   population_year=2023, extracts=[{"table_name": "qa_audits", "source_name": "qa_audits.csv",
                                                    "sha256": "ab" * 32, "row_count": 120}])


@pytest.fixture
def frames():
    values = pd.DataFrame(MARCH, columns=VALUE_COLUMNS)
    trend = pd.DataFrame(FEBRUARY + EARLIER, columns=VALUE_COLUMNS)
    return values, trend


# --- small pieces ---------------------------------------------------------------------------------------


def test_figure_ids_parse_into_names_and_dimensions():
    parsed = parse_figure_id("QA03:rolling_3m:grade=Requires improvement")
    assert (parsed.kpi_id, parsed.names, parsed.dimension) == ("QA03", ("rolling_3m",),
                                                               {"grade": "Requires improvement"})


@pytest.mark.parametrize("value, expected", [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (1234, "1,234"),
                                             (None, "n/a")])
def test_counts_of_one_to_four_are_shown_as_less_than_five(value, expected):
    assert show_count(value) == expected


@pytest.mark.parametrize("value, denominator, expected", [(66.7, 3, "*"), (75.0, 4, "*"), (40.0, 5, "40.0%"),
                                                          (None, 0, "n/a")])
def test_percentages_on_fewer_than_five_are_suppressed(value, denominator, expected):
    assert show_percent(value, denominator) == expected


def test_narrative_compares_with_last_month_and_leaves_out_small_numbers(frames):
    values, trend = frames
    sentences, left_out = narrative(KPIS, la_trend_rows(values, trend), PERIOD)
    by_id = {s["id"]: s["sentence"] for s in sentences}
    assert by_id["QA01"] == "Audits completed on time rose from 78.0% to 84.2%."
    assert by_id["QA05"] == "Moderation agreement fell from 85.7% to 71.4%."
    assert by_id["QA03"] == "Audits completed rose from 18 to 20."
    assert by_id["QA08"] == "Stretch target recorded was unchanged at 95.0%."
    assert "QA06" not in by_id and left_out == 1  # 2 of 3 and 1 of 2: suppressed


def test_svg_charts_leave_gaps_and_hide_suppressed_bars():
    line = line_chart_svg(["Jan 24", "Feb 24", "Mar 24", "Apr 24"], [50.0, None, 60.0, 70.0], "QA01", target=80)
    assert line.count("<polyline") == 2 and line.count("<circle") == 3 and "target" in line
    bars = bar_chart_svg([("Good", 9, "9"), ("Inadequate", None, "<5")], "Grades")
    assert bars.count("<rect") == 1 and "&lt;5" in bars


# --- the workbook ------------------------------------------------------------------------------------


def sheet_rows(sheet):
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def row_starting(sheet, first):
    return next(r for r in sheet_rows(sheet) if r and r[0] == first)


def test_qa_workbook_cells(frames, tmp_path):
    values, trend = frames
    allocation = pd.DataFrame({"theme": ["Neglect"] * 2, "seed": [20240301] * 2,
                               "auditor_id": ["S01", "S02"], "person_id": ["P2001", "P2002"],
                               "team_id": ["T2", "T2"]})
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa.xlsx", allocation=allocation, teams=TEAMS)
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "By role", "Auditors", "Service areas", "Teams", "Grades", "Moderation",
                               "Closing the loop", "By role and area", "Re-audits", "Allocation",
                               "Definitions", "Run", "Chart targets"]

    summary = book["Summary"]
    assert summary["A1"].value == "Testshire: QA Activity, March 2024"
    assert "SYNTHETIC" in summary["A2"].value
    header = sheet_rows(summary)[3]
    qa01 = dict(zip(header, row_starting(summary, "QA01")))
    assert (qa01["2023-03"], qa01["2024-02"], qa01["2024-03"]) == (80, 78, 84.2)
    assert (qa01["Target"], qa01["RAG"], qa01["Direction of travel"]) == (88, "Amber", "Improving")
    social_care = dict(zip(header, row_starting(summary, "QA04:service_area=Social Care")))
    assert (social_care["2024-03"], social_care["RAG"]) == (20, "Green")
    assert dict(zip(header, row_starting(summary, "QA02:below_requirement")))["2024-03"] == 3
    assert not any(r[0] == "QA03:theme=Neglect:grade=Good" for r in sheet_rows(summary))
    assert not any(str(r[0]).startswith("QA01:") for r in sheet_rows(summary))
    # breakdowns by auditor role and service area have their own sheet
    by_role_area = book["By role and area"]
    assert row_starting(by_role_area, "QA01:role=Team Manager")[2:5] == [8, 10, 80]
    assert row_starting(by_role_area, "QA01:service_area=Early Help")[2:5] == [3, 4, 75]

    # who is behind, and by how much: Sue Short needs 3 audits and has 1
    auditors = book["Auditors"]
    assert sheet_rows(auditors)[4][:8] == ["S04", "Sue Short", "Service Manager", "Assessment Team A",
                                           "Social Care", 3, 2, "No"]
    behind = [r[0] for r in sheet_rows(auditors)[4:] if r[7] == "No"]
    assert sorted(behind) == ["S03", "S04", "S07"]
    ann = row_starting(auditors, "S01")
    assert (ann[6], ann[8], ann[9]) == (0, 4, 75)  # not behind; 4 audits due, 75.0% on time
    # senior staff: their role, and no team (not a team called "Unallocated")
    assert row_starting(auditors, "S11")[1:5] == ["Ada Ames", "Assistant Director", None, "Social Care"]
    assert row_starting(auditors, "S12")[1:5] == ["Cllr Ivy", "Elected Member", None, None]
    assert not any(UNALLOCATED in r for r in sheet_rows(auditors))

    assert row_starting(book["By role"], "Team Manager")[:6] == ["Team Manager", 5, 4, 1, 1, 80]
    assert row_starting(book["By role"], "Service Manager")[:6] == ["Service Manager", 3, 2, 1, 2, 66.7]

    grades = book["Grades"]
    assert row_starting(grades, "Good")[:5] == ["Good", 9, 45, 25, 45.5]
    assert row_starting(grades, "No grade recorded")[:5] == ["No grade recorded", 1, 5, 2, 3.6]
    assert row_starting(grades, "Total")[:5] == ["Total", 20, 100, 55, 100]
    assert row_starting(grades, "Neglect")[:6] == ["Neglect", 0, 4, 2, 1, 7]

    moderation = book["Moderation"]
    assert row_starting(moderation, "QA04:service_area=Social Care")[2:9] == [3, 15, 20, "%", None, 20, "Green"]
    assert row_starting(moderation, "QA04:grade=Inadequate")[2:9] == [2, 3, 66.7, "%", None, 100, "Red"]
    assert row_starting(moderation, "QA05")[4:10] == [71.4, "%", 85.7, 80, "Red", "Declining"]
    assert row_starting(moderation, "QA05:moderated_down")[4] == 1

    loop = book["Closing the loop"]
    assert [r[0] for r in sheet_rows(loop)[4:]] == ["QA06", "QA07", "QA08", "QA09", "QA10", "QA11"]
    assert row_starting(loop, "QA10")[2:9] == [12, 20, 60, "%", 60, 75, "Red"]

    reaudits = book["Re-audits"]
    assert reaudits["A1"].value.startswith("QA06 Inadequate audits: 1 awaiting re-audit")
    assert sheet_rows(reaudits)[4][:5] == ["A102", "P1002", "Early Help East", "Tom Behind", "No"]

    allocation_sheet = book["Allocation"]
    assert "Seed: 20240301" in allocation_sheet["A3"].value and "Theme: Neglect" in allocation_sheet["A3"].value
    assert sheet_rows(allocation_sheet)[3][:6] == ["Auditor ID", "Auditor", "Auditor role", "Auditor's team",
                                                   "Round", "Child"]
    # without names, the ids stand in for the teams
    assert sheet_rows(allocation_sheet)[4] == ["S01", None, None, None, None, "P2001", None, None, None, None, "T2"]

    teams = book["Teams"]
    team_header = sheet_rows(teams)[3]
    team_a = dict(zip(team_header, row_starting(teams, "T1")))
    assert (team_a["Team"], team_a["Service area"], team_a["QA01 Audits completed on time %"],
            team_a["QA01 RAG (target 88%)"], team_a["QA01 denominator"]) == \
        ("Assessment Team A", "Front Door", 80, "Red", 10)  # 88 - 5 tolerance = 83
    areas = book["Service areas"]
    area = dict(zip(sheet_rows(areas)[3], row_starting(areas, "SV1")))
    assert (area["Service area"], area["Teams in it"], area["QA01 Audits completed on time %"],
            area["QA01 RAG (target 88%)"], area["QA03 Audit grades (audits completed)"]) == ("Front Door", 2, 84.2, "Amber", 13)
    # the staff with no team (the Assistant Director, the elected member): not a team called "Unallocated"
    assert not any(r[1] == UNALLOCATED for r in sheet_rows(teams)[4:])

    assert row_starting(book["Run"], "Run ID")[:2] == ["Run ID", RUN_ID]
    assert row_starting(book["Definitions"], "QA07")[1] == "Follow-up within 2 weeks %"


def test_qa_workbook_without_allocation_has_no_allocation_sheet(frames, tmp_path):
    values, trend = frames
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa.xlsx")
    assert "Allocation" not in load_workbook(path).sheetnames
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


# --- the reports ------------------------------------------------------------------------------------


def text_of(markup: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def table_row(markup: str, label: str) -> list[str]:
    """The cell texts of the first table row whose first cell is `label`."""
    for row in re.findall(r"<tr>(.*?)</tr>", markup, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if cells and text_of(cells[0]) == label:
            return [text_of(c) for c in cells]
    raise AssertionError(f"no row {label!r}")


def pdf_pages_and_text(path) -> tuple[int, str]:
    pdf = read_pdf(path)
    return pdf.pages, pdf.text


def test_monthly_qa_report_html_and_pdf(frames, tmp_path):
    values, trend = frames
    html_path, pdf_path = render_monthly_qa_report(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS)
    markup = html_path.read_text(encoding="utf-8")
    text = text_of(markup)
    assert "Testshire: monthly QA report, March 2024" in text
    assert "Period: March 2024 (2024-03)" in text and f"Run {RUN_ID}" in text
    assert "SYNTHETIC DATA" in text
    assert "Audits completed on time rose from 78.0% to 84.2%." in text
    assert "Moderation agreement fell from 85.7% to 71.4%." in text
    assert "1 measure is not compared because fewer than 5" in text
    assert table_row(markup, "Audits completed on time %") == [
        "Audits completed on time %", "19", "84.2%", "78.0%", "88.0%", "Amber", "Improving"]
    assert table_row(markup, "Audit grades") == ["Audit grades", "", "20", "18", "", "", "Higher"]
    # small numbers: counts 1-4 as <5, percentages on fewer than 5 suppressed with no RAG
    assert table_row(markup, "Moderation agreement %: moderated up") == [
        "Moderation agreement %: moderated up", "", "<5", "0", "", "", ""]
    assert table_row(markup, "Inadequate cases re-audited %") == [
        "Inadequate cases re-audited %", "<5", "*", "*", "100.0%", "", ""]
    assert table_row(markup, "Moderation coverage %: Social Care") == [
        "Moderation coverage %: Social Care", "15", "20.0%", "n/a", "20.0%", "Green", ""]
    assert table_row(markup, "Good") == ["Good", "9", "45.0%", "25", "45.5%"]
    # rolling 3 months: "No grade" is 2, so the smallest other grade (6 Outstanding) is hidden too
    assert table_row(markup, "Outstanding") == ["Outstanding", "<5", "*", "*", "*"]
    assert table_row(markup, "No grade recorded") == ["No grade recorded", "<5", "*", "<5", "*"]
    assert table_row(markup, "Early Help East") == ["Early Help East", "9", "88.9%", "<5", "n/a", "n/a"]
    assert table_row(markup, "Assessment Team A") == ["Assessment Team A", "10", "80.0%", "10", "<5", "*"]
    assert " ".join(FOOTNOTE.split()) in text  # the one small-numbers footnote (tasks.publish.suppression)
    assert markup.count("<svg") == 11  # 10 percentage trends and the grades chart
    # no child-level data, no named auditors
    assert "P1001" not in markup and "Tom Behind" not in markup and "Ann Auditor" not in markup

    pages, pdf_text = pdf_pages_and_text(pdf_path)
    assert pages >= 2
    assert "2024-03" in pdf_text


def test_qa_on_a_page_is_one_a4_page(frames, tmp_path):
    values, trend = frames
    pdf_path = render_qa_on_a_page(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS)
    pages, pdf_text = pdf_pages_and_text(pdf_path)
    assert pages == 1
    assert "2024-03" in pdf_text
    assert read_pdf(pdf_path).a4_portrait
    assert [p.name for p in tmp_path.iterdir()] == [f"qa_on_a_page_{PERIOD}.pdf"]


def test_a_single_small_count_beside_its_total_hides_the_next_smallest_too():
    from tasks.publish.suppression import hidden_counts
    assert hidden_counts([9, 3, 7, 0]) == {1: "<5", 3: "*"}  # total 19 less 9 and 7 would give 3
    assert hidden_counts([9, 3, 2, 8]) == {1: "<5", 2: "<5"}  # two hidden: neither can be worked out
    assert hidden_counts([9, 6, 7, 8]) == {}
    assert hidden_counts([None, 4]) == {1: "<5"}  # nothing else to hide


ALLOCATION = pd.DataFrame([
    # as tasks.kpis.qa.monthly_allocation returns it
    {"month": "2024-04", "theme": "Neglect", "seed": 202404, "round": 1, "auditor_id": "S01",
     "auditor_role": "Team Manager", "auditor_team_id": "T1", "person_id": "P2001", "team_id": "T2",
     "worker_id": "W7", "open_as": "CIN; CP", "characteristics": "N1; NEG", "auditor_name": "Ann Auditor",
     "auditor_team_name": "Assessment Team A", "worker_name": "Wes Worker", "team_name": "Early Help East"},
    {"month": "2024-04", "theme": "Neglect", "seed": 202404, "round": 1, "auditor_id": "S11",
     "auditor_role": "Assistant Director", "auditor_team_id": None, "person_id": "P2002", "team_id": None,
     "worker_id": None, "open_as": "CLA", "characteristics": "N1", "auditor_name": "Ada Ames",
     "auditor_team_name": None, "worker_name": None, "team_name": None},
])


def test_allocation_sheet_names_people_beside_their_ids_in_words_and_explains_its_codes(frames, tmp_path):
    values, trend = frames
    warning = 'the planned theme "Pre-birth" (2024-06) has no cohort rule: give it one under [qa.theme_keywords]'
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa.xlsx", allocation=ALLOCATION, allocation_warnings=[warning],
                               allocation_rule=("neglect", "N1"))
    sheet = load_workbook(path)["Allocation"]
    rows = sheet_rows(sheet)
    assert "Theme: Neglect. Cohort rule ([qa.theme_keywords]): neglect, N1. Seed: 202404" in rows[2][0]
    assert rows[3] == ["Auditor ID", "Auditor", "Auditor role", "Auditor's team", "Round", "Child", "Open as",
                       "Need code / CP category", "Case worker ID", "Case worker", "Case team"]
    assert rows[4] == ["S01", "Ann Auditor", "Team Manager", "Assessment Team A", 1, "P2001", "CIN; CP",
                       "N1; NEG", "W7", "Wes Worker", "Early Help East"]
    # an Assistant Director: their role, and no team (not "Unallocated")
    assert rows[5] == ["S11", "Ada Ames", "Assistant Director", None, 1, "P2002", "CLA", "N1", None, None, None]
    texts = [r[0] for r in rows[6:] if r[0]]
    assert texts[0] == "Warnings: planned themes with no cohort rule"
    assert texts[1] == f"Not drawn when due: {warning}."
    assert texts[2] == "Codes"
    codes = " ".join(texts[3:])
    for explained in ("CIN = an open child in need episode", "CP = an open child protection plan", "CLA = looked after",
                      "N1 abuse or neglect", "NEG neglect", "Auditor role:", "case_file", "Round:"):
        assert explained in codes


def test_allocation_not_drawn_says_why_on_the_sheet(frames, tmp_path):
    values, trend = frames
    note = ('not drawn: the planned theme "Quality of supervision" (2024-04) has no cohort rule: give it one '
            'under [qa.theme_keywords]')
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), STAFF, TARGETS, run_info(),
                               tmp_path / "qa.xlsx", allocation=ALLOCATION.head(0), allocation_note=note)
    sheet = load_workbook(path)["Allocation"]
    assert f"This month's allocation was {note}." in sheet["A3"].value
    assert sheet["A5"].value == f"Allocation {note}." and sheet["A5"].font.bold


def test_auditors_sheet_names_a_service_managers_service(frames, tmp_path):
    values, trend = frames
    staff = STAFF.assign(team_id=STAFF["team_id"].where(STAFF["staff_id"] != "S04", "SV1"),
                         team_name=[("Front Door" if s == "S04" else None) for s in STAFF["staff_id"]])
    path = publish_qa_workbook(KPIS, values, trend, records_frame(), staff, TARGETS, run_info(), tmp_path / "qa.xlsx")
    assert row_starting(load_workbook(path)["Auditors"], "S04")[3] == "Front Door"


# --- issue 14, point 7: not a wall of <5; senior leaders; learning first -----------------------------

SMALL_TEAMS = [
    # four teams with 1 to 4 of everything: by team, small numbers hide nearly every figure
    *[row for team, name in (("T1", "Assessment Team A"), ("T2", "Early Help East"),
                             ("T3", "Safeguarding North"), ("T4", "Safeguarding South"))
      for row in (unit("team", team, name, "QA01", 100.0, 3, 3), unit("team", team, name, "QA02", 50.0, 1, 2),
                  unit("team", team, name, "QA03", 3))],
    # their service areas (the teams' parent departments): T1 + T2, T3 + T4
    unit("service_area", "SV1", "Front Door", "QA01", 100.0, 6, 6),
    unit("service_area", "SV1", "Front Door", "QA02", 50.0, 2, 4),
    unit("service_area", "SV1", "Front Door", "QA03", 6),
    unit("service_area", "SV2", "Safeguarding", "QA01", 83.3, 5, 6),
    unit("service_area", "SV2", "Safeguarding", "QA02", 60.0, 3, 5),
    unit("service_area", "SV2", "Safeguarding", "QA03", 6),
    # senior roles: each too few to show alone, 5 together
    la("QA02:role=DCS", PERIOD, 0.0, 0, 1), la("QA02:role=Assistant Director", PERIOD, 100.0, 2, 2),
    la("QA02:role=Head of Service", PERIOD, 100.0, 2, 2),
    la("QA01:role=DCS", PERIOD, 100.0, 1, 1),
    # what the follow-ups of February's 19 audits found: 12 all done, 3 partly, 4 neither
    la("QA07:actions_completed", PERIOD, 12), la("QA07:actions_partly_completed", PERIOD, 3),
]


@pytest.fixture
def small_team_frames(frames):
    values, trend = frames
    values = pd.concat([values[values["level"] != "team"], pd.DataFrame(SMALL_TEAMS, columns=VALUE_COLUMNS)],
                       ignore_index=True)
    return values, trend


def test_audits_by_team_become_audits_by_service_area_when_small_numbers_hide_most(small_team_frames, tmp_path):
    values, trend = small_team_frames
    html_path, _ = render_monthly_qa_report(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS)
    markup = html_path.read_text(encoding="utf-8")
    text = text_of(markup)
    assert "Audits by service area" in text and "Audits by team" not in text
    # by team, all 20 figures would be hidden (due, completed and staff <5; on time and compliance *)
    assert "small numbers would hide 20 of the 20 figures" in text
    assert table_row(markup, "Front Door") == ["Front Door", "6", "100.0%", "6", "<5", "*"]
    assert table_row(markup, "Safeguarding") == ["Safeguarding", "6", "83.3%", "6", "5", "60.0%"]
    with pytest.raises(AssertionError):
        table_row(markup, "Assessment Team A")
    # the senior leaders' compliance shows, together, as soon as there are 5 of them
    senior = "Senior leaders (DCS, Assistant Director, Head of Service)"
    assert table_row(markup, senior) == [senior, "<5", "*", "n/a", "5", "80.0%"]
    assert table_row(markup, "DCS")[1:3] == ["<5", "*"]
    assert table_row(markup, "Together: DCS, Assistant Director, Head of Service")[1:3] == ["5", "80.0%"]


def test_audits_stay_by_team_when_most_team_figures_show(frames, tmp_path):
    values, trend = frames
    html_path, _ = render_monthly_qa_report(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS)
    text = text_of(html_path.read_text(encoding="utf-8"))
    assert "Audits by team" in text and "Teams are grouped" not in text


FINDINGS = [k for k in load_registry() if k.shown_in_output("qa_strengths") or k.shown_in_output("qa_development")]
FOUND = [la("QA12", PERIOD, 15), la("QA12:domain=Voice of the child", PERIOD, 9),
         la("QA12:domain=Planning", PERIOD, 6), la("QA12:domain=Recording", PERIOD, 2),
         la("QA12:domain=Supervision", PERIOD, 7), la("QA12:domain=Assessment", PERIOD, 0),
         la("QA13", PERIOD, 11), la("QA13:domain=Management oversight", PERIOD, 8),
         la("QA13:domain=Recording", PERIOD, 3)]


def test_qa_on_a_page_leads_with_what_changed_and_the_actions_completed(small_team_frames, tmp_path):
    values, trend = small_team_frames
    pdf_path = render_qa_on_a_page(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS)
    pages, pdf_text = pdf_pages_and_text(pdf_path)
    text = " ".join(pdf_text.split())
    assert pages == 1
    assert "What audits found" not in text  # no audit findings supplied
    assert text.index("What changed since February 2024") < text.index("Actions completed") \
        < text.index("Audit grades this month")
    assert "Audits completed on time rose from 78.0% to 84.2%." in text
    # 12 all done; 3 partly and 4 neither are both 1-4: <5 (two hidden, neither can be worked out)
    assert ("Of the 19 audits completed in February 2024, the auditor's follow-up found every action "
            "completed in 12, actions partly completed in <5, and <5 not yet followed up") in text


def test_qa_on_a_page_leads_with_what_the_audits_found_when_findings_exist(small_team_frames, tmp_path):
    values, trend = small_team_frames
    values = pd.concat([values, pd.DataFrame(FOUND, columns=VALUE_COLUMNS)], ignore_index=True)
    pdf_path = render_qa_on_a_page(values, trend, KPIS, run_info(), tmp_path, targets=TARGETS, findings=FINDINGS)
    pages, pdf_text = pdf_pages_and_text(pdf_path)
    text = " ".join(pdf_text.split())
    assert pages == 1
    assert text.index("What audits found this month") < text.index("What changed since") \
        < text.index("Actions completed")
    # the three domains most often found, most first; none with no audit
    assert ("Strengths most often recorded: Voice of the child (9 audits); Supervision (7 audits); "
            "Planning (6 audits).") in text
    # only domains of 5 or more audits: a ranking of suppressed counts would give them away (issue 15 point 4)
    assert "Areas for development most often recorded: Management oversight (8 audits)." in text
