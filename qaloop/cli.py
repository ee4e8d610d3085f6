"""The `qaloop` command line.

    qaloop demo [--out DIR] [--children N] [--period YYYY-MM]
    qaloop generate --out DIR [--children N] [--seed N] [--as-at YYYY-MM-DD]
    qaloop run monthly --period YYYY-MM --source DIR_OR_URL --out DIR [--config FILE]
                 [--reason TEXT] [--accept-stale] [--wait]
    qaloop run daily|weekly [--as-at YYYY-MM-DD] --source DIR_OR_URL --out DIR [--config FILE]
    qaloop run quarterly --period YYYY-Qn --source DIR_OR_URL --out DIR [--config FILE]
    qaloop run six-monthly --period YYYY-YY-Hn (or YYYY-Hn) ... (as quarterly)
    qaloop run annual --period YYYY-YY ... (as quarterly)
    qaloop run region --period YYYY-MM --config region.toml   (PREFECT_API_URL: the workers' server)
    qaloop rerun monthly --from YYYY-MM --to YYYY-MM --source DIR_OR_URL --out DIR
                 [--reason TEXT] [--max-parallel N] [--config FILE]
    qaloop rerun quarterly --from YYYY-Qn --to YYYY-Qn ... (as monthly)
    qaloop rerun six-monthly --from YYYY-YY-Hn --to YYYY-YY-Hn ... (as monthly)
    qaloop rerun annual --from YYYY-YY --to YYYY-YY ... (as monthly)
    qaloop serve [--source DIR_OR_URL] [--out DIR] [--config FILE]
    qaloop status [--config FILE] [--alert]
    qaloop versions --period PERIOD [--flow monthly|quarterly|six-monthly|annual|daily|weekly] [--config FILE]
    qaloop rollback --period PERIOD --to RUN_ID --reason TEXT [--flow ...] [--out DIR] [--config FILE]
    qaloop deliver --period PERIOD [--audience NAME ...] [--dry-run] [--config FILE]
    qaloop approve --period PERIOD --audience NAME [--by NAME] [--note TEXT] [--no-send] [--config FILE]
    qaloop deliveries [--period PERIOD] [--audience NAME] [--config FILE]
    qaloop settings [--config FILE]
    qaloop prefect-yaml [--check]

Exit statuses: 0 done (published in full or in part; for `status --alert`, nothing to
report), 1 an unexpected error (a bug: the traceback is printed), 2 the source could not
be read, 3 refused (the same period was being run) or a rollback refused, 4 failed on
data quality (nothing published), 5 infrastructure: the Prefect server or the warehouse
could not be used (nothing run), 6 `status --alert` found something and told people,
7 the run was cancelled (nothing published), 8 a regional run in which a member LA did
not publish (the others did). `prefect-yaml --check` exits 1 when the
committed deployments/prefect.yaml is out of date with deployments/schedules.yml.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

DEMO_SEED = 2024
DEMO_CHILDREN = 3000
DEMO_LA_CODE = "841"  # Darlington: real DfE benchmarks and population, synthetic children
EXIT_BAD_SOURCE, EXIT_REFUSED, EXIT_DATA_QUALITY, EXIT_INFRASTRUCTURE, EXIT_ALERTED, EXIT_CANCELLED = 2, 3, 4, 5, 6, 7
EXIT_MEMBER_FAILED = 8
# the flows of one period each: flow -> (module, function, what a run with no period takes)
PERIOD_FLOWS = {"monthly": ("flows.monthly", "monthly", "the latest month"),
                "quarterly": ("flows.quarterly", "quarterly", "the latest quarter"),
                "six-monthly": ("flows.six_monthly", "six_monthly", "the latest half-year"),
                "annual": ("flows.annual", "annual", "the latest financial year")}


def prepare_prefect_environment(data_dir: Path) -> None:
    """Quiet, private Prefect defaults, set before Prefect is imported. Without a
    PREFECT_API_URL, runs go to a temporary local server whose database lives under the
    data directory, so `prefect server start` with the same PREFECT_HOME shows them."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.infrastructure import set_startup_wait
    set_startup_wait()  # Prefect's 20 s is too short on a busy machine
    if "PREFECT_API_URL" not in os.environ:
        home = Path(os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve())))
        home.mkdir(parents=True, exist_ok=True)  # its SQLite database cannot be created otherwise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qaloop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate the synthetic LA and run the monthly, quarterly and "
                                            "six-monthly jobs")
    demo.add_argument("--out", default="demo-output", help="folder for the published outputs")
    demo.add_argument("--children", type=int, default=DEMO_CHILDREN)
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument("--period", help="YYYY-MM (default: the latest complete month)")
    demo.add_argument("--data-dir", default=None, help="warehouse, archive and Prefect home")

    generate = commands.add_parser("generate", help="write a synthetic LA's extracts")
    generate.add_argument("--out", required=True)
    generate.add_argument("--children", type=int, default=DEMO_CHILDREN)
    generate.add_argument("--seed", type=int, default=DEMO_SEED)
    generate.add_argument("--as-at", type=date.fromisoformat, default=None,
                          help="extract date (default: 5 days after the latest complete month)")

    run = commands.add_parser("run", help="run a flow for one period")
    run.add_argument("flow", choices=[*PERIOD_FLOWS, "daily", "weekly", "region"])
    run.add_argument("--period", help="YYYY-MM (monthly, region), YYYY-Qn (quarterly), YYYY-YY-Hn or YYYY-Hn "
                                      "(six-monthly: 2024-25-H1 = 2024-H1 = April-September 2024) or "
                                      "YYYY-YY (annual: 2024-25); default: the latest complete one")
    run.add_argument("--as-at", help="YYYY-MM-DD (daily, weekly; default: yesterday)")
    run.add_argument("--source", help="drop folder or SQLAlchemy URL (every flow but region)")
    run.add_argument("--out", help="folder for the published outputs (every flow but region)")
    run.add_argument("--config", default=None, help="TOML configuration file (region: region.toml)")
    run.add_argument("--reason", default=None, help="why this run (kept in the run ledger)")
    run.add_argument("--accept-stale", action="store_true",
                     help="publish from an extract the freshness check calls stale (needs --reason; "
                          "recorded in the ledger)")
    run.add_argument("--wait", action="store_true",
                     help="wait for a late extract until [arrival] wait_until, as scheduled runs do")
    run.add_argument("--deliver", action="store_true",
                     help="deliver to the audiences even if this period was delivered before")

    rerun = commands.add_parser("rerun", help="re-run historic periods (backfill)")
    rerun.add_argument("flow", choices=list(PERIOD_FLOWS))
    rerun.add_argument("--from", dest="first", required=True,
                       help="first period: YYYY-MM, YYYY-Qn, YYYY-YY-Hn or YYYY-YY (as the flow takes)")
    rerun.add_argument("--to", dest="last", required=True, help="last period, of the same kind")
    rerun.add_argument("--source", required=True, help="drop folder or SQLAlchemy URL")
    rerun.add_argument("--out", required=True, help="folder for the published outputs")
    rerun.add_argument("--reason", default=None, help="why (kept in the ledger and revisions report)")
    rerun.add_argument("--max-parallel", type=int, default=None, help="periods at a time (default 2)")
    rerun.add_argument("--config", default=None, help="TOML configuration file")

    serve = commands.add_parser("serve", help="run every cadence on its schedule (Prefect serve)")
    serve.add_argument("--source", default=None, help="default: $QALOOP_SOURCE")
    serve.add_argument("--out", default=None, help="default: $QALOOP_PUBLISH_DIR")
    serve.add_argument("--config", default=None, help="default: $QALOOP_CONFIG")

    status = commands.add_parser("status", help="deployments, late runs, current versions, failures, revisions")
    status.add_argument("--config", default=None, help="TOML configuration file")
    status.add_argument("--alert", action="store_true",
                        help="notify the configured channels of anything wrong (serve down, a run Late, "
                             "a period failed); exit 6 when something is wrong")

    listing = commands.add_parser("versions", help="every run of one period and which is current")
    listing.add_argument("--period", required=True, help="YYYY-MM, or YYYY-MM-DD for daily/weekly")
    listing.add_argument("--flow", choices=[*PERIOD_FLOWS, "daily", "weekly"], default="monthly")
    listing.add_argument("--config", default=None, help="TOML configuration file")

    rollback = commands.add_parser("rollback", help="make an earlier version of a period current again")
    rollback.add_argument("--period", required=True)
    rollback.add_argument("--to", dest="run_id", required=True, help="the run id to make current")
    rollback.add_argument("--reason", required=True, help="why (kept in the ledger)")
    rollback.add_argument("--flow", choices=[*PERIOD_FLOWS, "daily", "weekly"], default="monthly")
    rollback.add_argument("--out", default=None, help="the published folder (default: the run's own)")
    rollback.add_argument("--config", default=None, help="TOML configuration file")

    sending = commands.add_parser("deliver", help="deliver (or preview) a period's outputs to its audiences")
    sending.add_argument("--period", required=True, help="YYYY-MM (monthly) or YYYY-MM-DD (daily, weekly)")
    sending.add_argument("--audience", action="append", default=None,
                         help="this audience only (repeatable): sent again even if sent before")
    sending.add_argument("--dry-run", action="store_true",
                         help="print every recipient, subject and attachment; send and record nothing")
    sending.add_argument("--config", default=None, help="TOML configuration file")

    approving = commands.add_parser("approve", help="approve an audience's delivery of a period (who and when)")
    approving.add_argument("--period", required=True)
    approving.add_argument("--audience", required=True)
    approving.add_argument("--by", default=None, help="the approver's name (default: the login name)")
    approving.add_argument("--note", default=None)
    approving.add_argument("--no-send", action="store_true", help="record the approval only")
    approving.add_argument("--config", default=None, help="TOML configuration file")

    ledger = commands.add_parser("deliveries", help="what went to whom: the deliveries ledger")
    ledger.add_argument("--period", default=None)
    ledger.add_argument("--audience", default=None)
    ledger.add_argument("--config", default=None, help="TOML configuration file")

    shown = commands.add_parser("settings", help="print the effective settings as TOML (secrets masked)")
    shown.add_argument("--config", default=None, help="TOML configuration file (default: $QALOOP_CONFIG)")

    generated = commands.add_parser("prefect-yaml",
                                    help="write deployments/prefect.yaml from deployments/schedules.yml")
    generated.add_argument("--check", action="store_true",
                           help="write nothing; exit 1 when the committed prefect.yaml is out of date")
    return parser


