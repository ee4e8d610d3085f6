"""The annual flow, for one financial year (`2024-25` = April 2024-March 2025): the
shared period-flow body (flows/periodic.py: ledger, lock, versioned outputs under
OUT/annual/<year>, re-runs, revisions, delivery).

Publishes kpi_values.csv for the year (the KPIs whose `periods:` include `year`) and the
annual complaints and compliments report that the representations regulations require
of every LA: the year's figures, its four quarters together and the three years before
it (tasks/reports/quarterly.py, for a year).

    qaloop run annual --period 2024-25 --source extracts/ --out published/

Scheduled runs pass no period: the latest complete financial year (Europe/London).
"""

from __future__ import annotations

from prefect import flow

from flows import periodic, runner, steps
from tasks.core.periods import Period, latest_complete_financial_year


ANNUAL_SCORECARD = "complaints"  # the registry scorecard of the annual complaints report


def publish_reports(results, parts, kpis, info, out_dir, engine_url, quality, period, settings) -> list[str]:
    """The complaints and compliments report only: the representations regulations' annual report."""
    complaints = [k for k in kpis if k.scorecard == ANNUAL_SCORECARD]
    return steps.render_quarterly_reports(results, parts, complaints, info, out_dir, engine_url, quality)


ANNUAL = periodic.PeriodicFlow("annual", Period.financial_year, latest_complete_financial_year, publish_reports)


@flow(name="annual", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def annual(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
           trigger: str | None = None, reason: str | None = None,
           lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
           accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """Publish the financial year's kpi_values.csv and annual complaints report, then
    deliver them to the annual audiences (parameters as the monthly flow's; `period` is
    YYYY-YY)."""
    return periodic.periodic_run(ANNUAL, period, source, out, config, trigger, reason, lock_wait_seconds,
                                 accept_stale, wait_for_extract, deliver)
