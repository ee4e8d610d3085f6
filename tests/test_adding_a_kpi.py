"""README "Adding a KPI", kept true: its three blocks (the registry entry, the SQL file
and the test) are taken from the README, added to a copy of the registry, and run: the
README's test on the warehouses, then the monthly flow on the synthetic LA, reading the
new figure back from kpi_values.csv and the Safety scorecard."""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from qaloop.synthetic import generate_la
from tasks.core.paths import PROJECT_ROOT, REGISTRY_FILE
from tasks.kpis.compute import percent
from tasks.kpis.registry import load_registry
from tests.configs import write_config
from tests.kpi_harness import run_kpi

PERIOD = "2024-03"
EDUCATION_SOURCES = {"2A", "2B"}


def readme_blocks() -> dict[str, str]:
    """The fenced blocks of the README's "Adding a KPI" section, by language."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Adding a KPI\n", 1)[1].split("\n## ", 1)[0]
    return {language: body for language, body in re.findall(r"```(\w+)\n(.*?)```", section, re.S)}


@pytest.fixture(scope="module")
def example() -> dict:
    blocks = readme_blocks()
    assert set(blocks) == {"yaml", "sql", "python"}
    (entry,) = yaml.safe_load(blocks["yaml"])
    return {**blocks, "entry": entry}


@pytest.fixture(scope="module")
def toy_registry(example, tmp_path_factory) -> Path:
    """A local registry: the project's entries plus the README's, its SQL file beside it."""
    folder = tmp_path_factory.mktemp("local-kpis")
    registry = folder / "registry.yml"
    registry.write_text(REGISTRY_FILE.read_text(encoding="utf-8") + example["yaml"], encoding="utf-8")
    sql_file = folder / example["entry"]["sql"]
    sql_file.parent.mkdir(parents=True)
    sql_file.write_text(example["sql"], encoding="utf-8")
    return registry


def test_the_example_is_a_new_kpi(example):
    assert example["entry"]["id"] not in {kpi.id for kpi in load_registry()}, \
        "the README's example id is now a real KPI: give the example another id"


def test_the_readme_test_passes_with_the_new_entry(example, toy_registry, warehouse):
    kpis = load_registry(toy_registry)
    assert [kpi.id for kpi in kpis][-1] == example["entry"]["id"]
    namespace = {"run_kpi": functools.partial(run_kpi, registry=kpis)}
    exec(compile(example["python"], "README.md (Adding a KPI)", "exec"), namespace)
    (readme_test,) = [value for name, value in namespace.items() if name.startswith("test_")]
    readme_test(warehouse)


def education_share(source: Path) -> tuple[float, int, int]:
    """The example's definition, computed independently from the extract file."""
    contacts = pd.read_csv(source / "ssd_contacts.csv", dtype=str, keep_default_na=False)
    in_period = contacts[contacts["cont_contact_date"].str[:7] == PERIOD]
    numerator = int(in_period["cont_contact_source_code"].isin(EDUCATION_SOURCES).sum())
    return percent(numerator, len(in_period)), numerator, len(in_period)


def test_the_new_kpi_reaches_kpi_values_and_the_scorecard(example, toy_registry, tmp_path, prefect_server):
    from flows.monthly import monthly
    kpi_id, name = example["entry"]["id"], example["entry"]["name"]
    source = tmp_path / "extracts"
    generate_la(source, as_at=date(2024, 4, 5), children=200, seed=11)
    config, _ = write_config(tmp_path / "data", synthetic=True, kpis={"registry": str(toy_registry)})
    monthly(period=PERIOD, source=str(source), out=str(tmp_path / "out"), config=config)
    published = tmp_path / "out" / PERIOD

    expected_value, numerator, denominator = education_share(source)
    values = pd.read_csv(published / "kpi_values.csv", dtype=str, keep_default_na=False)
    la = values[(values["kpi_id"] == kpi_id) & (values["level"] == "la")]
    assert len(la) == 1
    assert (float(la.iloc[0]["value"]), int(la.iloc[0]["numerator"]), int(la.iloc[0]["denominator"])) \
        == (expected_value, numerator, denominator)

    (scorecard,) = published.glob("safety_scorecard_*.xlsx")
    book = openpyxl.load_workbook(scorecard)
    summary = book["Summary"]
    headers = [cell.value for cell in summary[4]]
    rows = {row[0]: dict(zip(headers, row)) for row in summary.iter_rows(min_row=5, values_only=True) if row[0]}
    assert rows[kpi_id][PERIOD] == expected_value
    assert name in rows[kpi_id].values()
    definitions = {row[0]: row for row in book["Definitions"].iter_rows(min_row=5, values_only=True)}
    assert definitions[kpi_id][1] == name
