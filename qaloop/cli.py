"""The `qaloop` command line.

    qaloop demo [--out DIR] [--children N] [--period YYYY-MM]
    qaloop generate --out DIR [--children N] [--seed N] [--as-at YYYY-MM-DD]
    qaloop run monthly --period YYYY-MM --source DIR_OR_URL --out DIR [--config FILE]
    qaloop run daily|weekly [--as-at YYYY-MM-DD] --source DIR_OR_URL --out DIR [--config FILE]
    qaloop rerun monthly --from YYYY-MM --to YYYY-MM --source DIR_OR_URL --out DIR
                 [--reason TEXT] [--max-parallel N] [--config FILE]
    qaloop serve [--source DIR_OR_URL] [--out DIR] [--config FILE]
    qaloop status [--config FILE]
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


def prepare_prefect_environment(data_dir: Path) -> None:
    """Quiet, private Prefect defaults, set before Prefect is imported. Without a
    PREFECT_API_URL, runs go to a temporary local server whose database lives under the
    data directory, so `prefect server start` with the same PREFECT_HOME shows them."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if "PREFECT_API_URL" not in os.environ:
        home = Path(os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve())))
        home.mkdir(parents=True, exist_ok=True)  # its SQLite database cannot be created otherwise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qaloop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate the synthetic LA and run the monthly job")
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
    run.add_argument("flow", choices=["monthly", "daily", "weekly"])
    run.add_argument("--period", help="YYYY-MM (monthly; default: the latest complete month)")
    run.add_argument("--as-at", help="YYYY-MM-DD (daily, weekly; default: yesterday)")
    run.add_argument("--source", required=True, help="drop folder or SQLAlchemy URL")
    run.add_argument("--out", required=True, help="folder for the published outputs")
    run.add_argument("--config", default=None, help="TOML configuration file")
    run.add_argument("--reason", default=None, help="why this run (kept in the run ledger)")

    rerun = commands.add_parser("rerun", help="re-run historic periods (backfill)")
    rerun.add_argument("flow", choices=["monthly"])
    rerun.add_argument("--from", dest="first", required=True, help="first period, YYYY-MM")
    rerun.add_argument("--to", dest="last", required=True, help="last period, YYYY-MM")
    rerun.add_argument("--source", required=True, help="drop folder or SQLAlchemy URL")
    rerun.add_argument("--out", required=True, help="folder for the published outputs")
    rerun.add_argument("--reason", default=None, help="why (kept in the ledger and revisions report)")
    rerun.add_argument("--max-parallel", type=int, default=None, help="periods at a time (default 2)")
    rerun.add_argument("--config", default=None, help="TOML configuration file")

    serve = commands.add_parser("serve", help="run every cadence on its schedule (Prefect serve)")
    serve.add_argument("--source", default=None, help="default: $QALOOP_SOURCE")
    serve.add_argument("--out", default=None, help="default: $QALOOP_PUBLISH_DIR")
    serve.add_argument("--config", default=None, help="default: $QALOOP_CONFIG")

    status = commands.add_parser("status", help="latest runs, next scheduled runs, source freshness")
    status.add_argument("--config", default=None, help="TOML configuration file")
    return parser


def default_period() -> str:
    """The latest complete month: the only place the clock picks a period."""
    from tasks.periods import latest_complete_month
    return latest_complete_month(date.today()).id


def demo_extract_date(period_id: str, today: date | None = None) -> date:
    """5 days after the period end (so some records post-date it, as in real extracts),
    but never after today: validation rejects dates after the extract date."""
    from tasks.periods import Period
    end = Period.month(period_id).end
    return min(end + timedelta(days=5), max(today or date.today(), end))


def command_generate(args) -> int:
    from tasks.synthetic import generate_la
    as_at = args.as_at or demo_extract_date(default_period())
    started = time.perf_counter()
    files = generate_la(Path(args.out), as_at=as_at, children=args.children, seed=args.seed)
    print(f"wrote {len(files)} synthetic tables to {args.out} "
          f"(extract date {as_at}, {time.perf_counter() - started:.1f} s)")
    return 0


def command_demo(args) -> int:
    from qaloop.settings import load_settings
    from tasks.periods import Period
    from tasks.synthetic import planned_themes
    period = args.period or default_period()
    # the synthetic LA's audit themes, planned from the period to 6 months after the next
    themes = planned_themes(Period.month(period).start, 8, args.seed)
    settings = load_settings(None, resolve_secrets=False,
                             data_dir=Path(args.data_dir) if args.data_dir else None)
    config = write_demo_config(settings.data_dir, themes)
    extracts_dir = settings.data_dir / "demo-extracts"
    print(f"qaloop demo: SYNTHETIC local authority ({args.children} children, seed {args.seed}), "
          f"benchmarks of LA {DEMO_LA_CODE}, period {period}")
    args.out, out = str(extracts_dir), args.out
    args.as_at = demo_extract_date(period)
    command_generate(args)
    return _run_monthly(period, str(extracts_dir), out, settings.data_dir, config=str(config))


