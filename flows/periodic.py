"""The body every period flow shares (monthly, quarterly, six-monthly, annual):
extract -> archive -> validate -> load -> compute -> publish -> store, ledgered by
flows/runner.py (lock, versioned outputs under OUT/<flow>/<period>, re-runs and
revisions) and followed by the delivery step.

The monthly flow (flows/monthly.py) adds its scorecards and QA outputs around the shared
steps (`prepare`, `revise`, `run_info`, `finish`). The quarterly, six-monthly and annual
flows are one body (`periodic_run`) told by a `PeriodicFlow` which period it takes and
which reports it publishes besides kpi_values.csv:

    qaloop run quarterly   --period 2024-Q1    (calendar quarter)
    qaloop run six-monthly --period 2024-25-H1 (financial-year half; 2024-H1 is the same)
    qaloop run annual      --period 2024-25    (financial year)

A run with no period (a scheduled run) takes the latest complete period of its kind
(Europe/London).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flows import runner, steps
from tasks.core.periods import Period
from tasks.core.settings import code_version, load_settings, redact_url
from tasks.kpis.registry import Kpi, computed_for, load_registry
from tasks.operations import locks, summary, versions
from tasks.operations.pipeline import la_context
from tasks.operations.shared_extract import SharedExtract
from tasks.publish import csv_files as publish_csv
from tasks.publish.lineage import RunInfo
from tasks.reports import qa_outputs
from tasks.reports import quarterly as period_reports
from tasks.validate import validation as validate
from tasks.validate.quality import DataQuality
from tasks.validate.withheld import missing_local_tables, with_supplied_sources
from tasks.warehouse import database as warehouse


# --- the steps every period flow shares ------------------------------------------------

def run_flow(flow: str, period: str | None, parse: Callable[[str], Period], latest: Callable[[date], Period],
             work: Callable, source: str, out: str, config: str | None, trigger: str | None,
             reason: str | None, lock_wait_seconds: float, accept_stale: bool,
             wait_for_extract: bool | None, deliver: bool, overrides: dict | None = None) -> dict:
    """One ledgered run of `flow` for `period` (else the latest complete one), then its
    delivery. `work(period, run, accept_stale, wait)` returns the outputs written;
    `overrides`: settings over `config`'s (a regional member's: tasks.core.region)."""
    steps.require_reason_to_accept_stale(accept_stale, reason)
    settings = load_settings(config, **(overrides or {}))
    chosen = parse(period) if period else latest(runner.london_today())
    wait = steps.waits_for_extract(wait_for_extract, trigger)
    result = runner.ledgered_run(flow, chosen, source, out, settings, trigger, reason,
                                 lambda run: work(chosen, run, accept_stale, wait), lock_wait_seconds)
    result["deliveries"] = steps.deliver_outputs(result, settings, trigger, deliver)
    return runner.prefect_outcome(result)


@dataclass
class Prepared:
    """What a run knows once its extracts are read, archived and validated."""

    context: object          # the LA's context (la_context)
    population_year: object
    extracts: dict
    manifest: list[dict]
    kpis: list[Kpi]          # the KPIs of this kind of period whose sources were supplied
    quality: DataQuality


def prepare(period: Period, run: runner.RunContext, accept_stale: bool, wait: bool,
            shared: SharedExtract | None = None) -> Prepared:
    """Read, archive and validate the extracts (a re-run's month: the extract its re-run
    read once, `shared`); stop (DataQualityFailed) when the data cannot be published at
    all: nothing of this period is replaced, the previous outputs stay current."""
    settings = run.settings
    context, population_year = la_context(settings, period)
    steps.await_extract(run.source, settings, run.flow, period, run.run_id, wait)
    extracts = shared.extracts if shared else steps.extract_sources(run.source, settings)
    manifest = steps.archive_extracts(extracts, settings, run.run_id, run.engine_url, shared)
    loaded = shared.previous_row_counts if shared else validate.loaded_row_counts(run.engine)
    kpis = qa_outputs.with_qa_if_supplied(computed_for(load_registry(settings.kpis.registry), period),
                                          extracts, loaded)
    kpis = with_supplied_sources(kpis, extracts, loaded)
    quality = steps.validate_extracts(extracts, kpis, period, run, accept_stale, shared)
    quality = quality.with_tables_not_supplied(missing_local_tables(kpis, extracts))
    refusal = quality.refusal(kpis)
    if refusal:
        raise runner.DataQualityFailed(f"{period.id} not published: {refusal}. Data Docs: {quality.data_docs}")
    return Prepared(context, population_year, extracts, manifest, kpis, quality)


def revise(results, quality: DataQuality, period: Period, run: runner.RunContext):
    """The withheld KPIs' figures as last published, beside the fresh ones, and the
    revisions report: (results, carried or None, revisions report path or None)."""
    carried = None
    if quality.withheld_kpis:
        results, carried = steps.carry_forward_figures(results, quality.withheld_kpis, period, run)
        run.completion_state, run.completion_message = runner.PARTLY_PUBLISHED, carried.message()
    revised, run.revision_note = steps.report_revisions(results, period, run)
    return results, carried, revised


def run_info(period: Period, run: runner.RunContext, ready: Prepared, trend_periods: int, results) -> RunInfo:
    """The run metadata every output carries."""
    return RunInfo(period=period.id, run_id=run.run_id, code_version=code_version(),
                   la_code=ready.context.la_code, la_name=ready.context.la_name,
                   synthetic=run.settings.synthetic,
                   started_at=warehouse.utcnow().isoformat(timespec="seconds"),
                   source=redact_url(run.source), population=ready.context.population_0_17,
                   population_year=ready.population_year, extracts=ready.manifest,
                   trend_months=trend_periods,
                   revisions=[f"This version: {run.revision_note}",
                              *versions.revision_notes(run.engine, results.trend, period)])


def finish(outputs: list[str], info: RunInfo, results, period: Period, run: runner.RunContext,
           quality: DataQuality, carried, revised: str | None, qa_inputs=None) -> list[str]:
    """run_metadata.json and the revisions report beside the outputs; the figures stored."""
    metadata = summary.run_metadata(info, outputs, run.reason, quality, carried, qa_inputs)
    outputs = [*outputs, str(publish_csv.publish_run_metadata(metadata, run.work_dir / "run_metadata.json"))]
    if revised is not None:
        outputs.append(revised)
    steps.store_results(results, run.run_id, period, run.engine_url)
    return outputs


# --- the quarterly, six-monthly and annual flows ---------------------------------------

@dataclass(frozen=True)
class PeriodicFlow:
    """One cadence above the month: its flow name, how its period is read and chosen
    when none is given, and the reports it publishes besides kpi_values.csv
    (`publish(results, parts, kpis, info, out_dir, engine_url, quality, period, settings)`)."""

    name: str
    parse: Callable[[str], Period]
    latest: Callable[[date], Period]
    publish: Callable[..., list[str]]


def reports_with_qa_report(results, parts, kpis, info, out_dir, engine_url, quality, period, settings) -> list[str]:
    """A quarter's or a half's reports: complaints and compliments, DRP and IRO,
    participation and surveys, and the quarterly or six-monthly QA report."""
    outputs = steps.render_quarterly_reports(results, parts, kpis, info, out_dir, engine_url, quality)
    return outputs + steps.render_qa_period_report(results, parts, kpis, info, out_dir, engine_url, quality,
                                                   period, settings)


def periodic_run(cadence: PeriodicFlow, period: str | None, source: str, out: str, config: str | None,
                 trigger: str | None, reason: str | None, lock_wait_seconds: float, accept_stale: bool,
                 wait_for_extract: bool | None, deliver: bool) -> dict:
    return run_flow(cadence.name, period, cadence.parse, cadence.latest,
                    lambda chosen, run, stale, wait: _run_steps(cadence, chosen, run, stale, wait),
                    source, out, config, trigger, reason, lock_wait_seconds, accept_stale,
                    wait_for_extract, deliver)


def _run_steps(cadence: PeriodicFlow, period: Period, run: runner.RunContext, accept_stale: bool = False,
               wait: bool = False) -> list[str]:
    ready = prepare(period, run, accept_stale, wait)
    kpis, quality = ready.kpis, ready.quality
    trend = period_reports.TREND_QUARTERS  # the period and the three of its kind before it
    # the source tables are shared by every run: load and compute as one section
    with locks.hold(run.engine, "staging", steps.STAGING_WAIT_SECONDS):
        steps.load_warehouse(ready.extracts, run.engine_url, run.run_id, quality.blocked_tables)
        results = steps.compute_scorecards(quality.fresh(kpis), period, ready.context, run.engine_url, trend)
        parts = steps.compute_months(quality.fresh(kpis), period, ready.context, run.engine_url)
    results, carried, revised = revise(results, quality, period, run)
    info = run_info(period, run, ready, trend, results)
    outputs = [str(publish_csv.publish_kpi_values(results.values, kpis, run.work_dir / "kpi_values.csv"))]
    outputs += cadence.publish(results, parts, kpis, info, run.work_dir, run.engine_url, quality, period,
                               run.settings)
    outputs = finish(outputs, info, results, period, run, quality, carried, revised)
    steps.record_links(outputs)
    return outputs
