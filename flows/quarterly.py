"""The quarterly flow, for one calendar quarter (YYYY-Qn): the shared period-flow body
(flows/periodic.py: ledger, lock, versioned outputs under OUT/quarterly/<quarter>,
re-runs, revisions, delivery).

Computes the KPIs of the registry whose `periods:` include `quarter` (CMP, IRO, SUR,
QA12/QA13: kpis.md) and whose sources were supplied, and publishes kpi_values.csv for
the quarter, run_metadata.json and the quarterly reports (tasks/reports/quarterly.py):
complaints and compliments, DRP and IRO, participation and surveys, each HTML and PDF.

    qaloop run quarterly --period 2024-Q1 --source extracts/ --out published/

Scheduled runs pass no period: the latest complete quarter (Europe/London) is used.
"""

from __future__ import annotations

from prefect import flow

from flows import periodic, runner
from tasks.core.periods import Period, latest_complete_quarter


QUARTERLY = periodic.PeriodicFlow("quarterly", Period.quarter, latest_complete_quarter, periodic.reports_with_qa_report)


@flow(name="quarterly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def quarterly(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
              trigger: str | None = None, reason: str | None = None,
              lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
              accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """Publish the quarter's kpi_values.csv and quarterly reports, then deliver them to
    the quarterly audiences (parameters as the monthly flow's; `period` is YYYY-Qn)."""
    return periodic.periodic_run(QUARTERLY, period, source, out, config, trigger, reason, lock_wait_seconds,
                                 accept_stale, wait_for_extract, deliver)
