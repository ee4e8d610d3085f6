"""The regional flow: one monthly run per member LA on a Prefect work pool, then the
regional benchmarking workbook.

    qaloop run region --period 2024-03 --config region.toml

region.toml (tasks/core/region.py) lists the member LAs, the region's PostgreSQL
warehouse and the work pool. The flow submits one flow run of the monthly flow's
deployment (`monthly/region-member`, `deploy_member_runs`) per LA with Prefect's
`run_deployment`, so that the pool's workers, on any number of machines, share the
work; it then waits for them and collects how each ended. Each LA's run is the
ordinary monthly flow with its own source, out folder and schema of the region's
warehouse (tasks/warehouse/region.py): one LA's failure (a data-quality refusal, a
source down) ends that run only. The LA-level figures each member published are
gathered into `region.kpi_values`, keyed by LA code, and compared in the regional
benchmarking workbook (tasks/publish/region_workbook.py), written to the region's
`out` folder as `<period>/regional_benchmarking_<period>.xlsx`.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run as runtime_flow_run

from flows import runner
from tasks.core.paths import PROJECT_ROOT
from tasks.core.periods import Period, latest_complete_month
from tasks.core.region import MEMBER_DEPLOYMENT, Member, RegionConfig, load_region
from tasks.core.settings import code_version, resolved_secrets, with_password
from tasks.kpis.registry import computed_for, load_registry
from tasks.publish.lineage import RunInfo
from tasks.publish.region_workbook import MemberOutcome, publish_region_workbook
from tasks.warehouse import database as warehouse
from tasks.warehouse import region as regional

POLL_SECONDS = 5
NOT_SUBMITTED = "Not submitted"
TIMED_OUT = "Still running"


@flow(name="region", log_prints=True)
def region(period: str | None = None, config: str = "") -> dict:
    """Run every member LA's monthly flow for the month on the work pool, wait for them,
    gather what each published and write the regional benchmarking workbook. Returns
    each LA's outcome; a Completed state named "Some LAs failed" when any did not publish."""
    region_config = load_region(config)
    month = Period.month(period) if period else latest_complete_month(runner.london_today())
    engine = regional_engine(region_config)
    regional.prepare(engine, [member.schema for member in region_config.members])
    submitted = {member.code: submit_member_run(region_config, member, month) for member in region_config.members}
    finished = wait_for_runs(submitted, region_config.wait_hours * 3600)
    outcomes = [outcome_of(member, finished.get(member.code), submitted[member.code]) for member in region_config.members]
    for member, outcome in zip(region_config.members, outcomes):
        if outcome.published:
            regional.gather_published(engine, member.schema, member.code, member.name,
                                      outcome.flow_run_id, month.id)
    workbook = publish_region_workbook(
        computed_for(load_registry(), month), regional.regional_values(engine, month.id), outcomes,
        region_config.name, _run_info(region_config, month),
        Path(region_config.out) / month.id / f"regional_benchmarking_{month.id}.xlsx")
    engine.dispose()
    logger = get_run_logger()
    for outcome in outcomes:
        logger.info("%s (%s): %s %s", outcome.name, outcome.code, outcome.state, outcome.message)
    result = {"period": month.id, "workbook": str(workbook),
              "members": [outcome.__dict__ for outcome in outcomes]}
    failed = [o for o in outcomes if not o.published]
    if not failed:
        return result
    from prefect.states import Completed
    return Completed(name="Some LAs failed", data=result, message="not published: " + "; ".join(
        f"{o.name} ({o.code}) {o.state}" for o in failed))


def regional_engine(region_config: RegionConfig):
    """The region's warehouse, with its password (QALOOP_WAREHOUSE_PASSWORD) put back."""
    password = resolved_secrets({}, from_blocks=False)["warehouse_password"]
    return warehouse.make_engine(with_password(region_config.warehouse_url, password))