def command_settings(args) -> int:
    """The effective settings as TOML, each value with where it came from; secrets masked."""
    from tasks.core.settings import SettingsError, load_settings, settings_text, value_sources
    try:
        settings = load_settings(args.config, resolve_secrets=False)
    except (SettingsError, FileNotFoundError) as error:
        print(f"qaloop: {error}", file=sys.stderr)
        return 2
    print(settings_text(settings, value_sources(args.config)), end="")
    return 0


def command_prefect_yaml(args) -> int:
    from flows.cadences import PREFECT_YAML, write_prefect_yaml
    if args.check:
        if write_prefect_yaml(check=True):
            print(f"{PREFECT_YAML} is up to date with deployments/schedules.yml")
            return 0
        print(f"qaloop: {PREFECT_YAML} is out of date: run `qaloop prefect-yaml` and commit it",
              file=sys.stderr)
        return 1
    write_prefect_yaml()
    print(f"wrote {PREFECT_YAML}")
    return 0


def default_period() -> str:
    """The latest complete month: the only place the clock picks a period."""
    from tasks.core.periods import latest_complete_month
    return latest_complete_month(date.today()).id


def demo_extract_date(period_id: str, today: date | None = None) -> date:
    """5 days after the period end (so some records post-date it, as in real extracts),
    but never after today: validation rejects dates after the extract date."""
    from tasks.core.periods import Period
    end = Period.month(period_id).end
    return min(end + timedelta(days=5), max(today or date.today(), end))


