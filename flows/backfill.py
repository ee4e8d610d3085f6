"""Re-run historic periods: one backfill flow per cadence that maps the period flow over
each period from `first` to `last`, at most `max_parallel` periods at a time.

    qaloop rerun monthly --from 2023-04 --to 2024-03 --source extracts/ --out published/ \
        --reason "March extract corrected"
    qaloop rerun quarterly --from 2023-Q3 --to 2024-Q2 --source extracts/ --out published/ \
        --reason "complaints extract corrected"
    qaloop rerun six-monthly --from 2023-24-H2 --to 2024-25-H1 ...
    qaloop rerun annual --from 2023-24 --to 2024-25 ...

Each period is an ordinary run of its flow (trigger "backfill", the reason in the ledger):
same extracts -> the same figures as a single run; the period's published version
switches only when its run succeeds; a changed figure is listed in the run's revisions
report. The shared source tables are loaded and computed under the "staging" lock, so
two periods never read each other's half-loaded extracts.

A monthly re-run loads once and computes many: it reads the source once, and its months
share that extract's archive, validation, alerts and load (tasks/operations/shared_extract.py;
the ledger's `runs.load_id` shows which months computed from one load). Should the source
not be readable at the start, each month reads it itself, as the other cadences do.
"""

from __future__ import annotations

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows import runner, steps
from flows.annual import annual
from flows.monthly import monthly
from flows.quarterly import quarterly
from flows.six_monthly import six_monthly
from tasks.core.periods import periods_between
from tasks.core.settings import load_settings, refuse_password_in
from tasks.operations import shared_extract
from tasks.validate.validation import loaded_row_counts

MAX_PARALLEL_PERIODS = 2
# flow name -> (the period flow, the kind of period it takes, that period's form)
PERIOD_FLOWS = {"monthly": (monthly, "month", "YYYY-MM"), "quarterly": (quarterly, "quarter", "YYYY-Qn"),
                "six-monthly": (six_monthly, "half", "YYYY-YY-Hn"), "annual": (annual, "year", "YYYY-YY")}


@task(name="period-run", task_run_name="{flow_name} {period}", cache_policy=NO_CACHE)
def run_period(flow_name: str, period: str, source: str, out: str, config: str | None, reason: str | None,
               lock_wait_seconds: float, shared: str | None = None) -> dict:
    """One period's flow run; `shared`: the key of the extract the re-run read for all its months."""
    sharing = {"shared_extract": shared} if shared else {}
    return PERIOD_FLOWS[flow_name][0](period=period, source=source, out=out, config=config, trigger="backfill",
                                      reason=reason, lock_wait_seconds=lock_wait_seconds, **sharing)


def periods_of(flow_name: str, first: str, last: str) -> list[str]:
    """The ids of every period from `first` to `last`, refused unless they are the flow's kind."""
    _, kind, form = PERIOD_FLOWS[flow_name]
    periods = periods_between(first, last)
    if periods[0].kind != kind:
        raise ValueError(f"rerun {flow_name} takes periods of the form {form}, not {first}..{last}")
    return [p.id for p in periods]


def rerun(flow_name: str, first: str, last: str, source: str, out: str, config: str | None = None,
          reason: str | None = None, lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS) -> list[dict]:
    """Every period from `first` to `last`; fails at the end if any period failed,
    naming each one (the others are published). Each period reads `config` itself."""
    refuse_password_in(source)
    periods = periods_of(flow_name, first, last)
    with shared_extract.registered(read_once(flow_name, periods, source, config)) as shared:
        futures = run_period.map(unmapped(flow_name), periods, unmapped(source), unmapped(out), unmapped(config),
                                 unmapped(reason), unmapped(lock_wait_seconds), unmapped(shared))
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


def read_once(flow_name: str, periods: list[str], source: str,
              config: str | None) -> shared_extract.SharedExtract | None:
    """For a monthly re-run, its source's extract, read once for every month (None for the
    other cadences, or when the source or the warehouse cannot be used now: each period
    then reads the source itself and records its own failure)."""
    if flow_name != "monthly":
        return None
    settings = load_settings(config)
    try:
        before = loaded_row_counts(runner.migrated_engine(settings))
        extracts = steps.extract_sources(source, settings)
    except (runner.SourceUnavailable, runner.WarehouseUnavailable) as error:
        print(f"the extract is not shared between the months ({error}): each month reads the source itself")
        return None
    label = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    return shared_extract.SharedExtract(source, extracts, label, before)


def _backfill_flow(flow_name: str):
    """The Prefect flow `rerun-<flow_name>` (named by its range in the UI)."""
    def backfill(first: str, last: str, source: str, out: str, config: str | None = None,
                 reason: str | None = None,
                 lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS) -> list[dict]:
        return rerun(flow_name, first, last, source, out, config, reason, lock_wait_seconds)
    backfill.__doc__ = f"Every {PERIOD_FLOWS[flow_name][1]} from `first` to `last` ({PERIOD_FLOWS[flow_name][2]})."
    backfill.__name__ = f"rerun_{flow_name.replace('-', '_')}"
    return flow(name=f"rerun-{flow_name}", flow_run_name=f"rerun-{flow_name} {{first}} to {{last}}",
                log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_PERIODS),
                on_failure=[runner.notify_failure], on_crashed=[runner.notify_failure])(backfill)


RERUN_FLOWS = {name: _backfill_flow(name) for name in PERIOD_FLOWS}
rerun_monthly = RERUN_FLOWS["monthly"]
rerun_quarterly = RERUN_FLOWS["quarterly"]
rerun_six_monthly = RERUN_FLOWS["six-monthly"]
rerun_annual = RERUN_FLOWS["annual"]
