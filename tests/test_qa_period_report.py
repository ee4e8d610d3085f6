"""The quarterly and six-monthly QA reports (tasks/reports/qa_period_report.py), from
hand-made stored values: the published figures of each quarter's last month, the QA
measures of the quarter's months, the quarter's CMP/IRO/SUR and QA12/QA13 figures, the
"what changed" sentences, small numbers (no count of 1-4, directly or by subtraction),
and the six-monthly report's proposed audit themes with a `[qa.themes]` block that the
settings model reads. One flow test runs the quarterly flow on the synthetic LA."""

from __future__ import annotations

import re
import tomllib
from datetime import date

import pandas as pd
import pytest

from tasks.core.periods import Period
from tasks.core.settings import KpiTarget, QaSettings
from tasks.core.sources import TABLES
from tasks.kpis.compute import RECORD_COLUMNS, VALUE_COLUMNS
from tasks.kpis.registry import Figure, computed_for, load_registry
from tasks.operations.delivery import CATALOGUE, content_level, output_level
from tasks.operations.pipeline import PeriodResults
from tasks.publish.lineage import RunInfo
from tasks.reports import qa_period_report as report
from tasks.warehouse import database as store
from tests.pdfs import read_pdf

REGISTRY = load_registry()
BY_ID = {k.id: k for k in REGISTRY}
LA = ("841", "Testshire")


def rows(period: str, figures: dict) -> list[dict]:
    """LA rows: {figure id: value or (value, numerator, denominator)}."""
    out = []
    for figure_id, figure in figures.items():
        value, numerator, denominator = figure if isinstance(figure, tuple) else (figure, figure, None)
        out.append({"kpi_id": figure_id, "period": period, "level": "la", "unit_id": LA[0], "unit_name": LA[1],
                    "value": value, "numerator": numerator, "denominator": denominator})
    return out


def frame(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=VALUE_COLUMNS)


def publish(engine, flow: str, period: str, run_id: str, figures: dict) -> None:
    """A run of `flow` for `period`, stored and made current, as a flow leaves it."""
    store.start_run(engine, run_id, flow, period, "manual", "test", "source")
    store.store_results(engine, run_id, frame(rows(period, figures)), pd.DataFrame(columns=RECORD_COLUMNS))
    store.complete_run(engine, run_id, flow, period, "Completed", None, [])


def complaints_table(received: list[date], categories: list) -> pd.DataFrame:
    """The complaints source table with every contract column (those not given empty)."""
    given = {"complaint_id": [f"C{i}" for i in range(len(received))], "received_date": received,
             "category": categories}
    return pd.DataFrame({c: given.get(c, [None] * len(received)) for c in TABLES["complaints"].column_names})


def run_info(period: str) -> RunInfo:
    return RunInfo(period=period, run_id=f"run-{period}", code_version="test", la_code=LA[0], la_name=LA[1],
                   synthetic=True, started_at="2024-07-08T07:00:00", source="x", population=20000,
                   population_year=2023, trend_months=4)


def qa_month(audits: int, on_time: float, grades: dict[str, int]) -> dict:
    figures = {"QA01": (on_time, on_time * 10 / 100, 10), "QA03": audits,
               "QA05": (80.0, 8, 10), "QA05:moderated_up": 1, "QA05:moderated_down": 6,
               "QA07": (90.0, 9, 10)}
    for grade, count in grades.items():
        figures[f"QA03:grade={grade}"] = (100.0 * count / audits, count, audits)
    return figures


# --- the quarterly QA report, 2024-Q2 ---------------------------------------------------------------

QUARTER = "2024-Q2"


@pytest.fixture
def quarter_store(sqlite_warehouse):
    """Monthly runs: 2023-12, 2024-03 and 2024-06 published (2023-09 never run); the
    quarter's three months with QA measures. SAF07 rises 70 -> 75 -> 80; SAF13 at June
    on a base of 3 (suppressed); DD10's mean caseload 18.5 -> 21.0."""
    engine = sqlite_warehouse
    publish(engine, "monthly", "2023-12", "m-2023-12", {"SAF07": (70.0, 7, 10), "SAF13": (90.0, 9, 10),
                                                        "DD10:mean_caseload": 18.5})
    publish(engine, "monthly", "2024-03", "m-2024-03", {"SAF07": (75.0, 15, 20), "SAF13": (95.0, 19, 20),
                                                        "DD10:mean_caseload": 19.0})
    publish(engine, "monthly", "2024-04", "m-2024-04",
            qa_month(12, 70.0, {"Outstanding": 1, "Good": 6, "Requires improvement": 5, "Inadequate": 0}))
    publish(engine, "monthly", "2024-05", "m-2024-05",
            qa_month(20, 80.0, {"Outstanding": 5, "Good": 10, "Requires improvement": 5, "Inadequate": 0}))
    publish(engine, "monthly", "2024-06", "m-2024-06",
            {"SAF07": (80.0, 16, 20), "SAF13": (100.0, 3, 3), "DD10:mean_caseload": 21.0,
             **qa_month(15, 90.0, {"Outstanding": 5, "Good": 5, "Requires improvement": 5, "Inadequate": 0})})
    return engine


