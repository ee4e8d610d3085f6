"""Population aged 0-17 for rates per 10,000 (ONS mid-year estimates as republished by DfE)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

POPULATION_FILE = "ons_mid-year_population_estimates_2012_to_2024.csv"


class ReferenceDataError(ValueError):
    pass


def population_0_17(reference_dir: Path, la_code: str, period_end: date) -> tuple[int, int]:
    """The latest mid-year estimate (reference date 30 June of its year) on or before
    `period_end`, as (population, year). Falls back to the earliest year when the
    period precedes every estimate."""
    path = Path(reference_dir) / "dfe-benchmarks" / POPULATION_FILE
    frame = pd.read_csv(path, dtype=str)
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


def la_name(reference_dir: Path, la_code: str) -> str:
    path = Path(reference_dir) / "dfe-benchmarks" / POPULATION_FILE
    frame = pd.read_csv(path, dtype=str)
    names = frame.loc[frame["old_la_code"].str.strip() == str(la_code), "la_name"].dropna()
    return names.iloc[0] if not names.empty else f"LA {la_code}"
