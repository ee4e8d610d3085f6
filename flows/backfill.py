"""Re-run historic periods: one backfill flow that maps the monthly period flow over
each month from `first` to `last`, at most `max_parallel` periods at a time.

    qaloop rerun monthly --from 2023-04 --to 2024-03 --source extracts/ --out published/ \
        --reason "March extract corrected"

Each period is an ordinary monthly run (trigger "backfill", the reason in the ledger):
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
from tasks.core.settings import refuse_password_in
from tasks.core.periods import months_between

MAX_PARALLEL_PERIODS = 2


@task(name="monthly-period", task_run_name="monthly {period}")
def run_period(period: str, source: str, out: str, config: str | None, reason: str | None,
               lock_wait_seconds: float) -> dict:
    return monthly(period=period, source=source, out=out, config=config, trigger="backfill",
                   reason=reason, lock_wait_seconds=lock_wait_seconds)


@flow(name="rerun-monthly", flow_run_name="rerun-monthly {first} to {last}", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_PERIODS),
      on_failure=[runner.notify_failure], on_crashed=[runner.notify_failure])
def rerun_monthly(first: str, last: str, source: str, out: str, config: str | None = None,
                  reason: str | None = None,
                  lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS) -> list[dict]:
    """Every month from `first` to `last`; fails at the end if any period failed,
    naming each one (the others are published). Each period reads `config` itself."""
    refuse_password_in(source)
    periods = [p.id for p in months_between(first, last)]
    futures = run_period.map(periods, unmapped(source), unmapped(out), unmapped(config),
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
