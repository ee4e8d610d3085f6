"""End to end: the Prefect monthly flow on a synthetic LA, against a real Prefect
server (the test harness), checking published figures against an independent
computation from the extract files, the workbooks' cells, lineage and failure safety."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.configs import write_config
from tests.independent.complaints_participation import differences_from_the_reference, reference_figures
from tests.pdfs import read_pdf
from tasks.core.calendar import bank_holidays
from qaloop.synthetic import generate_la
from tasks.warehouse.database import make_engine, read_sql

PERIOD = "2024-03"
PERIOD_START, PERIOD_END = date(2024, 3, 1), date(2024, 3, 31)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, prefect_server):
    from flows.monthly import monthly
    root = tmp_path_factory.mktemp("e2e")
    source = root / "extracts"
    generate_la(source, as_at=date(2024, 4, 5), children=400, seed=7)
    config, settings = write_config(root / "data", synthetic=True, la_code="841")
    result = monthly(period=PERIOD, source=str(source), out=str(root / "out"), config=config)
    return {"root": root, "source": source, "settings": settings, "config": config, "result": result,
            "out": root / "out" / PERIOD}


def published(demo_run) -> pd.DataFrame:
    return pd.read_csv(demo_run["out"] / "kpi_values.csv", dtype=str, keep_default_na=False)


def la_value(frame: pd.DataFrame, kpi_id: str) -> str:
    row = frame[(frame["kpi_id"] == kpi_id) & (frame["level"] == "la")]
    assert len(row) == 1
    return row.iloc[0]["value"]


def read_extract(demo_run, table: str) -> pd.DataFrame:
    return pd.read_csv(demo_run["source"] / f"{table}.csv", dtype=str, keep_default_na=False)


def as_dates(series: pd.Series) -> pd.Series:
    return series.map(lambda text: date.fromisoformat(text[:10]) if text else None).astype(object)


def in_period(day: date | None) -> bool:
    return day is not None and PERIOD_START <= day <= PERIOD_END


def independent_working_days(a: date, b: date) -> int:
    holidays = sorted(bank_holidays(2015, 2030))
    return int(np.busday_count(a + timedelta(days=1), b + timedelta(days=1), holidays=holidays))


def area_lists(names, period: str) -> list[str]:
    """The per-service-area Drift and Delay lists among the published files: only areas of
    the synthetic LA's departments."""
    from qaloop.synthetic import TEAMS
    from tasks.publish.exceptions import drift_delay_area_lists_name
    expected = {drift_delay_area_lists_name(service, period) for _, _, _, service, _ in TEAMS}
    found = [n for n in names if n.startswith("drift_delay_lists_")]
    assert set(found) <= expected, set(found) - expected
    return found


def test_outputs_are_published(demo_run):
    names = sorted(p.name for p in demo_run["out"].iterdir())
    assert area_lists(names, PERIOD)  # each service area's Drift and Delay lists, for its Head of Service
    assert [n for n in names if n not in area_lists(names, PERIOD)] == [
                     "SYNTHETIC_DATA.txt", "complaints_participation_2024-03.xlsx",
                     "directorate_scorecard_2024-03.pdf", "directorate_scorecard_2024-03.xlsx",
                     "drift_delay_scorecard_2024-03.xlsx",
                     "kpi_values.csv",
                     "qa_activity_2024-03.xlsx", "qa_monthly_report_2024-03.html", "qa_monthly_report_2024-03.pdf",
                     "qa_on_a_page_2024-03.pdf", "run_metadata.json", "safety_scorecard_2024-03.xlsx"]
    frame = published(demo_run)
    assert list(frame.columns) == ["kpi_id", "period", "level", "unit_id", "unit_name", "value",
                                   "numerator", "denominator"]
    assert set(frame["level"]) == {"la", "service_area", "team", "worker"}
    assert set(frame.loc[frame["level"] == "la", "unit_id"]) == {"841"}
    assert (frame["period"] == PERIOD).all()


def test_counts_match_an_independent_computation(demo_run):
    frame = published(demo_run)
    contacts = as_dates(read_extract(demo_run, "ssd_contacts")["cont_contact_date"])
    assert la_value(frame, "SAF01") == str(sum(in_period(d) for d in contacts))
    referrals = as_dates(read_extract(demo_run, "ssd_cin_episodes")["cine_referral_date"])
    assert la_value(frame, "SAF02") == str(sum(in_period(d) for d in referrals))
    plans = read_extract(demo_run, "ssd_cp_plans")
    start, end = as_dates(plans["cppl_cp_plan_start_date"]), as_dates(plans["cppl_cp_plan_end_date"])
    open_at_end = start.map(lambda d: d is not None and d <= PERIOD_END) & end.map(
        lambda d: d is None or d > PERIOD_END)
    assert la_value(frame, "SAF12") == str(plans.loc[open_at_end, "cppl_person_id"].nunique())
    long_plans = open_at_end & start.map(lambda d: d is not None and (PERIOD_END - d).days >= 548)
    assert la_value(frame, "DD08") == str(int(long_plans.sum()))


