"""Compute KPIs: run each registry entry's SQL for a period, attribute its rows to
team and worker, and aggregate them to LA, service area, team and worker figures.

Service areas (kpis.md: "by LA, service area, team") are the teams' parent departments
in `ssd_department` (`dept_team_parent_id`, `dept_team_parent_name`): a service area's
figure is computed on the rows of its teams, plus any rows recorded against the service
area itself (a Service Manager's own QA02 record carries the service's id as its team).
Those parent departments are never team units. A team with no parent (or a team code
missing from `ssd_department`) goes to the "Unknown service area" unit; Unallocated
rows to an "Unallocated" service area. Rates per 10,000 stay LA only.

The SQL contract (see sql/README.md): one row per member of the KPI's population,
with `record_id`, `person_id`, `team_id`, `worker_id` (those on the record itself),
`in_numerator` (0/1) and optionally `measure` and `flag_*` columns.
"""

from __future__ import annotations

import importlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.figure_ids import breakdown_name
from tasks.core.periods import Period, years_before
from tasks.kpis.qa import DEFAULT_SCHEDULE, QaSchedule
from tasks.kpis.queries import query
from tasks.kpis.registry import ALLOCATION_SQL, Extra, Kpi, value_name
from tasks.warehouse.database import read_sql

UNALLOCATED = "Unallocated"
UNKNOWN_SERVICE_AREA = "Unknown service area"
LEVELS = ("la", "service_area", "team", "worker")
VALUE_COLUMNS = ["kpi_id", "period", "level", "unit_id", "unit_name",
                 "value", "numerator", "denominator"]
RECORD_COLUMNS = ["period", "kpi_id", "record_id", "person_id", "team_id", "worker_id",
                  "in_numerator", "measure"]


def list_columns(kpi: Kpi) -> list[str]:
    """The columns of an exception list's rows beyond RECORD_COLUMNS (the registry's
    `list_columns`: dates, days overdue): kept in the run's records for the lists, not
    stored in kpi_records."""
    return [column for column, _ in kpi.list_columns if column not in RECORD_COLUMNS]


@dataclass(frozen=True)
class LaContext:
    """What a computation needs beyond the warehouse: who the LA is and its population."""

    la_code: str
    la_name: str
    population_0_17: int
    allocated_role: str = "ALLOCATED CASE WORKER"
    caseload_threshold: int = 20
    qa: QaSchedule = DEFAULT_SCHEDULE  # the QA audit schedule (settings [qa])


def round_half_up(value: Decimal) -> float:
    """kpis.md: "half up from the exact fraction (1/16 = 6.25% -> 6.3)"."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None  # "a KPI with denominator 0 is published as empty"
    return round_half_up(Decimal(100) * Decimal(int(numerator)) / Decimal(int(denominator)))


def rate_per_10k(count: int, population: int) -> float | None:
    if not population:
        return None
    return round_half_up(Decimal(10000) * Decimal(int(count)) / Decimal(int(population)))


def mean(total: float, count: int) -> float | None:
    if not count:
        return None
    return round_half_up(Decimal(str(total)) / Decimal(int(count)))


def period_parameters(period: Period, context: LaContext) -> dict:
    """Every parameter a KPI query may bind. Dates only: no current_date in SQL.

    For a month the month-relative parameters are as they always were; for a quarter,
    half or financial year (sql/README.md): `prev_month` is the calendar month before
    the period starts, the rolling and prior 3 months end with the period's last month,
    `prev_period` is the period of the same kind before it (the previous quarter), and
    `prev_quarter` is the calendar quarter before the one containing period_end."""
    month = period.last_month
    previous_quarter = Period.quarter_containing(period.end).previous
    return {
        "period_start": period.start,
        "period_end": period.end,
        "rolling_12m_start": period.rolling_12m_start,
        "prev_month_start": Period.containing(period.start).shift(-1).start,
        "prev_month_end": Period.containing(period.start).shift(-1).end,
        "prev_period_start": period.previous.start,
        "prev_period_end": period.previous.end,
        "prev_quarter_start": previous_quarter.start,
        "prev_quarter_end": previous_quarter.end,
        "dob_16y": years_before(period.end, 16),
        "dob_17y": years_before(period.end, 17),
        "dob_22y": years_before(period.end, 22),
        "allocated_role": context.allocated_role,
        "caseload_threshold": context.caseload_threshold,
        # "Rolling 3 months" = the 3 calendar months ending with the period month;
        # prior_3m = the three calendar months before the period month (QA06)
        "rolling_3m_start": month.shift(-2).start,
        "prior_3m_start": month.shift(-3).start,
        **context.qa.sql_parameters(period.end),
    }


def allocation_at(engine: Engine, params: dict) -> pd.DataFrame:
    """Each child's open allocated-worker involvement at period_end (latest start)."""
    return read_sql(engine, query(ALLOCATION_SQL), params).set_index("person_id")