def quarter_results() -> PeriodResults:
    values = frame(rows(QUARTER, {"CMP01": 12, "CMP02": (80.0, 8, 10), "IRO01": 3, "IRO02": (75.0, 3, 4),
                                  "QA13": 9, "QA13:domain=Planning": 7, "QA13:domain=Recording": 2}))
    trend = frame(rows("2023-Q3", {"CMP01": 10, "CMP02": (60.0, 6, 10)})
                  + rows("2023-Q4", {"CMP01": 11, "CMP02": (65.0, 13, 20)})
                  + rows("2024-Q1", {"CMP01": 9, "CMP02": (71.0, 71, 100), "IRO01": 6, "IRO02": (50.0, 5, 10),
                                     "QA13": 8, "QA13:domain=Planning": 6, "QA13:domain=Recording": 5})
                  + rows(QUARTER, {"CMP01": 12, "CMP02": (80.0, 8, 10), "IRO01": 3, "IRO02": (75.0, 3, 4),
                                   "QA13": 9, "QA13:domain=Planning": 7, "QA13:domain=Recording": 2}))
    return PeriodResults(values, trend, pd.DataFrame(columns=RECORD_COLUMNS))


def quarterly_kpis():
    return [k for k in computed_for(REGISTRY, Period.quarter(QUARTER)) if k.id != "QA12"]


def engine_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_the_quarterly_report_shows_each_quarters_published_figures(quarter_store, tmp_path):
    paths = report.render_qa_period_report(quarter_results(), None, quarterly_kpis(), run_info(QUARTER), tmp_path,
                                           engine_url(quarter_store), None, Period.quarter(QUARTER))
    assert [p.split("/")[-1] for p in paths] == ["qa_quarterly_report_2024-Q2.html", "qa_quarterly_report_2024-Q2.pdf"]
    pdf = read_pdf(tmp_path / "qa_quarterly_report_2024-Q2.pdf")
    text = pdf.text
    assert pdf.a4_portrait and "SYNTHETIC DATA" in text and "run-2024-Q2" in text
    assert "Testshire: quarterly QA report, Q2 2024 (April to June 2024)" in text
    # the headline figures at each quarter's end: September 2023 never published
    assert ("SAF07 Assessments completed within 45 working days % not published 70.0% 75.0% 80.0% 85% Amber"
            in text)
    assert "SAF13 CP visits within 10 working days % not published 90.0% 95.0% *" in text
    assert "DD10 Mean caseload" in text and "DD10:mean_caseload" not in text and "18.5 19.0 21.0" in text
    # the QA measures as published for April, May and June 2024
    assert "QA01 Audits completed on time % 70.0% 80.0% 90.0% 90% Green" in text
    # the quarter's complaints and DRP headlines beside the three quarters before
    assert "CMP02 Stage 1 responded within timescale % 60.0% 65.0% 71.0% 80.0%" in text
    assert "CMP01 Complaints received 10 11 9 12" in text
    assert "IRO01 Dispute resolution alerts raised n/a n/a 6 <5" in text
    assert "IRO02 DRP alerts resolved within 20 working days % n/a n/a 50.0% *" in text