def test_the_month_publishes_every_complaints_iro_and_survey_measure_but_cmp05(demo_run):
    """kpis.md: the monthly flow publishes, for the month, each of them whose definition
    reads sensibly for a month (all but CMP05), with figures equal to an independent
    computation from the extract files, and the same figures (suppressed) in the
    Complaints, compliments and participation workbook."""
    from tasks.kpis.registry import load_registry
    from tasks.publish.complaints_workbook import SCORECARD_SHEETS
    frame = published(demo_run)
    la_ids = set(frame.loc[frame["level"] == "la", "kpi_id"])
    measures = [k for k in load_registry() if k.scorecard in SCORECARD_SHEETS]
    assert {k.id for k in measures if "month" in k.periods} <= la_ids
    assert [k.id for k in measures if k.id not in la_ids] == ["CMP05"]

    assert differences_from_the_reference(frame, demo_run["source"], PERIOD_START, PERIOD_END) == []
    expected = reference_figures(demo_run["source"], PERIOD_START, PERIOD_END)
    assert expected["SUR01"][0] > 0 and expected["IRO05"][2] > 0 and expected["CMP07"][0] > 0  # not all empty

    book = openpyxl.load_workbook(demo_run["out"] / f"complaints_participation_{PERIOD}.xlsx")
    cells = {}
    for sheet_name in SCORECARD_SHEETS.values():
        sheet = book[sheet_name]
        headers = [c.value for c in sheet[4]]
        cells |= {row[0]: dict(zip(headers, row)) for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}

    def shown_count(count: int):
        return "<5" if 0 < count < 5 else count

    for figure_id in ("CMP01", "SUR01", "IRO01"):
        assert cells[figure_id]["This month"] == shown_count(expected[figure_id][0]), figure_id
    value, _, denominator = expected["CMP02"]
    if denominator >= 5:
        assert cells["CMP02"]["This month"] == value
    else:
        assert cells["CMP02"]["This month"] in ("*", "n/a")


def test_saf07_matches_an_independent_working_day_count(demo_run):
    assessments = read_extract(demo_run, "ssd_cin_assessments")
    start = as_dates(assessments["cina_assessment_start_date"])
    auth = as_dates(assessments["cina_assessment_auth_date"])
    authorised = auth.map(in_period).astype(bool)
    within = [s is not None and independent_working_days(s, a) <= 45
              for s, a in zip(start[authorised], auth[authorised])]
    expected = f"{Decimal_half_up(100 * sum(within), len(within)):.1f}"
    row = published(demo_run).query("kpi_id == 'SAF07' and level == 'la'").iloc[0]
    assert (row["value"], row["numerator"], row["denominator"]) == (expected, str(sum(within)), str(len(within)))


def Decimal_half_up(numerator: int, denominator: int) -> float:
    from decimal import ROUND_HALF_UP, Decimal
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def test_team_rows_add_up_to_the_la_figure(demo_run):
    frame = published(demo_run)
    for kpi_id in ("SAF01", "SAF02", "DD02", "DD08"):
        teams = frame[(frame["kpi_id"] == kpi_id) & (frame["level"] == "team")]
        assert sum(int(v) for v in teams["value"]) == int(la_value(frame, kpi_id))


def test_service_area_rows_are_the_parent_departments_and_add_up(demo_run):
    """Issue 14, point 4: service areas from ssd_department's parents, their counts the
    sums over their teams, and no parent department listed as a team anywhere."""
    frame = published(demo_run)
    departments = read_extract(demo_run, "ssd_department")
    parents = dict(zip(departments["dept_team_parent_id"], departments["dept_team_parent_name"]))
    areas = frame[frame["level"] == "service_area"]
    named = areas[areas["unit_id"].isin(list(parents))]
    assert len(named) and all(named["unit_name"] == named["unit_id"].map(parents))
    parent_of = dict(zip(departments["dept_team_id"], departments["dept_team_parent_id"]))
    for kpi_id in ("SAF01", "SAF02", "DD02", "DD08"):
        by_area = areas[areas["kpi_id"] == kpi_id].set_index("unit_id")["value"].astype(int)
        assert by_area.sum() == int(la_value(frame, kpi_id)), kpi_id
        teams = frame[(frame["kpi_id"] == kpi_id) & (frame["level"] == "team")]
        summed = teams.assign(area=teams["unit_id"].map(parent_of)).dropna(subset=["area"]) \
            .groupby("area")["value"].apply(lambda v: sum(int(x) for x in v))
        for area, total in summed.items():
            assert by_area.get(area, 0) == total, (kpi_id, area)
    assert not set(frame[frame["level"] == "team"]["unit_id"]) & set(parents)  # QA02's Service Managers too
    for name in ("safety_scorecard_2024-03.xlsx", "drift_delay_scorecard_2024-03.xlsx", "qa_activity_2024-03.xlsx"):
        workbook = openpyxl.load_workbook(demo_run["out"] / name)
        listed_teams = {row[0] for row in workbook["Teams"].iter_rows(min_row=5, values_only=True)}
        assert not listed_teams & set(parents), name
        listed_areas = {row[1] for row in workbook["Service areas"].iter_rows(min_row=5, values_only=True)}
        assert set(parents.values()) <= listed_areas, name
        headers = [c.value for c in workbook["Teams"][4]]
        assert any(str(h).endswith("RAG (target 85%)") for h in headers) or name != "safety_scorecard_2024-03.xlsx"


