"""The daily exception lists and the weekly team packs: live lists as at one day.

The as-at day defaults to yesterday (Europe/London) for the daily lists and to the
last complete week's Sunday for the weekly packs and the figures are computed for
the month to date (`MonthToDate`: period_start = the 1st, period_end = the as-at day),
so "at period_end" lists (DD01-DD11) are live lists as at that day, and SAF22 counts
missing episodes started this month so far.

    qaloop run daily  --as-at 2024-03-14 --source extracts/ --out published/
    qaloop run weekly --as-at 2024-03-17 --source extracts/ --out published/

Every extract is validated first (as in the monthly flow): a critical failure in a
table the lists read publishes nothing ("Failed: data quality") and yesterday's lists
stay current.

Outputs: OUT/daily/<day>/daily_exceptions_<day>.xlsx (+ .csv of every listed row; its
"Inadequate audits" sheet escalates each audit graded Inadequate (last 30 days) that no
earlier day's list showed, to the Head of Service of its service area, qa-activity.md) and
OUT/weekly/<day>/team_pack_<team>_<day>.xlsx, one per team with listed rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from prefect import flow

from flows import runner, steps
from tasks.core.settings import code_version, load_settings, redact_url
from tasks.operations import locks
from tasks.warehouse import database as warehouse
from tasks.core.periods import MonthToDate
from tasks.operations.pipeline import la_context
from tasks.publish.exceptions import (area_pack_name, daily_area_list_name, daily_team_list_name, escalation_name,
                                      publish_area_lists, publish_escalation_workbook, publish_exception_csv,
                                      publish_exceptions_workbook, team_pack_name, teams_with_rows)
from tasks.publish.lineage import RunInfo
from tasks.kpis.qa import escalation_records
from tasks.kpis.registry import Kpi, load_registry, shown_in

def weekly_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The registry's weekly lists: every drift-and-delay exception list, then children missing."""
    return _exception_lists_first(shown_in(kpis, "weekly"))


def daily_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The lists managers act on each morning (registry: shown_in daily): unallocated
    cases, assessment and S47 timescales, visits overdue (CP, CLA), then children missing."""
    return _exception_lists_first(shown_in(kpis, "daily"))


def _exception_lists_first(kpis: list[Kpi]) -> list[Kpi]:
    return sorted(kpis, key=lambda kpi: kpi.kind != "exception")


def as_at_day(as_at: str | None) -> date:
    return date.fromisoformat(as_at) if as_at else runner.london_today() - timedelta(days=1)


def last_complete_week_end(today: date) -> date:
    """The Sunday that ended the last complete week (Monday to Sunday) before `today`."""
    return today - timedelta(days=(today.weekday() + 1) % 7 or 7)


def weekly_as_at_day(as_at: str | None) -> date:
    """The weekly pack's day: as given, else the last complete week's Sunday (what the
    scheduled Monday run uses, and a pack started by hand midweek too)."""
    return date.fromisoformat(as_at) if as_at else last_complete_week_end(runner.london_today())


def _live_run(flow_name: str, choose_kpis, publish, as_at: date, source, out, config, trigger, reason,
              working_days_only, lock_wait_seconds, escalate: bool = False,
              accept_stale: bool = False, wait_for_extract: bool | None = None,
              deliver: bool = False) -> dict:
    steps.require_reason_to_accept_stale(accept_stale, reason)
    wait = steps.waits_for_extract(wait_for_extract, trigger)
    settings = load_settings(config)
    today = runner.london_today()
    period = MonthToDate.as_at(as_at)
    if working_days_only and not runner.is_working_day(today):
        return runner.record_skipped(settings, flow_name, period, trigger,
                                     f"{today} is not a working day: no {flow_name} lists published")

    def work(run: runner.RunContext) -> list[str]:
        kpis = choose_kpis(load_registry(run.settings.kpis.registry))
        context, population_year = la_context(settings, period)
        steps.await_extract(run.source, settings, flow_name, period, run.run_id, wait)
        extracts = steps.extract_sources(run.source, settings)
        manifest = steps.archive_extracts(extracts, settings, run.run_id, run.engine_url)
        quality = steps.validate_extracts(extracts, kpis, period, run, accept_stale)
        if quality.withheld_kpis:  # nothing is published: the previous lists stay current
            raise runner.DataQualityFailed(
                f"{flow_name} lists as at {period.id} not published: {quality.state}. "
                f"Data Docs: {quality.data_docs}")
        with locks.hold(run.engine, "staging", steps.STAGING_WAIT_SECONDS):
            steps.load_warehouse(extracts, run.engine_url, run.run_id, quality.blocked_tables)
            values, records = steps.compute_live_lists(kpis, period, context, run.engine_url)
            teams, workers = steps.unit_tables(run.engine_url)
            escalations = steps.find_escalations(period.end, run.engine_url) \
                if escalate and _loaded(extracts, quality, "qa_audits") else None
        info = RunInfo(period=period.id, run_id=run.run_id, code_version=code_version(),
                       la_code=context.la_code, la_name=context.la_name,
                       synthetic=settings.synthetic,
                       started_at=warehouse.utcnow().isoformat(timespec="seconds"),
                       source=redact_url(run.source), population=context.population_0_17,
                       population_year=population_year, extracts=manifest)
        outputs = publish(run.work_dir, kpis, values, records, teams, workers, info, quality, escalations)
        if escalations is not None:  # so that later days' lists leave them out
            records = pd.concat([records, escalation_records(escalations, period)], ignore_index=True)
        steps.store_live_results(values, records, run.run_id, run.engine_url)
        steps.record_live_artifacts(flow_name, values, kpis, info, outputs, quality.state, escalations)
        return outputs

    result = runner.ledgered_run(flow_name, period, source, out, settings, trigger, reason, work,
                                 lock_wait_seconds)
    result["deliveries"] = steps.deliver_outputs(result, settings, trigger, deliver)
    return runner.prefect_outcome(result)


def _loaded(extracts, quality, table: str) -> bool:
    """This run's extracts have the table and it passed its critical rules."""
    return table in extracts and table not in quality.critical_tables


