"""The plain-Python steps of a period run, free of Prefect (flows/steps.py wraps them)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.settings import Settings
from tasks.kpis.compute import (UNKNOWN_SERVICE_AREA, LaContext, compute_period, compute_periods,
                                compute_periods_at, service_areas)
from tasks.extract.extracts import Extract
from tasks.core.periods import Period
from tasks.kpis.population import la_name, population_0_17
from tasks.kpis.qa import schedule_from_settings
from tasks.kpis.registry import Kpi
from tasks.warehouse.database import latest_load_id, make_engine, read_sql, replace_source_tables, upgrade_schema


@lru_cache(maxsize=8)
def warehouse_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_schema(engine)
    return engine


def la_context(settings: Settings, period: Period) -> tuple[LaContext, int]:
    """The LA's identity and population for the period, and the population's year."""
    if settings.population_0_17:
        population, year = int(settings.population_0_17), None
    else:
        population, year = population_0_17(settings.reference_dir, settings.la_code, period.end)
    context = LaContext(settings.la_code, la_name(settings.reference_dir, settings.la_code),
                        population, settings.allocated_worker_role, settings.caseload_threshold,
                        schedule_from_settings(settings.qa))
    return context, year


def load_extracts(engine: Engine, extracts: dict[str, Extract], run_id: str,
                  earlier_load: int | None = None) -> tuple[int, bool]:
    """Load the extracts into the source tables in one transaction: (the load's id, True).
    With `earlier_load` (a load of these same extracts), while the source tables still
    hold it (no load since), nothing is loaded: (earlier_load, False). Call it under the
    "staging" lock, as the computation that reads the load."""
    if earlier_load is not None and latest_load_id(engine) == earlier_load:
        return earlier_load, False
    return replace_source_tables(engine, {name: e.frame for name, e in extracts.items()}, run_id), True


@dataclass
class PeriodResults:
    values: pd.DataFrame   # every level, the run's period
    trend: pd.DataFrame    # LA level, the trailing periods including the run's
    records: pd.DataFrame  # attributed rows of the run's period


# From this many earlier months a second process computes the earlier half of the trend
# while this one computes the period and the later half: the queries' rows become Python
# objects under the GIL, so the query threads (compute.prefetched) kept only about 1.3 of
# 2 cores busy (50,000 children: 30 s CPU in 22.6 s). Fewer months are not worth
# the second process's start (about a second).
TREND_PROCESS_FROM_MONTHS = 4


def compute_with_trend(engine: Engine, kpis: list[Kpi], period: Period, context: LaContext,
                       trend_months: int) -> PeriodResults:
    """The period at every level, and the LA figures of the months before it, all
    computed as at each month's end from the same extracts."""
    earlier = period.trailing(trend_months)[:-1]
    if len(earlier) < TREND_PROCESS_FROM_MONTHS or (os.cpu_count() or 1) < 2:
        values, records = compute_period(engine, kpis, period, context)
        history = compute_periods(engine, kpis, earlier, context)
    else:
        half = len(earlier) // 2
        url = engine.url.render_as_string(hide_password=False)  # to the other process only, never logged
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as other_process:
            first_half = other_process.submit(compute_periods_at, url, kpis, earlier[:half], context)
            values, records = compute_period(engine, kpis, period, context)
            second_half = compute_periods(engine, kpis, earlier[half:], context)
            history = pd.concat([first_half.result(), second_half], ignore_index=True)
    trend = pd.concat([history, values[values["level"] == "la"]], ignore_index=True)
    return PeriodResults(values, trend, records)


def unit_tables(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teams, workers) for the Teams, Service areas and Workers sheets: the real teams
    (not their parent departments, which are the service areas) with their service
    area's id and name; workers with their team."""
    departments = read_sql(engine, "select dept_team_id, dept_team_name, dept_team_parent_id, "
                                   "dept_team_parent_name from ssd_department")
    team_names, area_names, parents = service_areas(departments)
    area_ids = [parents.get(team, UNKNOWN_SERVICE_AREA) for team in team_names]
    teams = pd.DataFrame({"team_id": list(team_names), "team_name": list(team_names.values()),
                          "service_area_id": area_ids,
                          "service_name": [area_names.get(a, a) for a in area_ids]},
                         columns=["team_id", "team_name", "service_area_id", "service_name"])
    workers = read_sql(engine, "select prof_professional_id as worker_id, "
                               "prof_professional_name as worker_name, "
                               "prof_professional_department as team_name from ssd_professionals")
    team_ids = dict(zip(teams["team_name"], teams["team_id"]))
    workers["team_id"] = workers.pop("team_name").map(lambda name: team_ids.get(name, name))
    return teams, workers