def test_every_drift_and_delay_list_has_rows_and_matches_its_sheet(demo_run):
    frame = published(demo_run)
    workbook = openpyxl.load_workbook(demo_run["out"] / "drift_delay_scorecard_2024-03.xlsx")
    for number in range(1, 12):
        kpi_id = f"DD{number:02d}"
        count = int(la_value(frame, kpi_id))
        assert count > 0, f"{kpi_id} has no exceptions in the synthetic LA"
        sheet = next(workbook[name] for name in workbook.sheetnames if name.startswith(kpi_id))
        rows = [r for r in sheet.iter_rows(min_row=1, values_only=True) if any(v is not None for v in r)]
        header_index = next(i for i, r in enumerate(rows) if r[0] in ("Child", "Worker"))
        assert len(rows) - header_index - 1 == count, kpi_id
        # the worker list's id column says Worker; every other list starts with the child
        assert rows[header_index][0] == ("Worker" if kpi_id == "DD10" else "Child"), kpi_id


def test_safety_workbook_summary_shows_the_published_value(demo_run):
    workbook = openpyxl.load_workbook(demo_run["out"] / "safety_scorecard_2024-03.xlsx")
    assert {"Summary", "Teams", "Workers", "Definitions", "Run"} <= set(workbook.sheetnames)
    summary = workbook["Summary"]
    cells = [[c for c in row] for row in summary.iter_rows(values_only=True)]
    header = next(r for r in cells if PERIOD in [str(v) for v in r])
    column = [str(v) for v in header].index(PERIOD)
    saf01 = next(r for r in cells if r and "SAF01" in [str(v) for v in r])
    assert str(saf01[column]) == la_value(published(demo_run), "SAF01")
    assert any("SYNTHETIC" in str(v).upper() for r in cells[:5] for v in r if v)


def test_run_sheet_and_metadata_carry_lineage(demo_run):
    metadata = json.loads((demo_run["out"] / "run_metadata.json").read_text())
    assert metadata["run_id"] == demo_run["result"]["run_id"]
    assert metadata["period"] == PERIOD and metadata["synthetic"] is True
    contacts = next(e for e in metadata["extracts"] if e["table_name"] == "ssd_contacts")
    raw = (demo_run["source"] / "ssd_contacts.csv").read_bytes()
    assert contacts["sha256"] == hashlib.sha256(raw).hexdigest()
    run_sheet = openpyxl.load_workbook(demo_run["out"] / "safety_scorecard_2024-03.xlsx")["Run"]
    texts = {str(v) for row in run_sheet.iter_rows(values_only=True) for v in row if v is not None}
    assert contacts["sha256"] in texts and demo_run["result"]["run_id"] in texts


def test_the_flow_run_is_named_by_flow_and_period_and_tagged(demo_run):
    import uuid
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(uuid.UUID(demo_run["result"]["run_id"]))
    assert flow_run.name == f"monthly {PERIOD}"
    assert {"la:841", "cadence:monthly", "trigger:manual"} <= set(flow_run.tags)


def test_run_ledger_and_current_version(demo_run):
    engine = make_engine(demo_run["settings"].resolved_warehouse_url)
    runs = read_sql(engine, "select run_id, state, period from runs")
    row = runs[runs["run_id"] == demo_run["result"]["run_id"]].iloc[0]
    assert (row["state"], row["period"]) == ("Completed", PERIOD)
    current = read_sql(engine, "select run_id from current_runs where flow = 'monthly' and period = :p",
                       {"p": PERIOD})
    assert current["run_id"].tolist() == [demo_run["result"]["run_id"]]
    engine.dispose()


def test_rerun_gives_identical_figures(demo_run):
    from flows.monthly import monthly
    settings, out = demo_run["settings"], demo_run["root"] / "out"
    before = {p.name: p.read_bytes() for p in demo_run["out"].iterdir()}
    rerun = monthly(period=PERIOD, source=str(demo_run["source"]), out=str(out), config=demo_run["config"])
    after = (demo_run["out"] / "kpi_values.csv").read_bytes()
    assert after == before["kpi_values.csv"]
    engine = make_engine(settings.resolved_warehouse_url)
    current = read_sql(engine, "select run_id from current_runs where period = :p", {"p": PERIOD})
    assert current["run_id"].tolist() == [rerun["run_id"]]
    engine.dispose()


def test_workbooks_carry_the_data_quality_sheet(demo_run):
    metadata = json.loads((demo_run["out"] / "run_metadata.json").read_text())
    assert metadata["data_quality"].startswith("passed")
    assert Path(metadata["data_docs"]).is_file()
    for name in ("safety", "drift_delay", "directorate"):
        workbook = openpyxl.load_workbook(demo_run["out"] / f"{name}_scorecard_2024-03.xlsx")
        sheet = workbook["Data quality"]
        texts = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        assert any("Data quality: passed" in t for t in texts), name


# --- QA activity ------------------------------------------------------------------------