def command_generate(args) -> int:
    from qaloop.synthetic import generate_la
    as_at = args.as_at or demo_extract_date(default_period())
    started = time.perf_counter()
    files = generate_la(Path(args.out), as_at=as_at, children=args.children, seed=args.seed)
    print(f"wrote {len(files)} synthetic tables to {args.out} "
          f"(extract date {as_at}, {time.perf_counter() - started:.1f} s)")
    return 0


def command_demo(args) -> int:
    from tasks.core.settings import load_settings
    from tasks.core.periods import Period
    from qaloop.synthetic import AUDIT_THEME_RULES, planned_themes
    period = args.period or default_period()
    # the synthetic LA's audit themes, planned from the period to 6 months after the next
    themes = planned_themes(Period.month(period).start, 8, args.seed)
    settings = load_settings(None, resolve_secrets=False,
                             data_dir=Path(args.data_dir) if args.data_dir else None)
    config = write_demo_config(settings.data_dir, themes, Path(args.out), AUDIT_THEME_RULES)
    extracts_dir = settings.data_dir / "demo-extracts"
    print(f"qaloop demo: SYNTHETIC local authority ({args.children} children, seed {args.seed}), "
          f"benchmarks of LA {DEMO_LA_CODE}, period {period}")
    args.out, out = str(extracts_dir), args.out
    args.as_at = demo_extract_date(period)
    command_generate(args)
    status = _run_period("monthly", period, str(extracts_dir), out, settings.data_dir, config=str(config))
    if status == EXIT_INFRASTRUCTURE:  # a busy machine: one more try before giving up
        print("qaloop demo: trying once more", file=sys.stderr)
        status = _run_period("monthly", period, str(extracts_dir), out, settings.data_dir, config=str(config))
    if status == 0:
        print(f"\ndeliveries (folder drops, each with its manifest.json): {Path(out).resolve() / 'delivered'}\n"
              f"  the ledger: qaloop deliveries --period {period} --config {config}\n"
              f"  DLT waits for approval: qaloop approve --period {period} --audience dlt --by NAME --config {config}")
    runs = demo_runs(period)
    for flow, flow_period in runs[1:]:
        if status != 0:
            break
        print(f"qaloop demo: {flow} reports for {flow_period}")
        status = _run_period(flow, flow_period, str(extracts_dir), out, settings.data_dir, config=str(config))
    if status == 0:
        print(demo_summary(Path(out), runs))
    return status


