"""The KPI registry: one declarative entry per KPI drives computation, workbooks,
kpi_values.csv and the definitions sheets. Entries live in `sql/registry.yml`.

Adding a KPI means one registry entry, one SQL file and one test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qaloop.paths import REGISTRY_FILE, SQL_DIR

KINDS = {"count", "percent", "rate", "exception"}
EXTRA_KINDS = {"percent", "rate", "mean"}
POLARITIES = {"High", "Low", "None"}


@dataclass(frozen=True)
class Extra:
    """An additional published figure of a KPI (`ID:name` in kpi_values.csv)."""

    name: str
    kind: str
    flag: str | None = None  # percent: the 0/1 column of the KPI's rows


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
    extras = tuple(Extra(**extra) for extra in entry.pop("extras", []))
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


def by_scorecard(kpis: list[Kpi], scorecard: str) -> list[Kpi]:
    return [k for k in kpis if k.scorecard == scorecard]