def test_qa_figures_match_an_independent_computation(demo_run):
    frame = published(demo_run)
    audits = read_extract(demo_run, "qa_audits")
    due, completed = as_dates(audits["due_date"]), as_dates(audits["completed_date"])
    due_now = [d is not None and in_period(d) for d in due]
    on_time = [n and c is not None and c <= d for n, c, d in zip(due_now, completed, due)]
    qa01 = frame[(frame["kpi_id"] == "QA01") & (frame["level"] == "la")].iloc[0]
    assert (qa01["numerator"], qa01["denominator"]) == (str(sum(on_time)), str(sum(due_now)))
    done = [in_period(c) for c in completed]
    assert la_value(frame, "QA03") == str(sum(done))
    stretch = sum(d and f.strip().upper() in ("Y", "YES") for d, f in zip(done, audits["stretch_target_set"]))
    qa08 = frame[(frame["kpi_id"] == "QA08") & (frame["level"] == "la")].iloc[0]
    assert (qa08["numerator"], qa08["denominator"]) == (str(stretch), str(sum(done)))
    good = sum(d and g == "Good" for d, g in zip(done, audits["grade"]))
    assert frame[(frame["kpi_id"] == "QA03:grade=Good") & (frame["level"] == "la")].iloc[0]["numerator"] == str(good)
    # breakdowns by auditor role add up to the headline
    roles = frame[frame["kpi_id"].str.startswith("QA01:role=") & (frame["level"] == "la")]
    assert roles["denominator"].astype(int).sum() == int(qa01["denominator"])


def test_qa_workbook_shows_the_published_figures_and_the_allocation(demo_run):
    frame = published(demo_run)
    book = openpyxl.load_workbook(demo_run["out"] / "qa_activity_2024-03.xlsx")
    assert {"Summary", "By role", "Auditors", "Grades", "Moderation", "Closing the loop",
            "By role and area", "Re-audits", "Allocation", "Data quality", "Definitions", "Run"} <= set(book.sheetnames)
    summary = book["Summary"]
    header = [c.value for c in summary[4]]
    qa01 = next(r for r in summary.iter_rows(values_only=True) if r[0] == "QA01")
    assert float(qa01[header.index(PERIOD)]) == float(la_value(frame, "QA01"))
    metadata = json.loads((demo_run["out"] / "run_metadata.json").read_text())
    allocation = metadata["qa_allocation"]
    assert allocation["month"] == "2024-04" and allocation["cases"] > 0
    sheet = book["Allocation"]
    rows = []
    for row in sheet.iter_rows(min_row=5, values_only=True):  # the table ends at a blank row (codes below)
        if row[0] is None:
            break
        rows.append(row)
    columns = [c.value for c in sheet[4]]
    assert len(rows) == allocation["cases"]
    assert f"Seed: {allocation['seed']}" in sheet["A3"].value
    # names beside ids; an auditor is never given a case from their own team
    assert all(r[columns.index("Auditor")] for r in rows)
    assert all(r[columns.index("Case team")] != r[columns.index("Auditor's team")] for r in rows)


def test_qa_reports_have_the_figures_fit_their_pages_and_name_no_child(demo_run):
    frame = published(demo_run)
    html = (demo_run["out"] / "qa_monthly_report_2024-03.html").read_text(encoding="utf-8")
    run_id = json.loads((demo_run["out"] / "run_metadata.json").read_text())["run_id"]
    assert "SYNTHETIC" in html and run_id in html and "March 2024" in html
    qa01 = frame[(frame["kpi_id"] == "QA01") & (frame["level"] == "la")].iloc[0]
    if int(qa01["denominator"]) >= 5:
        assert f"{float(qa01['value']):.1f}%" in html
    assert "Data quality" in html
    people = set(read_extract(demo_run, "ssd_person")["pers_person_id"])
    assert not any(f">{person}<" in html for person in people)
    on_a_page = read_pdf(demo_run["out"] / "qa_on_a_page_2024-03.pdf")
    assert on_a_page.pages == 1 and on_a_page.a4_portrait
    report = read_pdf(demo_run["out"] / "qa_monthly_report_2024-03.pdf")
    assert report.pages >= 2 and report.a4_portrait
    for pdf in (on_a_page, report):
        assert "SYNTHETIC" in pdf.text and "March 2024" in pdf.text and run_id in pdf.text
        assert not any(f" {person} " in f" {pdf.text} " for person in people)
    if int(qa01["denominator"]) >= 5:
        assert f"{float(qa01['value']):.1f}%" in report.text


def test_qa_reports_show_the_audit_findings_and_only_shareable_summaries(demo_run):
    """Issue 15 point 4: QA12/QA13 as published, and summaries only of share = Y findings."""
    frame = published(demo_run)
    with_strength = int(float(la_value(frame, "QA12")))
    report = read_pdf(demo_run["out"] / "qa_monthly_report_2024-03.pdf").text
    assert "Audit findings" in report
    shown = str(with_strength) if with_strength >= 5 else "<5"
    assert f"audits completed this month, {shown} recorded at least one strength" in report
    findings = read_extract(demo_run, "qa_audit_findings")
    audits = read_extract(demo_run, "qa_audits")
    march = set(audits.loc[as_dates(audits["completed_date"]).map(in_period), "audit_id"])
    findings = findings[findings["audit_id"].isin(march)]
    approved = {s.rstrip(".") for s in findings.loc[findings["share"] == "Y", "summary"]}
    never_approved = {s.rstrip(".") for s in findings.loc[findings["share"] != "Y", "summary"]} - approved
    html = (demo_run["out"] / "qa_monthly_report_2024-03.html").read_text(encoding="utf-8")
    assert approved and any(s.replace("'", "&#39;") in html or s in html for s in approved)
    assert not any(s in report for s in never_approved)
    page = read_pdf(demo_run["out"] / "qa_on_a_page_2024-03.pdf")
    assert page.pages == 1 and "audits completed this month" in page.text
    book = openpyxl.load_workbook(demo_run["out"] / "qa_activity_2024-03.xlsx")
    assert "Findings" in book.sheetnames