def demo_runs(period_id: str) -> list[tuple[str, str]]:
    """[(flow, period)] the demo runs from one extract: the month; the latest quarter and
    half-year complete by the month's end, after the quarter's last month (the quarterly QA
    report shows the figures published for each quarter-end month: without it, every one
    reads "not published")."""
    from tasks.core.periods import Period
    periods = demo_periods(period_id)
    quarter_end = Period.quarter(periods["quarterly"]).last_month.id
    return [("monthly", period_id), *([("monthly", quarter_end)] if quarter_end != period_id else []),
            *periods.items()]


def demo_periods(period_id: str) -> dict[str, str]:
    """The latest calendar quarter and financial-year half complete at the end of the demo's month."""
    from tasks.core.periods import Period, latest_complete_half, latest_complete_quarter
    day_after = Period.month(period_id).end + timedelta(days=1)
    return {"quarterly": latest_complete_quarter(day_after).id, "six-monthly": latest_complete_half(day_after).id}


def demo_summary(out: Path, runs: list[tuple[str, str]]) -> str:
    """Where each of the demo's runs published its outputs."""
    from tasks.operations.versions import published_dir
    lines = ["", "qaloop demo: the outputs (SYNTHETIC data) are in"]
    for flow, period in runs:
        folder = published_dir(out.resolve(), flow, period)  # the current version (a link to its run)
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        lines.append(f"  {flow:<12} {period:<11} {folder}")
        lines += [f"      {name}" for name in names]
    return "\n".join(lines)


# the demo's audiences: folder drops under OUT/delivered/<audience>/<scope>/<period>/
DEMO_AUDIENCES = {
    "dlt": {"description": "Directorate Leadership Team (waits for approval)", "channel": "folder",
            "outputs": ["directorate_scorecard", "directorate_scorecard_pdf", "qa_monthly_report"],
            "cadence": "monthly", "level": "aggregate", "scope": "la", "approval": True},
    "improvement_board": {"description": "Improvement board (sent without approval in the demo)",
                          "channel": "folder", "outputs": ["directorate_scorecard_pdf", "qa_on_a_page"],
                          "cadence": "monthly", "level": "aggregate", "scope": "la", "approval": False},
    "performance_team": {"description": "Performance team: child-level", "channel": "folder",
                         "outputs": ["drift_delay_scorecard", "qa_activity", "kpi_values"],
                         "cadence": "monthly", "level": "child", "scope": "la", "approval": False},
    "heads_of_service": {"description": "Each Head of Service: their service area's Drift and Delay lists",
                         "channel": "folder", "outputs": ["drift_delay_area_lists"], "cadence": "monthly",
                         "level": "child", "scope": "service_area", "approval": False},
}


