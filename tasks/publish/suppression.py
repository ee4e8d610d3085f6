"""Small-number suppression (kpis.md, "Small numbers"), for every output that leaves the
performance team: the Directorate Scorecard (workbook and PDF), the monthly QA report
and QA on a page.

kpis.md: "Any figure published in a report that leaves the performance team (DLT,
boards, partners) and counts fewer than 5 children or respondents (but more than 0) is
shown as `<5` and any percentage whose denominator is under 5 is suppressed, with a
footnote."

One convention, one footnote (FOOTNOTE):
- `<5` (SMALL_COUNT): a count of 1 to 4; also a rate per 10,000 counting 1 to 4
  children, since the population (on the Run sheet) would give the count back;
- `*` (SUPPRESSED): any other figure not shown: a percentage whose denominator is 1 to 4
  (primary), or a count hidden so that a lone `<5` beside its total cannot be worked
  out by subtraction (secondary);
- `n/a` (NOT_AVAILABLE): no figure (denominator 0, nothing recorded).
A suppressed figure gets no RAG, no direction of travel and no point in a chart, so
that neither can give it away.
"""

from __future__ import annotations

from tasks.publish.cells import is_missing, number_value

SMALL_NUMBER = 5
SMALL_COUNT = "<5"
SUPPRESSED = "*"
NOT_AVAILABLE = "n/a"
SYMBOLS = (SMALL_COUNT, SUPPRESSED)
COUNT_KINDS = ("count", "exception")
FOOTNOTE = (
    "Small numbers (kpis.md): '<5' = a count of 1 to 4 children or respondents (a rate per "
    "10,000 based on 1 to 4 children is shown as '<5' too, since the population would reveal "
    "the count). '*' = not shown either: a percentage whose denominator is under 5 (children, "
    "audits, staff, moderations or practitioners), or a count hidden so that a '<5' beside its "
    "total cannot be worked out by subtraction. Suppressed figures have no RAG rating, no "
    "direction of travel and no point on a chart. 'n/a' = no figure (denominator 0).")


def is_small(count) -> bool:
    """1 to 4: a number kpis.md does not let an output show."""
    return not is_missing(count) and 0 < float(count) < SMALL_NUMBER


def base_too_small(denominator) -> bool:
    """A percentage on this denominator is not shown: under 5 (0 is "n/a", 1-4 suppressed)."""
    return not is_missing(denominator) and int(denominator) < SMALL_NUMBER


def is_suppressed(shown) -> bool:
    return isinstance(shown, str) and shown in SYMBOLS


def shown_figure(kind: str, value, numerator=None, denominator=None):
    """What an output may show of one figure of `kind` (a registry kind: percent, rate,
    mean, count, exception): its number, SMALL_COUNT, SUPPRESSED or NOT_AVAILABLE."""
    if kind == "percent" and is_small(denominator):
        return SUPPRESSED
    if is_missing(value):
        return NOT_AVAILABLE
    if kind in COUNT_KINDS and is_small(value):
        return SMALL_COUNT
    if kind == "rate" and is_small(numerator):
        return SMALL_COUNT
    return number_value(value)


def hidden_counts(counts: list) -> dict[int, str]:
    """{position: symbol} for a row of counts shown beside their total: each count of 1-4
    is SMALL_COUNT; when that is a single cell, the smallest other count is SUPPRESSED
    too, so that the total less the counts shown cannot give it away (secondary
    suppression)."""
    present = [(i, int(c)) for i, c in enumerate(counts) if not is_missing(c)]
    hidden = {i: SMALL_COUNT for i, c in present if 0 < c < SMALL_NUMBER}
    others = [(c, i) for i, c in present if i not in hidden]
    if len(hidden) == 1 and others:
        hidden[min(others)[1]] = SUPPRESSED
    return hidden