def test_directorate_pdf_shows_the_published_headlines_on_two_landscape_pages(demo_run):
    frame = published(demo_run)
    pdf = read_pdf(demo_run["out"] / "directorate_scorecard_2024-03.pdf")
    assert 1 <= pdf.pages <= 2 and pdf.a4_landscape
    assert "Directorate Scorecard" in pdf.text and "Mar 2024" in pdf.text and "SYNTHETIC" in pdf.text
    rate = frame[(frame["kpi_id"] == "SAF12:rate_per_10k") & (frame["level"] == "la")].iloc[0]
    assert f"SAF12:rate_per_10k Children on a CP plan per 10,000 aged 0-17 at month end per 10,000 aged 0-17 " \
           f"{float(rate['value']):.1f}" in pdf.text


# --- bad input through the flow: what is blocked, and that nothing earlier is lost ---------

def _rows(frame: pd.DataFrame, share: float) -> pd.Index:
    """The first `share` of the rows (at least 10): enough to exceed a rule's `mostly`."""
    return frame.index[:max(10, int(len(frame) * share))]


def missing_column(folder):
    frame = pd.read_csv(folder / "ssd_cp_visits.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["cppv_cp_visit_date"]).to_csv(folder / "ssd_cp_visits.csv", index=False)


def renamed_header(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    frame.rename(columns={"cont_contact_date": "Contact Date"}).to_csv(folder / "ssd_contacts.csv", index=False)


def unparseable_date(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index[0], "cont_contact_date"] = "31/13/2024"
    frame.to_csv(folder / "ssd_contacts.csv", index=False)


def future_dates(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    frame.loc[_rows(frame, 0.01), "cont_contact_date"] = "2031-01-15"
    frame.to_csv(folder / "ssd_contacts.csv", index=False)


def end_before_start(folder):
    frame = pd.read_csv(folder / "ssd_cp_plans.csv", dtype=str, keep_default_na=False)
    frame.loc[_rows(frame, 0.05), "cppl_cp_plan_end_date"] = "2000-01-01"
    frame.to_csv(folder / "ssd_cp_plans.csv", index=False)


def duplicate_ids(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    pd.concat([frame, frame.head(1)]).to_csv(folder / "ssd_contacts.csv", index=False)


def orphan_keys(folder):
    frame = pd.read_csv(folder / "ssd_cp_visits.csv", dtype=str, keep_default_na=False)
    frame.loc[_rows(frame, 0.05), "cppv_cp_plan_id"] = "NO-SUCH-PLAN"
    frame.to_csv(folder / "ssd_cp_visits.csv", index=False)


def empty_file(folder):
    (folder / "ssd_contacts.csv").write_bytes(b"")


def truncated_file(folder):
    raw = (folder / "ssd_cp_visits.csv").read_bytes()
    (folder / "ssd_cp_visits.csv").write_bytes(raw[: len(raw) // 2 + 7])


BLOCKING_INPUTS = {
    "missing column": (missing_column, "ssd_cp_visits"),
    "renamed header": (renamed_header, "ssd_contacts"),
    "unparseable date": (unparseable_date, "ssd_contacts"),
    "future dates": (future_dates, "ssd_contacts"),
    "end before start": (end_before_start, "ssd_cp_plans"),
    "duplicate ids": (duplicate_ids, "ssd_contacts"),
    "orphan foreign keys": (orphan_keys, "ssd_cp_visits"),
    "empty file": (empty_file, "ssd_contacts"),
    "truncated file": (truncated_file, "ssd_cp_visits"),
}


def qa_audit_duplicates(folder):
    frame = pd.read_csv(folder / "qa_audits.csv", dtype=str, keep_default_na=False)
    pd.concat([frame, frame.head(3)]).to_csv(folder / "qa_audits.csv", index=False)


BLOCKING_INPUTS["duplicate QA audit ids"] = (qa_audit_duplicates, "qa_audits")


# issue 11, point 5: bad files that once got through or crashed (each copy is in a new
# folder, so the row-count rules must compare with the table's last good load)
def header_only(folder):
    header = (folder / "ssd_contacts.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "ssd_contacts.csv").write_text(header + "\n", encoding="utf-8")


def corrupt_workbook(folder):
    (folder / "ssd_cp_visits.csv").unlink()
    (folder / "ssd_cp_visits.xlsx").write_bytes(b"PK\x03\x04 a workbook cut short")


def utf16_without_byte_order_mark(folder):
    text = (folder / "ssd_contacts.csv").read_text(encoding="utf-8")
    (folder / "ssd_contacts.csv").write_bytes(text.encode("utf-16-le"))


def binary_file(folder):
    (folder / "ssd_cp_visits.csv").write_bytes(bytes(range(256)) * 64)


def us_date_in_an_iso_column(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index[0], "cont_contact_date"] = "03/25/2024"
    frame.to_csv(folder / "ssd_contacts.csv", index=False)


def month_thirteen(folder):
    frame = pd.read_csv(folder / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index[0], "cont_contact_date"] = "2024-13-01"
    frame.to_csv(folder / "ssd_contacts.csv", index=False)


BLOCKING_INPUTS.update({
    "header-only file in a new folder": (header_only, "ssd_contacts"),
    "corrupt workbook": (corrupt_workbook, "ssd_cp_visits"),
    "UTF-16 without its byte-order mark": (utf16_without_byte_order_mark, "ssd_contacts"),
    "binary file": (binary_file, "ssd_cp_visits"),
    "US date in an ISO column": (us_date_in_an_iso_column, "ssd_contacts"),
    "month 13": (month_thirteen, "ssd_contacts"),
})


@pytest.fixture(scope="module")
def published_base(demo_run, tmp_path_factory):
    """A clean, published 2024-03 of its own (the demo run's outputs stay as they are)."""
    from flows.monthly import monthly
    root = tmp_path_factory.mktemp("bad-input")
    config, settings = write_config(root / "data", synthetic=True, la_code="841")
    monthly(period=PERIOD, source=str(demo_run["source"]), out=str(root / "out"), config=config)
    return {"root": root, "settings": settings, "config": config, "out": root / "out", "published": root / "out" / PERIOD,
            "source": demo_run["source"]}


def broken_copy(source: Path, folder: Path, breakage) -> Path:
    folder.mkdir()
    for path in source.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    breakage(folder)
    return folder


@pytest.mark.parametrize("case", list(BLOCKING_INPUTS))
def test_bad_input_withholds_what_depends_on_it_and_loses_nothing(published_base, tmp_path, case):
    """A critical failure in one table: the KPIs reading it are withheld and shown as last
    published, the table keeps its last good load, every other figure is computed afresh,
    every output says so, and the ledger says what was withheld."""
    from flows.monthly import monthly
    from flows.runner import PARTLY_PUBLISHED
    from tasks.core.figure_ids import base_id
    breakage, table = BLOCKING_INPUTS[case]
    settings, published = published_base["settings"], published_base["published"]
    engine = make_engine(settings.resolved_warehouse_url)
    rows_before = read_sql(engine, f"select count(*) as n from {table}")["n"].iloc[0]
    values_before = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    previous_run = json.loads((published / "run_metadata.json").read_text())["run_id"]

    broken = broken_copy(published_base["source"], tmp_path / "broken", breakage)
    result = monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]), config=published_base["config"])

    assert published.resolve().name == result["run_id"]  # the new version is current
    metadata = json.loads((published / "run_metadata.json").read_text())
    withheld = metadata["withheld"]  # {kpi: [table, or table.column for a column-level failure]}
    assert withheld and all(any(t.split(".")[0] == table for t in failing) for failing in withheld.values())
    assert metadata["withheld_as_last_published_from"] == previous_run
    values_now = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)

    def withheld_rows(frame):
        return frame[frame["kpi_id"].map(base_id).isin(withheld)].reset_index(drop=True)
    assert not withheld_rows(values_now).empty
    assert withheld_rows(values_now).equals(withheld_rows(values_before))
    fresh = sorted(set(values_now["kpi_id"].map(base_id)) - set(withheld))
    assert fresh  # the rest was published afresh
    some_kpi = sorted(withheld)[0]
    for name in ("safety", "drift_delay", "directorate"):
        sheet = openpyxl.load_workbook(published / f"{name}_scorecard_{PERIOD}.xlsx")["Data quality"]
        note = str(sheet["A3"].value)
        assert "FAILED" in note and table in note and some_kpi in note, name
    assert read_sql(engine, f"select count(*) as n from {table}")["n"].iloc[0] == rows_before
    ledger = read_sql(engine, "select state, message from runs where run_id = :r", {"r": result["run_id"]})
    assert ledger["state"].iloc[0] == PARTLY_PUBLISHED and table in ledger["message"].iloc[0]
    current = read_sql(engine, "select run_id from current_runs where flow = 'monthly' and period = :p",
                       {"p": PERIOD})
    assert current["run_id"].tolist() == [result["run_id"]]
    engine.dispose()


def test_a_column_failure_withholds_only_the_kpis_reading_that_column(published_base, tmp_path):
    """A future contact date fails cont_contact_date: SAF01 (which counts contacts by that
    date) is withheld; a KPI reading other columns of a failing table is not."""
    from flows.monthly import monthly
    broken = broken_copy(published_base["source"], tmp_path / "future", future_dates)
    monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]), config=published_base["config"])
    metadata = json.loads((published_base["published"] / "run_metadata.json").read_text())
    assert metadata["withheld"]["SAF01"] == ["ssd_contacts.cont_contact_date"]
    assert set(metadata["withheld"]) == {"SAF01"}


