"""DfE benchmarks (England, region, statistical neighbours, rank) and the Directorate
Scorecard workbook. Benchmark figures are checked against the DfE CSV rows."""

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from tasks.core.paths import REFERENCE_DIR
from tasks.core.settings import KpiTarget
from tasks.kpis.benchmarks import (NOT_IN_REFERENCE, benchmark_for, benchmark_spec, benchmarks_for,
                                   configured_kpis, load_benchmark_values, load_neighbours, published_number,
                                   read_reference, store_reference, year_label)
from tasks.core.periods import Period
from tasks.publish.directorate import PDF_COLUMNS, _pdf_line, publish_directorate, shown_value
from tasks.publish.suppression import FOOTNOTE
from tasks.publish.lineage import RunInfo
from tasks.kpis.rag import targets_for
from tasks.kpis.registry import load_registry

KPIS = load_registry()
REGISTRY = {kpi.id: kpi for kpi in KPIS}
DFE = REFERENCE_DIR / "dfe-benchmarks"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
DARLINGTON_NEIGHBOURS = ["390", "808", "332", "384", "888", "894", "372", "357", "840", "371"]


@pytest.fixture(scope="module")
def reference():
    return load_benchmark_values(REFERENCE_DIR, KPIS), load_neighbours(REFERENCE_DIR)


