"""The six-monthly and annual cadences (issue 15, parts 5 and 6): their periods and
schedules, and end to end on the synthetic LA (marked flow): kpi_values.csv of a
financial-year half and of a financial year against an independent computation from the
extract files (tests/independent/complaints_participation.py), the reports as a reader
sees them (PDF text), a re-run with its revision notes, `qaloop status` and delivery."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest

from qaloop.synthetic import generate_la
from tasks.core.periods import (Period, latest_complete_financial_year, latest_complete_half,
                                periods_between)
from tasks.warehouse.database import make_engine, read_sql
from tests.configs import write_config
from tests.independent.complaints_participation import differences_from_the_reference, reference_figures
from tests.pdfs import read_pdf

HALF, YEAR = "2024-25-H1", "2023-24"
REPORTS = ("complaints_compliments", "drp_iro", "participation_surveys")


# --- periods, schedules, delivery: no flow run ------------------------------------------

def test_a_half_has_a_short_form_and_the_latest_complete_periods_follow_the_financial_year():
    assert Period.half("2024-H1") == Period.half("2024-25-H1") == Period.parse("2024-H1")
    assert (Period.half("2024-H2").start, Period.half("2024-H2").end) == (date(2024, 10, 1), date(2025, 3, 31))
    assert [p.id for p in periods_between("2023-H2", "2024-25-H2")] == ["2023-24-H2", "2024-25-H1", "2024-25-H2"]
    # the scheduled days (second Wednesday of April and October, second Thursday of May)
    assert latest_complete_half(date(2025, 4, 9)).id == "2024-25-H2"
    assert latest_complete_half(date(2025, 10, 8)).id == "2025-26-H1"
    assert latest_complete_financial_year(date(2025, 5, 8)).id == "2024-25"
    assert latest_complete_financial_year(date(2025, 3, 31)).id == "2023-24"


def test_the_report_labels_of_a_half_and_a_year():
    from tasks.reports.quarterly import quarter_label
    assert quarter_label("2024-Q1") == "Q1 2024 (January to March 2024)"
    assert quarter_label("2024-25-H1") == "2024-25 H1 (April to September 2024)"
    assert quarter_label("2024-25-H2") == "2024-25 H2 (October 2024 to March 2025)"
    assert quarter_label("2024-25") == "2024-25 (April 2024 to March 2025)"


def test_the_command_line_and_delivery_know_each_period_form():
    from qaloop.cli import build_parser, canonical_period, period_flows
    from tasks.core.settings import Audience
    from tasks.operations import delivery
    assert [period_flows(p) for p in ("2024-03", "2024-Q1", "2024-25-H1", "2024-25", "2024-03-31")] == [
        ("monthly",), ("quarterly",), ("six-monthly",), ("annual",), ("daily", "weekly")]
    assert canonical_period("2024-H2") == "2024-25-H2" and canonical_period("2024-Q1") == "2024-Q1"
    args = build_parser().parse_args(["rerun", "annual", "--from", "2022-23", "--to", "2023-24",
                                      "--source", "s", "--out", "o"])
    assert (args.flow, args.first, args.last) == ("annual", "2022-23", "2023-24")
    board = Audience(recipients=["lscp@la.example"], outputs=["directorate_scorecard_pdf", "qa_six_monthly_report"],
                     cadence="six-monthly", level="aggregate", scope="la")
    assert delivery.due(board, "six-monthly", HALF) and delivery.outputs_for(board, "six-monthly") == [
        "qa_six_monthly_report"]
    assert delivery.due(board, "monthly", "2024-09") and not delivery.due(board, "monthly", "2024-08")
    assert delivery.period_flow(HALF, delivery.audience_flows(board)) == "six-monthly"
    members = Audience(recipients=["members@la.example"], outputs=["annual_complaints_report"], cadence="annual",
                       level="aggregate", scope="la")
    assert delivery.due(members, "annual", YEAR) and not delivery.due(members, "quarterly", "2024-Q1")
    assert delivery.CATALOGUE["annual_complaints_report"].file_name(YEAR) == f"complaints_compliments_{YEAR}.pdf"


def test_the_example_configuration_delivers_the_six_monthly_and_annual_reports():
    from pathlib import Path

    from tasks.core.settings import load_settings
    from tasks.operations.delivery import CATALOGUE
    settings = load_settings(Path(__file__).parents[1] / "qaloop.example.toml", resolve_secrets=False)
    audiences = settings.delivery.audiences
    by_cadence = {a.cadence: a for a in audiences.values()}
    assert "qa_six_monthly_report" in by_cadence["six-monthly"].outputs
    assert by_cadence["annual"].outputs == ("annual_complaints_report",)
    assert all(o in CATALOGUE for a in audiences.values() for o in a.outputs)


def test_status_lists_every_cadence_with_its_last_and_next_run():
    from flows.cadences import load_cadences
    from flows.status import cadence_lines
    runs = pd.DataFrame({"flow": ["six-monthly"], "period": [HALF], "state": ["Completed"],
                         "started_at": [pd.Timestamp("2024-10-09 07:05", tz="UTC")]})
    lines = cadence_lines(load_cadences(), runs, datetime(2026, 3, 27, 12, tzinfo=timezone.utc))
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert sorted(by_name) == ["annual-complaints-report", "daily-exceptions", "monthly-scorecards",
                               "quarterly-reports", "six-monthly-qa-report", "weekly-team-packs"]
    assert f"{HALF} Completed 2024-10-09 08:05 BST" in by_name["six-monthly-qa-report"]
    assert by_name["six-monthly-qa-report"].endswith("2026-04-08 08:00 BST")
    assert "never run" in by_name["annual-complaints-report"]
    assert by_name["annual-complaints-report"].endswith("2026-05-14 08:00 BST")


def test_prefect_yaml_is_up_to_date_with_the_six_cadences():
    from qaloop.cli import main
    assert main(["prefect-yaml", "--check"]) == 0


# --- end to end ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cadence_runs(tmp_path_factory, prefect_server):
    """One extract, as at early October 2024: the half 2024-25-H1 and the year 2023-24 are complete."""
    from flows.annual import annual
    from flows.six_monthly import six_monthly
    root = tmp_path_factory.mktemp("cadences")
    source = root / "extracts"
    generate_la(source, as_at=date(2024, 10, 5), children=3000, seed=2024)
    config, settings = write_config(root / "data", synthetic=True, la_code="841")
    out = root / "out"
    half = six_monthly(period="2024-H1", source=str(source), out=str(out), config=config)  # the short form
    year = annual(period=YEAR, source=str(source), out=str(out), config=config)
    return {"root": root, "source": source, "config": config, "settings": settings, "half": half, "year": year,
            "out": out}


def published(run, flow: str, period: str) -> pd.DataFrame:
    return pd.read_csv(run["out"] / flow / period / "kpi_values.csv", dtype=str, keep_default_na=False)


def assert_figures_equal_the_reference(frame: pd.DataFrame, source, period: Period) -> None:
    """Every LA-level CMP/IRO/SUR figure of the period equals the independent re-computation."""
    assert differences_from_the_reference(frame, source, period.start, period.end) == []
    expected = reference_figures(source, period.start, period.end)
    assert expected["CMP01"][0] > 0 and expected["SUR01"][0] > 0 and expected["IRO02"][2] > 0


def pdf_text(path) -> str:
    pdf = read_pdf(path)
    assert pdf.a4_portrait and pdf.pages >= 1
    return " ".join(pdf.text.split())


def test_the_half_is_published_with_its_reports(cadence_runs):
    result = cadence_runs["half"]
    assert (result["state"], result["period"], result["flow"]) == ("Completed", HALF, "six-monthly")
    folder = cadence_runs["out"] / "six-monthly" / HALF
    names = {p.name for p in folder.iterdir()}
    assert names == {"kpi_values.csv", "run_metadata.json", "SYNTHETIC_DATA.txt",
                     *(f"{r}_{HALF}.{ext}" for r in (*REPORTS, "qa_six_monthly_report") for ext in ("html", "pdf"))}
    frame = published(cadence_runs, "six-monthly", HALF)
    assert (frame["period"] == HALF).all()
    headline = {k for k in frame["kpi_id"] if ":" not in k}
    assert {"CMP05", "IRO04", "SUR02", "QA12"} <= headline and "SAF01" not in headline


def test_the_half_figures_equal_an_independent_computation(cadence_runs):
    assert_figures_equal_the_reference(published(cadence_runs, "six-monthly", HALF), cadence_runs["source"],
                                       Period.half(HALF))


def test_the_half_reports_read_as_a_reader_sees_them(cadence_runs):
    folder = cadence_runs["out"] / "six-monthly" / HALF
    qa_report = pdf_text(folder / f"qa_six_monthly_report_{HALF}.pdf")
    assert "2024-25 H1 (April to September 2024)" in qa_report and cadence_runs["half"]["run_id"] in qa_report
    for report in REPORTS:
        text = pdf_text(folder / f"{report}_{HALF}.pdf")
        assert "2024-25 H1 (April to September 2024)" in text and cadence_runs["half"]["run_id"] in text
        assert "This half-year" in text and "2023-24-H1 2023-24-H2" in text  # the halves before it
    complaints = pdf_text(folder / f"complaints_compliments_{HALF}.pdf")
    cmp01 = int(float(published(cadence_runs, "six-monthly", HALF).query("kpi_id == 'CMP01' and level == 'la'")
                      ["value"].iloc[0]))
    assert f"CMP01 Complaints received {cmp01:,}" in complaints


def test_the_year_is_published_with_the_annual_complaints_report(cadence_runs):
    result = cadence_runs["year"]
    assert (result["state"], result["period"], result["flow"]) == ("Completed", YEAR, "annual")
    folder = cadence_runs["out"] / "annual" / YEAR
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "SYNTHETIC_DATA.txt", "kpi_values.csv", "run_metadata.json",
        f"complaints_compliments_{YEAR}.html", f"complaints_compliments_{YEAR}.pdf"])
    frame = published(cadence_runs, "annual", YEAR)
    headline = {k for k in frame["kpi_id"] if ":" not in k}
    assert "CMP01" in headline and "CMP05" not in headline  # CMP05 is for quarters and halves
    assert_figures_equal_the_reference(frame, cadence_runs["source"], Period.financial_year(YEAR))


def test_the_annual_report_shows_the_year(cadence_runs):
    folder = cadence_runs["out"] / "annual" / YEAR
    text = pdf_text(folder / f"complaints_compliments_{YEAR}.pdf")
    assert "Complaints and compliments report, 2023-24 (April 2023 to March 2024)" in text
    assert "This year" in text and "2020-21 2021-22 2022-23" in text  # the three years before
    year = reference_figures(cadence_runs["source"], date(2023, 4, 1), date(2024, 3, 31))["CMP01"][0]
    assert f"CMP01 Complaints received {year:,}" in text
    # the four quarters together (the regulations' annual report), each as kpis.md counts it
    assert "This year Based on 2023-Q2 2023-Q3 2023-Q4 2024-Q1 2020-21" in text
    quarters = [reference_figures(cadence_runs["source"], q.start, q.end)["CMP01"][0]
                for q in Period.financial_year(YEAR).quarters]
    assert sum(quarters) == year and min(quarters) >= 5
    assert f"CMP01 Complaints received {year:,} " + " ".join(f"{q:,}" for q in quarters) in text


def test_rerun_six_monthly_and_annual_with_their_revision_notes(cadence_runs):
    from flows.backfill import rerun_annual, rerun_six_monthly
    from flows.status import status_text
    common = {"source": str(cadence_runs["source"]), "out": str(cadence_runs["out"]),
              "config": cadence_runs["config"], "reason": "complaints extract corrected"}
    halves = rerun_six_monthly(first="2023-24-H2", last="2024-H1", **common)
    assert [(r["period"], r["revision_note"]) for r in halves] == [
        ("2023-24-H2", "first publication"), (HALF, "no figure changed")]
    with pytest.raises(ValueError, match="rerun annual takes periods of the form YYYY-YY"):
        rerun_annual.fn(first="2024-Q1", last="2024-Q2", **common)
    engine = make_engine(cadence_runs["settings"].resolved_warehouse_url)
    runs = read_sql(engine, "select flow, period, trigger, reason, state from runs where trigger = 'backfill'")
    assert sorted(runs[["flow", "period", "reason", "state"]].values.tolist()) == [
        ["six-monthly", "2023-24-H2", "complaints extract corrected", "Completed"],
        ["six-monthly", HALF, "complaints extract corrected", "Completed"]]
    from tasks.operations.versions import revised_periods
    assert revised_periods(engine)[["flow", "period"]].values.tolist() == [["six-monthly", HALF]]
    text = status_text(engine)
    engine.dispose()
    assert "six-monthly 2024-25-H1" in text and "annual   2023-24" in text  # current versions
    section = text.split("Cadences (deployments/schedules.yml)")[1]
    cadence_line = next(line for line in section.splitlines() if line.strip().startswith("annual-complaints-report"))
    assert f"{YEAR} Completed" in cadence_line
    assert (cadence_runs["out"] / "six-monthly" / "2023-24-H2" / "kpi_values.csv").is_file()