PARTICIPATION_COLUMNS = {"ssd_cp_reviews": "cppr_cp_review_participation",
                         "ssd_cla_reviews": "clar_cla_review_participation"}


def unchanged_apart_from(values: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The published rows of the KPIs that read none of these source columns."""
    from tasks.core.figure_ids import base_id
    from tasks.kpis.registry import load_registry
    reading = {k.id for k in load_registry()
               if any(column in k.source_columns.get(table, ()) for table, column in columns.items())}
    return values[~values["kpi_id"].map(base_id).isin(reading)].reset_index(drop=True)


def test_realistic_ssd_codes_withhold_nothing_and_the_figures_follow_kpis_md(published_base, tmp_path):
    """In-touch Y/yes/N, suitability Y, participation PN0 and PLACEHOLDER_DATA, a
    placeholder activity: each means what kpis.md says, so nothing is withheld and every
    figure is the one published from the contract's own codes."""
    from flows.monthly import monthly
    from tests.test_dq_gate import realistic_ssd_codes
    published = published_base["published"]
    before = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    realistic = broken_copy(published_base["source"], tmp_path / "ssd-codes", realistic_ssd_codes)
    result = monthly(period=PERIOD, source=str(realistic), out=str(published_base["out"]),
                     config=published_base["config"])
    assert published.resolve().name == result["run_id"]
    metadata = json.loads((published / "run_metadata.json").read_text())
    assert metadata["withheld"] == {} and "critical" not in metadata["data_quality"]
    after = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    saf23 = after[(after["kpi_id"].str.startswith("SAF23")) & (after["level"] == "la")]
    assert len(saf23) == 3 and int(saf23.iloc[0]["denominator"]) > 0
    # the participation codes are replaced, not re-expressed: the KPIs counting them change
    # (IRO04), every other figure is the one published from the contract's own codes
    assert unchanged_apart_from(after, PARTICIPATION_COLUMNS).equals(unchanged_apart_from(before, PARTICIPATION_COLUMNS))
    sheet = openpyxl.load_workbook(published / "safety_scorecard_2024-03.xlsx")["Data quality"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == "ssd_care_leavers"]
    assert any(r[1] == "clea_care_leaver_in_touch" and r[3] == "warning" for r in rows)


def test_audits_supplied_before_and_missing_now_keep_the_qa_outputs_as_last_published(published_base, tmp_path):
    from flows.monthly import monthly
    from flows.runner import PARTLY_PUBLISHED
    settings, published = published_base["settings"], published_base["published"]
    engine = make_engine(settings.resolved_warehouse_url)
    audits_before = read_sql(engine, "select count(*) as n from qa_audits")["n"].iloc[0]
    before = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    broken = broken_copy(published_base["source"], tmp_path / "no-audits",
                         lambda folder: (folder / "qa_audits.csv").unlink())
    result = monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]), config=published_base["config"])
    names = {p.name for p in published.iterdir()}
    assert {"qa_activity_2024-03.xlsx", "qa_monthly_report_2024-03.pdf", "qa_on_a_page_2024-03.pdf"} <= names
    metadata = json.loads((published / "run_metadata.json").read_text())
    assert metadata["withheld"]["QA01"] == ["qa_audits"]
    after = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    qa = [frame[frame["kpi_id"].str.startswith("QA")].reset_index(drop=True) for frame in (before, after)]
    assert len(qa[0]) > 100 and qa[1].equals(qa[0])  # kept as last published, not dropped
    assert read_sql(engine, "select count(*) as n from qa_audits")["n"].iloc[0] == audits_before
    ledger = read_sql(engine, "select state, message from runs where run_id = :r", {"r": result["run_id"]})
    assert ledger["state"].iloc[0] == PARTLY_PUBLISHED and "qa_audits" in ledger["message"].iloc[0]
    findings = openpyxl.load_workbook(published / "safety_scorecard_2024-03.xlsx")["Data quality"]
    assert any(r[0] == "qa_audits" and r[2] == "file_present" for r in findings.iter_rows(values_only=True))
    engine.dispose()