def kpi_rows(engine: Engine, kpi: Kpi, params: dict, sql: str | None = None) -> pd.DataFrame:
    """The KPI's rows for one period's parameters (`sql`: its text, when already read)."""
    rows = read_sql(engine, sql or kpi.sql_text(), params)
    if kpi.postprocess:
        module, _, function = kpi.postprocess.partition(":")
        rows = getattr(importlib.import_module(module), function)(rows, params)
    missing = {"record_id", "person_id", "team_id", "worker_id", "in_numerator"} - set(rows.columns)
    missing |= set(list_columns(kpi)) - set(rows.columns)
    if missing:
        raise ValueError(f"{kpi.sql} does not return {sorted(missing)}")
    rows["in_numerator"] = pd.to_numeric(rows["in_numerator"]).fillna(0).astype(int)
    if "measure" not in rows.columns:
        rows["measure"] = None
    return rows


def attribute(rows: pd.DataFrame, kpi: Kpi, allocation: pd.DataFrame) -> pd.DataFrame:
    """kpis.md: "the team and worker of the child's open allocated-worker involvement at
    period_end; else the team on the record itself; else 'Unallocated'"."""
    rows = rows.copy()
    if kpi.attribution == "child" and not rows.empty:
        allocated = allocation.reindex(rows["person_id"])
        is_allocated = allocated["worker_id"].notna().to_numpy()
        allocated_team = allocated["team_id"].to_numpy(dtype=object)
        allocated_worker = allocated["worker_id"].to_numpy(dtype=object)
        rows["worker_id"] = rows["worker_id"].astype(object).where(~is_allocated, allocated_worker)
        use_team = is_allocated & allocated["team_id"].notna().to_numpy()
        rows["team_id"] = rows["team_id"].astype(object).where(~use_team, allocated_team)
    for column in ("team_id", "worker_id"):
        rows[column] = rows[column].where(rows[column].notna() & (rows[column] != ""), UNALLOCATED)
    return rows


def aggregate(kpi: Kpi, rows: pd.DataFrame, period: Period, context: LaContext,
              names: dict[str, dict[str, str]], levels=LEVELS) -> list[dict]:
    """The published figures of one KPI for one period at each level: for each unit (in
    order of its id) the KPI's own figure, then its extra figures (figure_specs). Every
    figure is summed over all the units of a level at once."""
    rows = rows.reset_index(drop=True)
    specs = list(figure_specs(kpi, rows))
    figures = []
    for level in levels:
        codes, units = _unit_codes(rows, level, context, names)
        sums = [_spec_sums(spec, rows, codes, len(units)) for spec in specs]
        for position, unit_id in enumerate(units):
            unit_name = names.get(level, {}).get(unit_id, unit_id) if level != "la" else context.la_name
            for spec, (shown, row_count, numerator) in zip(specs, sums):
                if shown[position] and not (spec.kind == "rate" and level != "la"):
                    figures.append(_figure(spec, row_count[position], numerator[position], context, period,
                                           level, unit_id, unit_name))
    return figures


@dataclass(frozen=True)
class FigureSpec:
    """One figure of a KPI over its rows: `selected` the rows it is computed on, `shown_if`
    the rows of which a unit must hold at least one of each for the figure to be published
    there (a value found in the unit's rows; none: published for every unit)."""

    figure_id: str
    kind: str
    extra: Extra | None
    selected: pd.Series
    shown_if: tuple[pd.Series, ...] = ()


