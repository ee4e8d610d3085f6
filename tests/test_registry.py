"""The registry is the single source of truth about a figure (issue 13, point 1): every
published figure id has a label and a polarity there, and no module elsewhere lists KPI ids."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from qaloop.synthetic import SyntheticLa
from tasks.core.paths import PROJECT_ROOT
from tasks.core.periods import Period
from tasks.extract.extracts import extract_sources
from tasks.kpis.compute import LaContext, compute_period
from tasks.kpis.rag import direction_of_travel
from tasks.kpis.registry import (OUTPUTS, POLARITIES, Kpi, computed_for, kpi_shown_in, load_registry,
                                 shown_in)
from tasks.warehouse.database import make_engine, replace_source_tables, upgrade_schema

REGISTRY = load_registry()
BY_ID = {k.id: k for k in REGISTRY}
KPI_ID = re.compile(r"\b(SAF|DD|QA|DIR|CMP|IRO|SUR)[0-9]{2}\b")
# the one module that reads KPI ids (from sql/registry.yml)
ALLOWED = {Path("tasks/kpis/registry.py")}


@pytest.fixture(scope="module")
def published_ids(tmp_path_factory) -> set[str]:
    """Every figure id the pipeline publishes for a small synthetic LA (all KPIs, one month)."""
    folder = tmp_path_factory.mktemp("synthetic")
    generator = SyntheticLa(date(2024, 4, 10), 300, seed=2024, years=3)
    generator.generate()
    generator.write(folder)
    frames = {name: extract.frame for name, extract in extract_sources(str(folder)).items()}
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('wh') / 'warehouse.sqlite'}")
    upgrade_schema(engine)
    replace_source_tables(engine, frames)
    values, _ = compute_period(engine, REGISTRY, Period.month("2024-03"), LaContext("999", "Synthetic LA", 20000))
    engine.dispose()
    return set(values["kpi_id"])


def test_every_published_figure_has_a_label_polarity_unit_and_precision(published_ids):
    assert {i.partition(":")[0] for i in published_ids} == set(BY_ID)
    for figure_id in published_ids:
        kpi = BY_ID[figure_id.partition(":")[0]]
        assert kpi.name_of(figure_id), figure_id
        assert ":" not in figure_id or kpi.label_of(figure_id), figure_id
        assert kpi.polarity_of(figure_id) in POLARITIES, figure_id
        assert kpi.precision_of(figure_id) in (0, 1), figure_id
        assert kpi.unit_of(figure_id), figure_id


def test_every_declared_figure_has_a_label_and_polarity():
    for kpi in REGISTRY:
        for figure_id in kpi.published_figure_ids():
            assert kpi.name_of(figure_id) and kpi.polarity_of(figure_id) in POLARITIES, figure_id


def test_the_source_columns_a_kpi_reads_come_from_its_sql():
    for kpi in REGISTRY:
        assert kpi.source_columns, kpi.id
    assert "cina_assessment_auth_date" in BY_ID["SAF07"].source_columns["ssd_cin_assessments"]


def test_a_figure_unknown_to_the_registry_is_an_error():
    with pytest.raises(KeyError):
        BY_ID["SAF12"].polarity_of("SAF12:rate_per_100k")


def registry_with_extra(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "registry.yml"
    path.write_text(f"""kpis:
  - id: SAF99
    name: Toy count
    scorecard: safety
    kind: count
    polarity: None
    grain: child
    sql: safety/saf01_contacts.sql
    definition: a toy
    extras: [{extra}]
