"""The domain objects the flows compose, as plain functions (no Prefect): the typed
data-quality state built from a ValidationReport, the carry-forward of withheld
figures, and the run's summary text (issue 13, point 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from tasks.core.periods import Period
from tasks.core.sources import CASE_SYSTEM_TABLES
from tasks.kpis.compute import RECORD_COLUMNS, VALUE_COLUMNS
from tasks.kpis.registry import load_registry
from tasks.operations.pipeline import PeriodResults
from tasks.operations.summary import exception_counts, live_lists_summary, monthly_summary, run_metadata
from tasks.publish.lineage import RunInfo
from tasks.validate.quality import NOT_CHECKED, DataQuality, assess
from tasks.validate.validation import CRITICAL, WARNING, RuleResult, ValidationReport
from tasks.validate.withheld import (Withheld, carry_forward, failed_sources, withheld_by,
                                     withheld_for_missing_tables)

MARCH = Period.month("2024-03")


@dataclass
class FakeKpi:
    id: str
    reads: dict[str, set[str]] = field(default_factory=dict)
    name: str = ""
    kind: str = "percent"

    @property
    def source_columns(self) -> dict[str, frozenset[str]]:
        return {t: frozenset(c) for t, c in self.reads.items()}


KPIS = [FakeKpi("SAF01", {"ssd_person": {"pers_person_id"}, "ssd_contacts": {"cont_contact_date"}}),
        FakeKpi("SAF02", {"ssd_contacts": {"cont_contact_outcome"}}),
        FakeKpi("DD01", {"ssd_cin_episodes": {"cine_referral_date"}})]


def result(table: str, rule: str, severity: str = CRITICAL, success: bool = False,
           column: str | None = None) -> RuleResult:
    return RuleResult(f"{table}.csv", table, column, rule, severity, success, 10, 0 if success else 2)


def report(*results: RuleResult) -> ValidationReport:
    return ValidationReport(date(2024, 4, 3), list(results))


# --- the typed state --------------------------------------------------------------------

def test_a_clean_report_passes_and_withholds_nothing():
    quality = assess(report(result("ssd_person", "not_null", success=True)), KPIS)
    assert quality.checked and quality.state == "passed"
    assert quality.withheld == {} and quality.fresh(KPIS) == KPIS and quality.refusal(KPIS) is None
    assert quality.not_passed.empty and len(quality.results) == 1


def test_warnings_are_counted_and_published():
    quality = assess(report(result("ssd_contacts", "in_code_list", WARNING, column="cont_contact_outcome"),
                            result("ssd_person", "date_plausible", WARNING, column="pers_dob")), KPIS)
    assert quality.warnings == 2 and quality.state == "passed, 2 warnings"
    assert quality.withheld == {} and len(quality.not_passed) == 2


def test_a_table_level_failure_blocks_the_table_and_withholds_every_reader():
    quality = assess(report(result("ssd_contacts", "row_key_unique", column="cont_contact_id")), KPIS)
    assert quality.blocked_tables == ["ssd_contacts"] and quality.failed_columns == {}
    assert quality.withheld == {"SAF01": ["ssd_contacts"], "SAF02": ["ssd_contacts"]}
    assert [k.id for k in quality.fresh(KPIS)] == ["DD01"]
    assert quality.state == ("FAILED: critical failures in ssd_contacts; SAF01, SAF02 withheld "
                             "(shown as last published, if ever)")


def test_a_column_level_failure_withholds_only_the_kpis_reading_that_column():
    quality = assess(report(result("ssd_contacts", "in_code_list", column="cont_contact_outcome")), KPIS)
    assert quality.blocked_tables == [] and quality.failed_columns == {"ssd_contacts": ["cont_contact_outcome"]}
    assert quality.withheld == {"SAF02": ["ssd_contacts.cont_contact_outcome"]}
    assert quality.critical_tables == ["ssd_contacts"]


def test_a_critical_failure_no_output_reads_is_reported_not_withheld():
    quality = assess(report(result("ssd_sdq_scores", "row_key_unique", column="csdq_table_id"),
                            result("ssd_person", "not_null", WARNING, column="pers_sex")), KPIS)
    assert quality.withheld == {}
    assert quality.state == "critical failures in ssd_sdq_scores (not used by these outputs); 1 warning"


def test_extract_notes_and_tables_not_supplied_follow_the_verdict():
    quality = assess(report(), KPIS, ["the extract date is the newest file's time"])
    quality = quality.with_tables_not_supplied({"DD01": ["ssd_cin_episodes"]})
    assert quality.withheld_kpis == {"DD01": ["ssd_cin_episodes"]}
    assert quality.state == ("passed; the extract date is the newest file's time; "
                             "ssd_cin_episodes not supplied: DD01 withheld")


def test_nothing_is_published_when_every_kpi_is_withheld_or_the_export_failed():
    everything = assess(report(result("ssd_contacts", "file_readable"),
                               result("ssd_cin_episodes", "file_readable")), KPIS)
    assert everything.fresh(KPIS) == [] and everything.refusal(KPIS) == everything.state
    missing = [result(t, "file_present") for t in CASE_SYSTEM_TABLES[: len(CASE_SYSTEM_TABLES) // 2 + 1]]
    failed = assess(report(*missing), [])
    assert failed.refusal([]).startswith("failed export: 11 of the 20 required case-system tables")


def test_an_unchecked_state_says_so():
    assert DataQuality().state == NOT_CHECKED == "not checked"
    assert DataQuality().not_passed.empty


def test_withheld_for_missing_tables_names_only_the_readers_of_tables_not_supplied():
    extracts = {"ssd_person": object(), "ssd_contacts": object()}
    assert withheld_for_missing_tables(KPIS, ["ssd_contacts", "ssd_cin_episodes"], extracts) == \
        {"DD01": ["ssd_cin_episodes"]}
    assert withheld_for_missing_tables([], ["ssd_cin_episodes"], extracts) == {}
    assert withheld_by(KPIS, report()) == {}
    assert failed_sources({"A": ["t.b", "t"], "B": ["t"]}) == ["t", "t.b"]


# --- carry-forward ---------------------------------------------------------------------

def values(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(VALUE_COLUMNS, r)) for r in rows], columns=VALUE_COLUMNS)


def records(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(RECORD_COLUMNS, r)) for r in rows], columns=RECORD_COLUMNS)


def test_carry_forward_adds_the_withheld_kpis_last_published_figures_and_nothing_else():
    fresh = PeriodResults(values(("DD01", "2024-03", "la", "841", "LA", 5, 5, None)),
                          values(("DD01", "2024-02", "la", "841", "LA", 4, 4, None),
                                 ("DD01", "2024-03", "la", "841", "LA", 5, 5, None)),
                          records(("2024-03", "DD01", "r1", "p1", "t1", "w1", 1, None)))
    stored = values(("SAF02", "2024-03", "la", "841", "LA", 50.0, 1, 2),
                    ("SAF02", "2024-03", "team", "t1", "Team", 50.0, 1, 2),
                    ("SAF02", "2024-02", "la", "841", "LA", 40.0, 2, 5),
                    ("SAF02:by_team", "2024-03", "la", "841", "LA", 1.0, None, None),
                    ("DD01", "2024-03", "la", "841", "LA", 9, 9, None)).assign(run_id="old")
    stored_records = records(("2024-03", "SAF02", "r9", "p9", "t1", "w1", 1, None),
                             ("2024-03", "DD01", "r8", "p8", "t1", "w1", 1, None)).assign(run_id="old")
    withheld = Withheld({"SAF02": ["ssd_contacts.cont_contact_outcome"]}, "old")
    merged = carry_forward(fresh, withheld, MARCH, stored, stored_records)
    assert isinstance(merged, PeriodResults)
    assert list(merged.values.columns) == VALUE_COLUMNS and list(merged.records.columns) == RECORD_COLUMNS
    current = merged.values.set_index(["kpi_id", "level"])["value"]
    assert current[("DD01", "la")] == 5 and current[("SAF02", "la")] == 50.0  # fresh DD01 kept
    assert current[("SAF02", "team")] == 50.0 and ("SAF02:by_team", "la") in current.index
    assert sorted(merged.trend[merged.trend["kpi_id"] == "SAF02"]["period"]) == ["2024-02", "2024-03"]
    assert sorted(merged.records["record_id"]) == ["r1", "r9"]
    assert len(fresh.values) == 1  # the fresh figures themselves are untouched


def test_the_withheld_message_says_where_the_figures_come_from():
    kpis = {"SAF02": ["ssd_contacts.cont_contact_outcome"], "SAF01": ["ssd_contacts"]}
    assert Withheld(kpis, "run-1").message() == (
        "data quality: critical failures in ssd_contacts, ssd_contacts.cont_contact_outcome; "
        "SAF01, SAF02 withheld, shown as last published (run run-1)")
    assert Withheld(kpis).message().endswith("not shown: the period had no earlier version")
    assert not Withheld({})


# --- the run's summaries ------------------------------------------------------------------

def run_info(period: str = "2024-03") -> RunInfo:
    return RunInfo(period=period, run_id="run-1", code_version="0", la_code="841", la_name="Darlington",
                   synthetic=True, started_at="2024-04-05T09:00:00", source="extracts/",
                   population=22771, population_year=2024)


def test_the_monthly_summary_has_headline_figures_exceptions_and_the_data_quality_state():
    registry = {k.id: k for k in load_registry()}
    kpis = [registry["SAF01"], registry["DD01"]]
    results = PeriodResults(values(("DD01", "2024-03", "la", "841", "LA", 7, 7, None),
                                   ("DD01", "2024-03", "team", "t1", "T", 3, 3, None)),
                            values(), records())
    assert exception_counts(results.values, kpis) == {"DD01": 7}
    text = monthly_summary(results, kpis, run_info(), "passed, 1 warning", "/x/revisions_2024-03.csv")
    assert text.startswith("# Darlington: monthly scorecards for 2024-03")
    assert "**SYNTHETIC DATA**" in text and "- Data quality: passed, 1 warning" in text
    assert "- Exceptions listed: 7 (DD01 7)" in text and "- Revisions: revisions_2024-03.csv" in text
    assert f"| SAF01 | {registry['SAF01'].name} | n/a |" in text and f"| DD01 | {registry['DD01'].name} | 7 |" in text
    assert "- Data quality: not checked" in monthly_summary(results, kpis, run_info())


def test_the_live_lists_summary_counts_each_list_and_the_escalations():
    registry = {k.id: k for k in load_registry()}
    listed = values(("DD01", "2024-03-14", "la", "841", "LA", 2, 2, None))
    escalations = pd.DataFrame({"audit_id": ["a1", "a1", "a2"]})
    text = live_lists_summary("daily", listed, [registry["DD01"], registry["DD02"]], run_info("2024-03-14"),
                              ["a.xlsx", "a.csv"], "passed", escalations)
    assert "# Darlington: daily exception lists as at 2024-03-14" in text
    assert "- Workbooks: 2" in text and "escalated to a Head of Service: 2" in text
    assert f"| DD01 | {registry['DD01'].name} | 2 |" in text and f"| DD02 | {registry['DD02'].name} | 0 |" in text


def test_run_metadata_says_what_was_withheld_and_from_which_run():
    quality = assess(report(result("ssd_contacts", "row_key_unique", column="cont_contact_id")), KPIS)
    metadata = run_metadata(run_info(), ["/out/kpi_values.csv"], "corrected", quality,
                            Withheld(quality.withheld_kpis, "run-0"))
    assert metadata["outputs"] == ["kpi_values.csv"] and metadata["reason"] == "corrected"
    assert metadata["data_quality"] == quality.state and metadata["withheld"] == quality.withheld
    assert metadata["withheld_as_last_published_from"] == "run-0" and metadata["qa_allocation"] is None
    assert run_metadata(run_info(), [], None, assess(report(), KPIS))["withheld_as_last_published_from"] is None


def test_a_rule_that_checked_no_row_shows_no_pass_rate_in_the_sheet_or_the_report():
    """A missing column fails without a row checked: "0%" would read as every row failing."""
    from openpyxl import Workbook
    from tasks.publish.dq_sheet import write_data_quality_sheet
    from tasks.reports.render import quality_summary
    report = ValidationReport(date(2024, 4, 5), [
        RuleResult("qa_audits.csv", "qa_audits", "grade", "column_present", WARNING, False, 0, 0, [], "column missing"),
        RuleResult("qa_audits.csv", "qa_audits", "audit_date", "not_null", WARNING, False, 10, 1, [], "dates")])
    quality = assess(report, [])
    workbook = Workbook()
    run = RunInfo("2024-03", "run-1", "0.1", "841", "Darlington", True, "2024-04-05T07:00:00", "x", 1000, 2023)
    write_data_quality_sheet(workbook, quality, run, with_record_ids=False)
    rows = {row[2]: row for row in workbook["Data quality"].iter_rows(values_only=True) if row and row[0] == "qa_audits"}
    assert rows["column_present"][6] is None and rows["not_null"][6] == 90.0
    shown = {rule["rule"]: rule["pass_rate"] for rule in quality_summary(quality)["rules"]}
    assert shown == {"column_present": "not checked", "not_null": "90.0%"}
    assert quality.state == "passed, 2 warnings"


def test_a_kpi_reading_a_local_table_never_supplied_is_not_computed_and_one_missing_now_is_withheld():
    from tasks.validate.withheld import missing_local_tables, with_supplied_sources
    kpis = [FakeKpi("SAF01", {"ssd_contacts": {"cont_contact_date"}}),
            FakeKpi("CMP01", {"complaints": {"stage"}}),
            FakeKpi("SUR01", {"survey_responses": {"answer"}})]
    extracts = {"ssd_contacts": "rows"}
    # complaints never supplied; surveys supplied by an earlier run, missing now
    kept = with_supplied_sources(kpis, extracts, loaded={"survey_responses": 120, "complaints": 0})
    assert [k.id for k in kept] == ["SAF01", "SUR01"]  # no CMP01 figure of 0 from an empty table
    assert missing_local_tables(kept, extracts) == {"SUR01": ["survey_responses"]}
    assert missing_local_tables(kept, {**extracts, "survey_responses": "rows"}) == {}
