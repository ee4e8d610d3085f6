"""The data-quality gate withholds only what a failure breaks (issue 11, points 1 and 5).

- each KPI's source columns come from its parsed SQL, and a column-level failure
  withholds only the KPIs reading that column; table-level failures every reader;
- values the definitions already place (Y/N synonyms, in-touch Y, participation codes,
  SSD placeholders) are warnings saying how they are counted;
- bad files give a named finding: corrupt workbooks, UTF-16 without its mark, binary
  files, numbers out of range, dates read in one order per column, a header-only file
  against the table's last good load, an optional table supplied before and missing
  now, and a drop lacking most required tables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tasks.core.settings import SourceMapping
from tasks.extract.extracts import extract_sources
from tasks.kpis.registry import columns_read_by, load_registry
from tasks.core.sources import CASE_SYSTEM_TABLES, TABLES
from tasks.validate.validation import validate_extracts
from tasks.validate.withheld import kpis_blocked_by
from tests.test_validation import EXTRACT_DATE, drop_folder, failed, validate

KPIS = {k.id: k for k in load_registry()}
ALLOCATION = {"invo_person_id", "invo_professional_team", "invo_professional_id",
              "invo_professional_role_id", "invo_involvement_start_date",
              "invo_involvement_end_date", "invo_involvements_id"}


# --- point 1: what each KPI reads, and what a failure withholds ------------------------

def test_a_kpis_source_columns_are_derived_from_its_sql():
    saf14 = KPIS["SAF14"].source_columns
    assert saf14["ssd_cp_reviews"] == {"cppr_cp_review_id", "cppr_person_id", "cppr_cp_plan_id",
                                       "cppr_cp_review_date", "cppr_cp_review_due"}
    assert saf14["ssd_cp_plans"] == {"cppl_cp_plan_id", "cppl_person_id", "cppl_cp_plan_start_date"}
    assert saf14["ssd_involvements"] == ALLOCATION  # attributed to the child's allocated worker
    assert KPIS["SAF01"].source_columns["ssd_contacts"] == {"cont_contact_id", "cont_person_id",
                                                            "cont_contact_date"}
    assert "clea_care_leaver_in_touch" in KPIS["SAF23"].source_columns["ssd_care_leavers"]
    assert "ssd_involvements" not in KPIS["QA01"].source_columns  # attributed to the record


def test_every_kpi_sql_is_resolved_to_contract_columns_only():
    for kpi in KPIS.values():
        reads = kpi.source_columns
        assert reads, kpi.id
        for table, columns in reads.items():
            assert columns <= set(TABLES[table].column_names), (kpi.id, table)


def test_a_column_named_only_in_a_comment_or_a_string_is_not_read(tmp_path):
    sql = tmp_path / "probe.sql"
    sql.write_text("-- reads cppr_cp_review_participation? no\n"
                   "with r as (select cppr_cp_review_id, 'cppr_cp_review_participation' as label\n"
                   "           from ssd_cp_reviews where cppr_cp_review_date <= :period_end)\n"
                   "select r.* from r", encoding="utf-8")
    assert columns_read_by(sql) == {"ssd_cp_reviews": {"cppr_cp_review_id", "cppr_cp_review_date"}}


def test_a_column_failure_withholds_only_the_kpis_reading_that_column():
    kpis = list(KPIS.values())
    # the participation code is read by IRO04 alone (not by IRO05, which shares its reviews)
    assert kpis_blocked_by(kpis, [], {"ssd_cp_reviews": ["cppr_cp_review_participation"]}) == {
        "IRO04": ["ssd_cp_reviews.cppr_cp_review_participation"]}
    by_date = kpis_blocked_by(kpis, [], {"ssd_cp_reviews": ["cppr_cp_review_date"]})
    assert set(by_date) == {"SAF14", "DD05", "IRO04", "IRO05"}
    assert by_date["SAF14"] == ["ssd_cp_reviews.cppr_cp_review_date"]
    whole_table = kpis_blocked_by(kpis, ["ssd_cp_reviews"])
    assert set(whole_table) == {"SAF14", "DD05", "IRO04", "IRO05"} and whole_table["DD05"] == ["ssd_cp_reviews"]
    # a column of the allocation (sql/common/allocation.sql): every KPI attributed to the
    # child's allocated worker, and none attributed to its own record
    by_role = kpis_blocked_by(kpis, [], {"ssd_involvements": ["invo_professional_role_id"]})
    assert "SAF01" in by_role and "QA01" not in by_role
    assert {k.id for k in kpis if k.attribution == "child"} <= set(by_role)


# --- point 1: values the definitions place are warnings -------------------------------

def realistic_ssd_codes(folder: Path) -> None:
    """What SSD builds really emit, each value meaning what the contract's code means
    (kpis.md), so every figure must stay as it was: Y/yes for in touch YES, N for NO, Y for
    suitable accommodation 1, PN0 and unmapped placeholders for participation, and a
    placeholder where the activity is not education, employment or training."""
    leavers = pd.read_csv(folder / "ssd_care_leavers.csv", dtype=str, keep_default_na=False)
    in_touch = leavers["clea_care_leaver_in_touch"]
    yes = leavers.index[in_touch == "YES"]
    leavers.loc[yes, "clea_care_leaver_in_touch"] = [("Y", "yes", " Yes ")[i % 3] for i in range(len(yes))]
    leavers.loc[in_touch == "NO", "clea_care_leaver_in_touch"] = "N"
    leavers.loc[leavers["clea_care_leaver_accom_suitable"] == "1", "clea_care_leaver_accom_suitable"] = "Y"
    not_eet = ~leavers["clea_care_leaver_activity"].isin(EET_CODES) & (leavers["clea_care_leaver_activity"] != "")
    leavers.loc[leavers.index[not_eet][:3], "clea_care_leaver_activity"] = "PLACEHOLDER_DATA"
    leavers.to_csv(folder / "ssd_care_leavers.csv", index=False)
    for table, column in (("ssd_cp_reviews", "cppr_cp_review_participation"),
                          ("ssd_cla_reviews", "clar_cla_review_participation")):
        reviews = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        reviews[column] = "PLACEHOLDER_DATA"
        reviews.loc[reviews.index[::4], column] = "PN0"
        reviews.to_csv(folder / f"{table}.csv", index=False)


EET_CODES = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5")  # kpis.md SAF23:eet_pct


@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory):
    from qaloop.synthetic import generate_la
    folder = tmp_path_factory.mktemp("synthetic-gate")
    generate_la(folder, EXTRACT_DATE, children=400, seed=7)
    return folder


def copy_of(folder: Path, target: Path, change=None) -> Path:
    target.mkdir()
    for path in folder.glob("*.csv"):
        (target / path.name).write_bytes(path.read_bytes())
    if change:
        change(target)
    return target


def test_realistic_ssd_codes_withhold_nothing_and_say_how_they_are_counted(synthetic_folder, tmp_path):
    folder = copy_of(synthetic_folder, tmp_path / "ssd", realistic_ssd_codes)
    extracts = extract_sources(str(folder), strict=False)
    report = validate_extracts(extracts, EXTRACT_DATE)
    assert report.failures == []
    assert kpis_blocked_by(list(KPIS.values()), report.blocked_tables, report.failed_columns) == {}
    in_touch = failed(report, "ssd_care_leavers", "in_code_list", "clea_care_leaver_in_touch")
    assert in_touch.severity == "warning"  # `yes` and ` Yes ` are outside the list (Y and N are in it)
    assert "SAF23 counts YES or Y (any case) as in touch and any other value as not in touch" in in_touch.detail
    placeholder = failed(report, "ssd_cp_reviews", "ssd_placeholder", "cppr_cp_review_participation")
    assert placeholder.severity == "warning" and "PLACEHOLDER_DATA" in placeholder.detail
    assert "PN1-PN7 only; PN0 and any other value are outside" in placeholder.detail
    pn0 = [r for r in report.results if r.table == "ssd_cp_reviews" and r.rule == "in_code_list"]
    assert [r.success for r in pn0] == [True]  # PN0 is in the SSD list; the placeholder is its own warning
    activity = failed(report, "ssd_care_leavers", "ssd_placeholder", "clea_care_leaver_activity")
    assert activity.unexpected == 3 and "any other value as not" in activity.detail


# --- point 5: bad files give a named finding ------------------------------------------

def test_a_corrupt_workbook_is_a_table_level_failure_naming_the_file(tmp_path):
    folder = drop_folder(tmp_path, skip=("ssd_contacts",))
    (folder / "ssd_contacts.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    extracts, report = validate(folder, only=["ssd_contacts"])
    result = failed(report, "ssd_contacts", "file_readable")
    assert result.severity == "critical" and "(ssd_contacts.xlsx)" in result.detail
    assert "not a readable Excel workbook" in result.detail
    assert report.blocked_tables == ["ssd_contacts"]
    assert extracts["ssd_contacts"].raw_bytes.startswith(b"PK")  # archived as read


def test_utf16_without_its_byte_order_mark_and_binary_files_name_the_encoding(tmp_path):
    folder = drop_folder(tmp_path)
    header = ",".join(TABLES["ssd_contacts"].column_names)
    (folder / "ssd_contacts.csv").write_bytes(f"{header}\nC1,P1,2024-04-01,1A\n".encode("utf-16-le"))
    (folder / "ssd_person.csv").write_bytes(bytes(range(256)) * 4)
    _, report = validate(folder, only=["ssd_contacts", "ssd_person"])
    utf16 = failed(report, "ssd_contacts", "file_encoding")
    assert utf16.severity == "critical"
    assert "UTF-16 (little-endian) text without a byte-order mark" in utf16.detail
    binary = failed(report, "ssd_person", "file_encoding")
    assert "the file is binary, not text (a NUL byte at position 0)" in binary.detail
    assert report.blocked_tables == ["ssd_contacts", "ssd_person"]


def test_utf16_with_its_byte_order_mark_is_read(tmp_path):
    folder = drop_folder(tmp_path)
    header = "\t".join(TABLES["ssd_contacts"].column_names)
    (folder / "ssd_contacts.csv").write_bytes(f"{header}\r\nC1\tP1\t01/04/2024\t1A\r\n".encode("utf-16"))
    extracts, report = validate(folder, only=["ssd_contacts"])
    assert report.failures == []
    assert str(extracts["ssd_contacts"].frame.loc[0, "cont_contact_date"]) == "2024-04-01"


def test_numbers_out_of_range_negative_absurd_or_infinite_are_reported(tmp_path):
    workers = [{"prof_professional_id": wid, "prof_full_time_equivalency": fte, "prof_agency_worker_flag": "N"}
               for wid, fte in (("W1", "1"), ("W2", "-5"), ("W3", "1e308"), ("W4", "inf"), ("W5", "0.5"))]
    folder = drop_folder(tmp_path, {"ssd_professionals": workers})
    extracts, report = validate(folder, only=["ssd_professionals"])
    out_of_range = failed(report, "ssd_professionals", "number_range", "prof_full_time_equivalency")
    assert (out_of_range.severity, out_of_range.example_ids) == ("critical", ["W2", "W3"])
    assert "must lie between 0 and 2" in out_of_range.detail
    infinite = failed(report, "ssd_professionals", "numbers_parseable", "prof_full_time_equivalency")
    assert infinite.example_ids == ["W4"] and "not a finite number" in infinite.detail
    assert pd.isna(extracts["ssd_professionals"].frame.loc[3, "prof_full_time_equivalency"])
    assert report.failed_columns == {"ssd_professionals": ["prof_full_time_equivalency"]}


def contacts_dated(tmp_path, days: list[str], mapping: SourceMapping | None = None):
    rows = [{"cont_contact_id": f"C{i}", "cont_person_id": "P1", "cont_contact_date": day}
            for i, day in enumerate(days, start=1)]
    folder = drop_folder(tmp_path, {"ssd_contacts": rows})
    extracts = extract_sources(str(folder), {"ssd_contacts": mapping} if mapping else None, strict=False)
    report = validate_extracts({"ssd_contacts": extracts["ssd_contacts"]}, date(2027, 1, 5))
    return [str(d) for d in extracts["ssd_contacts"].frame["cont_contact_date"]], report


def test_a_column_of_us_dates_is_read_month_first_throughout(tmp_path):
    dates, report = contacts_dated(tmp_path, ["11/25/2026", "03/05/2026", "12/31/2026", "01/02/2026"])
    assert dates == ["2026-11-25", "2026-03-05", "2026-12-31", "2026-01-02"]
    assert report.failures == []


def test_a_us_date_in_a_uk_column_is_reported_never_guessed(tmp_path):
    dates, report = contacts_dated(tmp_path, ["25/11/2026", "03/05/2026", "11/25/2026", "2026-13-01",
                                              "2026-12-01"])
    assert dates == ["2026-11-25", "2026-05-03", "None", "None", "2026-12-01"]
    result = failed(report, "ssd_contacts", "dates_parseable", "cont_contact_date")
    assert (result.severity, result.example_ids) == ("critical", ["C3", "C4"])
    assert "numeric dates day-first: the column mixes 1 value(s) that can only be day-first and 1 " \
           "that can only be month-first" in result.detail


def test_a_single_month_first_value_does_not_turn_a_uk_column_round(tmp_path):
    days = ["03/05/2026", "04/06/2026", "01/02/2026", "05/05/2026", "06/07/2026", "07/08/2026",
            "08/09/2026", "09/10/2026", "10/11/2026", "02/03/2026", "11/25/2026"]
    dates, report = contacts_dated(tmp_path, days)
    assert dates[0] == "2026-05-03" and dates[-1] == "None"
    assert failed(report, "ssd_contacts", "dates_parseable").example_ids == ["C11"]


def test_the_date_order_counts_rows_not_distinct_values(tmp_path):
    """Each distinct date is read once, but the evidence for an order is its rows: one
    month-first date written on two rows is two values that can only be month-first."""
    dates, report = contacts_dated(tmp_path, ["11/25/2026", "11/25/2026", "03/05/2026"])
    assert dates == ["2026-11-25", "2026-11-25", "2026-03-05"] and report.failures == []


def test_a_mixed_column_counts_each_order_by_rows(tmp_path):
    dates, report = contacts_dated(tmp_path, ["25/11/2026", "25/11/2026", "11/25/2026",
                                              "03/05/2026", "03/05/2026"])
    assert dates == ["2026-11-25", "2026-11-25", "None", "2026-05-03", "2026-05-03"]
    assert "mixes 2 value(s) that can only be day-first and 1 that can only be month-first" \
        in failed(report, "ssd_contacts", "dates_parseable").detail


def test_a_us_date_typed_into_an_iso_column_is_reported(tmp_path):
    dates, report = contacts_dated(tmp_path, ["2026-11-02", "2026-11-03", "11/25/2026", "2026-11-04"])
    assert dates == ["2026-11-02", "2026-11-03", "None", "2026-11-04"]
    assert failed(report, "ssd_contacts", "dates_parseable").example_ids == ["C3"]


def test_a_mixed_column_reports_every_value_against_its_majority_order(tmp_path):
    uk = ["25/11/2026", "28/02/2026", "13/03/2026", "01/02/2026"]
    us = ["12/31/2026", "01/02/2026"]
    dates, report = contacts_dated(tmp_path, uk + us)
    result = failed(report, "ssd_contacts", "dates_parseable", "cont_contact_date")
    assert result.example_ids == ["C5"] and "mixes 3 value(s)" in result.detail
    assert dates[3] == "2026-02-01"  # ambiguous values follow the column's order; the rule fails


def test_the_date_order_can_be_set_in_the_mapping(tmp_path):
    dates, report = contacts_dated(tmp_path, ["03/05/2026", "04/06/2026"],
                                   SourceMapping(date_formats={"cont_contact_date": "month_first"}))
    assert dates == ["2026-03-05", "2026-04-06"] and report.failures == []


def test_a_header_only_file_fails_against_the_tables_last_good_load(tmp_path):
    folder = drop_folder(tmp_path)  # every table header-only
    _, report = validate(folder, only=["ssd_contacts"], previous_row_counts={"ssd_contacts": 1200})
    shrunk = failed(report, "ssd_contacts", "row_count_shrunk")
    assert shrunk.severity == "critical"
    assert "0 rows against 1200 in the table's last good load (-100%" in shrunk.detail
    assert report.blocked_tables == ["ssd_contacts"]


def test_an_optional_table_supplied_before_and_missing_now_is_a_finding(tmp_path):
    folder = drop_folder(tmp_path)
    _, report = validate(folder, previous_row_counts={"qa_audits": 640, "complaints": 0})
    result = failed(report, "qa_audits", "file_present")
    assert result.severity == "critical"
    assert "qa_audits is missing from this extract, but its last good load has 640 rows" in result.detail
    assert report.blocked_tables == ["qa_audits"]
    assert [k for k in kpis_blocked_by(list(KPIS.values()), report.blocked_tables)] == \
        [k.id for k in KPIS.values() if "qa_audits" in k.source_columns]


def test_a_drop_lacking_most_required_tables_is_a_failed_export(tmp_path):
    def missing(count: int):
        root = tmp_path / f"missing-{count}"
        root.mkdir()
        return validate(drop_folder(root, skip=tuple(CASE_SYSTEM_TABLES[:count])))[1]
    half = missing(len(CASE_SYSTEM_TABLES) // 2)
    assert len(half.missing_required_tables) == 10 and not half.failed_export  # half is not most
    most = missing(len(CASE_SYSTEM_TABLES) // 2 + 1)
    assert most.failed_export
    assert most.failed_export_message().startswith(
        "failed export: 11 of the 20 required case-system tables are missing (")