def write_demo_config(data_dir: Path, themes: dict[str, str], out: Path | None = None,
                      theme_rules: dict[str, list[str]] | None = None) -> Path:
    """The demo's settings as a configuration file: a flow is given its configuration's
    path, never the settings themselves (README, "Security"). Its audiences deliver by
    folder drop into OUT/delivered/ (no mail leaves the machine)."""
    from tasks.core.settings import config_text
    from tasks.publish.csv_files import write_atomically
    values = {"la_code": DEMO_LA_CODE, "synthetic": True, "data_dir": str(data_dir.resolve()),
              "qa": {"themes": themes, "theme_keywords": dict(theme_rules or {})}}
    if out is not None:
        values["delivery"] = {"folder": str((Path(out) / "delivered").resolve()), "audiences": DEMO_AUDIENCES}
    return write_atomically(data_dir / "demo.toml", "# written by `qaloop demo`\n" + config_text(values))


def refused_source(source: str | None) -> str | None:
    """Why a --source cannot be given to a flow (it carries a password), or None."""
    from tasks.core.settings import PasswordInParameter, refuse_password_in
    try:
        refuse_password_in(source)
    except PasswordInParameter as error:
        return f"qaloop: not run: {error}"
    return None


def refused_benchmarks(settings) -> str | None:
    """Why the configuration's [benchmarks] mapping cannot be used (a KPI id, key, file,
    column or filter it names is wrong), or None: checked before anything is read."""
    if not settings.benchmarks:
        return None
    from tasks.kpis.benchmarks import configured_kpis
    from tasks.kpis.registry import load_registry
    try:
        configured_kpis(load_registry(), settings.benchmarks, settings.reference_dir)
    except (ValueError, FileNotFoundError) as error:
        return f"qaloop: not run: the configuration's {error}"
    return None


def command_run(args) -> int:
    from tasks.core.settings import load_settings
    if args.flow == "region":
        return _run_region(args.period, args.config)
    if not (args.source and args.out):
        print(f"qaloop: run {args.flow} needs --source and --out", file=sys.stderr)
        return 2
    if refused := refused_source(args.source):
        print(refused, file=sys.stderr)
        return 2
    if args.accept_stale and not (args.reason or "").strip():
        print("qaloop: --accept-stale needs --reason TEXT (kept in the run ledger)", file=sys.stderr)
        return 2
    settings = load_settings(args.config, resolve_secrets=False)
    if refused := refused_benchmarks(settings):
        print(refused, file=sys.stderr)
        return 2
    knowingly = {"accept_stale": args.accept_stale, "wait_for_extract": args.wait or None,
                 "deliver": args.deliver}
    if args.flow in PERIOD_FLOWS:
        return _run_period(args.flow, args.period, args.source, args.out, settings.data_dir, config=args.config,
                           reason=args.reason, **knowingly)
    prepare_prefect_environment(settings.data_dir)
    from flows import exceptions
    flow = exceptions.daily if args.flow == "daily" else exceptions.weekly
    default = "yesterday" if args.flow == "daily" else "the last complete week"
    return _report(args.flow, args.as_at or default, settings.data_dir, lambda: flow(
        as_at=args.as_at, source=args.source, out=args.out, config=args.config, reason=args.reason,
        **knowingly))


def _run_period(flow: str, period: str | None, source: str, out: str, data_dir: Path, config: str | None = None,
                reason: str | None = None, accept_stale: bool = False,
                wait_for_extract: bool | None = None, deliver: bool = False) -> int:
    """One run of a period flow (PERIOD_FLOWS), reported as `_report` does."""
    import importlib
    prepare_prefect_environment(data_dir)
    module, function, latest = PERIOD_FLOWS[flow]
    period_flow = getattr(importlib.import_module(module), function)
    return _report(flow, period or latest, data_dir, lambda: period_flow(
        period=period, source=source, out=out, config=config, reason=reason,
        accept_stale=accept_stale, wait_for_extract=wait_for_extract, deliver=deliver))


