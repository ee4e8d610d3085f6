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
from tasks.core.figure_ids import breakdown_name, parse_figure_id
from tasks.core.periods import PERIOD_MONTHS, Period
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
# What a KPI carries at its most detailed: figures only, the names of staff (QA02's list
# of staff below requirement, DD10's workers), or rows about children (exception lists).
DETAILS = {"aggregate", "named_staff", "child_level"}
# The outputs (and sections of them) a figure is shown in (`shown_in`): publishers ask the
# registry which KPIs these are, rather than listing ids.
OUTPUTS = {
    "directorate",             # a Directorate Scorecard row (with its DfE benchmark)
    "daily",                   # a daily exception list
    "weekly",                  # a weekly team pack list
    "qa_tile",                 # a tile of QA on a page
    "qa_page_chart",           # a trend chart of QA on a page
    "qa_moderation",           # Moderation sheet and report section
    "qa_moderation_coverage",  # the moderation KPI whose breakdowns carry the schedule's targets
    "qa_loop",                 # Closing the loop sheet and report section
    "qa_due",                  # audits due and on time (Teams table, Auditors sheet)
    "qa_compliance",           # staff against the audit schedule (By role, Auditors sheets)
    "qa_grades",               # audits completed by grade (Grades sheet, grade tables)
    "qa_submission",           # submission timeliness (Auditors sheet)
    "qa_reaudits",             # the Inadequate audits awaiting re-audit (Re-audits sheet)
    "qa_actions",              # follow-up of audit actions (QA on a page: "Actions completed")
    "qa_strengths",            # audit strengths by practice domain (QA on a page: "What audits found")
    "qa_development",          # audit areas for development by practice domain (the same section)
}
# The kinds of period a KPI's definition reads sensibly for (`periods:`; default month
# only): kpis.md computes the complaints, IRO and participation measures for calendar
# quarters, and the monthly flow "for the month, each of them whose definition reads
# sensibly for a month (all but CMP05)"; the six-monthly report uses financial-year halves.
PERIOD_KINDS = tuple(PERIOD_MONTHS)
# Decimal places of a published figure, by kind, unless the registry says otherwise.
KIND_PRECISION = {"percent": 1, "rate": 1, "mean": 1, "count": 0, "exception": 0}
# The unit of an additional figure, by kind, unless the registry says otherwise.
KIND_UNITS = {"percent": "%", "rate": "per 10,000", "mean": "mean", "count": "count"}


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
    # breakdown: the column's values are already id-safe (the SQL percent-encodes the parts
    # of a composite value, SUR02:question=<survey_id>/<question_id>), written as they are
    encoded: bool = False
    label: str | None = None  # how the figure reads after the KPI's name ("rate per 10,000")
    title: str | None = None  # its name standing alone (a Directorate row), when not "KPI: label"
    polarity: str | None = None  # a breakdown's is its KPI's unless declared
    unit: str | None = None
    precision: int | None = None
    shown_in: tuple[str, ...] = ()

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
    # an exception list's columns beside the child, worker and team, in order: (column of
    # the KPI's rows, header in words); `measure` names the measure's header, `overdue`
    # (days or working days past the due date) sorts the list when present (sql/README.md)
    list_columns: tuple[tuple[str, str], ...] = ()
    extras: tuple[Extra, ...] = field(default_factory=tuple)
    target: float | None = None
    tolerance: float | None = None
    detail: str = "aggregate"  # see DETAILS; delivery keeps named and child-level detail in
    shown_in: tuple[str, ...] = ()  # see OUTPUTS (the headline figure's; an extra has its own)
    precision: int | None = None  # decimal places; by kind unless given
    # how the KPI reads elsewhere than under its name: {narrative: ..., tile: ...}
    labels: dict = field(default_factory=dict, hash=False, compare=False)
    notes: str = ""
    # the matching DfE published measure (file, filter, value column, differs note):
    # parsed by tasks.kpis.benchmarks; None = no published benchmark
    benchmark: dict | None = field(default=None, hash=False, compare=False)
    # "module:function" applied to the SQL's rows before the contract check, for a rule
    # driven by configuration that portable SQL cannot bind (QA02's audit schedule)
    postprocess: str | None = None
    # the folder of the registry file it came from: `sql` is read there first, then in sql/
    registry_dir: Path = field(default=SQL_DIR, hash=False, compare=False, repr=False)
    # the kinds of period (PERIOD_KINDS) the definition reads sensibly for
    periods: tuple[str, ...] = ("month",)

    def computed_for(self, period: Period) -> bool:
        """Whether the KPI is computed for a period of this kind (a month-to-date is a month)."""
        return period.kind in self.periods

    def figure_kind(self, figure_id: str) -> str:
        """The kind of one published figure of this KPI (`ID`, `ID:name`, `ID:name=value`,
        including breakdown values found in the data but not declared)."""
        extra = self.extra_of(figure_id)
        return self.kind if extra is None else extra.kind

    def extra_of(self, figure_id: str) -> Extra | None:
        """The registry entry of one published figure: None for the headline, else the
        extra (or the breakdown) it belongs to; KeyError when the registry lacks it."""
        _, _, name = str(figure_id).partition(":")
        if not name:
            return None
        for extra in self.extras:
            if extra.name == name and not extra.is_template:
                return extra
        outer = name.split(":")[0]  # theme=Neglect of theme=Neglect:grade=Good
        for group in (name.rpartition("=")[0], outer.rpartition("=")[0]):
            for extra in self.extras:
                if extra.breakdown and extra.group == group:
                    return extra
        named = self._named_extra(name)
        if named is not None:  # rolling_3m:grade=Good: a breakdown inside a named figure
            return named
        raise KeyError(f"{figure_id} is not a figure of {self.id}")

    def _named_extra(self, name: str) -> Extra | None:
        first = name.split(":")[0]
        return next((e for e in self.extras if e.name == first and not e.breakdown), None)

    def polarity_of(self, figure_id: str) -> str:
        """A figure's own polarity: the KPI's for its headline and a breakdown of its
        measure, else the one the registry declares (QA02:below_requirement is Low)."""
        extra = self.extra_of(figure_id)
        return self.polarity if extra is None or extra.polarity is None else extra.polarity

    def unit_of(self, figure_id: str) -> str:
        extra = self.extra_of(figure_id)
        if extra is None:
            return self.unit
        return extra.unit or KIND_UNITS.get(extra.kind, self.unit)

    def precision_of(self, figure_id: str) -> int:
        extra = self.extra_of(figure_id)
        declared, kind = (self.precision, self.kind) if extra is None else (extra.precision, extra.kind)
        return KIND_PRECISION[kind] if declared is None else declared

    def label_of(self, figure_id: str) -> str:
        """How a figure reads after the KPI's name: `QA03:rolling_3m:grade=Good` ->
        "rolling 3 months, Good"; "" for the headline."""
        parsed = parse_figure_id(figure_id)
        words = []
        for name in parsed.names:
            extra = self._named_extra(name)
            words.append(extra.label if extra is not None and extra.label else name.replace("_", " "))
        return ", ".join(words + [value for _, value in parsed.dimensions])

    def name_of(self, figure_id: str) -> str:
        """A figure's name standing alone (the KPI's name for its headline)."""
        extra = self.extra_of(figure_id)
        if extra is None:
            return self.name
        return extra.title or f"{self.name}: {self.label_of(figure_id)}"

    def label_in(self, output: str) -> str | None:
        """How the KPI reads in `output` (labels: narrative, tile), if the registry says."""
        return self.labels.get(output)

    def shown_in_output(self, output: str) -> bool:
        return output in self.shown_in or any(output in e.shown_in for e in self.extras)

    @property
    def headline(self) -> bool:
        """A Directorate Scorecard row (its headline figure or one of its extras)."""
        return self.shown_in_output("directorate")

    @property
    def directorate_figure(self) -> str | None:
        """The figure id of its Directorate row (SAF12:rate_per_10k for SAF12), also the
        figure its `benchmark:` block compares; None when not on the Directorate."""
        if "directorate" in self.shown_in:
            return self.id
        return next((f"{self.id}:{e.name}" for e in self.extras if "directorate" in e.shown_in), None)

    def published_figure_ids(self) -> list[str]:
        """The figure ids the registry declares (observed breakdown values aside)."""
        return [self.id] + [f"{self.id}:{e.name}" for e in self.extras if not e.is_template]

    @property
    def sql_path(self) -> Path:
        """`sql` in the registry's folder, else in sql/ (a registry kept elsewhere, such
        as a test's, can add KPIs of its own and reuse the project's SQL)."""
        local = self.registry_dir / self.sql
        return local if local.is_file() else SQL_DIR / self.sql

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


