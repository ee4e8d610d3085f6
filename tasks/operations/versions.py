"""Every run's outputs are kept; the published version of a period is a symlink that is
switched atomically when a run succeeds, and a revisions report says which figures a
re-run changed.

Layout under the output folder OUT:

    OUT/runs/<flow>/<period>/<run_id>/...   every successful run's files, kept
    OUT/<period>  -> runs/monthly/<period>/<run_id>     the current monthly version
    OUT/daily/<day>, OUT/weekly/<day>       likewise for the daily and weekly runs

The switch writes a new relative symlink beside the old one and renames it over it
(`os.replace`, atomic on POSIX): a reader sees either the old run's files or the new
run's, never a mixture. A failed run's folder is removed and the symlink not touched.

The switch and its record are one recoverable step (`publish`): the intent is written
to the warehouse's `version_switches` first, then the link is switched, then (one
transaction) `current_runs`, the ledger row and the switch are settled. A process killed
in between leaves the intent: `recover_switches` (the next run of the period, or
`qaloop status`) finishes it when the link already points at the new run (readers have
seen it) and undoes it otherwise. `rollback` makes an earlier run current the same way.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.core.periods import Period
from tasks.operations import locks
from tasks.warehouse import database as warehouse
from tasks.publish.csv_files import write_csv

REVISION_COLUMNS = ["kpi_id", "period", "level", "unit_id", "unit_name", "old_value", "new_value",
                    "old_run_id", "new_run_id", "reason"]


def published_dir(out: Path, flow: str, period: str) -> Path:
    """Where readers find the current version (monthly keeps the OUT/<period> path)."""
    return Path(out) / period if flow == "monthly" else Path(out) / flow / period


def run_dir(out: Path, flow: str, period: str, run_id: str) -> Path:
    return Path(out) / "runs" / flow / period / run_id


def output_root(work_dir: Path) -> Path:
    """OUT, the published folder, of a run whose own folder is OUT/runs/<flow>/<period>/<run_id>."""
    return Path(work_dir).parents[3]


def data_quality_dir(work_dir: Path, period: Period, run_id: str) -> Path:
    """Data Docs of a run, kept whatever the run's outcome (a run blocked on data quality
    publishes nothing else): OUT/data_quality/<period>/<run_id>/."""
    return output_root(work_dir) / "data_quality" / period.id / run_id


def switch_current(published: Path, target: Path) -> None:
    """Point `published` at `target` atomically. A real folder left by an older layout
    is moved into runs/ first (once)."""
    published.parent.mkdir(parents=True, exist_ok=True)
    if published.is_dir() and not published.is_symlink():
        legacy = target.parent / f"legacy-{published.stat().st_mtime_ns}"
        shutil.move(str(published), legacy)
    temporary = published.parent / f".{published.name}.{target.name}.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(os.path.relpath(target, published.parent), target_is_directory=True)
    os.replace(temporary, published)


def current_target(published: Path) -> Path | None:
    return published.resolve() if published.is_symlink() else None


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def publish(engine: Engine, flow: str, period: str, run_id: str, published: Path, target: Path,
            run_state: str, run_message: str | None, outputs: list[str], kind: str = "publish",
            reason: str | None = None) -> None:
    """Record the intent, switch `published` to `target`, then settle it in the warehouse."""
    switch_id = warehouse.record_switch_intent(engine, flow, period, kind, run_id, published, target,
                                               reason, run_state, run_message, outputs)
    switch_current(published, target)
    warehouse.settle_switch(engine, switch_id, "done")


def recover_switches(engine: Engine, flow: str | None = None, period: str | None = None) -> list[str]:
    """Finish or undo switches left `intended` by a killed process; call only while no
    run of that flow and period is running (its run lock held). One line per switch."""
    lines = []
    for switch in warehouse.pending_switches(engine, flow, period):
        published, target = Path(switch.published_path), Path(switch.target_path)
        if current_target(published) == target.resolve():
            warehouse.settle_switch(engine, switch.switch_id, "done",
                                    "finished after the process was killed between switch and record")
            lines.append(f"{switch.flow} {switch.period}: switch to run {switch.to_run_id} finished "
                         "(readers already saw it)")
            continue
        warehouse.settle_switch(engine, switch.switch_id, "undone",
                                "undone: the process was killed before the folder was switched")
        if switch.kind == "publish":
            discard(target)
            warehouse.finish_run(engine, switch.to_run_id, "Crashed",
                                 "killed before its outputs were published; nothing changed")
        lines.append(f"{switch.flow} {switch.period}: switch to run {switch.to_run_id} undone "
                     f"(run {switch.from_run_id or 'none'} stays current)")
    return lines


def out_of(outputs: list[str]) -> Path:
    """The output folder OUT of a run, from one of its outputs OUT/runs/<flow>/<period>/<run_id>/<file>."""
    return Path(outputs[0]).parents[4]


class RollbackRefused(ValueError):
    """The run asked for cannot be made current (unknown, never published, or its files gone)."""


def was_published(state: str | None) -> bool:
    return bool(state) and state.startswith(("Completed", "Partly published"))


def rollback(engine: Engine, flow: str, period: str, to_run_id: str, reason: str,
             out: Path | None = None, lock_wait_seconds: float = 60) -> str:
    """Make an earlier published run of the period current again, under the period's run
    lock (atomically, recorded in `version_switches`). Returns what it did, in one line."""
    with engine.connect() as connection:
        runs = warehouse.table("runs", connection)
        row = connection.execute(sa.select(runs).where(runs.c.run_id == to_run_id)).first()
    if row is None or (row.flow, row.period) != (flow, period):
        raise RollbackRefused(f"run {to_run_id} is not a {flow} run of {period} (see `qaloop versions`)")
    if not was_published(row.state):
        raise RollbackRefused(f"run {to_run_id} was never published (its state: {row.state})")
    out = Path(out) if out else out_of(json.loads(row.outputs or "[]"))
    target = run_dir(out, flow, period, to_run_id)
    if not target.is_dir():
        raise RollbackRefused(f"the files of run {to_run_id} are gone ({target})")
    with locks.hold(engine, locks.run_lock_name(flow, period), lock_wait_seconds):
        recover_switches(engine, flow, period)
        previous = warehouse.current_run_id(engine, flow, period)
        if previous == to_run_id:
            raise RollbackRefused(f"run {to_run_id} is already the current version of {period}")
        publish(engine, flow, period, to_run_id, published_dir(out, flow, period), target,
                None, None, [], kind="rollback", reason=reason)
    return f"{flow} {period}: run {to_run_id} is current again (was {previous or 'none'}); reason: {reason}"


def revisions(old: pd.DataFrame, new: pd.DataFrame, old_run_id: str, new_run_id: str,
              reason: str | None) -> pd.DataFrame:
    """Each figure (kpi_id, level, unit) whose value differs between two runs of one
    period, including figures that appeared or disappeared (old or new is empty)."""
    key = ["kpi_id", "period", "level", "unit_id"]
    merged = pd.merge(_figures(old), _figures(new), on=key, how="outer", suffixes=("_old", "_new"))
    changed = [not _same(a, b) for a, b in zip(merged["value_old"], merged["value_new"])]
    rows = merged[changed].sort_values(key)
    return pd.DataFrame({
        **{column: rows[column] for column in key},
        "unit_name": rows["unit_name_new"].combine_first(rows["unit_name_old"]),
        "old_value": rows["value_old"], "new_value": rows["value_new"],
        "old_run_id": old_run_id, "new_run_id": new_run_id, "reason": reason or "",
    }, columns=REVISION_COLUMNS).reset_index(drop=True)


def _figures(values: pd.DataFrame) -> pd.DataFrame:
    frame = values[["kpi_id", "period", "level", "unit_id", "unit_name", "value"]].copy()
    frame["unit_id"] = frame["unit_id"].astype(str)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame.astype(object)


def _same(a, b) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)


def write_revisions(frame: pd.DataFrame, path: Path) -> Path:
    """Values as published (7, 85.7); an empty cell for a figure that did not exist."""
    values = [column for column in frame.columns if column.endswith("_value")]
    shown = frame.assign(**{column: frame[column].map(_shown) for column in values})
    return write_csv(shown, path, numeric_columns=tuple(values))


def _shown(value) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "" if missing else f"{float(value):g}"


# --- revised periods in other periods' trends -------------------------------------------

TREND_NOTICE_COLUMNS = ["period", "run_id", "kpi_id", "revised_period", "shown_value", "revised_value"]
# the flows of whole periods, whose outputs show a trend of earlier periods of their kind
# (months, quarters, halves, financial years: the period ids never collide)
PERIOD_FLOWS = ("monthly", "quarterly", "six-monthly", "annual")
_PERIOD_FLOWS_SQL = "(" + ", ".join(f"'{flow}'" for flow in PERIOD_FLOWS) + ")"


def outputs_showing_other_figures(engine: Engine, revised_period: str, values: pd.DataFrame,
                                  run_id: str) -> pd.DataFrame:
    """The current outputs (of a period flow) of other periods whose trend shows an LA
    figure of `revised_period` other than `values` (the period's figures in run `run_id`)."""
    shown = warehouse.read_sql(engine, "select c.period as shown_in, c.run_id, v.kpi_id, v.value "
                                       "from current_runs c join kpi_values v on v.run_id = c.run_id "
                                       f"where c.flow in {_PERIOD_FLOWS_SQL} and c.period <> :p and v.period = :p "
                                       "and v.level = 'la' and c.run_id <> :run",
                               {"p": revised_period, "run": run_id})
    new = values[(values["period"] == revised_period) & (values["level"] == "la")]
    merged = shown.merge(new[["kpi_id", "value"]], on="kpi_id", suffixes=("", "_new"))
    differs = pd.Series([not _same(_number(a), _number(b)) for a, b in zip(merged["value"], merged["value_new"])],
                        index=merged.index, dtype=bool)
    rows = merged[differs].sort_values(["shown_in", "kpi_id"])
    return pd.DataFrame({"period": rows["shown_in"], "run_id": rows["run_id"], "kpi_id": rows["kpi_id"],
                         "revised_period": revised_period, "shown_value": rows["value"],
                         "revised_value": rows["value_new"]}, columns=TREND_NOTICE_COLUMNS)


def _number(value):
    return None if value is None else float(value)


def revised_periods(engine: Engine) -> pd.DataFrame:
    """Periods (monthly, quarterly, six-monthly, annual) whose current run replaced an
    earlier published run (a re-run or a rollback): flow, period, run_id (the revising
    run), revised_on."""
    current = warehouse.read_sql(engine, "select flow, period, run_id, switched_at from current_runs "
                                         f"where flow in {_PERIOD_FLOWS_SQL}")
    runs = warehouse.read_sql(engine, f"select flow, period, run_id, state from runs where flow in {_PERIOD_FLOWS_SQL}")
    published = runs[runs["state"].map(was_published).astype(bool)].groupby(["flow", "period"])["run_id"].nunique()
    times = [published.get((flow, period), 0) for flow, period in zip(current["flow"], current["period"])]
    revised = current[pd.Series(times, index=current.index, dtype=int) > 1].copy()
    revised["revised_on"] = pd.to_datetime(revised["switched_at"], utc=True)
    return revised[["flow", "period", "run_id", "revised_on"]].sort_values(["flow", "period"]).reset_index(drop=True)


def revised_trend_notices(engine: Engine) -> pd.DataFrame:
    """Every current output (of a period flow) published before a period in its trend was
    revised, whose trend shows a figure of that period other than the current one: one
    row per (output period, revised period), the differing KPIs and the output's flow named."""
    rows = []
    started = warehouse.read_sql(engine, "select c.flow, c.period, r.started_at from current_runs c "
                                         f"join runs r on r.run_id = c.run_id where c.flow in {_PERIOD_FLOWS_SQL}")
    started_at = dict(zip(started["period"], pd.to_datetime(started["started_at"], utc=True)))
    flow_of = dict(zip(started["period"], started["flow"]))
    for revision in revised_periods(engine).itertuples():
        values = warehouse.run_values(engine, revision.run_id)
        differing = outputs_showing_other_figures(engine, revision.period, values, revision.run_id)
        for (period, run_id), group in differing.groupby(["period", "run_id"], sort=True):
            if started_at[period] < revision.revised_on:  # published before the revision
                rows.append({"flow": flow_of[period], "period": period, "run_id": run_id,
                             "revised_period": revision.period, "revised_on": revision.revised_on,
                             "revised_by": revision.run_id, "kpis": ", ".join(group["kpi_id"])})
    return pd.DataFrame(rows, columns=["flow", "period", "run_id", "revised_period", "revised_on",
                                       "revised_by", "kpis"])


def revision_notes(engine: Engine, trend: pd.DataFrame, period: Period) -> list[str]:
    """For a run's Run sheet: each period of its trend revised since first published,
    and the KPIs whose figure in this trend (from this period's own extract) differs
    from that period's current one."""
    notes = []
    for revision in revised_periods(engine).itertuples():
        if revision.period == period.id or revision.period not in set(trend["period"]):
            continue
        current = warehouse.run_values(engine, revision.run_id)
        shown = trend[(trend["period"] == revision.period) & (trend["level"] == "la")]
        merged = shown.merge(current[(current["period"] == revision.period) & (current["level"] == "la")],
                             on="kpi_id", suffixes=("", "_current"))
        differing = [k for k, a, b in zip(merged["kpi_id"], merged["value"], merged["value_current"])
                     if not _same(_number(a), _number(b))]
        notes.append(f"{_period_name(revision.period)} revised on {revision.revised_on:%Y-%m-%d} "
                     f"(run {revision.run_id})" + (f"; this trend, from this period's extract, differs "
                                                   f"for {', '.join(differing)}" if differing else ""))
    return notes


def _period_name(period: str) -> str:
    """"March 2024" for a month; a quarter, half or financial year by its id (2024-Q1)."""
    if Period.parse(period).kind != "month":
        return period
    return pd.Timestamp(f"{period}-01").strftime("%B %Y")


@dataclass(frozen=True)
class RevisionReport:
    """What a run's publication revises: `note` (first publication, no figure changed,
    or how many were revised) and the revisions report written, if any."""

    note: str
    path: Path | None = None
    previous_run_id: str | None = None
    revised: int = 0


def report_revisions(engine: Engine, flow: str, period: Period, values: pd.DataFrame, run_id: str,
                     reason: str | None, work_dir: Path) -> RevisionReport:
    """When this run replaces a published version of the period and any figure changed,
    write revisions_<period>.csv (old and new value, both run ids, the reason) and
    revised_trends_<period>.csv: every current output of another period whose trend
    shows a figure of this period other than the new one."""
    previous = warehouse.current_run_id(engine, flow, period.id)
    if previous is None:
        return RevisionReport("first publication")
    old = warehouse.run_values(engine, previous)
    changed = revisions(old[old["period"] == period.id], values, previous, run_id, reason)
    if changed.empty:
        return RevisionReport("no figure changed", None, previous)
    trends = outputs_showing_other_figures(engine, period.id, values, run_id)
    note = (f"{len(changed)} figure{'s' if len(changed) != 1 else ''} revised; {trends['period'].nunique()} "
            "other periods' current outputs show other figures for it in their trend")
    if not trends.empty:
        write_revisions(trends, work_dir / f"revised_trends_{period.id}.csv")
    return RevisionReport(note, write_revisions(changed, work_dir / f"revisions_{period.id}.csv"),
                          previous, len(changed))