def _run_region(period: str | None, config: str | None) -> int:
    """The regional flow (flows/region.py) against the Prefect server the work pool's
    workers poll; each member LA's state printed; exit 8 when any did not publish."""
    if not config:
        print("qaloop: run region needs --config region.toml", file=sys.stderr)
        return 2
    if not os.environ.get("PREFECT_API_URL"):
        print("qaloop: a region runs on the Prefect server its workers poll: set PREFECT_API_URL "
              "(deployments/README.md, 'A region of LAs')", file=sys.stderr)
        return EXIT_INFRASTRUCTURE
    prepare_prefect_environment(Path(".qaloop"))
    from flows.region import deploy_member_runs, region
    from tasks.core.region import load_region
    started = time.perf_counter()

    def deploy_and_run() -> dict:
        deploy_member_runs(load_region(config))
        return region(period=period, config=config)
    status, result = _run_or_explain(f"the regional {period or 'latest month'} run", deploy_and_run)
    if result is None:
        return status
    print(f"\nregion run for {result['period']} finished in {time.perf_counter() - started:.1f} s: "
          f"{result['workbook']}")
    for member in result["members"]:
        print(f"  {member['code']} {member['name']}: {member['state']}"
              + (f" ({member['message']})" if member["message"] else ""))
    return 0 if all(member["published"] for member in result["members"]) else EXIT_MEMBER_FAILED


def _report(flow: str, period: str, data_dir: Path, call) -> int:
    """Start Prefect, run one flow and print what it published, or in one line why it
    published nothing (the detail is in the ledger and the Prefect log)."""
    started = time.perf_counter()

    def start_and_call() -> dict:
        _start_prefect(data_dir)
        return call()
    status, result = _run_or_explain(f"the {flow} {period} run", start_and_call)
    if result is None:
        return status
    if result.get("skipped"):
        print(f"qaloop: {result['skipped']}")
        return 0
    print(f"\n{flow} run {result['run_id']} for {result['period']} finished in "
          f"{time.perf_counter() - started:.1f} s; published in {result.get('published', '')}:")
    for output in result["outputs"]:
        print(f"  {output}")
    if result.get("revision_note"):
        print(f"revisions: {result['revision_note']}")
    if result.get("message"):
        print(f"{result['state']}: {result['message']}")
    for line in result.get("deliveries") or []:
        print(f"delivery: {line}")
    return 0


def _run_or_explain(nothing: str, call) -> tuple[int, dict | None]:
    """(0, what `call` returned), or (its exit status, None) after one line saying why it
    stopped; an unexpected error (a bug) is raised with its traceback."""
    try:
        return 0, call()
    except Exception as error:
        status, line = exit_status_of(error, nothing)
        print(f"qaloop: {line}", file=sys.stderr)
        if status == 1:
            raise
        return status, None


def _start_prefect(data_dir: Path) -> None:
    from flows.infrastructure import start_prefect
    note = start_prefect(Path(os.environ.get("PREFECT_HOME", data_dir / "prefect")))
    if note:
        print(f"qaloop: {note}", file=sys.stderr)


def exit_status_of(error: BaseException, nothing: str) -> tuple[int, str]:
    """The documented exit status of a command (`nothing`: "the monthly 2024-03 run",
    "qaloop status") that stopped on `error`, and one line saying why."""
    import httpx
    import sqlalchemy as sa

    from flows.runner import (DataQualityFailed, RunCancelled, RunRefused, SourceUnavailable,
                              WarehouseUnavailable, first_line)
    from flows.infrastructure import InfrastructureError
    from tasks.extract.extracts import ExtractError
    if isinstance(error, (ExtractError, SourceUnavailable)):
        return EXIT_BAD_SOURCE, f"{nothing} stopped on its source, nothing was published: {error}"
    if isinstance(error, RunRefused):
        return EXIT_REFUSED, str(error)
    if isinstance(error, DataQualityFailed):
        return EXIT_DATA_QUALITY, (f"{nothing} failed on data quality, nothing was published "
                                   f"(the previous version stays current): {error}")
    if isinstance(error, RunCancelled):
        return EXIT_CANCELLED, f"{nothing} was cancelled: {error}"
    if isinstance(error, (InfrastructureError, WarehouseUnavailable)):
        return EXIT_INFRASTRUCTURE, f"{nothing} did not start: {error}"
    if isinstance(error, sa.exc.SQLAlchemyError):
        return EXIT_INFRASTRUCTURE, f"{nothing} stopped: the warehouse failed: {first_line(error)}"
    if isinstance(error, httpx.HTTPError) or "Prefect API" in str(error):
        return EXIT_INFRASTRUCTURE, f"{nothing} stopped: the Prefect server could not be used: {first_line(error)}"
    return 1, f"{nothing} stopped on an unexpected error (a bug; details below): {type(error).__name__}: {error}"