def test_what_changed_is_said_from_the_figures(quarter_store, tmp_path):
    context = report.report_context(quarter_results(), quarterly_kpis(), run_info(QUARTER), quarter_store, None,
                                    Period.quarter(QUARTER))
    sections = {s["key"]: s for s in context["sections"]}
    assert sections["scorecards"]["narrative"] == [
        "Assessments completed within 45 working days rose from 75.0% in Mar 2024 to 80.0% in Jun 2024.",
        "Mean caseload (children per allocated worker) at month end rose from 19.0 in Mar 2024 to 21.0 in Jun 2024."]
    assert sections["scorecards"]["left_out"] == 1  # SAF13 on a base of 3: never narrated
    assert "Stage 1 responded within timescale rose from 71.0% in Q1 2024 to 80.0% in Q2 2024." in \
        sections["context"]["narrative"]
    assert "Complaints received rose from 9 in Q1 2024 to 12 in Q2 2024." in sections["context"]["narrative"]
    assert not any("alerts raised" in s or "resolved within" in s for s in sections["context"]["narrative"])
    assert "Audits completed on time rose from 70.0% in Apr 2024 to 90.0% in Jun 2024." in \
        sections["activity"]["narrative"]
    assert "Audits completed rose from 12 in Apr 2024 to 15 in Jun 2024." in sections["activity"]["narrative"]
    assert "Audits with an area for development in Planning rose from 6 in Q1 2024 to 7 in Q2 2024." in \
        sections["findings"]["narrative"]
    assert sections["findings"]["left_out"] == 1  # Recording's 2 in Q2 2024
    # the LA's targets when given: SAF07 against 75% is Green
    targeted = report.report_context(quarter_results(), quarterly_kpis(), run_info(QUARTER), quarter_store, None,
                                     Period.quarter(QUARTER), report.la_targets(quarterly_kpis(),
                                                                                {"SAF07": KpiTarget(75.0, None)}))
    [saf07] = [line for line in targeted["sections"][0]["lines"] if line["id"] == "SAF07"]
    assert (saf07["target"], saf07["rag"]) == ("75%", "Green")


def test_no_count_of_one_to_four_is_shown(quarter_store, tmp_path):
    report.render_qa_period_report(quarter_results(), None, quarterly_kpis(), run_info(QUARTER), tmp_path,
                                   engine_url(quarter_store), None, Period.quarter(QUARTER))
    html = (tmp_path / "qa_quarterly_report_2024-Q2.html").read_text()
    cells = [c.strip() for c in re.findall(r'<td class="num">(?:<strong>)?(?:<span class="suppressed">)?([^<]*)', html)]
    assert cells and not [c for c in cells if c in {"1", "2", "3", "4"}]
    context = report.report_context(quarter_results(), quarterly_kpis(), run_info(QUARTER), quarter_store, None,
                                    Period.quarter(QUARTER))
    sections = {s["key"]: s for s in context["sections"]}
    [grades] = sections["activity"]["tables"]
    by_grade = {row["name"]: row["cells"] for row in grades["rows"]}
    # April: 1 Outstanding of 12 audits: `<5`, and the 0 Inadequate beside it hidden too, so that
    # 12 - 6 - 5 cannot give it back
    assert by_grade["Outstanding"][0] == "<5" and by_grade["Inadequate"][0] == "*"
    assert by_grade["Good"][0] == "6" and by_grade["Total"] == ["12", "20", "15"]
    # moderated up (1) and down (6): the 6 is hidden beside the `<5`, since the agreement % and
    # its base give their sum
    moderation = {line["id"]: line["cells"] for line in sections["moderation"]["lines"]}
    assert moderation["QA05:moderated_up"] == ["<5"] * 3 and moderation["QA05:moderated_down"] == ["*"] * 3
    # audits with an area for development: Recording's 2 is `<5`
    [development] = sections["findings"]["tables"]
    by_domain = {row["name"]: row["cells"] for row in development["rows"]}
    assert by_domain["Recording"] == ["n/a", "n/a", "5", "<5"] and by_domain["Planning"][-1] == "7"
    assert content_level(tmp_path / "qa_quarterly_report_2024-Q2.html") == "aggregate"


def test_the_report_is_catalogued_for_delivery_as_aggregate():
    for name in ("qa_quarterly_report", "qa_quarterly_report_html", "qa_six_monthly_report"):
        assert output_level(CATALOGUE[name], REGISTRY) == "aggregate"
    assert CATALOGUE["qa_quarterly_report"].file_name(QUARTER) == "qa_quarterly_report_2024-Q2.pdf"


# --- the six-monthly QA report, 2024-25-H1, and its proposed audit themes -----------------------------

HALF = "2024-25-H1"


