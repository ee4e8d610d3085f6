"""Audit findings in the monthly QA outputs (issue 15 point 4): strengths and areas for
development by practice domain (QA12, QA13: kpis.md "QA activity"), and a few of the
auditors' finding summaries that may be shared.

The optional `qa_audit_findings` table (sources.md section 2) carries a `summary` per
finding, a sentence the auditor wrote for sharing, and `share` (Y: the QA manager has
approved it for reports). A summary is shown only when

- `share` is Y (any spelling of yes), and
- it names no one from the extracts: it contains no person id (`ssd_person.pers_person_id`),
  no professional's or staff member's id (`ssd_professionals.prof_professional_id`,
  `prof_staff_id`, `qa_staff.staff_id`) and no word of a professional's or staff
  member's name (`ssd_professionals.prof_professional_name`, `qa_staff.name`).

Matching (`Identifiers.reason_to_drop`): whole words, case-insensitive; a name is split
into its words ("Sarah O'Brien" -> sarah, brien) and each word of 3 or more letters
counts on its own (so "Sarah's visits" is caught); an id matches as a whole word or
run of words ("P-1001" matches "p-1001", "P 1001"), ids shorter than 3 characters are
ignored. A name word that is also a common English word (a worker called Will or Hope)
drops summaries that use the word: erring on the side of not publishing.

A dropped summary is logged as a count and a reason, never its text (the log is not
a place for child data either).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import pandas as pd

from tasks.publish.suppression import NOT_AVAILABLE
from tasks.core.figure_ids import parse_figure_id

logger = logging.getLogger("qaloop.qa")

STRENGTH, DEVELOPMENT = "strength", "area_for_development"
FINDING_TYPES = {STRENGTH: "Strength", DEVELOPMENT: "Area for development"}
SHORTEST_TOKEN = 3  # name words and ids shorter than this are not matched (initials, "1")
PERSON_ID = "a person id"
STAFF = "a staff member's or professional's name or id"
SHOWN_PER_TYPE = 3  # summaries of each finding type in the monthly QA report
TABLE = "qa_audit_findings"
NOT_SUPPLIED = ("Audit findings were not supplied this month (the optional qa_audit_findings table), "
                "so strengths and areas for development by practice domain are not shown.")

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text) -> tuple[str, ...]:
    return tuple(w.casefold() for w in _WORD.findall(str(text))) if _present(text) else ()


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and str(value).strip() != ""


def _is_yes(value) -> bool:
    return _present(value) and str(value).strip().upper() in {"Y", "YES", "TRUE", "1"}


@dataclass
class Identifiers:
    """What a shared summary must not contain, as lower-case word sequences."""

    person_ids: set[tuple[str, ...]] = field(default_factory=set)
    staff_ids: set[tuple[str, ...]] = field(default_factory=set)
    name_words: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, person_ids=(), staff_ids=(), names=()) -> "Identifiers":
        def id_words(ids):
            return {w for w in (words(i) for i in ids) if len("".join(w)) >= SHORTEST_TOKEN}
        return cls(id_words(person_ids), id_words(staff_ids),
                   {w for name in names for w in words(name) if len(w) >= SHORTEST_TOKEN})

    def reason_to_drop(self, summary) -> str | None:
        """PERSON_ID, STAFF or None (the summary may be shown)."""
        found = words(summary)
        if _contains_any(found, self.person_ids):
            return PERSON_ID
        if _contains_any(found, self.staff_ids) or any(w in self.name_words for w in found):
            return STAFF
        return None


def _contains_any(found: tuple[str, ...], sequences: set[tuple[str, ...]]) -> bool:
    present = set(found)
    for sequence in sequences:
        if len(sequence) == 1:
            if sequence[0] in present:
                return True
        elif sequence[0] in present and any(found[i:i + len(sequence)] == sequence
                                            for i in range(len(found) - len(sequence) + 1)):
            return True
    return False


@dataclass
class SharedSummaries:
    """The summaries that may be shown ([{domain, finding_type, summary}], de-duplicated,
    in finding order) and how many approved ones were dropped, by reason."""

    shown: list[dict]
    dropped: dict[str, int]
    not_approved: int = 0

    def of_type(self, finding_type: str, limit: int | None = None, first_domains=()) -> list[dict]:
        """Those of one finding type, those of `first_domains` (the domains most often
        found this month) first."""
        found = sorted((s for s in self.shown if s["finding_type"] == finding_type),
                       key=lambda s: s["domain"] not in first_domains)
        return found[:limit] if limit is not None else found


def shareable_summaries(findings: pd.DataFrame, identifiers: Identifiers) -> SharedSummaries:
    """The summaries of `findings` (columns finding_id, domain, finding_type, summary,
    share) a report may show: share Y and naming no one in `identifiers`. Logs one
    warning with the number dropped and why (never the text)."""
    shown, seen, dropped, not_approved = [], set(), {}, 0
    rows = findings.sort_values("finding_id", kind="stable") if "finding_id" in findings else findings
    for row in rows.itertuples(index=False):
        if not _present(row.summary):
            continue
        if not _is_yes(row.share):
            not_approved += 1
            continue
        reason = identifiers.reason_to_drop(row.summary)
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        finding_type = "_".join(words(row.finding_type))
        text = " ".join(str(row.summary).split())
        if finding_type not in FINDING_TYPES or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        shown.append({"domain": row.domain if _present(row.domain) else "", "finding_type": finding_type,
                      "summary": text if text.endswith((".", "!", "?")) else text + "."})
    if dropped:
        logger.warning("%d audit finding summar%s approved for sharing not shown: %s",
                       sum(dropped.values()), "y" if sum(dropped.values()) == 1 else "ies",
                       "; ".join(f"{n} contain{'s' if n == 1 else ''} {reason}"
                                 for reason, n in sorted(dropped.items())))
    return SharedSummaries(shown, dropped, not_approved)


# --- QA12 / QA13 by practice domain, from the stored values ----------------------------------------


def domain_counts(la_rows: pd.DataFrame, period: str, kpi_id: str) -> dict[str, float | None]:
    """{domain: audits} of a KPI's `<kpi_id>:domain=<domain>` figures in the month."""
    rows = la_rows[(la_rows["period"] == period) & la_rows["kpi_id"].str.startswith(f"{kpi_id}:domain=")]
    counts = {}
    for row in rows.itertuples(index=False):
        domain = parse_figure_id(row.kpi_id).dimension.get("domain")
        if domain is not None:
            counts[domain] = None if pd.isna(row.value) else float(row.value)
    return counts