def command_rerun(args) -> int:
    from tasks.core.settings import load_settings
    if refused := refused_source(args.source):
        print(refused, file=sys.stderr)
        return 2
    settings = load_settings(args.config, resolve_secrets=False)
    prepare_prefect_environment(settings.data_dir)
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.backfill import RERUN_FLOWS
    flow = RERUN_FLOWS[args.flow]
    if args.max_parallel:
        flow = flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=args.max_parallel))
    started = time.perf_counter()
    try:
        _start_prefect(settings.data_dir)
        results = flow(first=args.first, last=args.last, source=args.source, out=args.out,
                       config=args.config, reason=args.reason)
    except Exception as error:
        status, line = exit_status_of(error, f"the re-run of {args.first}..{args.last}")
        print(f"qaloop: {line if status != 1 else f're-run {args.first}..{args.last} did not complete: {error}'}",
              file=sys.stderr)
        return status
    print(f"\nre-ran {len(results)} periods in {time.perf_counter() - started:.1f} s:")
    for result in results:
        revised = [o for o in result["outputs"] if "revisions_" in o]
        print(f"  {result['period']}  run {result['run_id']}  {result.get('revision_note') or ''}"
              + (f": {revised[0]}" if revised else ""))
    return 0


def command_serve(args) -> int:
    from tasks.core.settings import load_settings
    if refused := refused_source(args.source):
        print(refused, file=sys.stderr)
        return 2
    settings = load_settings(args.config, resolve_secrets=False)
    prepare_prefect_environment(settings.data_dir)
    if "PREFECT_API_URL" not in os.environ:
        print("qaloop serve: PREFECT_API_URL is not set; start a server first "
              "(`prefect server start`, see deployments/README.md) and export "
              "PREFECT_API_URL=http://127.0.0.1:4200/api", file=sys.stderr)
        return 2
    from flows.cadences import serve_all
    serve_all({"source": args.source, "out": args.out, "config": args.config})
    return 0


def command_status(args) -> int:
    from flows import status
    from tasks.core.settings import load_settings
    from tasks.operations import notify
    prepare_prefect_environment(load_settings(args.config, resolve_secrets=False).data_dir)
    settings = load_settings(args.config)  # the warehouse password may be in a Secret block
    try:
        engine = _warehouse(settings)
        housekeeping = status.housekeeping(engine)
        views, prefect_error = status.prefect_view_or_error()
        print(status.status_text(engine, views=views, prefect_error=prefect_error, housekeeping=housekeeping))
        from tasks.operations import delivery
        print("\n" + "\n".join(delivery.status_lines(engine)))
        found = status.problems(engine, views, prefect_error) if args.alert else []
    except Exception as error:
        code, line = exit_status_of(error, "qaloop status")
        print(f"qaloop: {line}", file=sys.stderr)
        if args.alert and code == EXIT_INFRASTRUCTURE:
            notify.send(settings.notifications, "qaloop: status check FAILED", line)
        if code == 1:
            raise
        return code
    if not found:
        return 0
    sent = status.alert_once(found, settings)
    print(f"\nqaloop status --alert: {len(found)} problem(s); {sent}", file=sys.stderr)
    return EXIT_ALERTED


def _warehouse(settings):
    from flows.runner import migrated_engine
    return migrated_engine(settings)


def command_versions(args) -> int:
    from flows.status import versions_text
    from tasks.core.settings import load_settings
    settings = load_settings(args.config)
    try:
        print(versions_text(_warehouse(settings), args.flow, args.period))
    except Exception as error:
        code, line = exit_status_of(error, "qaloop versions")
        print(f"qaloop: {line}", file=sys.stderr)
        if code == 1:
            raise
        return code
    return 0


