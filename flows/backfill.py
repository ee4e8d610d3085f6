"""Re-run historic periods: one backfill flow per cadence that maps the period flow over
each period from `first` to `last`, at most `max_parallel` periods at a time.

    qaloop rerun monthly --from 2023-04 --to 2024-03 --source extracts/ --out published/ \
        --reason "March extract corrected"
    qaloop rerun quarterly --from 2023-Q3 --to 2024-Q2 --source extracts/ --out published/ \
        --reason "complaints extract corrected"

Each period is an ordinary run of its flow (trigger "backfill", the reason in the ledger):
same extracts -> the same figures as a single run; the period's published version
switches only when its run succeeds; a changed figure is listed in the run's revisions
report. The shared source tables are loaded and computed under the "staging" lock, so
two periods never read each other's half-loaded extracts.
"""

from __future__ import annotations

from prefect import flow, task, unmapped
from prefect.task_runners import ThreadPoolTaskRunner

from flows import runner
from flows.monthly import monthly
from flows.quarterly import quarterly
from tasks.core.settings import refuse_password_in
from tasks.core.periods import months_between, periods_between

MAX_PARALLEL_PERIODS = 2
PERIOD_FLOWS = {"monthly": monthly, "quarterly": quarterly}


@task(name="monthly-period", task_run_name="monthly {period}")
def run_period(period: str, source: str, out: str, config: str | None, reason: str | None,
               lock_wait_seconds: float) -> dict:
    return monthly(period=period, source=source, out=out, config=config, trigger="backfill",
                   reason=reason, lock_wait_seconds=lock_wait_seconds)


@task(name="quarterly-period", task_run_name="quarterly {period}")
def run_quarter(period: str, source: str, out: str, config: str | None, reason: str | None,
                lock_wait_seconds: float) -> dict:
    return quarterly(period=period, source=source, out=out, config=config, trigger="backfill",
                     reason=reason, lock_wait_seconds=lock_wait_seconds)


def _run_all(period_task, periods: list[str], source: str, out: str, config: str | None,
             reason: str | None, lock_wait_seconds: float) -> list[dict]:
    refuse_password_in(source)
    futures = period_task.map(periods, unmapped(source), unmapped(out), unmapped(config),
                              unmapped(reason), unmapped(lock_wait_seconds))
    results, failures = [], []
    for period, future in zip(periods, futures):
        future.wait()
        if future.state.is_completed():
            results.append(future.result())
        else:
            failures.append(f"{period}: {future.state.message}")
    print(f"re-ran {len(results)} of {len(periods)} periods" +
          (f"; failed: {'; '.join(failures)}" if failures else ""))
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(periods)} periods failed: " + "; ".join(failures))
    return results


@flow(name="rerun-monthly", flow_run_name="rerun-monthly {first} to {last}", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_PERIODS),
      on_failure=[runner.notify_failure], on_crashed=[runner.notify_failure])
def rerun_monthly(first: str, last: str, source: str, out: str, config: str | None = None,
                  reason: str | None = None,
                  lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS) -> list[dict]:
    """Every month from `first` to `last`; fails at the end if any period failed,
    naming each one (the others are published). Each period reads `config` itself."""
    refuse_password_in(source)
    return _run_all(run_period, [p.id for p in months_between(first, last)], source, out, config,
                    reason, lock_wait_seconds)


@flow(name="rerun-quarterly", flow_run_name="rerun-quarterly {first} to {last}", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_PERIODS),
      on_failure=[runner.notify_failure], on_crashed=[runner.notify_failure])
def rerun_quarterly(first: str, last: str, source: str, out: str, config: str | None = None,
                    reason: str | None = None,
                    lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS) -> list[dict]:
    """Every quarter from `first` to `last` (YYYY-Qn), as rerun_monthly."""
    refuse_password_in(source)
    quarters = periods_between(first, last)
    if quarters[0].kind != "quarter":
        raise ValueError(f"rerun quarterly takes quarters (YYYY-Qn), not {first}..{last}")
    return _run_all(run_quarter, [p.id for p in quarters], source, out, config, reason, lock_wait_seconds)
