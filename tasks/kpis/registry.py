"""The KPI registry: one declarative entry per KPI drives computation, workbooks,
kpi_values.csv and the definitions sheets. Entries live in `sql/registry.yml`.

Adding a KPI means one registry entry, one SQL file and one test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from tasks.core.paths import REGISTRY_FILE, SQL_DIR
from tasks.core.figure_ids import breakdown_name
from tasks.core.sources import TABLES
from tasks.kpis.queries import query

KINDS = {"count", "percent", "rate", "exception"}
EXTRA_KINDS = {"percent", "rate", "mean", "count"}
# Breakdowns, declared once and expanded to one figure per value (`ID:name=value`):
#   share: % of the rows whose `column` equals the value (QA03:grade=Good);
#   split: the KPI's own measure on the rows whose `column` equals the value
#          (QA04:service_area=Social Care).
# `observed: true` also publishes the values found in the data (a breakdown may declare
# no values at all: QA01:role=<auditor role>); `within: <column>` adds, inside each value,
# one figure per value of a second column (QA03:theme=Neglect:grade=Good).
BREAKDOWN_KINDS = {"share", "split"}
POLARITIES = {"High", "Low", "None"}


@dataclass(frozen=True)
class Extra:
    """An additional published figure of a KPI (`ID:name` in kpi_values.csv)."""

    name: str
    kind: str
    flag: str | None = None  # percent/count: the 0/1 column of the KPI's rows
    where: str | None = None  # only the rows whose 0/1 column is 1 (e.g. in_numerator)
    breakdown: str | None = None  # share | split (see BREAKDOWN_KINDS)
    column: str | None = None  # breakdown: the column of the KPI's rows
    value: str | None = None  # breakdown: the value of this figure
    observed: bool = False  # breakdown: also publish values found in the rows
    within: str | None = None  # breakdown: a second column, one figure per value inside each

    @property
    def group(self) -> str:
        """A breakdown's name without its value (`grade` for `grade=Good`)."""
        return self.name.rpartition("=")[0]

    @property
    def is_template(self) -> bool:
        """An observed breakdown's pattern only (no declared value): not a figure itself."""
        return bool(self.breakdown) and self.value is None


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    scorecard: str
    kind: str
    polarity: str
    grain: str
    sql: str
    definition: str
    unit: str = ""
    attribution: str = "child"  # child: allocated worker's team; record: the row's own team
    measure_unit: str | None = None
    extras: tuple[Extra, ...] = field(default_factory=tuple)
    target: float | None = None
    tolerance: float | None = None
    external: bool = True  # may leave the performance team (aggregate figures only)
    headline: bool = False  # a Directorate Scorecard row
    notes: str = ""
    # the matching DfE published measure (file, filter, value column, differs note):
    # parsed by tasks.kpis.benchmarks; None = no published benchmark
    benchmark: dict | None = field(default=None, hash=False, compare=False)
    # "module:function" applied to the SQL's rows before the contract check, for a rule
    # driven by configuration that portable SQL cannot bind (QA02's audit schedule)
    postprocess: str | None = None

    def figure_kind(self, figure_id: str) -> str:
        """The kind of one published figure of this KPI (`ID`, `ID:name`, `ID:name=value`,
        including breakdown values found in the data but not declared)."""
        _, _, name = figure_id.partition(":")
        if not name:
            return self.kind
        for extra in self.extras:
            if extra.name == name and not extra.is_template:
                return extra.kind
        outer = name.split(":")[0]  # theme=Neglect of theme=Neglect:grade=Good
        for group in (name.rpartition("=")[0], outer.rpartition("=")[0]):
            for extra in self.extras:
                if extra.breakdown and extra.group == group:
                    return extra.kind
        raise KeyError(f"{figure_id} is not a figure of {self.id}")

    @property
    def sql_path(self) -> Path:
        return SQL_DIR / self.sql

    def sql_text(self) -> str:
        """The runnable SQL, with the shared SQL files it reads (tasks.kpis.queries)."""
        return query(self.sql_path)

    @property
    def source_columns(self) -> dict[str, frozenset[str]]:
        """{source table: the contract columns this KPI reads}, derived from its SQL, plus
        those of sql/common/allocation.sql for a KPI attributed to the child's allocated
        worker (tasks.kpis.compute.attribute). A data-quality failure on a column withholds
        only the KPIs that read it (tasks.validate.withheld.kpis_blocked_by)."""
        used_by_python = frozenset(RECORD_OUTPUTS) | frozenset(
            name for e in self.extras for name in (e.flag, e.where, e.column, e.within) if name)
        reads = dict(columns_read_by(self.sql_path, used_by_python))
        if self.attribution == "child":
            for table, columns in columns_read_by(ALLOCATION_SQL, frozenset()).items():
                reads[table] = reads.get(table, frozenset()) | columns
        return reads


