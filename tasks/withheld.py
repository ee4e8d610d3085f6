"""Publishing around a critical data-quality failure.

Issue: "A critical failure blocks only what depends on the failing table, keeps the
previously published outputs for the period untouched". So a KPI that reads a table
which failed a critical rule is *withheld*: it is not computed from this run's
extracts. Each output is published afresh when none of the KPIs it shows is withheld;
otherwise the period's currently published file is kept (copied unchanged into the new
version), or left out when there is none yet. kpi_values.csv and the warehouse carry the
withheld KPIs' figures as last published, so every file of the new version agrees with
the stored figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tasks.registry import Kpi


@dataclass(frozen=True)
class Output:
    """A published file (or files) of the monthly run and the KPIs it shows."""

    name: str
    pattern: str  # glob in a published folder; {period} is the period id
    shows: Callable[[Kpi], bool]

    def files(self, folder: Path, period: str) -> list[Path]:
        return sorted(p for p in Path(folder).glob(self.pattern.format(period=period)) if p.is_file())

    def kpi_ids(self, kpis: list[Kpi]) -> set[str]:
        return {k.id for k in kpis if self.shows(k)}


OUTPUTS = (
    Output("Safety Scorecard", "safety_scorecard_{period}.xlsx", lambda k: k.scorecard == "safety"),
    Output("Drift and Delay Scorecard", "drift_delay_scorecard_{period}.xlsx",
           lambda k: k.scorecard == "drift_delay"),
    Output("Directorate Scorecard", "directorate_scorecard_{period}.xlsx", lambda k: k.headline),
    Output("QA outputs", "qa_*_{period}.*", lambda k: k.scorecard == "qa"),
)
OUTPUT_BY_NAME = {o.name: o for o in OUTPUTS}


@dataclass(frozen=True)
class Withheld:
    """What this run does not publish afresh: {kpi id: failing tables} and the outputs
    showing any of those KPIs."""

    kpis: dict[str, list[str]]
    outputs: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.kpis)

    def message(self) -> str:
        tables = sorted({t for ts in self.kpis.values() for t in ts})
        return (f"data quality: critical failures in {', '.join(tables)}; withheld "
                f"{', '.join(sorted(self.kpis))}; kept as last published: {', '.join(self.outputs)}")


def withheld_by(blocked: dict[str, list[str]], kpis: list[Kpi]) -> Withheld:
    """`blocked`: {kpi id: failing tables} (tasks.validate.kpis_blocked_by)."""
    outputs = tuple(o.name for o in OUTPUTS if o.kpi_ids(kpis) & set(blocked))
    return Withheld(dict(blocked), outputs)


def base_id(figure_id) -> str:
    """`SAF12` of `SAF12:rate_per_10k`."""
    return str(figure_id).partition(":")[0]


def last_published(frame: pd.DataFrame, kpi_ids) -> pd.DataFrame:
    """The rows of a run's stored values or records that belong to these KPIs."""
    return frame[frame["kpi_id"].map(base_id).isin(set(kpi_ids))]
