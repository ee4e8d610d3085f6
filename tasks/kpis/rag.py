"""RAG status, direction of travel and targets (kpis.md, "Directorate Scorecard").

"RAG uses the polarity: Green = meets target; Amber = misses target by no more than the
KPI's tolerance (default 5 percentage points or 10% of target for counts/rates); Red =
worse than that." Polarity None (volumes) has no RAG.
"""

from __future__ import annotations

from tasks.core.settings import KpiTarget
from tasks.kpis.registry import Kpi

GREEN, AMBER, RED = "Green", "Amber", "Red"
PERCENT_POINTS_TOLERANCE = 5.0
RELATIVE_TOLERANCE = 0.10
# Published figures have 1 decimal place; comparing differences rounded to 9 places keeps
# float noise (25.3 - 23 = 2.3000000000000007) from moving a value across a boundary.
_PLACES = 9


def effective_tolerance(kpi: Kpi, target: float, tolerance: float | None,
                        kind: str | None = None) -> float:
    """The configured tolerance, else 5 points for a percentage, else 10% of the target.

    `kind` is the published figure's kind when it differs from the KPI's own (an extra
    figure such as SAF12:rate_per_10k is a rate while SAF12 is a count)."""
    if tolerance is not None:
        return float(tolerance)
    if (kind or kpi.kind) == "percent":
        return PERCENT_POINTS_TOLERANCE
    return abs(float(target)) * RELATIVE_TOLERANCE


def rag_status(value: float | None, target: float | None, tolerance: float | None,
               polarity: str) -> str | None:
    """Green/Amber/Red; both boundaries inclusive: exactly at target is Green, exactly
    `tolerance` short of it is Amber. None when there is nothing to rate."""
    if polarity == "None" or value is None or target is None:
        return None
    shortfall = float(target) - float(value) if polarity == "High" else float(value) - float(target)
    shortfall = round(shortfall, _PLACES)
    if shortfall <= 0:
        return GREEN
    if shortfall <= round(float(tolerance or 0), _PLACES):
        return AMBER
    return RED


def direction_of_travel(current: float | None, previous: float | None, polarity: str) -> str | None:
    """Improving/Declining by polarity; Higher/Lower for volumes (polarity None)."""
    if current is None or previous is None:
        return None
    change = round(float(current) - float(previous), _PLACES)
    if change == 0:
        return "No change"
    if polarity == "High":
        return "Improving" if change > 0 else "Declining"
    if polarity == "Low":
        return "Improving" if change < 0 else "Declining"
    return "Higher" if change > 0 else "Lower"


def targets_for(kpis: list[Kpi], overrides: dict[str, KpiTarget]) -> dict[str, KpiTarget]:
    """Registry defaults overlaid with the LA's configured targets.

    Keys are published figure ids (`SAF07`, or `SAF12:rate_per_10k` for an extra). An
    override without a tolerance keeps the registry's tolerance for that KPI."""
    targets = {k.id: KpiTarget(float(k.target), k.tolerance) for k in kpis if k.target is not None}
    registry_tolerance = {k.id: k.tolerance for k in kpis}
    for figure_id, override in overrides.items():
        tolerance = override.tolerance
        if tolerance is None:
            tolerance = registry_tolerance.get(figure_id)
        targets[figure_id] = KpiTarget(float(override.target), tolerance)
    return targets