def figure_specs(kpi: Kpi, rows: pd.DataFrame):
    """The KPI's own figure, then each extra figure: `where` keeps the rows whose 0/1
    column is 1; a split keeps the rows with its value; a breakdown marked `observed` also
    yields the values found in a unit's rows but not declared (sorted), computed like the
    declared ones; `within` adds one figure per value of a second column inside each value."""
    yield FigureSpec(kpi.id, kpi.kind, None, pd.Series(True, index=rows.index))
    declared = {(e.group, e.value) for e in kpi.extras if e.breakdown and not e.is_template}
    for extra in kpi.extras:
        if not extra.is_template:
            yield from _with_within(kpi, extra, rows, ())
    templates = {}
    for extra in kpi.extras:
        if extra.breakdown and extra.observed:
            templates.setdefault(extra.group, extra)
    for group, template in templates.items():
        where, texts = _where(template, rows), _texts(rows[template.column])
        for value in sorted(set(texts[where].dropna()) - {v for g, v in declared if g == group}):
            observed = replace(template, name=value_name(template, group, value), value=value)
            yield from _with_within(kpi, observed, rows, (where & (texts == value),))


def _with_within(kpi: Kpi, extra: Extra, rows: pd.DataFrame, shown_if: tuple[pd.Series, ...]):
    selected = _extra_rows(extra, rows)
    yield FigureSpec(f"{kpi.id}:{extra.name}", extra.kind, extra, selected, shown_if)
    if extra.within:
        texts = _texts(rows[extra.within])
        for inner in sorted(set(texts[selected].dropna())):
            inner_extra = replace(extra, name=f"{extra.name}:{breakdown_name(extra.within, inner)}", within=None)
            yield FigureSpec(f"{kpi.id}:{inner_extra.name}", inner_extra.kind, inner_extra,
                             selected & (rows[extra.within].astype(object) == inner),
                             shown_if + (selected & (texts == inner),))


def _texts(values: pd.Series) -> pd.Series:
    """Each value as text; missing and empty values missing (a value "found" in rows)."""
    texts = values.dropna().astype(str)
    return texts[texts != ""].reindex(values.index)


def _where(extra: Extra, rows: pd.DataFrame) -> pd.Series:
    if not extra.where:
        return pd.Series(True, index=rows.index)
    return pd.to_numeric(rows[extra.where]).fillna(0) == 1


def _extra_rows(extra: Extra, rows: pd.DataFrame) -> pd.Series:
    selected = _where(extra, rows)
    if extra.breakdown == "split":
        return selected & (rows[extra.column].astype(object) == extra.value)
    return selected


def _unit_codes(rows: pd.DataFrame, level: str, context: LaContext, names: dict) -> tuple[np.ndarray, list]:
    """(each row's position in the level's units, -1 for a row in none; the units with rows,
    in order of id). The LA is one unit, published even without rows."""
    if level == "la":
        return np.zeros(len(rows), dtype=int), [context.la_code]
    if level == "service_area":
        # a row's team's parent department; a service area's own id stands for itself;
        # Unallocated stays Unallocated; anything else is unknown
        teams = rows["team_id"].astype(str)
        keys = teams.map(names.get(PARENT_OF_TEAM, {})).fillna(UNKNOWN_SERVICE_AREA) \
            .where(teams != UNALLOCATED, UNALLOCATED)
    else:
        keys = rows[f"{level}_id"]
        if level == "team":  # a parent department is a service area, never a team unit
            not_teams = set(names.get("service_area", {})) - set(names.get("team", {}))
            keys = keys.where(~keys.astype(str).isin(not_teams))
    codes, units = pd.factorize(keys, sort=True)
    return codes, list(units)