@dataclass(frozen=True)
class Figure:
    """One published figure of a KPI, its headline (`SAF12`) or another (`SAF12:rate_per_10k`),
    read through the registry. `kind` is the registry's unless the output knows better (the
    QA workbook takes a breakdown's from its rows)."""

    kpi: Kpi
    id: str
    kind: str

    @classmethod
    def of(cls, kpi: Kpi, figure_id: str) -> "Figure":
        return cls(kpi, figure_id, kpi.figure_kind(figure_id))

    @property
    def name(self) -> str:
        return self.kpi.name_of(self.id)

    @property
    def polarity(self) -> str:
        return self.kpi.polarity_of(self.id)

    @property
    def precision(self) -> int:
        return self.kpi.precision_of(self.id)

    @property
    def unit(self) -> str:
        return self.kpi.unit_of(self.id)


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


# the SQL contract's columns (sql/README.md); the list shows the child, worker and team itself
CONTRACT_COLUMNS = ("record_id", "person_id", "team_id", "worker_id", "in_numerator")


# the warehouse's working-day calendar (sql/README.md): not a source table
CALENDAR_COLUMNS = ("cal_date", "day_number", "is_working_day", "wd_index", "plus_1_month",
                    "plus_3_months", "plus_6_months")


def load_registry(path: Path | str = REGISTRY_FILE) -> list[Kpi]:
    """The KPIs of a registry file (settings `[kpis] registry`, sql/registry.yml by default)."""
    path = Path(path)
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["kpis"]
    kpis = [_kpi_from_entry(entry, path.resolve().parent) for entry in entries]
    ids = [k.id for k in kpis]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate KPI ids in {path}: {sorted(duplicates)}")
    return kpis