def copy_reference(tmp_path: Path) -> Path:
    target = tmp_path / "dfe-benchmarks"
    shutil.copytree(DFE, target)
    for path in [target, *target.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def csv_rows(name: str, folder: Path = DFE) -> list[dict]:
    with open(folder / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --- Benchmarks against the source files -------------------------------------------------------


def test_darlington_rereferrals_2025_match_the_c1_file(reference):
    benchmark = benchmark_for(REGISTRY["SAF04"], "841", *reference)
    # c1 2025 rows: National 22.6, Regional E12000001 North East 20.7, 841 Darlington 13
    assert (benchmark.year, benchmark.england, benchmark.region_name, benchmark.region) == \
        (2025, 22.6, "North East", 20.7)
    assert benchmark.la_value == 13.0
    # the 10 neighbours' rereferral_percent (sn_model_2025_wide.csv row 841, c1 2025 rows):
    # 390 13.9, 808 28.8, 332 22.5, 384 18.5, 888 16.3, 894 15.8, 372 19.6, 357 27.7,
    # 840 18.7, 371 29.4 -> sum 211.2 / 10 = 21.12 -> 21.1; median (18.7 + 19.6) / 2 = 19.15 -> 19.2
    assert [code for code, _, _ in benchmark.sn_values] == DARLINGTON_NEIGHBOURS
    assert [value for _, _, value in benchmark.sn_values] == \
        [13.9, 28.8, 22.5, 18.5, 16.3, 15.8, 19.6, 27.7, 18.7, 29.4]
    assert (benchmark.sn_mean, benchmark.sn_median, benchmark.sn_count) == (21.1, 19.2, 10)
    # lower is better: 13.0 beaten by 3 LAs (of 153 with a value) -> rank 4, band A;
    # best of itself and its 10 neighbours
    source = [float(r["rereferral_percent"]) for r in csv_rows(C1)
              if r["time_period"] == "2025" and r["geographic_level"] == "Local authority"]
    assert (benchmark.rank, benchmark.rank_of) == (sum(v < 13.0 for v in source) + 1, len(source))
    assert (benchmark.rank, benchmark.rank_of, benchmark.quartile) == (4, 153, "A")
    assert (benchmark.sn_rank, benchmark.sn_rank_of) == (1, 11)


def test_croydon_three_placements_2025_match_the_stability_file(reference):
    benchmark = benchmark_for(REGISTRY["SAF20"], "306", *reference)
    # la_cla_placement_stability.csv 2025, CLA on 31 March / 3 or more placements during the
    # year: England 10, Outer London (Croydon's region in the file) 10, Croydon 6;
    # neighbours 209 8, 320 11, 383 13, 870 11, 826 18, 882 11, 302 10, 852 14, 355 9, 203 10
    assert (benchmark.year, benchmark.england, benchmark.region_code, benchmark.region) == \
        (2025, 10.0, "E13000002", 10.0)
    assert benchmark.la_value == 6.0
    assert benchmark.sn_mean == 11.5      # 115 / 10
    assert benchmark.sn_median == 11.0    # 8 9 10 10 [11 11] 11 13 14 18
    assert benchmark.quartile == "A" and benchmark.sn_rank == 1


def test_cp_rate_is_computed_from_cpp_at_31_march_and_the_previous_years_population(reference):
    benchmark = benchmark_for(REGISTRY["SAF12"], "841", *reference)
    # d5 2025: CPP_At31 England 49420, Darlington 92; ONS 2024 0-17: 12183016 and 22771
    assert benchmark.figure_id == "SAF12:rate_per_10k"
    assert benchmark.england == 40.6      # 405.6... / 10 -> 40.56 -> 40.6
    assert benchmark.la_value == 40.4     # 92 / 22771 * 10000 = 40.40


def test_headlines_without_a_file_in_the_reference_data_have_no_benchmark(reference):
    benchmarks = benchmarks_for(KPIS, "841", *reference)
    assert set(benchmarks) == {"SAF03", "SAF04", "SAF07", "SAF09", "SAF11", "SAF12", "SAF13",
                               "SAF15", "SAF16", "SAF18", "SAF20", "SAF21", "SAF23", "DD10"}
    assert {k for k, b in benchmarks.items() if b is None} == \
        {"SAF07", "SAF09", "SAF13", "SAF15", "SAF18", "SAF23"}
    assert benchmarks["DD10"].la_value == 16.0      # csww 2025 Darlington caseload_fte
    assert benchmarks["SAF16"].la_value == 117.0    # CLA rate_per_10000 2025
    assert benchmarks["SAF21"].england == 69.0


def test_suppression_codes_are_missing_never_zero(reference):
    codes = pd.Series(["c", "k", "low", "u", "x", "z", " 12.5 ", "0"])
    assert published_number(codes).isna().tolist() == [True] * 6 + [False, False]
    assert published_number(codes).tolist()[6:] == [12.5, 0.0]
    # Rutland's 2025 3+ placements % is "c": no LA value, no rank, not counted as 0
    rutland = benchmark_for(REGISTRY["SAF20"], "857", *reference)
    assert (rutland.la_value, rutland.rank, rutland.quartile) == (None, None, None)
    # Westminster's neighbour 207 Kensington and Chelsea has caseload_fte "x" in 2025:
    # the mean and median are over the 9 neighbours with a value, recomputed from the CSV
    westminster = benchmark_for(REGISTRY["DD10"], "213", *reference)
    neighbours = [r for r in csv_rows("sn_model_2025_wide.csv") if r["old_la_code"] == "213"][0]
    codes = [neighbours[f"SN_{i}"].strip() for i in range(1, 11)]
    published = {r["old_la_code"]: r["caseload_fte"] for r in csv_rows("csww_indicators_2017_to_2025.csv")
                 if r["time_period"] == "2025" and r["geographic_level"] == "Local authority"}
    values = [float(published[c]) for c in codes if published.get(c) not in (None, "x", "c", "z", "low", "u")]
    assert "207" in codes and published["207"] == "x" and len(values) == 9
    assert westminster.sn_count == 9
    assert dict((c, v) for c, _, v in westminster.sn_values)["207"] is None
    assert westminster.sn_mean == pytest.approx(round(sum(values) / 9 + 1e-9, 1))


def test_a_new_year_appended_to_a_file_is_used(tmp_path):
    folder = copy_reference(tmp_path)
    rows = csv_rows(C1, folder)
    new_values = {"": "20.0", "E12000001": "19.0", "841": "11.0"} | {c: str(10.0 + i) for i, c in
                                                                   enumerate(DARLINGTON_NEIGHBOURS)}
    added = []
    for row in rows:
        key = row["old_la_code"] or (row["region_code"] if row["geographic_level"] == "Regional" else "")
        if row["time_period"] == "2025" and key in new_values:
            added.append({**row, "time_period": "2026", "rereferral_percent": new_values[key]})
    with open(folder / C1, "a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=list(rows[0])).writerows(added)
    values, neighbours = load_benchmark_values(tmp_path, KPIS), load_neighbours(tmp_path)
    benchmark = benchmark_for(REGISTRY["SAF04"], "841", values, neighbours)
    assert (benchmark.year, benchmark.england, benchmark.region, benchmark.la_value) == \
        (2026, 20.0, 19.0, 11.0)
    assert benchmark.sn_mean == 14.5      # 10.0 .. 19.0 -> 145 / 10
    assert benchmark.rank_of == 11        # only 11 LAs published for 2026 here
    # a rate needs the previous year's population: ONS 2025 is not in the folder, so the
    # referral rate stays at 2025 rather than showing an empty 2026
    assert benchmark_for(REGISTRY["SAF03"], "841", values, neighbours).year == 2025
    assert benchmark_for(REGISTRY["SAF04"], "841", values, neighbours, up_to_year=2025).la_value == 13.0


def test_a_new_ons_population_release_dropped_in_the_folder_is_used(tmp_path):
    from datetime import date
    from tasks.kpis.population import population_0_17
    folder = copy_reference(tmp_path)
    name = "ons_mid-year_population_estimates_2012_to_2024.csv"
    rows = [r for r in csv_rows(name, folder) if r["time_period"] == "2024"]
    with open(folder / "ons_mid-year_population_estimates_2012_to_2025.csv", "w", encoding="utf-8",
              newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{**r, "time_period": "2025",
                           "population_estimate": "23000" if r["old_la_code"] == "841" else r["population_estimate"]}
                          for r in rows])
    darlington_2024 = int(next(r for r in rows if r["old_la_code"] == "841")["population_estimate"])
    assert population_0_17(tmp_path, "841", date(2025, 12, 31)) == (23000, 2025)
    assert population_0_17(tmp_path, "841", date(2025, 6, 29)) == (darlington_2024, 2024)


def test_a_historic_period_is_benchmarked_against_the_years_up_to_it(reference):
    from datetime import date
    from tasks.kpis.benchmarks import latest_reporting_year
    assert latest_reporting_year(date(2024, 3, 31)) == 2024
    assert latest_reporting_year(date(2024, 3, 30)) == 2023
    assert latest_reporting_year(date(2026, 11, 30)) == 2026
    values, neighbours = reference
    benchmark = benchmark_for(REGISTRY["DD10"], "841", values, neighbours, latest_reporting_year(date(2022, 5, 31)))
    assert benchmark.year == 2022


def test_a_new_years_file_dropped_in_the_folder_is_used(tmp_path):
    folder = copy_reference(tmp_path)
    rows = [r for r in csv_rows("csww_indicators_2017_to_2025.csv", folder) if r["time_period"] == "2025"]
    with open(folder / "csww_indicators_2017_to_2026.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{**r, "time_period": "2026",
                           "caseload_fte": "14.0" if r["old_la_code"] == "841" else r["caseload_fte"]}
                          for r in rows])
    benchmark = benchmark_for(REGISTRY["DD10"], "841", load_benchmark_values(tmp_path, KPIS),
                              load_neighbours(tmp_path))
    assert (benchmark.year, benchmark.la_value, benchmark.england) == (2026, 14.0, 15.2)