""", encoding="utf-8")
    return path


@pytest.mark.parametrize("extra", ["{name: toy_pct, kind: percent, flag: flag_toy, label: toy %}",
                                   "{name: toy_pct, kind: percent, flag: flag_toy, polarity: High}",
                                   "{name: toy_pct, kind: percent, label: toy %, polarity: Upwards}"])
def test_an_extra_without_a_label_or_a_polarity_fails_to_load(tmp_path, extra):
    with pytest.raises(ValueError, match="toy_pct"):
        load_registry(registry_with_extra(tmp_path, extra))


def test_a_declared_extra_loads(tmp_path):
    kpi, = load_registry(registry_with_extra(tmp_path, "{name: toy_pct, kind: percent, label: toy %, polarity: High}"))
    assert (kpi.name_of("SAF99:toy_pct"), kpi.polarity_of("SAF99:toy_pct"), kpi.unit_of("SAF99:toy_pct")) == \
        ("Toy count: toy %", "High", "%")


def test_sub_measures_have_their_own_direction_of_travel():
    """A rising count of staff below their audit requirement is Declining, not Improving;
    moderations up or down and volumes say only Higher/Lower."""
    polarity = {f: BY_ID[f.partition(":")[0]].polarity_of(f)
                for f in ("QA02:below_requirement", "QA05:moderated_up", "QA05:moderated_down",
                          "SAF22:rhi_offered_pct", "QA02:role=Team Manager", "SAF12:rate_per_10k")}
    assert polarity == {"QA02:below_requirement": "Low", "QA05:moderated_up": "None",
                        "QA05:moderated_down": "None", "SAF22:rhi_offered_pct": "High",
                        "QA02:role=Team Manager": "High", "SAF12:rate_per_10k": "None"}
    assert direction_of_travel(6, 4, polarity["QA02:below_requirement"]) == "Declining"
    assert direction_of_travel(6, 4, polarity["QA05:moderated_up"]) == "Higher"


def test_outputs_are_named_in_the_registry():
    assert [k.directorate_figure for k in shown_in(REGISTRY, "directorate")] == [
        "SAF03", "SAF04", "SAF07", "SAF09", "SAF11", "SAF12:rate_per_10k", "SAF13", "SAF15",
        "SAF16:rate_per_10k", "SAF18", "SAF20", "SAF21", "SAF23", "DD10:mean_caseload"]
    assert {k.id for k in shown_in(REGISTRY, "daily")} == {"DD01", "DD02", "DD03", "DD04", "DD06", "SAF22"}
    assert kpi_shown_in(REGISTRY, "qa_grades").id == "QA03"
    assert {k.detail for k in REGISTRY} == {"aggregate", "named_staff", "child_level"}
    with pytest.raises(KeyError):
        shown_in(REGISTRY, "no_such_output")
    assert all(o in OUTPUTS for k in REGISTRY for o in k.shown_in)
    assert not hasattr(Kpi, "external")


def string_constants(tree: ast.AST):
    """The string literals of a module, docstrings left out (they may name KPIs in prose)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_module_outside_the_registry_lists_kpi_ids():
    found = []
    for folder in ("tasks", "flows"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT)
            if relative in ALLOWED or "migrations" in relative.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [f"{relative}:{node.lineno}: {node.value!r}" for node in string_constants(tree)
                      if KPI_ID.search(node.value)]
    assert not found, "KPI ids belong in sql/registry.yml:\n" + "\n".join(found)


def test_trend_months_is_the_runs(tmp_path):
    """settings trend_months reaches the workbooks through the run (not a hard-coded 13)."""
    import pandas as pd
    from openpyxl import load_workbook

    from tasks.kpis.compute import RECORD_COLUMNS, VALUE_COLUMNS
    from tasks.kpis.rag import targets_for
    from tasks.publish.directorate import publish_directorate
    from tasks.publish.excel import RunInfo, publish_scorecard

    run = RunInfo(period="2024-03", run_id="run-6", code_version="0", la_code="841", la_name="Testshire",
                  synthetic=True, started_at="2024-04-03T07:00:00", source="x", population=20000,
                  population_year=2023, trend_months=6)
    assert run.trend_periods() == ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    kpis = [BY_ID["SAF07"]]
    trend = pd.DataFrame([{"kpi_id": "SAF07", "period": p, "level": "la", "unit_id": "841", "unit_name": "Testshire",
                           "value": 80.0, "numerator": 8, "denominator": 10} for p in run.trend_periods()],
                         columns=VALUE_COLUMNS)
    empty = pd.DataFrame(columns=["team_id", "team_name", "service_name", "worker_id", "worker_name"])
    book = load_workbook(publish_scorecard("safety", kpis, trend, trend, pd.DataFrame(columns=RECORD_COLUMNS),
                                           empty, empty, targets_for(kpis, {}), run, tmp_path / "s.xlsx"))
    header = [c.value for c in book["Summary"][4]]
    assert header[4:11] == run.trend_periods() + ["Target"]
    book = load_workbook(publish_directorate(kpis, trend, targets_for(kpis, {}), {"SAF07": None}, run,
                                             tmp_path / "d.xlsx"))
    assert "6-month trend" in [c.value for c in book["Scorecard"][4]]
    assert [c.value for c in book["Trend data"][4] if c.value][2:] == run.trend_periods()