@pytest.fixture
def half_store(sqlite_warehouse):
    """The quarterly runs of 2024-Q2 and 2024-Q3 published; September 2024's monthly run
    with SAF07 Red (60% against 85%) and QA01 Green; complaints by category."""
    engine = sqlite_warehouse
    publish(engine, "quarterly", "2024-Q2", "q-2024-Q2", {"CMP01": 3, "CMP02": (70.0, 7, 10)})
    publish(engine, "quarterly", "2024-Q3", "q-2024-Q3", {"CMP01": 9, "CMP02": (90.0, 9, 10)})
    publish(engine, "monthly", "2024-09", "m-2024-09", {"SAF07": (60.0, 12, 20), "QA01": (95.0, 19, 20)})
    complaints = complaints_table([date(2024, 5, 1)] * 6 + [date(2024, 8, 1)] * 2 + [date(2024, 10, 2)],
                                  ["Communication"] * 6 + ["Delay"] * 2 + ["Communication"])
    store.replace_source_tables(engine, {"complaints": complaints})
    return engine


def half_results() -> PeriodResults:
    values = frame(rows(HALF, {"CMP01": 12, "CMP02": (80.0, 16, 20), "QA13": 20, "QA13:domain=Planning": 12,
                               "QA13:domain=Recording": 7, "QA13:domain=Assessment": 3,
                               "IRO01": 11, "IRO01:theme=care plan drift": 9, "IRO01:theme=health": 2}))
    return PeriodResults(values, values.copy(), pd.DataFrame(columns=RECORD_COLUMNS))


def test_the_six_monthly_report_proposes_themes_from_the_evidence(half_store, tmp_path):
    half = Period.half(HALF)
    kpis = [k for k in computed_for(REGISTRY, half) if k.id != "QA12"]
    paths = report.render_qa_period_report(half_results(), None, kpis, run_info(HALF), tmp_path,
                                           engine_url(half_store), None, half)
    assert paths[-1].endswith("qa_six_monthly_report_2024-25-H1.pdf")
    context = report.report_context(half_results(), kpis, run_info(HALF), half_store, None, half)
    themes = context["themes"]
    # in turn: the domain most often needing development, the Red figure, the DRP theme,
    # the complaint category; then the second domain. Assessment (3), health (2) and Delay
    # (2) are under 5: never proposed.
    assert [(p.theme, p.source) for p in themes["proposals"]] == [
        ("Planning", "Audit findings: areas for development"),
        ("Assessments completed within 45 working days", "Red at the half's end"),
        ("Care plan drift", "Dispute resolution themes"),
        ("Communication", "Complaint categories"),
        ("Recording", "Audit findings: areas for development")]
    evidence = [p.evidence for p in themes["proposals"]]
    assert evidence[0] == "an area for development in 12 audits completed in 2024-25 H1 (April to September 2024)"
    assert evidence[1] == "SAF07 Assessments completed within 45 working days %: 60.0% against a target of 85% (Red)"
    assert evidence[3] == "6 complaints received in 2024-25 H1 (April to September 2024)"  # October's not in the half
    parsed = tomllib.loads(themes["toml"])
    assert QaSettings(**parsed["qa"]).themes == {"2024-10": "Planning",
                                                 "2024-11": "Assessments completed within 45 working days",
                                                 "2024-12": "Care plan drift", "2025-01": "Communication",
                                                 "2025-02": "Recording"}
    text = read_pdf(tmp_path / "qa_six_monthly_report_2024-25-H1.pdf").text
    assert "six-monthly QA report, 2024-25 H1 (April to September 2024)" in text
    assert "Proposed audit themes for the next six months" in text
    assert '"2024-10" = "Planning"' in text
    # the half's two quarters (as the quarterly runs published them) and the half: 3 of 12
    # complaints in Q2 is `<5` and Q3's 9 is hidden with it, since 12 - 9 would give it back
    assert "CMP01 Complaints received <5 * 12" in text
    assert "CMP02 Stage 1 responded within timescale % 70.0% 90.0% 80.0%" in text
    assert "Stage 1 responded within timescale rose from 70.0% in Q2 2024 to 90.0% in Q3 2024." in text


def test_a_theme_block_parses_whatever_the_text():
    proposals = [report.Proposal('Say "no" \\ escalate', "x", "y"), report.Proposal("Café: voice", "x", "y")]
    block, plan = report.themes_toml(proposals, Period.half("2024-25-H2"), "run-1")
    themes = QaSettings(**tomllib.loads(block)["qa"]).themes
    assert themes == {"2025-04": 'Say "no" \\ escalate', "2025-05": "Café: voice"}
    assert [p["label"] for p in plan] == ["April 2025", "May 2025"]