def test_reference_tables_round_trip_through_the_warehouse(warehouse, reference):
    values, neighbours = reference
    store_reference(warehouse, values, neighbours)
    stored_values, stored_neighbours = read_reference(warehouse)
    assert len(stored_values) == len(values) and len(stored_neighbours) == 10 * 153
    from_files = benchmark_for(REGISTRY["SAF04"], "841", values, neighbours)
    from_warehouse = benchmark_for(REGISTRY["SAF04"], "841", stored_values, stored_neighbours)
    assert from_warehouse == from_files


# --- Small numbers, RAG and direction on the Directorate rows ------------------------------------


@pytest.mark.parametrize("kind, figure, expected", [
    ("count", {"value": 4, "numerator": 4, "denominator": None}, "<5"),
    ("count", {"value": 5, "numerator": 5, "denominator": None}, 5),
    ("count", {"value": 0, "numerator": 0, "denominator": None}, 0),
    ("percent", {"value": 75.0, "numerator": 3, "denominator": 4}, "*"),
    ("percent", {"value": 80.0, "numerator": 4, "denominator": 5}, 80.0),
    ("percent", {"value": None, "numerator": 0, "denominator": 0}, "n/a"),
    ("rate", {"value": 1.8, "numerator": 4, "denominator": 22771}, "<5"),
    ("rate", {"value": 2.2, "numerator": 5, "denominator": 22771}, 2.2),
    ("mean", {"value": 3.5, "numerator": 7, "denominator": 2}, 3.5),
])
def test_small_numbers(kind, figure, expected):
    assert shown_value(kind, figure) == expected


PERIOD = "2024-03"
MONTHS = [p.id for p in Period.month(PERIOD).trailing(13)]


def la_row(figure_id, period, value, numerator=None, denominator=None):
    return {"kpi_id": figure_id, "period": period, "level": "la", "unit_id": "841",
            "unit_name": "Darlington", "value": value, "numerator": numerator, "denominator": denominator}


def directorate_trend() -> pd.DataFrame:
    rows = []
    for index, month in enumerate(MONTHS):
        rows.append(la_row("SAF07", month, 70.0 + index, 70 + index, 100))   # High: 82.0 now
        rows.append(la_row("SAF04", month, 30.0 - index, 30 - index, 100))   # Low: 18.0 now
        rows.append(la_row("SAF12:rate_per_10k", month, 40.0, 91, 22771))
        rows.append(la_row("DD10:mean_caseload", month, 19.8 if month == PERIOD else 21.0, 198, 10))
    # SAF09: 3 ICPCs this month (suppressed), 10 last month
    rows += [la_row("SAF09", PERIOD, 66.7, 2, 3), la_row("SAF09", MONTHS[-2], 90.0, 9, 10)]
    # SAF16 rate from 3 children in February (shown as <5)
    rows += [la_row("SAF16:rate_per_10k", PERIOD, 2.2, 5, 22771),
             la_row("SAF16:rate_per_10k", MONTHS[-2], 1.3, 3, 22771)]
    return pd.DataFrame(rows)


