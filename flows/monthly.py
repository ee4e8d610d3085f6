"""The monthly flow: extract -> archive -> load -> compute -> store -> publish.

    qaloop run monthly --period 2024-03 --source extracts/ --out published/
"""

from __future__ import annotations

import uuid
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import steps
from qaloop.settings import Settings, code_version, load_settings, redact_url
from tasks import publish_csv, warehouse
from tasks.periods import Period
from tasks.pipeline import la_context, warehouse_engine
from tasks.publish_excel import RunInfo
from tasks.registry import load_registry


@flow(name="monthly", log_prints=True)
def monthly(period: str, source: str, out: str, config: str | None = None,
            trigger: str = "manual", reason: str | None = None,
            settings: Settings | None = None) -> dict:
    """Publish the Safety and Drift and Delay scorecards and kpi_values.csv for a month."""
    settings = settings or load_settings(config)
    month = Period.month(period)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    engine_url = settings.resolved_warehouse_url
    engine = warehouse_engine(engine_url)
    warehouse.start_run(engine, run_id, "monthly", month.id, trigger, code_version(),
                        redact_url(str(source)), reason)
    try:
        outputs = _run_steps(month, source, Path(out) / month.id, settings, run_id, engine_url)
    except Exception as error:
        warehouse.finish_run(engine, run_id, "Failed", f"{type(error).__name__}: {error}")
        raise
    warehouse.finish_run(engine, run_id, "Completed", outputs=outputs)
    return {"run_id": run_id, "period": month.id, "outputs": outputs}


def _run_steps(month: Period, source: str, out_dir: Path, settings: Settings, run_id: str,
               engine_url: str) -> list[str]:
    kpis = load_registry()
    context, population_year = la_context(settings, month)
    extracts = steps.extract_sources(str(source), settings)
    manifest = steps.archive_extracts(extracts, settings, run_id, engine_url)
    steps.load_warehouse(extracts, engine_url)
    results = steps.compute_scorecards(kpis, month, context, engine_url, settings.trend_months)
    run = RunInfo(period=month.id, run_id=run_id, code_version=code_version(),
                  la_code=context.la_code, la_name=context.la_name, synthetic=settings.synthetic,
                  started_at=warehouse.utcnow().isoformat(timespec="seconds"),
                  source=redact_url(str(source)), population=context.population_0_17,
                  population_year=population_year, extracts=manifest)
    outputs = steps.publish_workbooks(results, kpis, settings, run, out_dir, engine_url)
    metadata = {**run.__dict__, "outputs": [Path(o).name for o in outputs]}
    outputs.append(str(publish_csv.publish_run_metadata(metadata, out_dir / "run_metadata.json")))
    steps.store_results(results, run_id, month, engine_url)
    steps.record_artifacts(results, kpis, run, outputs)
    return outputs
