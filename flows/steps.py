"""Thin Prefect task wrappers around the plain functions of `tasks/`.

Only counts and ids of runs are logged here: never child-level data.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.logging import get_run_logger

from qaloop.settings import Settings
from tasks import extract, pipeline, publish_csv, warehouse
from tasks.periods import Period
from tasks.publish_excel import RunInfo, publish_scorecard
from tasks.rag import targets_for
from tasks.registry import Kpi, by_scorecard

SCORECARDS = {"safety": "Safety Scorecard", "drift_delay": "Drift and Delay Scorecard"}


@task(name="extract_sources", retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=lambda task, run, state: not isinstance(
          state.result(raise_on_failure=False), extract.ExtractError))
def extract_sources(source: str, settings: Settings) -> dict[str, extract.Extract]:
    """Read the extracts; a database source is retried with back-off, bad input is not."""
    extracts = extract.extract_sources(source, settings.mappings)
    get_run_logger().info("extracted %d tables, %d rows", len(extracts),
                          sum(len(e.frame) for e in extracts.values()))
    return extracts


@task(name="archive_extracts")
def archive_extracts(extracts, settings: Settings, run_id: str, engine_url: str) -> list[dict]:
    manifest = extract.archive_extracts(extracts, settings.archive_dir, run_id)
    warehouse.record_extracts(pipeline.warehouse_engine(engine_url), run_id, manifest)
    return manifest


@task(name="load_warehouse")
def load_warehouse(extracts, engine_url: str) -> dict[str, int]:
    counts = pipeline.load_extracts(pipeline.warehouse_engine(engine_url), extracts)
    get_run_logger().info("loaded %d tables in one transaction", len(counts))
    return counts


@task(name="compute_scorecards")
def compute_scorecards(kpis: list[Kpi], period: Period, context, engine_url: str,
                       trend_months: int) -> pipeline.PeriodResults:
    results = pipeline.compute_with_trend(pipeline.warehouse_engine(engine_url), kpis,
                                          period, context, trend_months)
    get_run_logger().info("computed %d figures for %s and %d trend figures",
                          len(results.values), period.id, len(results.trend))
    return results


@task(name="store_results")
def store_results(results: pipeline.PeriodResults, run_id: str, period: Period,
                  engine_url: str) -> None:
    history = results.trend[results.trend["period"] != period.id]
    warehouse.store_results(pipeline.warehouse_engine(engine_url), run_id, "monthly", period.id,
                            _concat(results.values, history), results.records)


def _concat(first, second):
    import pandas as pd
    return pd.concat([first, second], ignore_index=True)


@task(name="publish_workbooks")
def publish_workbooks(results: pipeline.PeriodResults, kpis: list[Kpi], settings: Settings,
                      run: RunInfo, out_dir: Path, engine_url: str) -> list[str]:
    teams, workers = pipeline.unit_tables(pipeline.warehouse_engine(engine_url))
    targets = targets_for(kpis, settings.targets)
    outputs = []
    for scorecard in SCORECARDS:
        path = out_dir / f"{scorecard}_scorecard_{run.period}.xlsx"
        publish_scorecard(scorecard, by_scorecard(kpis, scorecard), results.values,
                          results.trend, results.records, teams, workers, targets, run, path)
        outputs.append(str(path))
    outputs.append(str(publish_csv.publish_kpi_values(results.values, kpis, out_dir / "kpi_values.csv")))
    return outputs


def summary_markdown(results: pipeline.PeriodResults, kpis: list[Kpi], run: RunInfo) -> str:
    """Headline LA figures and exception counts for the run's Prefect artifact."""
    la = results.values[results.values["level"] == "la"].set_index("kpi_id")
    lines = [f"# {run.la_name}: monthly scorecards for {run.period}",
             "", "**SYNTHETIC DATA**" if run.synthetic else "", "",
             "| KPI | name | value |", "|---|---|---|"]
    for kpi in kpis:
        value = la["value"].get(kpi.id)
        shown = "n/a" if value is None or value != value else f"{value:g}"
        lines.append(f"| {kpi.id} | {kpi.name} | {shown} |")
    return "\n".join(lines)


@task(name="record_artifacts")
def record_artifacts(results, kpis: list[Kpi], run: RunInfo, outputs: list[str]) -> None:
    create_markdown_artifact(summary_markdown(results, kpis, run), key=f"monthly-{run.period}",
                             description=f"Headline figures for {run.period}")
    for output in outputs:
        create_link_artifact(Path(output).resolve().as_uri(), link_text=Path(output).name)