def run_info(synthetic=True) -> RunInfo:
    return RunInfo(period=PERIOD, run_id="run-dir-1", code_version="0.1.0+test", la_code="841",
                   la_name="Darlington", synthetic=synthetic, started_at="2024-04-02T06:00:00",
                   source="extracts/", population=22771, population_year=2023,
                   extracts=[{"table_name": "ssd_person", "source_name": "ssd_person.csv",
                              "row_count": 500, "sha256": "ab" * 32}])


@pytest.fixture(scope="module")
def workbook(reference, tmp_path_factory):
    targets = targets_for(KPIS, {"DD10:mean_caseload": KpiTarget(18.0)})
    path = tmp_path_factory.mktemp("directorate") / "directorate_scorecard_2024-03.xlsx"
    benchmarks = benchmarks_for(KPIS, "841", *reference)
    assert publish_directorate(KPIS, directorate_trend(), targets, benchmarks, run_info(), path) == path
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    return load_workbook(path)


def scorecard_rows(workbook) -> dict[str, dict]:
    sheet = workbook["Scorecard"]
    headers = [c.value for c in sheet[4]]
    return {row[0]: dict(zip(headers, row)) for row in sheet.iter_rows(min_row=5, values_only=True)
            if row[0] and str(row[0])[:3] in ("SAF", "DD1")}


def test_one_row_per_headline_figure_in_registry_order(workbook):
    assert list(scorecard_rows(workbook)) == [
        "SAF03", "SAF04", "SAF07", "SAF09", "SAF11", "SAF12:rate_per_10k", "SAF13", "SAF15",
        "SAF16:rate_per_10k", "SAF18", "SAF20", "SAF21", "SAF23", "DD10:mean_caseload"]
    assert workbook.sheetnames[:3] == ["Scorecard", "Definitions", "Run"]
    assert set(workbook.sheetnames[3:]) == {"Trend data", "Chart targets"}  # hidden chart data


def test_each_row_chart_draws_the_target_as_a_dashed_line(workbook):
    charts = workbook["Scorecard"]._charts
    with_target = [c for c in charts if len(c.series) == 2]
    assert with_target and all(c.series[1].tx.v == "Target" for c in with_target)
    targets = {row[0]: row[1] for row in workbook["Chart targets"].iter_rows(values_only=True)}
    assert targets["SAF07"] == 85
    assert len(with_target) == len(targets)
    saf07 = next(c for c in with_target if c.series[0].tx.v == "SAF07")
    assert (saf07.y_axis.scaling.min, saf07.y_axis.scaling.max) == (0, 100)  # a percentage axis stops at 100


def test_months_target_rag_and_direction_for_both_polarities(workbook):
    rows = scorecard_rows(workbook)
    saf07, saf04 = rows["SAF07"], rows["SAF04"]
    # SAF07 (High, target 85, 5 points): 82.0 now, 81.0 last month, 70.0 a year ago -> Amber
    assert (saf07["This month (Mar 2024)"], saf07["Last month (Feb 2024)"],
            saf07["Same month last year (Mar 2023)"]) == (82, 81, 70)
    assert (saf07["Target"], saf07["RAG"], saf07["Direction vs last month"],
            saf07["Direction vs same month last year"]) == (85, "Amber", "Improving", "Improving")
    # SAF04 (Low, target 20): 18.0 falling -> Green, improving
    assert (saf04["This month (Mar 2024)"], saf04["RAG"], saf04["Direction vs last month"]) == \
        (18, "Green", "Improving")
    # DD10 mean caseload (Low, configured target 18, tolerance 10% = 1.8): 19.8 is the Amber edge
    dd10 = rows["DD10:mean_caseload"]
    assert (dd10["This month (Mar 2024)"], dd10["Target"], dd10["RAG"],
            dd10["Direction vs last month"]) == (19.8, 18, "Amber", "Improving")
    # a rate has no polarity: no RAG, direction as Higher/Lower
    assert rows["SAF12:rate_per_10k"]["RAG"] is None
    assert rows["SAF12:rate_per_10k"]["Direction vs last month"] == "No change"


