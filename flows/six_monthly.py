"""The six-monthly flow, for one financial-year half (`2024-25-H1` = April-September
2024, `2024-25-H2` = October 2024-March 2025; `2024-H1` is the short form of the half of
the financial year starting April 2024): the shared period-flow body (flows/periodic.py:
ledger, lock, versioned outputs under OUT/six-monthly/<half>, re-runs, revisions,
delivery).

Publishes kpi_values.csv for the half (the KPIs whose `periods:` include `half`), the
complaints and compliments, DRP and IRO, and participation and survey reports for the
half (tasks/reports/quarterly.py) and the six-monthly QA report
(tasks/reports/qa_period_report.py, when installed).

    qaloop run six-monthly --period 2024-25-H1 --source extracts/ --out published/

Scheduled runs pass no period: the latest complete half (Europe/London) is used.
"""

from __future__ import annotations

from prefect import flow

from flows import periodic, runner
from tasks.core.periods import Period, latest_complete_half


SIX_MONTHLY = periodic.PeriodicFlow("six-monthly", Period.half, latest_complete_half, periodic.reports_with_qa_report)


@flow(name="six-monthly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def six_monthly(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
                trigger: str | None = None, reason: str | None = None,
                lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
                accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """Publish the half's kpi_values.csv, reports and six-monthly QA report, then deliver
    them to the six-monthly audiences (parameters as the monthly flow's; `period` is
    YYYY-YY-Hn or YYYY-Hn)."""
    return periodic.periodic_run(SIX_MONTHLY, period, source, out, config, trigger, reason, lock_wait_seconds,
                                 accept_stale, wait_for_extract, deliver)
