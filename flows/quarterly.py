"""The quarterly flow: extract -> archive -> validate -> load -> compute -> publish -> store,
for one calendar quarter (YYYY-Qn), with the monthly flow's machinery (flows/runner.py:
ledger, lock, versioned outputs under OUT/quarterly/<quarter>, re-runs and revisions).

Computes the KPIs of the registry whose `periods:` include `quarter` (CMP, IRO, SUR,
QA12/QA13: kpis.md) and whose sources were supplied, and publishes kpi_values.csv for
the quarter, run_metadata.json and the quarterly reports (tasks/reports/quarterly.py):
complaints and compliments, DRP and IRO, participation and surveys, each HTML and PDF.

    qaloop run quarterly --period 2024-Q1 --source extracts/ --out published/

Scheduled runs pass no period: the latest complete quarter (Europe/London) is used.
"""

from __future__ import annotations

from prefect import flow

from flows import runner, steps
from tasks.core.periods import Period, latest_complete_quarter
from tasks.core.settings import code_version, load_settings, redact_url
from tasks.kpis.registry import computed_for, load_registry
from tasks.operations import locks, summary, versions
from tasks.operations.pipeline import la_context
from tasks.publish import csv_files as publish_csv
from tasks.publish.lineage import RunInfo
from tasks.reports import qa_outputs, quarterly as quarterly_reports
from tasks.validate import validation as validate
from tasks.validate.withheld import missing_local_tables, with_supplied_sources
from tasks.warehouse import database as warehouse


@flow(name="quarterly", log_prints=True, on_failure=[runner.notify_failure],
      on_crashed=[runner.notify_failure])
def quarterly(period: str | None = None, source: str = "", out: str = "", config: str | None = None,
              trigger: str | None = None, reason: str | None = None,
              lock_wait_seconds: float = runner.DEFAULT_LOCK_WAIT_SECONDS,
              accept_stale: bool = False, wait_for_extract: bool | None = None, deliver: bool = False) -> dict:
    """Publish the quarter's kpi_values.csv and quarterly reports, then deliver them to
    the quarterly audiences (parameters as the monthly flow's; `period` is YYYY-Qn)."""
    steps.require_reason_to_accept_stale(accept_stale, reason)
    settings = load_settings(config)
    quarter = Period.quarter(period) if period else latest_complete_quarter(runner.london_today())
    wait = steps.waits_for_extract(wait_for_extract, trigger)
    result = runner.ledgered_run("quarterly", quarter, source, out, settings, trigger, reason,
                                 lambda run: _run_steps(quarter, run, accept_stale, wait), lock_wait_seconds)
    result["deliveries"] = steps.deliver_outputs(result, settings, trigger, deliver)
    return runner.prefect_outcome(result)


def _run_steps(quarter: Period, run: runner.RunContext, accept_stale: bool = False,
               wait: bool = False) -> list[str]:
    settings, out_dir = run.settings, run.work_dir
    context, population_year = la_context(settings, quarter)
    steps.await_extract(run.source, settings, run.flow, quarter, run.run_id, wait)
    extracts = steps.extract_sources(run.source, settings)
    manifest = steps.archive_extracts(extracts, settings, run.run_id, run.engine_url)
    loaded = validate.loaded_row_counts(run.engine)
    kpis = qa_outputs.with_qa_if_supplied(computed_for(load_registry(settings.kpis.registry), quarter),
                                          extracts, loaded)
    kpis = with_supplied_sources(kpis, extracts, loaded)
    quality = steps.validate_extracts(extracts, kpis, quarter, run, accept_stale)
    quality = quality.with_tables_not_supplied(missing_local_tables(kpis, extracts))
    refusal = quality.refusal(kpis)
    if refusal:
        raise runner.DataQualityFailed(f"{quarter.id} not published: {refusal}. Data Docs: {quality.data_docs}")
    with locks.hold(run.engine, "staging", steps.STAGING_WAIT_SECONDS):
        steps.load_warehouse(extracts, run.engine_url, quality.blocked_tables)
        results = steps.compute_scorecards(quality.fresh(kpis), quarter, context, run.engine_url,
                                           quarterly_reports.TREND_QUARTERS)
        monthly = steps.compute_months(quality.fresh(kpis), quarter, context, run.engine_url)
    carried = None
    if quality.withheld_kpis:
        results, carried = steps.carry_forward_figures(results, quality.withheld_kpis, quarter, run)
        run.completion_state, run.completion_message = runner.PARTLY_PUBLISHED, carried.message()
    revised, run.revision_note = steps.report_revisions(results, quarter, run)
    info = RunInfo(period=quarter.id, run_id=run.run_id, code_version=code_version(),
                   la_code=context.la_code, la_name=context.la_name, synthetic=settings.synthetic,
                   started_at=warehouse.utcnow().isoformat(timespec="seconds"),
                   source=redact_url(run.source), population=context.population_0_17,
                   population_year=population_year, extracts=manifest,
                   trend_months=quarterly_reports.TREND_QUARTERS,
                   revisions=[f"This version: {run.revision_note}",
                              *versions.revision_notes(run.engine, results.trend, quarter)])
    outputs = [str(publish_csv.publish_kpi_values(results.values, kpis, out_dir / "kpi_values.csv"))]
    outputs += steps.render_quarterly_reports(results, monthly, kpis, info, out_dir, run.engine_url, quality)
    outputs += steps.render_qa_period_report(results, monthly, kpis, info, out_dir, run.engine_url, quality, quarter, settings)
    metadata = summary.run_metadata(info, outputs, run.reason, quality, carried, None)
    outputs.append(str(publish_csv.publish_run_metadata(metadata, out_dir / "run_metadata.json")))
    if revised is not None:
        outputs.append(revised)
    steps.store_results(results, run.run_id, quarter, run.engine_url)
    steps.record_links(outputs)
    return outputs