def test_small_numbers_are_suppressed_with_no_rag_or_direction(workbook):
    rows = scorecard_rows(workbook)
    assert rows["SAF09"]["This month (Mar 2024)"] == "*"
    assert rows["SAF09"]["Last month (Feb 2024)"] == 90
    assert (rows["SAF09"]["RAG"], rows["SAF09"]["Direction vs last month"]) == (None, None)
    assert rows["SAF16:rate_per_10k"]["Last month (Feb 2024)"] == "<5"
    assert rows["SAF16:rate_per_10k"]["Direction vs last month"] is None
    assert rows["SAF13"]["This month (Mar 2024)"] == "n/a"
    trend = {row[0]: row[2:] for row in workbook["Trend data"].iter_rows(min_row=5, values_only=True)}
    assert trend["SAF09"][-2:] == (90, None)         # suppressed month is a gap in the chart
    footnotes = [c.value for c in workbook["Scorecard"]["A"] if isinstance(c.value, str)]
    assert FOOTNOTE in footnotes  # the one footnote of tasks.publish.suppression


def test_benchmark_columns_with_year_source_and_rank_basis(workbook):
    rows = scorecard_rows(workbook)
    saf04 = rows["SAF04"]
    assert (saf04["DfE year"], saf04["England"], saf04["Region: North East"]) == ("2024-25", 22.6, 20.7)
    assert (saf04["Statistical neighbours mean"], saf04["Statistical neighbours median"]) == (21.1, 19.2)
    # this month's 18.0 is not what is ranked: Darlington's own published 2024-25 figure is
    assert saf04["This month (Mar 2024)"] == 18
    assert (saf04["LA figure on DfE basis"], saf04["Rank among LAs"], saf04["Quartile band"],
            saf04["Rank among LA and its neighbours"]) == (13, "4 of 153", "A", "1 of 11")
    assert saf04["Rank basis"] == "Darlington's own DfE published figure for 2024-25"
    assert saf04["DfE source (publication and file)"] == (
        "DfE Children in need, table C1 (c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv)")
    assert rows["SAF12:rate_per_10k"]["England"] == 40.6
    assert rows["SAF12:rate_per_10k"]["DfE source (publication and file)"].startswith(
        "DfE Children in need, table D5 (d5_cpps_at31march_by_duration_")
    # the workforce census is labelled by its date, not as a year to 31 March
    assert rows["DD10:mean_caseload"]["DfE year"] == "30 Sep 2025"
    assert "DfE social work workforce" in rows["DD10:mean_caseload"]["DfE source (publication and file)"]
    for kpi_id in ("SAF07", "SAF09", "SAF13", "SAF15", "SAF18", "SAF23"):
        assert rows[kpi_id]["DfE year"] == NOT_IN_REFERENCE == "not in the reference data"
        assert rows[kpi_id]["Rank among LAs"] is None and rows[kpi_id]["Rank basis"] is None


def test_charts_banner_definitions_and_run(workbook):
    scorecard = workbook["Scorecard"]
    assert len(scorecard._charts) == 14
    assert scorecard["A2"].value.startswith("SYNTHETIC DATA")
    definitions = {row[0]: row for row in workbook["Definitions"].iter_rows(min_row=5, values_only=True)
                   if row[0]}
    assert definitions["SAF21"][7].startswith("DfE CLA in England, placement stability: "
                                              "la_cla_placement_stability.csv: children_percent")
    assert "same carer" in definitions["SAF21"][9]
    assert definitions["SAF12:rate_per_10k"][8] == "2024-25"
    assert "no CP rate column" in definitions["SAF12:rate_per_10k"][9]
    assert definitions["SAF07"][6] == NOT_IN_REFERENCE
    assert definitions["SAF07"][9].startswith("Not in the reference data")
    run_cells = [c for row in workbook["Run"].iter_rows(values_only=True) for c in row if c is not None]
    assert "run-dir-1" in run_cells and "Gateshead" in run_cells


def test_no_child_level_data_anywhere(reference, tmp_path):
    # even when the rows handed in carry a child's id, it does not reach the workbook
    trend = directorate_trend().assign(person_id="P000123", record_id="R000456")
    path = publish_directorate(KPIS, trend, targets_for(KPIS, {}), benchmarks_for(KPIS, "841", *reference),
                               run_info(), tmp_path / "directorate.xlsx")
    cells = [str(value) for sheet in load_workbook(path).worksheets
             for row in sheet.iter_rows(values_only=True) for value in row if value is not None]
    assert not [c for c in cells if "P000123" in c or "R000456" in c or c.lower() == "person id"]
    assert not [c for c in cells if len(c) == 7 and c[0] == "P" and c[1:].isdigit()]


# --- Like with like: what is ranked, and the years, files and mapping ---------------------------