ALLOCATION_SQL = SQL_DIR / "common" / "allocation.sql"
# the columns of a KPI's rows that Python reads (sql/README.md), besides its extras'
RECORD_OUTPUTS = ("record_id", "person_id", "team_id", "worker_id", "in_numerator", "measure")


@lru_cache(maxsize=256)
def columns_read_by(sql_path: Path, used_by_python: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
    """{source table: its columns} that a SQL file reads, from the parsed SQL (sqlglot),
    the shared SQL files it reads included (tasks.kpis.queries). Every column is resolved to the table or CTE it comes from (`select *` and `alias.*`
    expanded against the contracts of tasks/core/sources.py), and a table's column counts
    when the SQL names it somewhere, or it reaches the rows Python reads under one of
    `used_by_python`'s names: a column only carried along by a `select *`, or named in a
    comment or a string, is not read. A table read for its rows alone maps to no column."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    schema = {name: {c: "TEXT" for c in table.column_names} for name, table in TABLES.items()}
    schema["calendar"] = {c: "TEXT" for c in CALENDAR_COLUMNS}
    tree = sqlglot.parse_one(query(sql_path), read="postgres")
    named = {column.name for column in tree.find_all(sqlglot.exp.Column)} | used_by_python
    tree = qualify(tree, schema=schema, dialect="postgres", validate_qualify_columns=True,
                   quote_identifiers=False)
    reads: dict[str, set[str]] = {}
    for scope in traverse_scope(tree):
        for _, source in scope.selected_sources.values():
            if isinstance(source, sqlglot.exp.Table) and source.name in TABLES:
                reads.setdefault(source.name, set())
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, sqlglot.exp.Table) and source.name in TABLES and column.name in named:
                reads[source.name].add(column.name)
    return {table: frozenset(columns) for table, columns in reads.items()}


# the warehouse's working-day calendar (sql/README.md): not a source table
CALENDAR_COLUMNS = ("cal_date", "day_number", "is_working_day", "wd_index", "plus_1_month",
                    "plus_3_months", "plus_6_months")


def load_registry(path: Path = REGISTRY_FILE) -> list[Kpi]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["kpis"]
    kpis = [_kpi_from_entry(entry) for entry in entries]
    ids = [k.id for k in kpis]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate KPI ids in {path}: {sorted(duplicates)}")
    return kpis


def _kpi_from_entry(entry: dict) -> Kpi:
    extras = tuple(e for extra in entry.pop("extras", []) for e in _expand(extra, entry["kind"]))
    kpi = Kpi(extras=extras, **entry)
    problems = []
    if kpi.kind not in KINDS:
        problems.append(f"kind {kpi.kind!r} not in {sorted(KINDS)}")
    if kpi.polarity not in POLARITIES:
        problems.append(f"polarity {kpi.polarity!r} not in {sorted(POLARITIES)}")
    problems += [f"extra {e.name} has kind {e.kind!r}" for e in extras if e.kind not in EXTRA_KINDS]
    if problems:
        raise ValueError(f"registry entry {kpi.id}: " + "; ".join(problems))
    return kpi


def _expand(extra: dict, kpi_kind: str) -> list[Extra]:
    """A breakdown entry (kind share/split, column, values) becomes one Extra per value,
    named `name=value`, so each published id is declared; others are single Extras."""
    extra = dict(extra)
    if extra.get("kind") not in BREAKDOWN_KINDS:
        return [Extra(**extra)]
    breakdown, values = extra.pop("kind"), extra.pop("values", [])
    kind = "percent" if breakdown == "share" else kpi_kind
    name = extra.pop("name")
    declared = [Extra(name=breakdown_name(name, value), kind=kind, breakdown=breakdown, value=str(value), **extra)
                for value in values]
    if declared or not extra.get("observed"):
        return declared
    return [Extra(name=f"{name}=", kind=kind, breakdown=breakdown, value=None, **extra)]


def by_scorecard(kpis: list[Kpi], scorecard: str) -> list[Kpi]:
    return [k for k in kpis if k.scorecard == scorecard]
