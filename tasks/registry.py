"""The KPI registry: one declarative entry per KPI drives computation, workbooks,
kpi_values.csv and the definitions sheets. Entries live in `sql/registry.yml`.

Adding a KPI means one registry entry, one SQL file and one test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qaloop.paths import REGISTRY_FILE, SQL_DIR
from tasks.figure_ids import breakdown_name

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
    # parsed by tasks.benchmarks; None = no published benchmark
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
        return self.sql_path.read_text(encoding="utf-8")


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
