"""The monthly flow: extract -> archive -> validate -> load -> compute -> publish -> store.

Publishes the Safety, Drift and Delay and Directorate scorecards, the Complaints, compliments
and participation workbook (when those extracts are supplied), kpi_values.csv and,
when the extracts include the QA audit records, the QA outputs (QA workbook with the
coming month's audit allocation, monthly QA report, QA on a page: tasks/reports/qa_outputs.py).

A critical data-quality failure withholds only what it breaks (tasks/validate/withheld.py): a
column-level failure the KPIs reading that column, a table-level one every KPI reading
the table (which keeps its last good load); withheld KPIs are shown with their figures
as last published, every other figure is computed afresh, and the ledger row ("Partly
published: data quality") says what was withheld. When every KPI is withheld, or the
drop lacks most required tables, the run stops before loading anything ("Failed: data
quality") and the previous version stays current. Failures in tables no
output reads, and every warning, are reported in each workbook's Data quality sheet and
each report.

    qaloop run monthly --period 2024-03 --source extracts/ --out published/

Scheduled runs pass no period: the latest complete month (Europe/London) is used.
Ledger, lock, versioned outputs and failure notification: flows/runner.py.
"""

from __future__ import annotations

from functools import partial

from prefect import flow

from flows import periodic, runner, steps
from tasks.core.region import member_overrides
from tasks.core.periods import Period, latest_complete_month
from tasks.operations import locks
from tasks.operations import shared_extract as shared_extracts
from tasks.operations.shared_extract import SharedExtract
from tasks.reports import qa_outputs


@flow(name="monthly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def monthly(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
            trigger: str | None = None, reason: str | None = None,
            lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
            accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False,
            member: dict | None = None, shared_extract: str | None = None) -> dict:
    """Publish the month's scorecards, kpi_values.csv and QA outputs, then deliver them to
    the audiences due (`[delivery]`; `deliver`: send again even if already sent, and for a
    backfill). Every parameter is stored by Prefect: `config` names the configuration,
    read (with its secrets) here.

    `accept_stale` (with a `reason`): publish from an extract the freshness check calls
    stale, recorded in the ledger. `wait_for_extract`: poll the source for a late extract
    (tasks/extract/arrival.py); by default only scheduled runs wait. `member`: the settings
    a regional run (flows/region.py) gives one member LA's run, over `config`'s: its LA
    code, its schema of the region's warehouse, its data folder (tasks.core.region).
    `shared_extract`: the key of the extract a re-run of several months read once for all of
    them, in this process (flows/backfill.py, tasks/operations/shared_extract.py)."""
    shared = shared_extracts.lookup(shared_extract)
    work = partial(_run_steps, shared=shared) if shared else _run_steps
    return periodic.run_flow("monthly", period, Period.month, latest_complete_month, work, source, out,
                             config, trigger, reason, lock_wait_seconds, accept_stale, wait_for_extract, deliver,
                             member_overrides(member))


def _run_steps(month: Period, run: runner.RunContext, accept_stale: bool = False,
               wait: bool = False, shared: SharedExtract | None = None) -> list[str]:
    settings, out_dir = run.settings, run.work_dir
    ready = periodic.prepare(month, run, accept_stale, wait, shared)  # refuses when nothing can be published
    kpis, quality = ready.kpis, ready.quality
    # The source tables are shared by every run: load and compute as one section.
    with locks.hold(run.engine, "staging", steps.STAGING_WAIT_SECONDS):
        steps.load_warehouse(ready.extracts, run.engine_url, run.run_id, quality.blocked_tables, shared)
        results = steps.compute_scorecards(quality.fresh(kpis), month, ready.context, run.engine_url,
                                           settings.trend_months)
        teams, workers = steps.unit_tables(run.engine_url)
        reference = steps.load_reference(kpis, settings, run.engine_url)
        qa_inputs = steps.read_qa_inputs(month, settings, run.engine_url, quality.critical_tables,
                                         bool(qa_outputs.findings_kpis(kpis)) and "qa_audit_findings" in ready.extracts) \
            if qa_outputs.has_qa(kpis) else None
    # the withheld KPIs' figures as last published, beside the fresh ones
    results, carried, revised = periodic.revise(results, quality, month, run)
    info = periodic.run_info(month, run, ready, settings.trend_months, results)
    outputs = steps.publish_workbooks(results, kpis, settings, month, info, out_dir, teams, workers, reference, quality,
                                      run.engine_url)
    if qa_inputs is not None:
        outputs += steps.render_qa_reports(results, qa_inputs, kpis, settings, info, out_dir, quality, teams)
    outputs = periodic.finish(outputs, info, results, month, run, quality, carried, revised, qa_inputs)
    steps.record_artifacts(results, kpis, info, outputs, revised, quality.state, run.revision_note)
    return outputs
