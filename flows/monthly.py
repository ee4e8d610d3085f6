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

from prefect import flow

from flows import runner, steps
from tasks.core.region import member_overrides
from tasks.core.settings import code_version, load_settings, redact_url
from tasks.operations import locks, summary
from tasks.publish import csv_files as publish_csv
from tasks.reports import qa_outputs
from tasks.validate import validation as validate
from tasks.operations import versions
from tasks.warehouse import database as warehouse
from tasks.core.periods import Period, latest_complete_month
from tasks.operations.pipeline import la_context
from tasks.publish.lineage import RunInfo
from tasks.kpis.registry import computed_for, load_registry
from tasks.validate.withheld import missing_local_tables, with_supplied_sources


@flow(name="monthly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def monthly(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
            trigger: str | None = None, reason: str | None = None,
            lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
            accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False,
            member: dict | None = None) -> dict:
    """Publish the month's scorecards, kpi_values.csv and QA outputs, then deliver them to
    the audiences due (`[delivery]`; `deliver`: send again even if already sent, and for a
    backfill). Every parameter is stored by Prefect: `config` names the configuration,
    read (with its secrets) here.

    `accept_stale` (with a `reason`): publish from an extract the freshness check calls
    stale, recorded in the ledger. `wait_for_extract`: poll the source for a late extract
    (tasks/extract/arrival.py); by default only scheduled runs wait. `member`: the settings
    a regional run (flows/region.py) gives one member LA's run, over `config`'s: its LA
    code, its schema of the region's warehouse, its data folder (tasks.core.region)."""
    steps.require_reason_to_accept_stale(accept_stale, reason)
    settings = load_settings(config, **member_overrides(member))
    month = Period.month(period) if period else latest_complete_month(runner.london_today())
    wait = steps.waits_for_extract(wait_for_extract, trigger)
    result = runner.ledgered_run("monthly", month, source, out, settings, trigger, reason,
                                 lambda run: _run_steps(month, run, accept_stale, wait), lock_wait_seconds)
    result["deliveries"] = steps.deliver_outputs(result, settings, trigger, deliver)
    return runner.prefect_outcome(result)


def _run_steps(month: Period, run: runner.RunContext, accept_stale: bool = False,
               wait: bool = False) -> list[str]:
    settings, out_dir = run.settings, run.work_dir
    context, population_year = la_context(settings, month)
    steps.await_extract(run.source, settings, run.flow, month, run.run_id, wait)
    extracts = steps.extract_sources(run.source, settings)
    manifest = steps.archive_extracts(extracts, settings, run.run_id, run.engine_url)
    loaded = validate.loaded_row_counts(run.engine)
    kpis = qa_outputs.with_qa_if_supplied(computed_for(load_registry(settings.kpis.registry), month), extracts, loaded)
    kpis = with_supplied_sources(kpis, extracts, loaded)
    quality = steps.validate_extracts(extracts, kpis, month, run, accept_stale)
    quality = quality.with_tables_not_supplied(missing_local_tables(kpis, extracts))
    refusal = quality.refusal(kpis)
    if refusal:  # nothing of this period is replaced: the previous outputs stay current
        raise runner.DataQualityFailed(f"{month.id} not published: {refusal}. Data Docs: {quality.data_docs}")
    # The source tables are shared by every run: load and compute as one section.
    with locks.hold(run.engine, "staging", steps.STAGING_WAIT_SECONDS):
        steps.load_warehouse(extracts, run.engine_url, quality.blocked_tables)
        results = steps.compute_scorecards(quality.fresh(kpis), month, context, run.engine_url, settings.trend_months)
        teams, workers = steps.unit_tables(run.engine_url)
        reference = steps.load_reference(kpis, settings, run.engine_url)
        qa_inputs = steps.read_qa_inputs(month, settings, run.engine_url, quality.critical_tables,
                                         bool(qa_outputs.findings_kpis(kpis)) and "qa_audit_findings" in extracts) \
            if qa_outputs.has_qa(kpis) else None
    carried = None
    if quality.withheld_kpis:  # the withheld KPIs' figures as last published, beside the fresh ones
        results, carried = steps.carry_forward_figures(results, quality.withheld_kpis, month, run)
        run.completion_state, run.completion_message = runner.PARTLY_PUBLISHED, carried.message()
    revised, run.revision_note = steps.report_revisions(results, month, run)
    info = RunInfo(period=month.id, run_id=run.run_id, code_version=code_version(),
                   la_code=context.la_code, la_name=context.la_name, synthetic=settings.synthetic,
                   started_at=warehouse.utcnow().isoformat(timespec="seconds"),
                   source=redact_url(run.source), population=context.population_0_17,
                   population_year=population_year, extracts=manifest, trend_months=settings.trend_months,
                   revisions=[f"This version: {run.revision_note}",
                              *versions.revision_notes(run.engine, results.trend, month)])
    outputs = steps.publish_workbooks(results, kpis, settings, month, info, out_dir, teams, workers, reference, quality,
                                      run.engine_url)
    if qa_inputs is not None:
        outputs += steps.render_qa_reports(results, qa_inputs, kpis, settings, info, out_dir, quality, teams)
    metadata = summary.run_metadata(info, outputs, run.reason, quality, carried, qa_inputs)
    outputs.append(str(publish_csv.publish_run_metadata(metadata, out_dir / "run_metadata.json")))
    if revised is not None:
        outputs.append(revised)
    steps.store_results(results, run.run_id, month, run.engine_url)
    steps.record_artifacts(results, kpis, info, outputs, revised, quality.state, run.revision_note)
    return outputs