def registry_with_periods(tmp_path: Path, periods: str) -> Path:
    path = tmp_path / "registry.yml"
    path.write_text(f"""kpis:
  - id: SAF99
    name: Toy count
    scorecard: safety
    kind: count
    polarity: None
    grain: child
    sql: safety/saf01_contacts.sql
    definition: a toy
{periods}""", encoding="utf-8")
    return path


def test_the_periods_a_kpi_reads_sensibly_for_default_to_the_month(tmp_path):
    kpi, = load_registry(registry_with_periods(tmp_path, ""))
    assert kpi.periods == ("month",)
    assert kpi.computed_for(Period.month("2024-03")) and not kpi.computed_for(Period.parse("2024-Q1"))
    kpi, = load_registry(registry_with_periods(tmp_path, "    periods: [quarter, half]\n"))
    assert not kpi.computed_for(Period.month("2024-03")) and kpi.computed_for(Period.parse("2024-25-H1"))
    for bad in ("    periods: [fortnight]\n", "    periods: []\n"):
        with pytest.raises(ValueError, match="periods"):
            load_registry(registry_with_periods(tmp_path, bad))


def test_the_quarterly_measures_and_which_read_sensibly_for_a_month():
    """kpis.md: the monthly flow publishes "each of them whose definition reads sensibly for
    a month (all but CMP05)"; every KPI published before issue 15 stays month only."""
    quarterly = [k.id for k in computed_for(REGISTRY, Period.parse("2024-Q1"))]
    assert quarterly == ["CMP01", "CMP02", "CMP03", "CMP04", "CMP05", "CMP06", "CMP07", "IRO01", "IRO02",
                         "IRO03", "IRO04", "IRO05", "SUR01", "SUR02", "QA12", "QA13"]
    assert [k.id for k in computed_for(REGISTRY, Period.parse("2024-25-H2"))] == quarterly
    monthly = {k.id for k in computed_for(REGISTRY, Period.month("2024-03"))}
    assert monthly == {k.id for k in REGISTRY} - {"CMP05"}
    assert {k.scorecard for k in REGISTRY if k.id in quarterly} == {"complaints", "iro", "participation",
                                                                   "qa_findings"}


def test_the_fixed_sub_measure_ids_of_kpis_md_are_declared():
    declared = {f for k in REGISTRY for f in k.published_figure_ids()}
    assert {"CMP01:stage=1", "CMP01:stage=2", "CMP01:stage=3", "CMP01:stage=Ombudsman",
            "CMP01:complainant=child or young person", "CMP01:complainant=adult", "CMP04:upheld",
            "CMP04:partially_upheld", "IRO01:stage=informal", "IRO01:stage=Cafcass",
            "QA12:domain=Voice of the child", "QA13:domain=Outcomes for the child"} <= declared
    # observed breakdowns: values from the data
    for figure_id in ("CMP01:service_area=Social Care", "CMP06:theme=support", "IRO01:theme=health",
                      "SUR01:survey=SV01", "SUR01:respondent_type=foster carer", "SUR02:question=SV01/Q1",
                      "SUR02:question=SV01/Q1:respondent_type=child or young person"):
        kpi = BY_ID[figure_id.partition(":")[0]]
        assert kpi.name_of(figure_id) and kpi.polarity_of(figure_id) in POLARITIES, figure_id
    assert BY_ID["SUR02"].label_of("SUR02:question=SV01/Q1:respondent_type=staff") == "SV01/Q1, staff"
    assert BY_ID["QA13"].polarity_of("QA13:domain=Planning") == "Low"