def test_a_drop_lacking_most_required_tables_fails_and_publishes_nothing(published_base, tmp_path):
    """11 of the 20 case-system tables missing: SAF01, SAF02 and others could still be
    computed, but a sliver of an export is a failed export."""
    from flows.monthly import monthly
    from flows.runner import DataQualityFailed
    from tasks.core.sources import CASE_SYSTEM_TABLES
    settings, published = published_base["settings"], published_base["published"]
    engine = make_engine(settings.resolved_warehouse_url)
    current_before = read_sql(engine, "select flow, period, run_id from current_runs")
    files_before = {p.name: p.read_bytes() for p in published.iterdir()}
    kept = ("ssd_person", "ssd_department", "ssd_professionals", "ssd_involvements", "ssd_contacts",
            "ssd_cin_episodes", "ssd_cin_assessments", "ssd_s47_enquiry", "ssd_initial_cp_conference")
    sliver = broken_copy(published_base["source"], tmp_path / "sliver", lambda folder: [
        (folder / f"{name}.csv").unlink() for name in CASE_SYSTEM_TABLES if name not in kept])
    with pytest.raises(DataQualityFailed, match="failed export: 11 of the 20 required case-system tables"):
        monthly(period=PERIOD, source=str(sliver), out=str(published_base["out"]), config=published_base["config"])
    assert {p.name: p.read_bytes() for p in published.iterdir()} == files_before
    assert read_sql(engine, "select flow, period, run_id from current_runs").equals(current_before)
    engine.dispose()


def test_when_every_kpi_is_withheld_nothing_is_published(published_base, tmp_path):
    from flows.monthly import monthly
    from flows.runner import DataQualityFailed
    settings, published = published_base["settings"], published_base["published"]
    engine = make_engine(settings.resolved_warehouse_url)
    current_before = read_sql(engine, "select flow, period, run_id from current_runs")
    files_before = {p.name: p.read_bytes() for p in published.iterdir()}
    only_people = tmp_path / "only-people"
    only_people.mkdir()
    (only_people / "ssd_person.csv").write_bytes((published_base["source"] / "ssd_person.csv").read_bytes())
    with pytest.raises(DataQualityFailed, match="ssd_contacts"):
        monthly(period=PERIOD, source=str(only_people), out=str(published_base["out"]), config=published_base["config"])
    assert {p.name: p.read_bytes() for p in published.iterdir()} == files_before
    assert read_sql(engine, "select flow, period, run_id from current_runs").equals(current_before)
    last = read_sql(engine, "select state from runs order by started_at desc")["state"].iloc[0]
    assert last == "Failed: data quality"
    engine.dispose()