def _kpi_from_entry(entry: dict, registry_dir: Path = SQL_DIR) -> Kpi:
    entry = dict(entry, registry_dir=registry_dir)
    extras = tuple(e for extra in entry.pop("extras", []) for e in _expand(extra, entry["kind"]))
    list_columns = tuple((str(c), str(h)) for c, h in (entry.pop("list_columns", None) or {}).items())
    kpi = Kpi(extras=extras, shown_in=tuple(entry.pop("shown_in", ())), labels=entry.pop("labels", None) or {},
              list_columns=list_columns, periods=tuple(entry.pop("periods", ("month",)) or ()), **entry)
    problems = _problems(kpi)
    if problems:
        raise ValueError(f"registry entry {kpi.id}: " + "; ".join(problems))
    return kpi


def _problems(kpi: Kpi) -> list[str]:
    problems = []
    if kpi.kind not in KINDS:
        problems.append(f"kind {kpi.kind!r} not in {sorted(KINDS)}")
    if kpi.polarity not in POLARITIES:
        problems.append(f"polarity {kpi.polarity!r} not in {sorted(POLARITIES)}")
    if kpi.detail not in DETAILS:
        problems.append(f"detail {kpi.detail!r} not in {sorted(DETAILS)}")
    contract = {c for c, _ in kpi.list_columns} & set(CONTRACT_COLUMNS)
    if contract:
        problems.append(f"list_columns {sorted(contract)} are contract columns, shown already")
    for extra in kpi.extras:
        if extra.kind not in EXTRA_KINDS:
            problems.append(f"extra {extra.name} has kind {extra.kind!r}")
        if not extra.breakdown and not (extra.label and extra.polarity):
            problems.append(f"extra {extra.name} needs a label and a polarity")
        if extra.polarity is not None and extra.polarity not in POLARITIES:
            problems.append(f"extra {extra.name} has polarity {extra.polarity!r}")
    unknown = {o for o in kpi.shown_in + tuple(o for e in kpi.extras for o in e.shown_in)} - OUTPUTS
    if unknown:
        problems.append(f"shown_in {sorted(unknown)} not in {sorted(OUTPUTS)}")
    if not kpi.periods or set(kpi.periods) - set(PERIOD_KINDS):
        problems.append(f"periods {list(kpi.periods)} not a non-empty subset of {list(PERIOD_KINDS)}")
    if sum("directorate" in e.shown_in for e in kpi.extras) + ("directorate" in kpi.shown_in) > 1:
        problems.append("one Directorate row per KPI")
    return problems