def submit_member_run(region_config: RegionConfig, member: Member, month: Period):
    """One flow run of the monthly deployment for the LA, returned at once (timeout=0):
    the pool's workers pick it up. An error here (the deployment missing) is that LA's."""
    from prefect.deployments import run_deployment
    parameters = {"period": month.id, "source": member.run_source, "out": member.out,
                  "config": member.config, "trigger": "region",
                  "member": region_config.member_settings(member)}
    try:
        return run_deployment(region_config.deployment, parameters=parameters, timeout=0,
                              flow_run_name=f"monthly {month.id} {member.code}",
                              tags=["qaloop", "region", f"la:{member.code}"])
    except Exception as error:
        get_run_logger().error("%s (%s): not submitted: %s", member.name, member.code, runner.first_line(error))
        return error


def wait_for_runs(submitted: dict, seconds: float) -> dict:
    """The members' flow runs once each has reached a final state (or as they are after
    `seconds`), by LA code. Stopped while waiting (Ctrl-C on `qaloop run region`, the
    process terminated), it cancels the members' runs not yet ended before it stops:
    they would otherwise run on, on the workers, for a regional run that is no more."""
    from prefect.client.orchestration import get_client
    pending = {code: run.id for code, run in submitted.items() if not isinstance(run, Exception)}
    finished = {}
    deadline = time.monotonic() + seconds
    with get_client(sync_client=True) as client:
        try:
            while pending:
                for code, run_id in list(pending.items()):
                    run = client.read_flow_run(run_id)
                    if (run.state and run.state.is_final()) or time.monotonic() >= deadline:
                        finished[code] = run
                        del pending[code]
                if pending:
                    time.sleep(POLL_SECONDS)
        except BaseException:
            cancel_runs(client, list(pending.values()))
            raise
    return finished


def cancel_runs(client, run_ids: list) -> None:
    """Cancel flow runs of the member deployment, as the Prefect UI would: one not yet
    picked up by a worker is Cancelled; one a worker runs is Cancelling, and the worker
    stops its process."""
    from prefect.states import Cancelled, Cancelling
    message = "The regional run that submitted it was stopped."
    for run_id in run_ids:
        state = client.read_flow_run(run_id).state
        if state is None or state.is_final():
            continue
        new_state = Cancelled(message=message) if state.is_scheduled() else Cancelling(message=message)
        client.set_flow_run_state(run_id, new_state)


def outcome_of(member: Member, run, submitted) -> MemberOutcome:
    if run is None:
        return MemberOutcome(member.code, member.name, NOT_SUBMITTED, runner.first_line(submitted))
    state = run.state
    if state is None or not state.is_final():
        return MemberOutcome(member.code, member.name, TIMED_OUT, "the regional run stopped waiting",
                             str(run.id))
    message = (state.message or "").strip().splitlines()
    return MemberOutcome(member.code, member.name, state.name, message[0][:300] if message else "",
                         str(run.id), published=state.is_completed())


def _run_info(region_config: RegionConfig, month: Period) -> RunInfo:
    return RunInfo(period=month.id, run_id=str(runtime_flow_run.get_id() or uuid.uuid4()),
                   code_version=code_version(), la_code="", la_name=region_config.name,
                   synthetic=any(member.synthetic for member in region_config.members),
                   started_at=warehouse.utcnow().isoformat(timespec="seconds"), source="",
                   population=0, population_year=0)


def deploy_member_runs(region_config: RegionConfig) -> str | None:
    """Create (or update) the monthly flow's deployment the members' runs go to, on the
    region's work pool, run from this checkout (PROJECT_ROOT: the same path on every
    worker machine). A deployment of another name is the operator's: left as it is."""
    if region_config.deployment != f"monthly/{MEMBER_DEPLOYMENT}":
        return None
    from flows.monthly import monthly
    source = monthly.from_source(source=str(PROJECT_ROOT), entrypoint="flows/monthly.py:monthly")
    source.deploy(name=MEMBER_DEPLOYMENT, work_pool_name=region_config.work_pool, build=False, push=False,
                  tags=["qaloop", "region"], print_next_steps=False, ignore_warnings=True,
                  description="One member LA's monthly run, submitted by the regional flow (flows/region.py).")
    return region_config.deployment
