"""Population aged 0-17 for rates per 10,000 (ONS mid-year estimates as republished by DfE)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

# A new release dropped beside the old one is picked up (its rows win for the years
# both files have).
POPULATION_PATTERN = "ons_mid-year_population_estimates_*.csv"


class ReferenceDataError(ValueError):
    pass


def population_0_17(reference_dir: Path, la_code: str, period_end: date) -> tuple[int, int]:
    """The latest mid-year estimate (reference date 30 June of its year) on or before
    `period_end`, as (population, year). Falls back to the earliest year when the
    period precedes every estimate."""
    frame, path = population_table(reference_dir)
    rows = frame[(frame["geographic_level"] == "Local authority")
                 & (frame["old_la_code"].str.strip() == str(la_code))]
    rows = rows[pd.to_numeric(rows["population_estimate"], errors="coerce").notna()]
    if rows.empty:
        raise ReferenceDataError(
            f"no ONS 0-17 population for LA code {la_code} in {path}; set population_0_17 "
            "in the configuration or check la_code")
    rows = rows.assign(year=rows["time_period"].astype(int)).sort_values("year")
    cutoff_year = period_end.year if period_end >= date(period_end.year, 6, 30) else period_end.year - 1
    eligible = rows[rows["year"] <= cutoff_year]
    chosen = (eligible if not eligible.empty else rows.head(1)).iloc[-1]
    return int(chosen["population_estimate"]), int(chosen["year"])


def population_table(reference_dir: Path) -> tuple[pd.DataFrame, Path]:
    """Every ONS release in the reference folder, the newest file's rows first in
    precedence; and the newest file's path (for messages)."""
    paths = sorted((Path(reference_dir) / "dfe-benchmarks").glob(POPULATION_PATTERN))
    if not paths:
        raise ReferenceDataError(f"no {POPULATION_PATTERN} in {Path(reference_dir) / 'dfe-benchmarks'}")
    frame = pd.concat([pd.read_csv(p, dtype=str) for p in paths], ignore_index=True)
    key = ["time_period", "geographic_level", "country_code", "region_code", "old_la_code", "new_la_code",
           "age_group"]
    return frame.drop_duplicates(subset=[c for c in key if c in frame.columns], keep="last"), paths[-1]


def la_name(reference_dir: Path, la_code: str) -> str:
    frame, _ = population_table(reference_dir)
    names = frame.loc[frame["old_la_code"].str.strip() == str(la_code), "la_name"].dropna()
    return names.iloc[0] if not names.empty else f"LA {la_code}"