def without_la(values: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """The reference values without the LA's own rows (as when DfE suppresses or lacks them)."""
    return values[values["old_la_code"].fillna("") != la_code].reset_index(drop=True)


def test_years_are_written_as_dfe_writes_them():
    assert year_label(2025) == "2024-25"
    assert year_label(2000) == "1999-00"
    assert year_label(2025, "30 September") == "30 Sep 2025"


def test_a_months_figure_is_never_ranked_against_a_years(reference):
    values, neighbours = reference
    values = without_la(values, "841")
    trend = directorate_trend()
    # only this month's figure (18.0%) of the re-referrals: England and neighbours are shown, no rank
    one_month = trend[trend["period"] == PERIOD]
    benchmark = benchmark_for(REGISTRY["SAF04"], "841", values, neighbours, 2024, one_month, PERIOD)
    assert (benchmark.year_label, benchmark.england) == ("2023-24", 22.4)   # c1 2024 National
    assert benchmark.la_value is None
    assert (benchmark.ranked_value, benchmark.rank, benchmark.quartile, benchmark.sn_rank) == (None, None, None, None)
    assert benchmark.rank_basis.startswith("Not ranked: no LA figure on DfE's basis for 2023-24")
    # the 12 months of the year to 31 March 2024 (April 2023 to March 2024) added up are on
    # DfE's basis: 29 + 28 + ... + 18 = 282 re-referrals of 1,200 referrals = 23.5%
    benchmark = benchmark_for(REGISTRY["SAF04"], "841", values, neighbours, 2024, trend, PERIOD)
    assert (benchmark.ranked_value, benchmark.ranked_from) == (23.5, "computed")
    assert "year to 31 March 2024" in benchmark.rank_basis and "2023-24" in benchmark.rank_basis
    local = values[(values["measure"] == "SAF04") & (values["time_period"] == 2024)
                   & (values["geographic_level"] == "Local authority")]["value"].dropna()
    assert (benchmark.rank, benchmark.rank_of) == (int((local < 23.5).sum()) + 1, len(local))
    # a figure at the month end is on DfE's basis only at 31 March: the CP rate of March 2024
    saf12 = benchmark_for(REGISTRY["SAF12"], "841", values, neighbours, 2024, trend, PERIOD)
    assert (saf12.ranked_value, saf12.ranked_from) == (40.0, "computed")
    saf12 = benchmark_for(REGISTRY["SAF12"], "841", values, neighbours, 2024,
                          trend[trend["period"] != "2024-03"], PERIOD)
    assert saf12.rank is None
    # no dfe_basis (caseload per FTE against children per worker): never ranked on qaloop's figure
    dd10 = benchmark_for(REGISTRY["DD10"], "841", values, neighbours, 2024, trend, PERIOD)
    assert dd10.rank is None and dd10.rank_basis.startswith("Not ranked")


def test_the_las_published_figure_is_ranked_and_labelled(reference):
    benchmark = benchmark_for(REGISTRY["SAF04"], "841", *reference, own=directorate_trend(), period=PERIOD)
    assert (benchmark.la_value, benchmark.ranked_value, benchmark.ranked_from) == (13.0, 13.0, "published")
    assert benchmark.rank_basis == "Darlington's own DfE published figure for 2024-25"
    assert benchmark.rank_note == "LA's own DfE figure"


# The reference folder's files and the Directorate rows they serve (file pattern, value
# column); None: no file of the folder serves the KPI. A new file in reference/dfe-benchmarks
# is either mapped here and in sql/registry.yml or listed in NOT_A_DIRECTORATE_MEASURE.
DIRECTORATE_BENCHMARKS = {
    "SAF03": ("c1_children_in_need_referrals_and_rereferrals_*.csv", "referral_count"),
    "SAF04": ("c1_children_in_need_referrals_and_rereferrals_*.csv", "rereferral_percent"),
    "SAF07": None,   # assessments within 45 working days: no such file
    "SAF09": None,   # ICPCs within 15 working days: no such file
    "SAF11": ("d3_cpps_subsequent_plan_*.csv", "CPP_subsequent_percent"),
    "SAF12": ("d5_cpps_at31march_by_duration_*.csv", "CPP_At31"),
    "SAF13": None,   # CP visits: no such file
    "SAF15": None,   # CP plans ending by length: no such file (d5 is plans open at 31 March)
    "SAF16": ("cla_number_and_rate_per_10k_children*.csv", "rate_per_10000"),
    "SAF18": None,   # CLA reviews: no such file
    "SAF20": ("la_cla_placement_stability*.csv", "children_percent"),
    "SAF21": ("la_cla_placement_stability*.csv", "children_percent"),
    "SAF23": None,   # care leavers in touch: no such file (the accommodation file is another measure)
    "DD10": ("csww_indicators_*.csv", "caseload_fte"),
}
NOT_A_DIRECTORATE_MEASURE = {
    "b1_children_in_need_2013_to_2025.csv": "children in need numbers: no Directorate row",
    "la_care_leavers_accommodation_suitability.csv": "suitable accommodation, SAF23:accom_suitable_pct, "
                                                     "not a Directorate row",
    "la_cla_swcount.csv": "CLA with 3+ social workers: DD11 is not a Directorate row (and counts exceptions)",
    "ons_mid-year_population_estimates_2012_to_2024.csv": "population for the rates",
    "sn_model_2025_wide.csv": "statistical neighbours",
    "New_Statistical_Neighbour_Groupings_April_2021.csv": "the earlier neighbour model",
}


def test_every_directorate_kpi_the_reference_folder_serves_is_mapped():
    headline = {kpi.id: kpi for kpi in KPIS if kpi.headline}
    assert set(headline) == set(DIRECTORATE_BENCHMARKS)
    for kpi_id, expected in DIRECTORATE_BENCHMARKS.items():
        spec = benchmark_spec(headline[kpi_id])
        assert spec is not None, f"{kpi_id} has no benchmark block"
        if expected is None:
            assert not spec.published and spec.differs.startswith("Not in the reference data"), kpi_id
            assert "no published benchmark" not in (spec.measure + spec.differs).lower()
        else:
            assert (spec.file, spec.value) == expected, kpi_id
            assert list(DFE.glob(spec.file)), f"{kpi_id}: {spec.file} matches no file"
            assert spec.publication.startswith("DfE "), kpi_id
    used = {path.name for kpi_id, expected in DIRECTORATE_BENCHMARKS.items() if expected
            for path in DFE.glob(expected[0])}
    assert {p.name for p in DFE.glob("*.csv")} == used | set(NOT_A_DIRECTORATE_MEASURE)


ASSESSMENTS = "la_assessments_within_45_days_2025.csv"  # an extra DfE file an LA drops in


def write_assessments_file(folder: Path) -> None:
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name",
              "region_code", "region_name", "old_la_code", "new_la_code", "la_name", "assessment_pct"]
    place = ["E92000001", "England"]
    rows = [["2025", "Reporting year", "National", *place, "", "", "", "", "", "82.0"],
            ["2025", "Reporting year", "Regional", *place, "E12000001", "North East", "", "", "", "88.0"],
            ["2025", "Reporting year", "Local authority", *place, "E12000001", "North East", "841",
             "E06000005", "Darlington", "91.0"]]
    rows += [["2025", "Reporting year", "Local authority", *place, "E12000001", "North East", code, "", f"LA {code}",
              "c" if index == 0 else str(80.0 + index)] for index, code in enumerate(DARLINGTON_NEIGHBOURS)]
    with open(folder / ASSESSMENTS, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_an_extra_dfe_file_mapped_in_the_configuration_is_used_without_code(tmp_path, reference):
    from tasks.core.settings import load_settings
    write_assessments_file(copy_reference(tmp_path))
    config = tmp_path / "qaloop.toml"
    config.write_text(f'la_code = "841"\nreference_dir = "{tmp_path}"\n\n[benchmarks.SAF07]\n'
                      f'file = "la_assessments_within_45_days_*.csv"\nvalue = "assessment_pct"\n'
                      'publication = "DfE Children in need, assessments"\n'
                      '\n[benchmarks.SAF04]\nvalue = "rereferral_child_percent"\n', encoding="utf-8")
    settings = load_settings(config)
    assert set(settings.benchmarks) == {"SAF07", "SAF04"}
    kpis = configured_kpis(KPIS, settings.benchmarks, settings.reference_dir)
    values, neighbours = load_benchmark_values(tmp_path, kpis), load_neighbours(tmp_path)
    saf07 = benchmark_for(next(k for k in kpis if k.id == "SAF07"), "841", values, neighbours)
    assert (saf07.year_label, saf07.england, saf07.region, saf07.la_value) == ("2024-25", 82.0, 88.0, 91.0)
    assert saf07.sn_count == 9 and saf07.sn_mean == 85.0   # 81 .. 89 (the first is suppressed)
    assert (saf07.rank, saf07.rank_of, saf07.sn_rank) == (1, 10, 1)   # higher is better
    assert saf07.table == f"DfE Children in need, assessments ({ASSESSMENTS})"
    # a key laid over the registry's block: the same file and rows, another column
    saf04 = benchmark_for(next(k for k in kpis if k.id == "SAF04"), "841", values, neighbours)
    source = [r for r in csv_rows(C1) if r["time_period"] == "2025" and r["old_la_code"] == "841"]
    assert saf04.la_value == float(source[0]["rereferral_child_percent"])
    # and the Directorate shows it
    path = publish_directorate(kpis, directorate_trend(), targets_for(kpis, {}),
                               benchmarks_for(kpis, "841", values, neighbours), run_info(), tmp_path / "d.xlsx")
    row = scorecard_rows(load_workbook(path))["SAF07"]
    assert (row["DfE year"], row["England"], row["Rank among LAs"]) == ("2024-25", 82, "1 of 10")
    assert row["DfE source (publication and file)"].endswith(f"({ASSESSMENTS})")


@pytest.mark.parametrize("mapping, message", [
    ({"SAF99": {"file": "x.csv", "value": "v"}}, r"\[benchmarks.SAF99\]: unknown KPI id"),
    ({"SAF01": {"file": C1, "value": "referral_count"}}, r"\[benchmarks.SAF01\]: SAF01 is not a Directorate"),
    ({"SAF07": {"file": "missing_*.csv", "value": "v"}}, r"\[benchmarks.SAF07\]: file = 'missing_\*.csv': no such file"),
    ({"SAF07": {"file": C1, "value": "assessment_pct"}}, r"\[benchmarks.SAF07\]: .* no column\(s\) \['assessment_pct'\]"),
    ({"SAF07": {"file": C1, "value": "referral_count", "filter": {"category": "Assessments"}}},
     r"\[benchmarks.SAF07\]: filter category = 'Assessments' matches no rows"),
    ({"SAF07": {"file": C1, "value": "referral_count", "column": "x"}}, r"\[benchmarks.SAF07\]: unknown key"),
    ({"SAF07": {"file": C1}}, r"\[benchmarks.SAF07\]: .*needs file and value"),
])
def test_a_wrong_mapping_is_refused_naming_the_setting(mapping, message):
    with pytest.raises(ValueError, match=message):
        configured_kpis(KPIS, mapping, REFERENCE_DIR)


def test_not_in_the_reference_data_stays_on_one_line(workbook, reference):
    sheet = workbook["Scorecard"]
    headers = [c.value for c in sheet[4]]
    # the KPI id column is wide enough for the longest id
    ids = [r for r in scorecard_rows(workbook)]
    assert sheet.column_dimensions["A"].width >= max(len(i) for i in ids) + 1
    # "not in the reference data" spans the benchmark columns (one merged cell), not a narrow one
    saf07_row = next(c.row for c in sheet["A"] if c.value == "SAF07")
    merged = [m for m in sheet.merged_cells.ranges if m.min_row == saf07_row]
    assert len(merged) == 1 and merged[0].min_col == headers.index("DfE year") + 1
    from openpyxl.utils import get_column_letter
    width = sum(sheet.column_dimensions[get_column_letter(c)].width
                for c in range(merged[0].min_col, merged[0].max_col + 1))
    assert width > 2 * len(NOT_IN_REFERENCE)
    # the board paper: one cell over the benchmark columns, not wrapped
    targets = targets_for(KPIS, {})
    from tasks.publish.directorate import headline_rows
    rows = {row.id: row for row in headline_rows(KPIS)}
    line = _pdf_line(rows["SAF07"], MONTHS, {}, targets, None)
    cell = next(c for c in line if c["content"] == NOT_IN_REFERENCE)
    assert cell["css"] == "nobench" and cell["span"] == 8
    assert sum(c["span"] for c in line) == len(PDF_COLUMNS)
    saf04 = _pdf_line(rows["SAF04"], MONTHS, {}, targets, benchmarks_for(KPIS, "841", *reference)["SAF04"])
    assert [(c["content"], c["note"]) for c in saf04 if c["note"]] == [
        ("2024-25", "DfE Children in need, table C1"), ("4 of 153", "LA's own DfE figure")]


def test_no_workbook_cell_says_no_published_benchmark(workbook):
    cells = [str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert not [c for c in cells if "no published benchmark" in c.lower()]


def test_qaloop_run_refuses_a_wrong_mapping_before_reading_anything():
    from qaloop.cli import refused_benchmarks
    from tasks.core.settings import Settings
    assert refused_benchmarks(Settings()) is None
    assert refused_benchmarks(Settings(benchmarks={"SAF04": {"value": "rereferral_child_percent"}})) is None
    message = refused_benchmarks(Settings(benchmarks={"SAF07": {"file": "nothing_*.csv", "value": "v"}}))
    assert message.startswith("qaloop: not run: the configuration's [benchmarks.SAF07]: "
                              "file = 'nothing_*.csv': no such file in ")