def _expand(extra: dict, kpi_kind: str) -> list[Extra]:
    """A breakdown entry (kind share/split, column, values) becomes one Extra per value,
    named `name=value`, so each published id is declared; others are single Extras."""
    extra = dict(extra)
    extra["shown_in"] = tuple(extra.get("shown_in", ()))
    if extra.get("kind") not in BREAKDOWN_KINDS:
        return [Extra(**extra)]
    breakdown, values = extra.pop("kind"), extra.pop("values", [])
    kind = "percent" if breakdown == "share" else kpi_kind
    name = extra.pop("name")
    declared = [Extra(name=_value_name(name, value, extra.get("encoded", False)), kind=kind, breakdown=breakdown, value=str(value), **extra)
                for value in values]
    if declared or not extra.get("observed"):
        return declared
    return [Extra(name=f"{name}=", kind=kind, breakdown=breakdown, value=None, **extra)]


def _value_name(name: str, value, encoded: bool) -> str:
    return f"{name}={value}" if encoded else breakdown_name(name, value)


def value_name(extra: Extra, group: str, value) -> str:
    """A breakdown figure's name (`grade=Good`): the value percent-encoded unless the
    registry says its column's values are already (`encoded: true`)."""
    return _value_name(group, value, extra.encoded)


def computed_for(kpis: list[Kpi], period: Period) -> list[Kpi]:
    """The KPIs (in registry order) whose definition reads sensibly for this kind of period."""
    return [k for k in kpis if k.computed_for(period)]


def by_scorecard(kpis: list[Kpi], scorecard: str) -> list[Kpi]:
    return [k for k in kpis if k.scorecard == scorecard]


def shown_in(kpis: list[Kpi], output: str) -> list[Kpi]:
    """The KPIs (in registry order) with a figure shown in `output` (see OUTPUTS)."""
    if output not in OUTPUTS:
        raise KeyError(f"unknown output {output!r}; expected one of {sorted(OUTPUTS)}")
    return [k for k in kpis if k.shown_in_output(output)]


def kpi_shown_in(kpis: list[Kpi], output: str) -> Kpi | None:
    """The one KPI shown in a single-KPI section (`qa_grades`), or None when the
    KPIs given have none."""
    found = shown_in(kpis, output)
    if len(found) > 1:
        raise ValueError(f"{output} is shown for one KPI, the registry names {[k.id for k in found]}")
    return found[0] if found else None


@lru_cache(maxsize=1)
def default_registry() -> tuple[Kpi, ...]:
    """sql/registry.yml, loaded once."""
    return tuple(load_registry())