def publish_daily(folder: Path, kpis, values, records, teams, workers, info: RunInfo,
                  data_quality=None, escalations: pd.DataFrame | None = None) -> list[str]:
    workbook = publish_exceptions_workbook(
        folder / f"daily_exceptions_{info.period}.xlsx",
        f"{info.la_name}: daily exception lists as at {info.period}",
        kpis, values, records, teams, workers, info, escalations=escalations, data_quality=data_quality)
    rows = publish_exception_csv(records, kpis, folder / f"daily_exceptions_{info.period}.csv")
    outputs = [str(workbook), str(rows)]
    # for delivery (tasks/operations/delivery.py): each team's own list, for its manager, and
    # each service area's Inadequate audits, for its Head of Service
    names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    for team_id in teams_with_rows(records, kpis):
        outputs.append(str(publish_exceptions_workbook(
            folder / daily_team_list_name(team_id, info.period),
            f"{info.la_name}: daily exception lists for {names.get(team_id, team_id)}, as at {info.period}",
            kpis, values, records, teams, workers, info, team_id=team_id, data_quality=data_quality)))
    outputs += publish_area_lists(folder, daily_area_list_name,
                                  f"{info.la_name}: daily exception lists for {{area}}, as at {info.period}",
                                  kpis, values, records, teams, workers, info, data_quality)
    if escalations is not None:
        for area, audits in escalations.groupby(escalations["service_area"].fillna("(no service area)").astype(str)):
            outputs.append(str(publish_escalation_workbook(
                folder / escalation_name(area, info.period),
                f"{info.la_name}: audits graded Inadequate in {area}, as at {info.period}", audits, teams, info)))
    return outputs


def publish_team_packs(folder: Path, kpis, values, records, teams, workers, info: RunInfo,
                       data_quality=None, escalations: pd.DataFrame | None = None) -> list[str]:
    names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    outputs = []
    for team_id in teams_with_rows(records, kpis):
        title = f"{info.la_name}: team pack for {names.get(team_id, team_id)}, as at {info.period}"
        outputs.append(str(publish_exceptions_workbook(
            folder / team_pack_name(team_id, info.period), title, kpis, values, records,
            teams, workers, info, team_id=team_id, data_quality=data_quality)))
    # each service area's teams' rows, for its Head of Service
    return outputs + publish_area_lists(folder, area_pack_name,
                                        f"{info.la_name}: area pack for {{area}}, as at {info.period}",
                                        kpis, values, records, teams, workers, info, data_quality)


@flow(name="daily", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def daily(as_at: str | None = None, source: str = "", out: str = "", config: str | None = None,
          trigger: str | None = None, reason: str | None = None, working_days_only: bool = False,
          lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
          accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """The live exception lists as at `as_at` (default yesterday) in one workbook, with
    the audits graded Inadequate not yet escalated by an earlier day's list, for their Head of
    Service. `accept_stale`, `wait_for_extract`: as for the monthly flow."""
    return _live_run("daily", daily_kpis, publish_daily, as_at_day(as_at), source, out, config, trigger,
                     reason, working_days_only, lock_wait_seconds, escalate=True,
                     accept_stale=accept_stale, wait_for_extract=wait_for_extract, deliver=deliver)


@flow(name="weekly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def weekly(as_at: str | None = None, source: str = "", out: str = "", config: str | None = None,
           trigger: str | None = None, reason: str | None = None, working_days_only: bool = False,
           lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
           accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """One team pack per team: the team's figures and listed rows as at `as_at` (default:
    the last complete week's Sunday). `accept_stale`, `wait_for_extract`: as for the monthly flow."""
    return _live_run("weekly", weekly_kpis, publish_team_packs, weekly_as_at_day(as_at), source, out, config,
                     trigger, reason, working_days_only, lock_wait_seconds,
                     accept_stale=accept_stale, wait_for_extract=wait_for_extract, deliver=deliver)