def test_proposals_are_never_made_from_small_numbers():
    figure = Figure.of(BY_ID["SAF07"], "SAF07")
    proposals = report.propose_themes({"Planning": 4.0, "Recording": None}, {"health": 1.0}, {"Delay": 4},
                                      [(figure, "60.0%", "85%")], "H")
    assert [p.theme for p in proposals] == ["Assessments completed within 45 working days"]


def test_complaint_categories_count_the_period_on_both_databases(warehouse):
    complaints = complaints_table([date(2024, 4, 1), date(2024, 9, 30), date(2024, 6, 1), date(2024, 3, 31),
                                   date(2024, 5, 5)], [" Delay ", "Delay", "Communication", "Delay", None])
    store.replace_source_tables(warehouse, {"complaints": complaints})
    assert report.complaint_categories(warehouse, Period.half(HALF)) == {"Delay": 2, "Communication": 1}


# --- the quarterly flow on the synthetic LA -------------------------------------------------------------


@pytest.mark.flow
def test_the_quarterly_flow_publishes_the_quarterly_qa_report(tmp_path_factory, prefect_server):
    """March 2024 published by the monthly flow, then 2024-Q1 by the quarterly flow in the
    same warehouse: the report shows March's published headline and QA figures at the
    quarter's end, "not published" for the months never run, and the quarter's figures."""
    from flows.monthly import monthly
    from flows.quarterly import quarterly
    from qaloop.synthetic import generate_la
    from tests.configs import write_config
    root = tmp_path_factory.mktemp("qa-quarterly")
    generate_la(root / "extracts", as_at=date(2024, 4, 5), children=1500, seed=2024)
    config, _ = write_config(root / "data", synthetic=True, la_code="841", targets={"SAF07": {"target": 50.0}})
    monthly(period="2024-03", source=str(root / "extracts"), out=str(root / "out"), config=config)
    result = quarterly(period="2024-Q1", source=str(root / "extracts"), out=str(root / "out"), config=config)
    out = root / "out" / "quarterly" / "2024-Q1"
    assert any(p.endswith("qa_quarterly_report_2024-Q1.pdf") for p in result["outputs"])
    text = read_pdf(out / "qa_quarterly_report_2024-Q1.pdf").text
    assert "quarterly QA report, Q1 2024 (January to March 2024)" in text and result["run_id"] in text
    for heading in ("Scorecard headlines at each quarter's end", "Audit activity and grades", "Moderation",
                    "Closing the loop", "Audit findings by practice domain",
                    "Complaints, DRP, participation and surveys", "Data quality of this run"):
        assert heading in text, heading
    march = pd.read_csv(root / "out" / "2024-03" / "kpi_values.csv", dtype=str, keep_default_na=False)
    quarter = pd.read_csv(out / "kpi_values.csv", dtype=str, keep_default_na=False)

    def la(frame, figure_id):
        return float(frame[(frame["kpi_id"] == figure_id) & (frame["level"] == "la")].iloc[0]["value"])

    # the quarter ends before March 2024 were never run; March's published figure, rated
    # against the LA's configured target (50%)
    saf07 = la(march, "SAF07")
    rag = "Green" if saf07 >= 50 else "Amber" if saf07 >= 45 else "Red"
    assert (f"SAF07 Assessments completed within 45 working days % not published not published not published "
            f"{saf07:.1f}% 50% {rag}") in text
    assert f"{la(march, 'QA01'):.1f}%" in text.split("QA01 Audits completed on time % not published not published")[1][:12]
    assert f"{la(quarter, 'CMP02'):.1f}%" in text.split("CMP02 Stage 1 responded within timescale %")[1][:60]
    html = (out / "qa_quarterly_report_2024-Q1.html").read_text()
    cells = [c.strip() for c in re.findall(r'<td class="num">(?:<strong>)?(?:<span class="suppressed">)?([^<]*)', html)]
    assert cells and not [c for c in cells if c in {"1", "2", "3", "4"}]


def test_a_second_half_is_labelled_with_both_of_its_years():
    """October-March spans two calendar years: both are named (the report's title and the
    evidence behind each proposed theme use this label)."""
    from tasks.reports.qa_period_report import period_label
    assert period_label("2024-25-H2") == "2024-25 H2 (October 2024 to March 2025)"
    assert period_label("2024-Q1") == "Q1 2024 (January to March 2024)"