def test_codes_outside_the_list_are_a_warning_published_with_the_outputs(published_base, tmp_path):
    from flows.monthly import monthly

    def unknown_sex(folder):
        people = pd.read_csv(folder / "ssd_person.csv", dtype=str, keep_default_na=False)
        people.loc[people.index[:3], "pers_sex"] = "Q"
        people.to_csv(folder / "ssd_person.csv", index=False)
    broken = broken_copy(published_base["source"], tmp_path / "codes", unknown_sex)
    result = monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]),
                     config=published_base["config"])
    published = published_base["published"]
    assert published.resolve().name == result["run_id"]
    assert json.loads((published / "run_metadata.json").read_text())["withheld"] == {}
    sheet = openpyxl.load_workbook(published / "safety_scorecard_2024-03.xlsx")["Data quality"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0] == "ssd_person"]
    assert any(r[1] == "pers_sex" and r[3] == "warning" and r[5] == 3 for r in rows)


def test_the_command_line_publishes_a_month_and_says_why_it_publishes_nothing(published_base, tmp_path,
                                                                            monkeypatch, capsys):
    from qaloop.cli import main
    monkeypatch.setenv("QALOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QALOOP_LA_CODE", "841")
    out = tmp_path / "out"
    assert main(["run", "monthly", "--period", PERIOD, "--source", str(published_base["source"]),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "monthly run" in printed and "kpi_values.csv" in printed
    first = pd.read_csv(out / PERIOD / "kpi_values.csv", dtype=str)
    assert set(first["kpi_id"].str.partition(":")[0]) >= {"SAF01", "DD01", "QA01"}

    only_people = tmp_path / "only-people"
    only_people.mkdir()
    (only_people / "ssd_person.csv").write_bytes((published_base["source"] / "ssd_person.csv").read_bytes())
    assert main(["run", "monthly", "--period", PERIOD, "--source", str(only_people), "--out", str(out)]) == 4
    said = capsys.readouterr().err
    assert "failed on data quality, nothing was published" in said and "ssd_contacts" in said
    assert pd.read_csv(out / PERIOD / "kpi_values.csv", dtype=str).equals(first)


def test_the_flow_run_carries_its_summary_and_output_links_as_prefect_artifacts(demo_run):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[demo_run["result"]["run_id"]])))
    by_type = {}
    for artifact in artifacts:
        by_type.setdefault(artifact.type, []).append(artifact)
    summary = next(a for a in by_type["markdown"] if a.key == f"monthly-{PERIOD}")
    frame = published(demo_run)
    assert "SYNTHETIC DATA" in summary.data and f"| SAF01 | Contacts in month | {la_value(frame, 'SAF01')} |" \
        in summary.data
    assert "Data quality: passed" in summary.data
    assert any(a.key == f"data-quality-{PERIOD}" for a in by_type["markdown"])
    # Prefect 3.8 stores a link artifact as markdown: [text](uri)
    links = {str(a.data) for a in by_type["markdown"] if str(a.data).startswith("[")}
    assert any(link.endswith("kpi_values.csv)") for link in links)
    assert any(link.endswith("qa_on_a_page_2024-03.pdf)") for link in links)
    # no published_url configured: the Data Docs are named by their path (a file link
    # does not open from the Prefect UI), with how to link them
    quality = next(a for a in by_type["markdown"] if a.key == f"data-quality-{PERIOD}")
    assert f"/data_quality/{PERIOD}/" in quality.data and "Set `published_url`" in quality.data
    assert not any("Data Docs" in link for link in links)


def test_a_qa_table_missing_beside_the_audits_withholds_the_measures_that_read_it(published_base, tmp_path):
    from flows.monthly import monthly
    broken = broken_copy(published_base["source"], tmp_path / "no-observations",
                         lambda folder: (folder / "qa_observations.csv").unlink())
    monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]), config=published_base["config"])
    metadata = json.loads((published_base["published"] / "run_metadata.json").read_text())
    assert metadata["withheld"] == {"QA11": ["qa_observations"]}
    assert "qa_observations not supplied: QA11 withheld" in metadata["data_quality"]


def test_audit_findings_missing_now_still_render_the_qa_reports(published_base, tmp_path):
    """Issue 15 point 4: the optional qa_audit_findings supplied before and missing now:
    QA12/QA13 are withheld (as last published), the QA reports still render on their
    pages, and no summary is read from an earlier load."""
    from flows.monthly import monthly
    broken = broken_copy(published_base["source"], tmp_path / "no-findings",
                         lambda folder: (folder / "qa_audit_findings.csv").unlink())
    monthly(period=PERIOD, source=str(broken), out=str(published_base["out"]), config=published_base["config"])
    published = published_base["published"]
    metadata = json.loads((published / "run_metadata.json").read_text())
    assert set(metadata["withheld"]) == {"QA12", "QA13"} and "qa_finding_summaries" not in metadata
    page = read_pdf(published / "qa_on_a_page_2024-03.pdf")
    assert page.pages == 1 and "What audits found this month" in page.text
    report = read_pdf(published / "qa_monthly_report_2024-03.pdf").text
    assert "Audit findings" in report and "In the auditors' words" not in report