def _spec_sums(spec: FigureSpec, rows: pd.DataFrame, codes: np.ndarray, unit_count: int):
    """Per unit: (whether the figure is published there, its row count, its numerator)."""
    def per_unit(selected: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        chosen = selected & (codes >= 0)
        return np.bincount(codes[chosen], weights=None if weights is None else weights[chosen],
                           minlength=unit_count)
    selected = spec.selected.to_numpy()
    shown = np.ones(unit_count, dtype=bool)
    for present in spec.shown_if:
        shown &= per_unit(present.to_numpy()) > 0
    chosen = rows[selected]
    if spec.kind == "mean":
        return shown, per_unit(selected), _measure_sums(chosen, codes[selected], unit_count)
    counted = np.zeros(len(rows))
    counted[selected] = _counted(spec, chosen).to_numpy(dtype=float)
    return shown, per_unit(selected), per_unit(selected, counted)


def _measure_sums(chosen: pd.DataFrame, codes: np.ndarray, unit_count: int) -> list[tuple[float, int]]:
    """Per unit: (the sum of its measures, how many it has). Summed unit by unit as pandas
    sums a unit's own measures: the mean is rounded from the sum's text."""
    measures = pd.to_numeric(chosen["measure"])
    sums = measures.groupby(codes).agg(lambda unit: unit.dropna().sum())
    counts = measures.notna().groupby(codes).sum()
    return [(float(sums.get(unit, 0.0)), int(counts.get(unit, 0))) for unit in range(unit_count)]


def _counted(spec: FigureSpec, chosen: pd.DataFrame) -> pd.Series:
    """What each of the figure's rows adds to its numerator."""
    extra = spec.extra
    if spec.kind in ("count", "exception") and extra is not None and (not extra.breakdown or extra.flag):
        # a count extra: its flag, else rows; a count breakdown with a flag: its flag
        return pd.to_numeric(chosen[extra.flag]).fillna(0) if extra.flag else pd.Series(1, index=chosen.index)
    if spec.kind == "percent" and extra is not None:
        if extra.breakdown == "share":
            return (chosen[extra.column].astype(object) == extra.value).astype(int)
        if extra.flag:
            return pd.to_numeric(chosen[extra.flag]).fillna(0)
    return chosen["in_numerator"]


PARENT_OF_TEAM = "parent_of_team"  # the key of unit_names' {team id: service area id}


def service_areas(departments: pd.DataFrame) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """From `ssd_department` rows (dept_team_id, dept_team_name, dept_team_parent_id,
    dept_team_parent_name): ({team id: name} of the real teams, {service area id: name},
    {team or service area id: service area id}). A department that is another's parent
    is a service area, not a team; a team without a parent maps to nothing (unknown)."""
    columns = ("dept_team_id", "dept_team_name", "dept_team_parent_id", "dept_team_parent_name")
    rows = [tuple(_text_or_none(v) for v in row) for row in zip(*(departments[c].tolist() for c in columns))]
    own_names = {team: name for team, name, _, _ in rows if team}
    areas: dict[str, str] = {}
    for _, _, parent, parent_name in rows:
        if parent and (parent_name or parent not in areas):
            areas[parent] = parent_name or own_names.get(parent) or parent
    teams = {team: name or team for team, name in own_names.items() if team not in areas}
    parents = {team: parent for team, _, parent, _ in rows if team in teams and parent}
    parents |= {area: area for area in areas}
    return teams, areas, parents


def _figure(spec: FigureSpec, row_count, numerator, context, period, level, unit_id, unit_name):
    denominator = None
    if spec.kind in ("count", "exception"):
        numerator = value = int(numerator)
    elif spec.kind == "percent":
        numerator, denominator = int(numerator), int(row_count)
        value = percent(numerator, denominator)
    elif spec.kind == "rate":
        numerator, denominator = int(row_count), context.population_0_17
        value = rate_per_10k(numerator, denominator)
    else:  # mean of the measure over the rows
        numerator, denominator = numerator
        value = mean(numerator, denominator)
    return {"kpi_id": spec.figure_id, "period": period.id, "level": level, "unit_id": str(unit_id),
            "unit_name": unit_name, "value": value, "numerator": numerator,
            "denominator": denominator}


def _text_or_none(value) -> str | None:
    return None if value is None or pd.isna(value) or str(value).strip() == "" else str(value)


def unit_names(engine: Engine) -> dict[str, dict[str, str]]:
    teams, areas, parents = service_areas(read_sql(
        engine, "select dept_team_id, dept_team_name, dept_team_parent_id, dept_team_parent_name "
                "from ssd_department"))
    workers = read_sql(engine, "select prof_professional_id, prof_professional_name "
                               "from ssd_professionals")
    # QA measures' workers are qa_staff (auditors, practitioners): their names where the
    # case system has none for the id
    qa_staff = read_sql(engine, "select staff_id, name from qa_staff where name is not null")
    return {
        "team": teams | {UNALLOCATED: UNALLOCATED},
        "service_area": areas | {UNALLOCATED: UNALLOCATED, UNKNOWN_SERVICE_AREA: UNKNOWN_SERVICE_AREA},
        PARENT_OF_TEAM: parents,
        "worker": dict(zip(qa_staff["staff_id"], qa_staff["name"]))
        | dict(zip(workers["prof_professional_id"], workers["prof_professional_name"]))
        | {UNALLOCATED: UNALLOCATED},
    }


def compute_period(engine: Engine, kpis: list[Kpi], period: Period, context: LaContext,
                   levels=LEVELS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All KPIs for one period: (kpi_values rows, attributed record rows)."""
    values, records = _compute(engine, kpis, [period], context, levels, keep_records=True)
    return values[period.id], records[period.id]


def _reads_units(kpi: Kpi) -> bool:
    """Whether an LA figure of the KPI reads the team or worker a row is attributed to:
    only if an extra figure selects or splits on them (none does today); otherwise the LA
    figure is the same attributed or not, and the LA-only trend skips the attribution."""
    units = {"team_id", "worker_id"}
    return any(units & {extra.flag, extra.where, extra.column, extra.within} for extra in kpi.extras)


def compute_periods(engine: Engine, kpis: list[Kpi], periods: list[Period], context: LaContext,
                    levels=("la",)) -> pd.DataFrame:
    """The figures of several periods (a trend's months), in the order of `periods`: the
    same figures as compute_period for each, with each KPI's SQL text prepared once."""
    values, _ = _compute(engine, kpis, periods, context, levels, keep_records=False)
    return pd.concat([values[period.id] for period in periods], ignore_index=True)


def compute_periods_at(url: str, kpis: list[Kpi], periods: list[Period], context: LaContext) -> pd.DataFrame:
    """compute_periods on the warehouse at `url`, with an engine of its own: what another
    process computes (tasks/operations/pipeline.py::compute_with_trend)."""
    from tasks.warehouse.database import make_engine
    engine = make_engine(url)
    try:
        return compute_periods(engine, kpis, periods, context)
    finally:
        engine.dispose()


def _compute(engine: Engine, kpis: list[Kpi], periods: list[Period], context: LaContext, levels,
             keep_records: bool) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """({period id: kpi_values rows}, {period id: attributed record rows}), each period's
    rows in the order of `kpis`."""
    params = {period.id: period_parameters(period, context) for period in periods}
    attributed = keep_records or tuple(levels) != ("la",) or any(map(_reads_units, kpis))
    allocations = {period.id: allocation_at(engine, params[period.id]) if attributed else None
                   for period in periods}
    names = unit_names(engine)
    values = {period.id: [] for period in periods}
    records = {period.id: [] for period in periods}
    sqls = {kpi.id: kpi.sql_text() for kpi in kpis}
    queries = [(kpi, period) for kpi in kpis for period in periods]
    fetched = prefetched(lambda query: kpi_rows(engine, query[0], params[query[1].id], sqls[query[0].id]), queries)
    for (kpi, period), rows in zip(queries, fetched):
        if attributed:
            rows = attribute(rows, kpi, allocations[period.id])
        values[period.id] += aggregate(kpi, rows, period, context, names, levels)
        if keep_records:
            records[period.id].append(
                rows.assign(period=period.id, kpi_id=kpi.id)[RECORD_COLUMNS + list_columns(kpi)])
    return ({period: pd.DataFrame(rows, columns=VALUE_COLUMNS) for period, rows in values.items()},
            {period: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RECORD_COLUMNS)
             for period, frames in records.items()})


QUERY_THREADS = 2  # queries run while the rows before them are aggregated (the database works without the GIL)


def prefetched(fetch, items: list, ahead: int = QUERY_THREADS):
    """fetch(item) for each item, in order, each started up to `ahead` items before it is
    wanted, on its own thread and database connection: the queries of a 2-core machine
    run side by side, and with the aggregation of the rows already fetched. At most
    `ahead` results wait in memory."""
    with ThreadPoolExecutor(max_workers=ahead) as pool:
        waiting = deque(pool.submit(fetch, item) for item in items[:ahead])
        for item in items[ahead:]:
            yield waiting[0].result()
            waiting.popleft()
            waiting.append(pool.submit(fetch, item))
        while waiting:
            yield waiting.popleft().result()
