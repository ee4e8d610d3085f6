"""A SQL file reads another by naming it as a table (sql/README.md, "Shared rows"):
exception lists derive from their KPI, and a shared rule lives in one file (issue 13,
point 2). The per-KPI tests prove the figures; these the mechanism."""

from __future__ import annotations

import re

import pytest
import sqlglot

from tasks.core.paths import SQL_DIR
from tasks.kpis.queries import query, sql_files
from tasks.kpis.registry import load_registry

KPIS = {k.id: k for k in load_registry()}


@pytest.mark.parametrize("exceptions, kpi", [("DD04", "SAF13"), ("DD06", "SAF19")])
def test_an_exception_list_reads_its_kpis_rows(exceptions, kpi):
    own = KPIS[exceptions].sql_path.read_text(encoding="utf-8")
    assert KPIS[kpi].sql_path.stem in own and "ssd_" not in re.sub(r"--.*", "", own)
    assert KPIS[exceptions].source_columns == KPIS[kpi].source_columns


def test_the_files_read_come_first_each_once_before_their_readers():
    text = query(KPIS["DD09"].sql_path)
    ctes = re.findall(r"^(?:with )?(\w+) as \($", text, re.MULTILINE)
    assert ctes == ["cin_episodes_open", "cp_plans_open", "saf12_cp_children", "cla_episodes_open",
                    "saf16_cla_children",  # then DD09's own
                    "period_end_day", "open_episodes", "children_on_cp_plan_or_looked_after", "final"]


def test_every_sql_file_resolves_to_one_statement():
    for path in SQL_DIR.rglob("*.sql"):
        assert len(sqlglot.parse(query(path), read="postgres")) == 1, path
    assert sql_files()["allocation"] == SQL_DIR / "common" / "allocation.sql"