def most_often(counts: dict[str, float | None], smallest: int, at_most: int = 3) -> list[tuple[str, float]]:
    """The `at_most` domains with the highest counts, most first (ties A-Z): [(domain,
    count)], counting only those of `smallest` or more, since a ranking of suppressed
    counts would give them away."""
    ranked = sorted(((d, c) for d, c in counts.items() if c is not None and c >= smallest),
                    key=lambda item: (-item[1], item[0]))
    return ranked[:at_most]


def domain_order(declared: list[str], *counts: dict) -> list[str]:
    """The registry's domains in their order, then any observed in the data, A-Z."""
    observed = sorted({d for c in counts for d in c} - set(declared))
    return [d for d in declared if any(d in c for c in counts)] + observed


def count_or_missing(counts: dict, domain: str, show) -> str:
    value = counts.get(domain)
    return show(value) if value is not None else NOT_AVAILABLE


# The registry's roles of the findings KPIs (shown_in): QA12 and QA13
STRENGTHS, DEVELOPMENTS = "qa_strengths", "qa_development"


def declared_domains(kpis) -> list[str]:
    """The practice domains the registry declares for the findings KPIs (in its order)."""
    declared = [e.value for k in kpis for e in k.extras if e.breakdown and e.group == "domain" and e.value]
    return list(dict.fromkeys(declared))