def write_demo_config(data_dir: Path, themes: dict[str, str]) -> Path:
    """The demo's settings as a configuration file: a flow is given its configuration's
    path, never the settings themselves (README, "Security")."""
    from qaloop.settings import config_text
    from tasks.publish_csv import write_atomically
    values = {"la_code": DEMO_LA_CODE, "synthetic": True, "data_dir": str(data_dir.resolve()),
              "qa": {"themes": themes}}
    return write_atomically(data_dir / "demo.toml", "# written by `qaloop demo`\n" + config_text(values))


def refused_source(source: str | None) -> str | None:
    """Why a --source cannot be given to a flow (it carries a password), or None."""
    from qaloop.settings import PasswordInParameter, refuse_password_in
    try:
        refuse_password_in(source)
    except PasswordInParameter as error:
        return f"qaloop: not run: {error}"
    return None


def command_run(args) -> int:
    from qaloop.settings import load_settings
    if refused := refused_source(args.source):
        print(refused, file=sys.stderr)
        return 2
    settings = load_settings(args.config, resolve_secrets=False)
    if args.flow == "monthly":
        return _run_monthly(args.period, args.source, args.out, settings.data_dir, config=args.config,
                            reason=args.reason)
    prepare_prefect_environment(settings.data_dir)
    from flows import exceptions
    flow = exceptions.daily if args.flow == "daily" else exceptions.weekly
    return _report(args.flow, args.as_at or "yesterday", lambda: flow(
        as_at=args.as_at, source=args.source, out=args.out, config=args.config, reason=args.reason))


def _run_monthly(period: str | None, source: str, out: str, data_dir: Path, config: str | None = None,
                 reason: str | None = None) -> int:
    prepare_prefect_environment(data_dir)
    from flows.monthly import monthly
    return _report("monthly", period or "the latest month", lambda: monthly(
        period=period, source=source, out=out, config=config, reason=reason))


def _report(flow: str, period: str, call) -> int:
    """Run one flow and print what it published, or why it published nothing."""
    from flows.runner import DataQualityFailed, RunRefused
    from tasks.extract import ExtractError
    started = time.perf_counter()
    try:
        result = call()
    except ExtractError as error:
        print(f"qaloop: the {flow} {period} run stopped on bad input, nothing was published: "
              f"{error}", file=sys.stderr)
        return 2
    except RunRefused as error:
        print(f"qaloop: {error}", file=sys.stderr)
        return 3
    except DataQualityFailed as error:
        print(f"qaloop: the {flow} {period} run failed on data quality, nothing was published "
              f"(the previous version stays current): {error}", file=sys.stderr)
        return 4
    if result.get("skipped"):
        print(f"qaloop: {result['skipped']}")
        return 0
    print(f"\n{flow} run {result['run_id']} for {result['period']} finished in "
          f"{time.perf_counter() - started:.1f} s; published in {result.get('published', '')}:")
    for output in result["outputs"]:
        print(f"  {output}")
    if result.get("message"):
        print(f"{result['state']}: {result['message']}")
    return 0


def command_rerun(args) -> int:
    from qaloop.settings import load_settings
    if refused := refused_source(args.source):
        print(refused, file=sys.stderr)
        return 2
    settings = load_settings(args.config, resolve_secrets=False)
    prepare_prefect_environment(settings.data_dir)
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.backfill import rerun_monthly
    flow = rerun_monthly
    if args.max_parallel:
        flow = rerun_monthly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=args.max_parallel))
    started = time.perf_counter()
    try:
        results = flow(first=args.first, last=args.last, source=args.source, out=args.out,
                       config=args.config, reason=args.reason)
    except Exception as error:
        print(f"qaloop: re-run {args.first}..{args.last} did not complete: {error}", file=sys.stderr)
        return 1
    print(f"\nre-ran {len(results)} periods in {time.perf_counter() - started:.1f} s:")
    for result in results:
        revised = [o for o in result["outputs"] if "revisions_" in o]
        print(f"  {result['period']}  run {result['run_id']}"
              + (f"  revised figures: {revised[0]}" if revised else "  no figure changed"))
    return 0


def command_serve(args) -> int:
    from qaloop.settings import load_settings
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
    from flows.status import status_text
    from qaloop.settings import load_settings
    from tasks.pipeline import warehouse_engine
    prepare_prefect_environment(load_settings(args.config, resolve_secrets=False).data_dir)
    settings = load_settings(args.config)  # the warehouse password may be in a Secret block
    print(status_text(warehouse_engine(settings.resolved_warehouse_url)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"demo": command_demo, "generate": command_generate, "run": command_run,
                "rerun": command_rerun, "serve": command_serve, "status": command_status}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
