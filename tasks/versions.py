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
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pandas as pd

from tasks.publish_csv import write_csv

REVISION_COLUMNS = ["kpi_id", "period", "level", "unit_id", "unit_name", "old_value", "new_value",
                    "old_run_id", "new_run_id", "reason"]


def published_dir(out: Path, flow: str, period: str) -> Path:
    """Where readers find the current version (monthly keeps the OUT/<period> path)."""
    return Path(out) / period if flow == "monthly" else Path(out) / flow / period


def run_dir(out: Path, flow: str, period: str, run_id: str) -> Path:
    return Path(out) / "runs" / flow / period / run_id


def data_quality_dir(work_dir: Path, period: str, run_id: str) -> Path:
    """Data Docs of a run, kept whatever the run's outcome (a run blocked on data quality
    publishes nothing else): OUT/data_quality/<period>/<run_id>/. `work_dir` is the run's
    own folder OUT/runs/<flow>/<period>/<run_id>."""
    return Path(work_dir).parents[3] / "data_quality" / period / run_id


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
    shown = frame.assign(**{column: frame[column].map(_shown) for column in ("old_value", "new_value")})
    return write_csv(shown, path, numeric_columns=("old_value", "new_value"))


def _shown(value) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "" if missing else f"{float(value):g}"