def command_rollback(args) -> int:
    from tasks.core.settings import load_settings
    from tasks.operations import versions
    settings = load_settings(args.config)
    try:
        print(versions.rollback(_warehouse(settings), args.flow, args.period, args.run_id, args.reason,
                                Path(args.out) if args.out else None))
    except (versions.RollbackRefused, versions.locks.LockTimeout) as error:
        print(f"qaloop: rollback refused, nothing changed: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:
        code, line = exit_status_of(error, "qaloop rollback")
        print(f"qaloop: {line}", file=sys.stderr)
        if code == 1:
            raise
        return code
    return 0


def period_flows(period: str) -> tuple[str, ...]:
    """The flows whose period has this form: YYYY-MM monthly, YYYY-Qn quarterly,
    YYYY-YY-Hn six-monthly, YYYY-YY annual, YYYY-MM-DD daily or weekly."""
    from tasks.core.periods import Period
    try:
        kind = Period.parse(period).kind
    except ValueError:
        return ("daily", "weekly")
    return ({"month": "monthly", "quarter": "quarterly", "half": "six-monthly", "year": "annual"}[kind],)


def command_deliver(args) -> int:
    """Deliver (or with --dry-run preview) a period's current version to its audiences:
    those named (sent again even if sent before), else every audience due not yet sent."""
    return _deliver(args.config, args.period, args.audience, args.dry_run, force=bool(args.audience))


def _deliver(config: str | None, period: str, audiences: list[str] | None, dry_run: bool, force: bool) -> int:
    from tasks.core.settings import load_settings
    from tasks.kpis.registry import load_registry
    from tasks.operations import delivery
    settings = load_settings(config)
    configured = settings.delivery.audiences
    unknown = [n for n in audiences or [] if n not in configured]
    if unknown:
        print(f"qaloop: no audience {', '.join(unknown)} in [delivery.audiences] "
              f"(configured: {', '.join(configured) or 'none'})", file=sys.stderr)
        return 2
    try:
        engine = _warehouse(settings)
        kpis = load_registry(settings.kpis.registry)
        outcomes = []
        for flow in period_flows(period):
            names = [n for n in audiences if flow in delivery.audience_flows(configured[n])] if audiences else None
            if audiences and not names:
                continue
            planned = delivery.plan_period(engine, settings, flow, period, kpis, names)
            outcomes += delivery.deliver(engine, settings, planned, dry_run=dry_run, force=force, trigger="manual")
    except Exception as error:
        code, line = exit_status_of(error, "qaloop deliver")
        print(f"qaloop: {line}", file=sys.stderr)
        if code == 1:
            raise
        return code
    if dry_run:
        print("DRY RUN: nothing is sent or recorded")
    for outcome in outcomes:
        print(outcome.line())
        if dry_run and outcome.planned.subject:
            print(f"    subject: {outcome.planned.subject}")
            for attachment in outcome.planned.attachments:
                sent_as = "link" if attachment.path.name in outcome.planned.links else "attachment"
                print(f"    {sent_as}: {attachment.path.name} ({attachment.output}, {attachment.level}, "
                      f"{attachment.size:,} bytes)")
    if not outcomes:
        print(f"no delivery due for {period}")
    return EXIT_REFUSED if any(o.outcome in ("refused", "failed") for o in outcomes) else 0


def command_approve(args) -> int:
    from tasks.core.settings import load_settings
    from tasks.operations import delivery
    settings = load_settings(args.config)
    try:
        engine = _warehouse(settings)
        run_id = delivery.approve(engine, settings, args.period, args.audience, args.by, args.note)
    except (KeyError, LookupError, ValueError) as error:
        print(f"qaloop: not approved: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    print(f"approved: {args.audience} {args.period} (run {run_id})")
    if args.no_send:
        return 0
    # send what waited for this approval (not again if it was already sent)
    return _deliver(args.config, args.period, [args.audience], dry_run=False, force=False)


def command_deliveries(args) -> int:
    from tasks.core.settings import load_settings
    from tasks.operations import delivery
    settings = load_settings(args.config)
    print(delivery.ledger_text(_warehouse(settings), args.period, args.audience))
    return 0


def canonical_period(period: str) -> str:
    """A period as the ledger keys it: the short half `2024-H1` is `2024-25-H1`."""
    from tasks.core.periods import SHORT_HALF_PATTERN, Period
    return Period.half(period).id if SHORT_HALF_PATTERN.match(period.strip()) else period


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if isinstance(getattr(args, "period", None), str):
        args.period = canonical_period(args.period)
    handlers = {"demo": command_demo, "generate": command_generate, "run": command_run,
                "rerun": command_rerun, "serve": command_serve, "status": command_status,
                "versions": command_versions, "rollback": command_rollback,
                "settings": command_settings, "prefect-yaml": command_prefect_yaml,
                "deliver": command_deliver, "approve": command_approve, "deliveries": command_deliveries}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
