"""Thin Prefect task wrappers around the plain functions of `tasks/`.

Only counts and ids of runs are logged here: never child-level data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tasks.core.settings import Settings, redact_url
from flows import runner
from tasks.operations import alerts
from tasks.extract import archive
from tasks.extract import arrival
from tasks.kpis import benchmarks
from tasks.extract import extracts as extract
from tasks.operations import notify
from tasks.operations import pipeline
from tasks.operations import shared_extract
from tasks.operations.shared_extract import SharedExtract
from tasks.operations import summary
from tasks.publish import csv_files as publish_csv
from tasks.reports import qa_outputs
from tasks.validate import validation as validate
from tasks.operations import versions
from tasks.warehouse import database as warehouse
from tasks.core.periods import Period
from tasks.publish.complaints_workbook import publish_complaints_workbook, workbook_kpis
from tasks.publish.directorate import publish_directorate, publish_directorate_pdf
from tasks.publish.excel import publish_scorecard
from tasks.publish.exceptions import drift_delay_area_lists_name, publish_area_lists
from tasks.publish.lineage import RunInfo
from tasks.kpis.qa import schedule_from_settings
from tasks.validate import extract_date, withheld
from tasks.validate.extract_date import ExtractDateCheck
from tasks.validate.quality import NOT_CHECKED, DataQuality, assess
from tasks.validate.withheld import Withheld
from tasks.kpis.rag import targets_for
from tasks.kpis.registry import Kpi, by_scorecard

SCORECARDS = {"safety": "Safety Scorecard", "drift_delay": "Drift and Delay Scorecard"}
STAGING_WAIT_SECONDS = 3600  # another run's load-and-compute section, normally seconds


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# The clock and the sleep of await_extract: module attributes so that tests replace them
# (a fake clock that `sleep` advances) and a day's wait runs in a second.
CLOCK: Callable[[], datetime] = _utc_now
SLEEP: Callable[[float], None] = time.sleep


@task(name="await_extract", cache_policy=NO_CACHE)
def await_extract(source: str, settings: Settings, flow: str, period: Period, run_id: str,
                  wait: bool) -> None:
    """A run that waits (scheduled runs) polls the source until every case table is there
    or the `[arrival]` window closes, with one "extract not arrived yet" notice; if it
    closes first, the run stops with ExtractNotArrived, whose failure notification is
    the one alert naming the missing tables (never one alert per table). A run that
    does not wait goes ahead as it is, unless the drop holds none of the case tables."""
    logger = get_run_logger()
    if not wait:
        empty_drop = not extract.is_database_url(source) and Path(source).is_dir() \
            and len(arrival.missing_tables(source)) == len(arrival.CASE_SYSTEM_TABLES)
        if empty_drop:
            raise arrival.ExtractNotArrived(
                f"the drop folder {source} holds none of the case tables: no extract has "
                f"arrived for {flow} {period.id}; nothing was published")
        return
    config = settings.arrival
    deadline = arrival.deadline_on(CLOCK(), config)
    run_line = _run_line(run_id)

    def notice(missing: list[str]) -> None:
        subject, body = arrival.not_arrived_notice(flow, period, missing, deadline, run_line)
        logger.warning("%s: %s", subject, ", ".join(missing))
        logger.info("notice: %s", "; ".join(notify.send(settings.notifications, subject, body, "warning")))

    readable = settings.source_to_read(source)  # with its password, never logged
    missing = arrival.wait_for_extract(lambda: arrival.missing_tables(readable), deadline, CLOCK, SLEEP,
                                       config.poll_seconds, notice)
    if missing:
        raise arrival.ExtractNotArrived(arrival.not_arrived_message(flow, period, missing, deadline))
    logger.info("the extract for %s %s is complete", flow, period.id)


def waits_for_extract(wait_for_extract: bool | None, trigger: str | None) -> bool:
    """Scheduled runs wait for a late extract; others only when asked. `trigger`: as the
    flow was given it (None: taken from the flow run, runner.resolve_trigger)."""
    if wait_for_extract is not None:
        return wait_for_extract
    return runner.resolve_trigger(trigger) == "schedule"


def require_reason_to_accept_stale(accept_stale: bool, reason: str | None) -> None:
    if accept_stale and not (reason or "").strip():
        raise ValueError("accepting a stale extract needs a reason (--accept-stale --reason TEXT)")


def _run_line(run_id: str) -> str:
    url = notify.prefect_run_url(run_id)
    return f"Run: {run_id}" + (f" ({url})" if url else "")


@task(name="extract_sources", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: not isinstance(
          state.result(raise_on_failure=False), extract.ExtractError))
def extract_sources(source: str, settings: Settings) -> dict[str, extract.Extract]:
    """Read the extracts; a database source is retried with back-off, bad input is not:
    it is reported by validate_extracts (strict=False), never raised here. `source` has
    no password: the source password is put in here, from the settings."""
    try:
        extracts = extract.extract_sources(settings.source_to_read(source), settings.mapping, strict=False)
    except sa.exc.SQLAlchemyError as error:  # unreachable, login refused, dropped: retried
        raise runner.SourceUnavailable(f"the source database {redact_url(source)} cannot be read: "
                                       f"{runner.first_line(error)}") from error
    get_run_logger().info("extracted %d tables, %d rows", len(extracts),
                          sum(len(e.frame) for e in extracts.values()))
    return extracts


@task(name="validate_extracts", cache_policy=NO_CACHE)
def validate_extracts(extracts: dict[str, extract.Extract], kpis: list[Kpi], period: Period,
                      run, accept_stale: bool = False, shared: SharedExtract | None = None) -> DataQuality:
    """The data-quality gate: first the extract's date against the period (a stale
    extract is refused: check_extract_date), then every extract against its Great
    Expectations suites, with results stored for the trend, one alert per rule that did
    not pass (log, Prefect artifact, configured channels, a standing warning once per
    extract) and Data Docs kept beside the outputs whatever the run's outcome. A
    re-run's months (`shared`) validate their extract once per extract date and send its
    alerts once (tasks/operations/shared_extract.py)."""
    logger = get_run_logger()
    dated = check_extract_date(extracts, period, run, accept_stale, shared)
    # the last good load, whatever the source path
    previous = shared.previous_row_counts if shared else validate.loaded_row_counts(run.engine)
    validate_now = partial(validate.validate_extracts, extracts, dated.extract_date.day, previous,
                           run.settings.validation,
                           docs_dir=versions.data_quality_dir(run.work_dir, period, run.run_id))
    report, first = shared_extract.once(shared, ("validation", dated.extract_date.day), validate_now)
    validate.store_dq_results(run.engine, run.run_id, period, report)
    send_alerts(report, extracts, period, run, shared.label if shared else None, deliver=first)
    quality = assess(report, kpis, dated.notes, validate.dq_trend(run.engine, up_to=period))
    if first:
        logger.info("validated %d tables in %.1f s: %s", len(extracts), report.seconds, quality.state)
    else:
        logger.info("%d tables: validated once for the re-run's months of this extract date: %s",
                    len(extracts), quality.state)
    return quality


def send_alerts(report: validate.ValidationReport, extracts: dict[str, extract.Extract], period: Period,
                run, periods: str | None = None, deliver: bool = True) -> None:
    """One alert per rule that did not pass, to the log, the configured channels and a
    Prefect artifact (with the Data Docs link); the daily flow adds the standing warnings'
    digest. `periods`: what the alerts name when one validation serves several runs (a
    re-run's months); `deliver`: False for the runs after the first one, which sent them."""
    logger = get_run_logger()
    docs = data_docs_link(report.data_docs_index, run)
    links = alerts.RunLinks(run.flow, run.run_id, notify.prefect_run_url(run.run_id), docs)
    found = alerts.build_alerts(report, period, {n: e.sha256 for n, e in extracts.items()}, links, periods)
    for alert in found:
        logger.warning("data quality: %s", alert.one_line())
    if deliver:
        _deliver_alerts(found, period, run, links)
    elif found:
        logger.info("%d alert(s) sent once for the months of this re-run (%s), by the first month "
                    "validated: not sent again", len(found), periods)
    create_markdown_artifact(alerts.render_markdown(found, data_docs=docs),
                             key=f"data-quality-{period.id.lower()}",
                             description=f"Data-quality alerts for {period.id}")
    if docs and not docs.startswith("file:"):  # a browser opens no file link from a web page
        create_link_artifact(docs, link_text="Data Docs (Great Expectations)")


def _deliver_alerts(found: list[alerts.Alert], period: Period, run, links: alerts.RunLinks) -> None:
    logger = get_run_logger()
    delivery = alerts.deliver_alerts(run.engine, found, run.run_id, **_channels(run.settings))
    for error in delivery.errors:
        logger.error("data-quality alerts not delivered: %s", error)
    if delivery.already_sent:
        logger.info("%d alert(s) already sent for these extracts: not sent again (the daily "
                    "digest lists the standing warnings)", len(delivery.already_sent))
    if run.flow == "daily":
        send_standing_warnings_digest(run, period, delivery.already_sent, links)


def data_docs_link(index: Path | None, run) -> str | None:
    """The Data Docs' address for readers: under `published_url` when the LA publishes the
    output folder on its intranet, else the file on the server's disk."""
    if index is None:
        return None
    return notify.published_link(index, versions.output_root(run.work_dir), run.settings.published_url)


def _channels(settings: Settings) -> dict:
    return {"email": alerts.EmailSettings.from_notifications(settings.notifications),
            "webhook_urls": [u for u in [settings.notifications.webhook_url.get_secret_value()] if u]}


def check_extract_date(extracts: dict[str, extract.Extract], period: Period, run,
                       accept_stale: bool = False, shared: SharedExtract | None = None) -> ExtractDateCheck:
    """The extract date and its freshness, recorded in the ledger
    (tasks/validate/extract_date.py); a stale extract ends the run "Failed: data quality"
    with the dates, unless it is a re-run with the period's archived extract or
    `accept_stale` (the ledger records it, with the run's reason). A re-run's months
    (`shared`) read the source's date once."""
    logger = get_run_logger()
    source_date, _ = shared_extract.once(shared, "source date", partial(
        extract_date.extract_date_of, run.source, extracts, run.settings))
    dated = extract_date.check_extract_date(run.engine, run.flow, run.run_id, run.source, run.settings,
                                            extracts, period, accept_stale, run.reason, source_date)
    for note in dated.notes:
        logger.warning(note)
    logger.info("extract dated %s", dated.extract_date.describe())
    if dated.refused:
        raise runner.DataQualityFailed(dated.refusal(period))
    return dated


def send_standing_warnings_digest(run, period: Period, already_sent: list, links) -> None:
    """The daily flow's one digest of the warnings sent before that persist (once a day)."""
    digest = alerts.standing_warnings_digest(run.engine, already_sent, period, links)
    if digest is None:
        return
    delivery = alerts.deliver_alerts(run.engine, [digest], run.run_id, **_channels(run.settings))
    get_run_logger().info("digest of %d standing warning(s): %s", len(digest.warnings),
                          "sent" if delivery.sent else "already sent today" if delivery.already_sent
                          else "; ".join(delivery.errors) or "no channel configured")


@task(name="archive_extracts", cache_policy=NO_CACHE)
def archive_extracts(extracts, settings: Settings, run_id: str, engine_url: str,
                     shared: SharedExtract | None = None) -> list[dict]:
    """Archive this run's extracts (owner-only) and delete those older than
    `[archive] keep_months`, recorded in the ledger (tasks/extract/archive.py). A
    re-run's months (`shared`) archive their extract once, under the first month's run."""
    engine = pipeline.warehouse_engine(engine_url)
    manifest, archived_now = shared_extract.once(shared, "archive", partial(
        extract.archive_extracts, extracts, settings.archive_dir, run_id))
    warehouse.record_extracts(engine, run_id, manifest)
    if not archived_now:
        get_run_logger().info("the re-run's extract is archived once: %s",
                              Path(manifest[0]["archived_path"]).parent if manifest else "nothing read")
        return manifest
    deleted = archive.delete_old_archives(engine, settings.archive_dir, settings.archive.keep_months,
                                          warehouse.utcnow().date(), run_id)
    if deleted:
        get_run_logger().info(deleted)
    return manifest


@task(name="load_warehouse", cache_policy=NO_CACHE)
def load_warehouse(extracts, engine_url: str, run_id: str, blocked_tables: list[str] = (),
                   shared: SharedExtract | None = None) -> int:
    """Load the usable tables in one transaction; a table that could not be read or
    failed a critical rule (`blocked_tables`) keeps the rows of the last good load. A
    re-run's months (`shared`) load their extract once: a month finding the source tables
    still holding that load computes from it. Returns the load, recorded as the run's."""
    usable = {name: e for name, e in extracts.items() if e.usable and name not in blocked_tables}
    engine = pipeline.warehouse_engine(engine_url)
    blocked = frozenset(blocked_tables)
    load_id, loaded = pipeline.load_extracts(engine, usable, run_id, shared.loads.get(blocked) if shared else None)
    if shared:
        shared.loads[blocked] = load_id
    warehouse.record_run_load(engine, run_id, load_id)
    if loaded:
        get_run_logger().info("loaded %d tables in one transaction (load %d)", len(usable), load_id)
    else:
        get_run_logger().info("the source tables still hold this re-run's extract (load %d): not loaded again",
                              load_id)
    return load_id


@task(name="load_reference", cache_policy=NO_CACHE)
def load_reference(kpis: list[Kpi], settings: Settings, engine_url: str):
    """The DfE benchmark files of the reference folder into the warehouse's reference
    tables (a new year's file dropped there is picked up), read back for publishing."""
    engine = pipeline.warehouse_engine(engine_url)
    kpis = benchmarks.configured_kpis(kpis, settings.benchmarks, settings.reference_dir)
    rows = benchmarks.refresh_reference(engine, settings.reference_dir, kpis)
    get_run_logger().info("loaded %d DfE benchmark values into the reference tables", rows)
    return benchmarks.read_reference(engine)


@task(name="unit_tables", cache_policy=NO_CACHE)
def unit_tables(engine_url: str):
    return pipeline.unit_tables(pipeline.warehouse_engine(engine_url))


@task(name="compute_scorecards", cache_policy=NO_CACHE)
def compute_scorecards(kpis: list[Kpi], period: Period, context, engine_url: str,
                       trend_months: int) -> pipeline.PeriodResults:
    results = pipeline.compute_with_trend(pipeline.warehouse_engine(engine_url), kpis,
                                          period, context, trend_months)
    get_run_logger().info("computed %d figures for %s and %d trend figures",
                          len(results.values), period.id, len(results.trend))
    return results


@task(name="store_results", cache_policy=NO_CACHE)
def store_results(results: pipeline.PeriodResults, run_id: str, period: Period,
                  engine_url: str) -> None:
    history = results.trend[results.trend["period"] != period.id]
    warehouse.store_results(pipeline.warehouse_engine(engine_url), run_id,
                            _concat(results.values, history), results.records)


def _concat(first, second):
    import pandas as pd
    return pd.concat([first, second], ignore_index=True)


@task(name="publish_workbooks", cache_policy=NO_CACHE)
def publish_workbooks(results: pipeline.PeriodResults, kpis: list[Kpi], settings: Settings,
                      period: Period, run: RunInfo, out_dir: Path, teams, workers, reference_data,
                      data_quality: DataQuality | None = None, engine_url: str | None = None) -> list[str]:
    """The Safety, Drift and Delay and Directorate scorecards, the Complaints, compliments
    and participation workbook (when those extracts were supplied) and kpi_values.csv.
    `reference_data`: the DfE benchmark values and statistical neighbours (load_reference);
    `engine_url`: the warehouse, for the survey questions' text."""
    targets = targets_for(kpis, settings.targets)
    outputs = []
    for scorecard in SCORECARDS:
        path = out_dir / f"{scorecard}_scorecard_{run.period}.xlsx"
        publish_scorecard(scorecard, by_scorecard(kpis, scorecard), results.values,
                          results.trend, results.records, teams, workers, targets, run, path,
                          data_quality)
        outputs.append(str(path))
    outputs += publish_drift_delay_area_lists(results, kpis, run, out_dir, teams, workers, data_quality)
    reference, neighbours = reference_data
    year = benchmarks.latest_reporting_year(period.end)
    # the LA's [benchmarks] mapping over the registry's blocks; the trend's figures are
    # what qaloop's own figure on DfE's basis is computed from when the LA's is not published
    headline = benchmarks.configured_kpis(kpis, settings.benchmarks, settings.reference_dir)
    headline_benchmarks = benchmarks.benchmarks_for(headline, settings.la_code, reference, neighbours, year,
                                                    own=results.trend, period=period.id)
    directorate = out_dir / f"directorate_scorecard_{run.period}"
    outputs.append(str(publish_directorate(headline, results.trend, targets, headline_benchmarks, run,
                                           directorate.with_suffix(".xlsx"), data_quality)))
    outputs.append(str(publish_directorate_pdf(headline, results.trend, targets, headline_benchmarks, run,
                                               directorate.with_suffix(".pdf"))))
    if workbook_kpis(kpis) and engine_url:  # the complaints, IRO or survey extracts were supplied
        outputs.append(publish_complaints_participation(results, kpis, period, run, out_dir, engine_url,
                                                        data_quality))
    outputs.append(str(publish_csv.publish_kpi_values(results.values, kpis, out_dir / "kpi_values.csv")))
    return outputs


def publish_drift_delay_area_lists(results: pipeline.PeriodResults, kpis: list[Kpi], run: RunInfo, out_dir: Path,
                                   teams, workers, data_quality: DataQuality | None = None) -> list[str]:
    """The Drift and Delay exception lists once per service area, only its teams' rows:
    what its Head of Service receives (tasks/operations/delivery.py)."""
    lists = [k for k in by_scorecard(kpis, "drift_delay") if k.kind == "exception"]
    records = results.records
    if "period" in records:
        records = records[records["period"] == run.period]
    return publish_area_lists(out_dir, drift_delay_area_lists_name,
                              f"{run.la_name}: Drift and Delay exception lists for {{area}}, {run.period}",
                              lists, results.values, records, teams, workers, run, data_quality,
                              subtitle=f"The Drift and Delay scorecard's lists for {run.period}, this service "
                                       "area's teams only. Internal: names children and workers.")


def publish_complaints_participation(results: pipeline.PeriodResults, kpis: list[Kpi], period: Period,
                                     run: RunInfo, out_dir: Path, engine_url: str,
                                     data_quality: DataQuality | None = None) -> str:
    """The month's Complaints, compliments and participation workbook, with the survey
    questions' text and the reports' plain counts for the month."""
    from tasks.reports import quarterly
    engine = pipeline.warehouse_engine(engine_url)
    failed = data_quality.critical_tables if data_quality is not None else ()
    counts = quarterly.report_counts(engine, period, failed)
    tables = [t for t in (quarterly.count_table(quarterly.COUNT_TABLES[name], rows) for name, rows in counts.items())
              if t]
    return str(publish_complaints_workbook(kpis, results.values, results.trend, run,
                                           out_dir / f"complaints_participation_{run.period}.xlsx",
                                           quarterly.survey_question_texts(engine), data_quality, tables))


@task(name="read_qa_inputs", cache_policy=NO_CACHE)
def read_qa_inputs(period: Period, settings: Settings, engine_url: str,
                   blocked_tables: list[str] = (), with_findings: bool = False) -> qa_outputs.QaInputs:
    """Staff in post and the coming month's audit allocation (seed recorded; the case
    worker of the configured allocated_worker_role); with the optional audit findings,
    their shareable summaries. A planned theme with no cohort rule is a warning asking
    for one; the coming month's is then not drawn."""
    inputs = qa_outputs.qa_inputs(pipeline.warehouse_engine(engine_url), period,
                                  schedule_from_settings(settings.qa), blocked_tables, with_findings,
                                  allocated_role=settings.allocated_worker_role)
    for warning in inputs.themes_without_rule:
        get_run_logger().warning("QA audit allocation: %s", warning)
    get_run_logger().info("QA: %d staff in post; allocation for %s: %d cases, seed %d%s",
                          len(inputs.staff), inputs.allocation_month, len(inputs.allocation),
                          inputs.allocation_seed,
                          f"; no audit theme planned for {', '.join(inputs.months_without_theme)}"
                          if inputs.months_without_theme else "")
    if inputs.allocation_not_drawn:
        get_run_logger().warning("QA audit allocation for %s %s", inputs.allocation_month,
                                 inputs.allocation_not_drawn)
    return inputs


@task(name="render_qa_reports", cache_policy=NO_CACHE)
def render_qa_reports(results: pipeline.PeriodResults, inputs: qa_outputs.QaInputs, kpis: list[Kpi],
                      settings: Settings, run: RunInfo, out_dir: Path,
                      data_quality: DataQuality | None = None, teams=None) -> list[str]:
    """The QA workbook, the monthly QA report (HTML, PDF) and QA on a page (PDF);
    `teams`: unit_tables' teams, with their service areas."""
    targets = qa_outputs.qa_targets(qa_outputs.qa_kpis(kpis), settings.targets,
                                    schedule_from_settings(settings.qa))
    paths = qa_outputs.publish_qa_outputs(inputs, results.values, results.trend, results.records, kpis,
                                          targets, run, out_dir, data_quality, teams)
    get_run_logger().info("QA outputs: %s", ", ".join(p.name for p in paths))
    return [str(p) for p in paths]


@task(name="compute_months", cache_policy=NO_CACHE)
def compute_months(kpis: list[Kpi], quarter: Period, context, engine_url: str):
    """The LA figures of a quarter's three months, a half's two quarters or a financial
    year's four (the reports show them beside the period: tasks/reports/quarterly.py `parts`)."""
    from tasks.reports import quarterly
    return quarterly.month_values(pipeline.warehouse_engine(engine_url), kpis, quarter, context)


@task(name="render_quarterly_reports", cache_policy=NO_CACHE)
def render_quarterly_reports(results: pipeline.PeriodResults, months, kpis: list[Kpi], run: RunInfo,
                             out_dir: Path, engine_url: str, data_quality: DataQuality | None = None) -> list[str]:
    """The complaints and compliments, DRP and IRO, and participation and survey reports, for
    the run's period (a quarter, financial-year half or year), with their plain counts
    (complaint themes, learning actions, DRP outcomes: sql/reports/)."""
    from tasks.reports import quarterly
    engine = pipeline.warehouse_engine(engine_url)
    questions = quarterly.survey_question_texts(engine)
    counts = quarterly.report_counts(engine, Period.parse(run.period),
                                     data_quality.critical_tables if data_quality is not None else ())
    paths = quarterly.render_quarterly_reports(kpis, results.values, results.trend, months, run, out_dir,
                                               questions, data_quality, counts=counts)
    get_run_logger().info("quarterly reports: %s", ", ".join(p.name for p in paths))
    return [str(p) for p in paths]


@task(name="render_qa_period_report", cache_policy=NO_CACHE)
def render_qa_period_report(results: pipeline.PeriodResults, months, kpis: list[Kpi], run: RunInfo,
                            out_dir: Path, engine_url: str, data_quality: DataQuality | None, period: Period,
                            settings: Settings | None = None) -> list[str]:
    """The quarterly QA report (a quarter) or the six-monthly QA report with its proposed
    audit themes (a financial-year half), HTML and PDF, with the LA's targets when given."""
    from tasks.reports import qa_period_report
    targets = qa_period_report.la_targets(kpis, settings.targets) if settings is not None else None
    paths = qa_period_report.render_qa_period_report(results, months, kpis, run, out_dir, engine_url,
                                                     data_quality, period, targets)
    get_run_logger().info("QA %s report: %s", period.kind, ", ".join(Path(p).name for p in paths))
    return paths


@task(name="carry_forward_figures", cache_policy=NO_CACHE)
def carry_forward_figures(results: pipeline.PeriodResults, blocked: dict[str, list[str]], period: Period,
                          run) -> tuple[pipeline.PeriodResults, Withheld]:
    """The withheld KPIs' figures, listed rows and trend as the period's current version
    has them (none when the period was never published): tasks/validate/withheld.py."""
    found = withheld.last_published_run(run.engine, run.flow, period, blocked)
    get_run_logger().warning(found.message())
    return withheld.carry_forward_from_warehouse(run.engine, results, found, period), found


@task(name="report_revisions", cache_policy=NO_CACHE)
def report_revisions(results: pipeline.PeriodResults, period: Period, run) -> tuple[str | None, str]:
    """The revisions report of this run, if it changes a published figure of the period
    (tasks/operations/versions.py). Returns the report (if any) and a note: first
    publication, no figure changed, or how many were revised."""
    report = versions.report_revisions(run.engine, run.flow, period, results.values, run.run_id,
                                       run.reason, run.work_dir)
    if report.previous_run_id is not None:
        get_run_logger().info("%d published figures of %s revised by this run (previous run %s)",
                              report.revised, period.id, report.previous_run_id)
    return (str(report.path) if report.path else None), report.note


@task(name="record_artifacts", cache_policy=NO_CACHE)
def record_artifacts(results, kpis: list[Kpi], run: RunInfo, outputs: list[str],
                     revisions: str | None = None,
                     data_quality: str = NOT_CHECKED, revision_note: str = "none") -> None:
    create_markdown_artifact(summary.monthly_summary(results, kpis, run, data_quality, revisions, revision_note),
                             key=f"monthly-{run.period}",
                             description=f"Headline figures for {run.period}")
    record_links(outputs)


def record_links(outputs: list[str]) -> None:
    for output in outputs:
        create_link_artifact(Path(output).resolve().as_uri(), link_text=Path(output).name)


# --- daily and weekly: live lists as at one day --------------------------------------

@task(name="compute_live_lists", cache_policy=NO_CACHE)
def compute_live_lists(kpis: list[Kpi], period: Period, context, engine_url: str):
    """Figures at every level and the attributed rows, as at the period's end day."""
    from tasks.kpis.compute import compute_period
    values, records = compute_period(pipeline.warehouse_engine(engine_url), kpis, period, context)
    get_run_logger().info("computed %d figures and %d listed rows as at %s", len(values),
                          int(records["in_numerator"].sum()) if len(records) else 0, period.id)
    return values, records


@task(name="find_escalations", cache_policy=NO_CACHE)
def find_escalations(as_at, engine_url: str):
    """Audits graded Inadequate not yet on an earlier day's list, with their Head of Service."""
    from tasks.kpis.qa import inadequate_audits_for_escalation
    rows = inadequate_audits_for_escalation(pipeline.warehouse_engine(engine_url), as_at)
    get_run_logger().info("%d audit(s) graded Inadequate to escalate to a Head of Service",
                          rows["audit_id"].nunique())
    return rows


@task(name="store_live_results", cache_policy=NO_CACHE)
def store_live_results(values, records, run_id: str, engine_url: str) -> None:
    warehouse.store_results(pipeline.warehouse_engine(engine_url), run_id, values, records)


@task(name="record_live_artifacts", cache_policy=NO_CACHE)
def record_live_artifacts(flow: str, values, kpis: list[Kpi], run: RunInfo, outputs: list[str],
                          data_quality: str = NOT_CHECKED, escalations=None) -> None:
    create_markdown_artifact(summary.live_lists_summary(flow, values, kpis, run, outputs, data_quality, escalations),
                             key=f"{flow}-{run.period}",
                             description=f"{flow} exception counts as at {run.period}")
    record_links(outputs)


@task(name="deliver_outputs", cache_policy=NO_CACHE)
def deliver_outputs(result: dict, settings: Settings, trigger: str | None = None, force: bool = False) -> list[str]:
    """After publishing: deliver the run's outputs to every audience due (only a run that
    became the current version; a re-run of a period already delivered sends nothing
    unless `force`, and a backfill delivers only when asked). Never fails the run: a
    failed or refused delivery is recorded and alerted (tasks/operations/delivery.py).
    Logs audiences, outcomes and file names only."""
    from tasks.kpis.registry import load_registry
    from tasks.operations import delivery
    if result.get("skipped") or (trigger == "backfill" and not force):
        return []
    logger = get_run_logger()
    try:
        engine = pipeline.warehouse_engine(settings.resolved_warehouse_url)
        outcomes = delivery.deliver_run(engine, settings, result["flow"], result["period"], result["run_id"],
                                        load_registry(settings.kpis.registry), force=force)
    except Exception as error:  # the run is published; delivery is told and can be repeated by hand
        line = f"delivery of {result['flow']} {result['period']} stopped: {type(error).__name__}: {error}"
        logger.error(line)
        notify.send(settings.notifications, f"qaloop: delivery FAILED: {result['flow']} {result['period']}",
                    line + f"\nSend it by hand: qaloop deliver --period {result['period']}")
        return [line]
    lines = [o.line() for o in outcomes]
    for line in lines:
        logger.info("delivery: %s", line)
    return lines
