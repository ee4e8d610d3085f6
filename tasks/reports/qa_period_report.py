"""The quarterly QA report and the six-monthly QA report (HTML and PDF; issue 15 parts 3
and 5; qa-activity.md "What the QA reports contain"), for the extended leadership team
and the boards: every source of evidence together, with trends.

- **Scorecard headlines**: the registry's headline figures (the Directorate Scorecard
  rows, from the Safety and Drift and Delay scorecards) as at the end of each of the last
  four quarters = the figures currently published for each quarter's last month (the
  monthly flow's current run of that month, read from the warehouse); "not published"
  where that month was never run.
- **Audit activity and grades, moderation, closing the loop**: the monthly QA measures
  (QA01-QA11) as published for each month of the period, and learning actions overdue.
- **Audit findings by practice domain** (QA12/QA13), **complaints, DRP, participation and
  surveys** (the CMP, IRO and SUR headlines): the period's own figures (this run) beside
  the periods before it (a quarter: the three quarters before, from this run's trend; a
  half: its two quarters, as the quarterly flow published them).
- A rule-based "what changed" sentence per figure whose two figures may both be shown.
- The six-monthly report adds **proposed audit themes for the next six months**: the
  practice domains most often needing development (QA13), the most frequent DRP themes
  (IRO01 by theme) and complaint categories, and the figures Red at the half's end, each
  with its evidence, and a `[qa.themes]` block to copy into the configuration.

Aggregate LA figures only, never a child's record. They leave the performance team, so
every figure goes through tasks.publish.suppression (kpis.md "Small numbers"): a count of
1-4 is `<5`, a percentage on a base under 5 is `*`; counts shown beside their total (the
grades of a month, a half's two quarters) take the smallest other count with a lone
`<5` (secondary suppression). A suppressed figure is never narrated, rated, charted or
proposed as evidence; the proposals use only counts of 5 or more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.figure_ids import parse_figure_id
from tasks.core.paths import SQL_DIR
from tasks.core.periods import Period, add_months
from tasks.core.settings import KpiTarget
from tasks.kpis.queries import query
from tasks.kpis.rag import RED, targets_for
from tasks.kpis.registry import Figure, Kpi, default_registry, kpi_shown_in, shown_in
from tasks.publish.csv_files import write_bytes_atomically
from tasks.publish.html import line_chart_svg, template_environment, write_pdf
from tasks.publish.lineage import RunInfo
from tasks.publish.qa_workbook import figure_rag, grade_table as workbook_grade_table
from tasks.publish.style import SYNTHETIC_BANNER, month_label
from tasks.publish.suppression import (FOOTNOTE, NOT_AVAILABLE, SMALL_NUMBER, hidden_counts, is_suppressed,
                                       shown_figure)
from tasks.reports import findings as audit_findings
from tasks.reports.quarterly import period_label
from tasks.reports.render import Shown, quality_summary, shown
from tasks.warehouse.database import make_engine, read_sql

NOT_PUBLISHED = "not published"
TREND_QUARTERS = 4  # the scorecard headlines: the last four quarters
THEME_MONTHS = 6    # the proposals plan the six months after the half
MOST_FREQUENT = 3   # proposals taken from each kind of evidence, at most
COMPLAINT_CATEGORIES_SQL = SQL_DIR / "complaints" / "complaint_categories.sql"
# the registry scorecards of the complaints, DRP and IRO, and participation measures
CONTEXT_SCORECARDS = ("complaints", "iro", "participation")
QA_SCORECARD = "qa"
LEARNING_ACTION_GRAIN = "learning action"  # the registry grain of the learning-actions KPI
ANY_DOMAIN = "Any domain"
# how the findings KPIs read in a "what changed" sentence (by their registry role)
FINDING_SUBJECTS = {audit_findings.DEVELOPMENTS: "Audits with an area for development",
                    audit_findings.STRENGTHS: "Audits with a strength"}


@dataclass(frozen=True)
class Column:
    """One period shown in a table: its label and its LA figures (None: never published)."""

    label: str
    period: str
    values: pd.DataFrame | None

    def row(self, figure_id: str):
        if self.values is None:
            return None
        rows = self.values[self.values["kpi_id"] == figure_id]
        return next(rows.itertuples(), None)

    def cell(self, figure: Figure) -> Shown:
        if self.values is None:
            return Shown(NOT_PUBLISHED, None, False)
        return shown_with_precision(figure, self.row(figure.id))


def shown_with_precision(figure: Figure, row) -> Shown:
    """tasks.reports.render.shown, with a rate or a mean to its published decimal places
    (a rate counting 1-4 children is `<5`: tasks.publish.suppression.shown_figure)."""
    if figure.kind not in ("rate", "mean") or row is None or pd.isna(row.value):
        return shown(figure, row)
    text = shown_figure(figure.kind, row.value, row.numerator, row.denominator)
    if is_suppressed(text):
        return Shown(text, None, True)
    return Shown(f"{float(text):,.{figure.precision}f}", float(text), False)


# --- Reading the figures ------------------------------------------------------------------------


def published_la_values(engine: Engine, flow: str, period: str) -> pd.DataFrame | None:
    """The LA figures of `period` in the current (published) run of `flow`, None when the
    period has no current run."""
    found = read_sql(engine, "select v.kpi_id, v.period, v.value, v.numerator, v.denominator "
                             "from current_runs c join kpi_values v on v.run_id = c.run_id "
                             "where c.flow = :flow and c.period = :period and v.period = :period "
                             "and v.level = 'la'", {"flow": flow, "period": period})
    if found.empty and read_sql(engine, "select run_id from current_runs where flow = :flow and period = :period",
                                {"flow": flow, "period": period}).empty:
        return None
    return found


def run_columns(results, periods: list[Period], engine: Engine, flow_of_kind: dict[str, str]) -> list[Column]:
    """A column per period: this run's figures (the period or its trend) where it has
    them, else the current published run of the period's flow."""
    la = pd.concat([results.trend, results.values[results.values["level"] == "la"]], ignore_index=True)
    columns = []
    for period in periods:
        own = la[la["period"] == period.id]
        values = own if not own.empty else published_la_values(engine, flow_of_kind[period.kind], period.id)
        columns.append(Column(short_label(period), period.id, values))
    return columns


def month_columns(engine: Engine, months: list[Period]) -> list[Column]:
    """The monthly flow's published LA figures of each month (None where never run)."""
    return [Column(month_label(month.id, abbreviated=True), month.id, published_la_values(engine, "monthly", month.id))
            for month in months]


def complaint_categories(engine: Engine, period: Period) -> dict[str, int]:
    """{category: complaints received in the period} (sql/complaints/complaint_categories.sql);
    empty when the complaints table was never loaded."""
    try:
        rows = read_sql(engine, query(COMPLAINT_CATEGORIES_SQL),
                        {"period_start": period.start, "period_end": period.end})
    except Exception:  # the optional complaints table was never supplied
        return {}
    return {str(r.category): int(r.complaints) for r in rows.itertuples() if str(r.category).strip()}


# --- Labels ----------------------------------------------------------------------------------------


def short_label(period: Period) -> str:
    """"Q1 2024", "2024-25 H1", "Mar 2024"."""
    if period.kind == "quarter":
        return f"Q{(period.start.month + 2) // 3} {period.start.year}"
    if period.kind == "half":
        return f"{period.id[:7]} {period.id[-2:]}"
    return month_label(period.months[-1].id, abbreviated=True)


# --- Tables and narrative -----------------------------------------------------------------------


def figure_lines(figures: list[Figure], columns: list[Column], beside_total: tuple[int, ...] = ()) -> list[dict]:
    """One line per figure: its shown text and chart value in each column. `beside_total`:
    the columns whose counts add up to another column shown (a half's quarters beside the
    half): a lone `<5` among them takes the smallest other with it."""
    lines = []
    for figure in figures:
        cells = [column.cell(figure) for column in columns]
        raw = [_value(column.row(figure.id)) for column in columns]
        if figure.kind in ("count", "exception") and len(beside_total) > 1:
            counts = [raw[i] for i in beside_total]
            for position, symbol in hidden_counts(counts).items():
                index = beside_total[position]
                cells[index] = Shown(symbol, None, True)
        lines.append({"id": figure.id, "name": figure.name, "figure": figure, "measure": f"{figure.kpi.id} {figure.name}",
                      "cells": [c.text for c in cells], "shown": cells, "raw": raw})
    return lines


def _value(row):
    return None if row is None or pd.isna(row.value) else row.value


def subject_of(figure: Figure) -> str:
    """How a figure reads in a sentence: the registry's narrative label, else its name."""
    if figure.id == figure.kpi.id and figure.kpi.label_in("narrative"):
        return figure.kpi.label_in("narrative")
    return figure.name.removesuffix(" %").removesuffix("%").strip()


def narrative(lines: list[dict], columns: list[Column], before: int, after: int) -> tuple[list[str], int]:
    """What changed from column `before` to column `after`: one sentence per figure with
    both figures shown ("Stage 1 responded within timescale rose from 71.0% in Q1 2024 to
    80.0% in Q2 2024."), and the number of figures left out because one of them is
    suppressed (a small number is never narrated)."""
    sentences, left_out = [], 0
    for line in lines:
        then, now = line["shown"][before], line["shown"][after]
        if any(s.value is None and not s.suppressed for s in (then, now)):
            continue  # nothing to compare with: n/a or not published
        if then.suppressed or now.suppressed:
            left_out += 1
            continue
        subject = line.get("subject") or subject_of(line["figure"])
        was, was_in, is_in = then.text, columns[before].label, columns[after].label
        change = round(now.value - then.value, 1)
        if change == 0:
            sentences.append(f"{subject} was unchanged at {now.text} ({was_in} and {is_in}).")
        else:
            verb = "rose" if change > 0 else "fell"
            sentences.append(f"{subject} {verb} from {was} in {was_in} to {now.text} in {is_in}.")
    return sentences, left_out


def charts(lines: list[dict], columns: list[Column], width: int = 320) -> list:
    """A line chart per percentage: no point for a suppressed or missing figure."""
    labels = [c.label for c in columns]
    return [line_chart_svg(labels, [s.value for s in line["shown"]], line["measure"],
                           width=width, height=120)
            for line in lines if line["figure"].kind == "percent"
            and sum(s.value is not None for s in line["shown"]) >= 2]


def section(key: str, title: str, lines: list[dict], columns: list[Column], compare: tuple[int, int] | None,
            intro: str = "", chart: bool = True, extra_tables: list[dict] = ()) -> dict:
    sentences, left_out = narrative(lines, columns, *compare) if compare else ([], 0)
    return {"key": key, "title": title, "intro": intro, "labels": [c.label for c in columns], "lines": lines,
            "narrative": sentences, "left_out": left_out, "charts": charts(lines, columns) if chart else [],
            "tables": list(extra_tables)}


def headline_figures(kpis: list[Kpi]) -> list[Figure]:
    """The registry's headline figures (the Directorate Scorecard's rows)."""
    return [Figure.of(k, k.directorate_figure) for k in kpis if k.headline]


def named_figures(kpi: Kpi) -> list[Figure]:
    """A KPI's headline and its named figures (no breakdowns): QA05 with moderated up/down."""
    return [Figure.of(kpi, kpi.id)] + [Figure.of(kpi, f"{kpi.id}:{e.name}") for e in kpi.extras if not e.breakdown]


def with_rag(lines: list[dict], targets: dict[str, KpiTarget]) -> list[dict]:
    """The latest column's RAG and target on each line (none for a suppressed figure)."""
    for line in lines:
        target = targets.get(line["id"])
        line["target"] = "" if target is None else (
            f"{target.target:g}%" if line["figure"].kind == "percent" else f"{target.target:g}")
        line["rag"] = figure_rag(line["figure"], line["shown"][-1].value, targets)[1]
    return lines


def grade_table(grades_kpi: Kpi | None, columns: list[Column]) -> dict | None:
    """Audits completed by grade in each month (tasks.publish.qa_workbook.grade_table: the
    grades, no grade recorded, and the total): a lone `<5` among a month's grades takes
    the smallest other with it, since they add up to the total shown."""
    if grades_kpi is None:
        return None
    names, cells = None, []
    for column in columns:
        if column.values is None:
            cells.append(None)
            continue
        rows = workbook_grade_table(column.values, column.period, grades_kpi.id)
        names = [r["grade"] for r in rows]
        hidden = hidden_counts([r["count"] for r in rows[:-1]])
        cells.append([hidden.get(i) or (NOT_AVAILABLE if r["count"] is None else f"{int(r['count']):,}")
                      if i < len(rows) - 1 else shown(Figure.of(grades_kpi, grades_kpi.id), column.row(grades_kpi.id)).text
                      for i, r in enumerate(rows)])
    if names is None:
        return None
    return {"title": f"{grades_kpi.id} Audits completed by grade", "labels": [c.label for c in columns],
            "rows": [{"name": name, "cells": [NOT_PUBLISHED if c is None else c[i] for c in cells]}
                     for i, name in enumerate(names)]}


def split_counts(column: Column, kpi_id: str, dimension: str) -> dict[str, float | None]:
    """{value: count} of a KPI's `<kpi_id>:<dimension>=<value>` figures in a column."""
    if column.values is None:
        return {}
    counts = {}
    for row in column.values.itertuples(index=False):
        parsed = parse_figure_id(row.kpi_id)
        if parsed.kpi_id == kpi_id and len(parsed.dimensions) == 1 and parsed.dimensions[0][0] == dimension \
                and not parsed.names:
            counts[parsed.dimensions[0][1]] = None if pd.isna(row.value) else float(row.value)
    return counts


def domain_table(kpi: Kpi, columns: list[Column], title: str, beside_total: tuple[int, ...] = ()) -> dict:
    """Audits by practice domain (QA12 or QA13) in each column, counts of 1-4 `<5`. An
    audit counts once in each domain it has a finding in, so the domains are not parts of
    a total; across a half's quarters shown beside the half they are (`beside_total`)."""
    declared = audit_findings.declared_domains([kpi])
    counts = [split_counts(c, kpi.id, "domain") for c in columns]
    domains = audit_findings.domain_order(declared, *counts)
    figures = [Figure.of(kpi, f"{kpi.id}:domain={d}") for d in domains]
    lines = figure_lines([Figure.of(kpi, kpi.id)] + figures, columns, beside_total)
    audits = FINDING_SUBJECTS.get(audit_findings.DEVELOPMENTS if kpi.shown_in_output(audit_findings.DEVELOPMENTS)
                                  else audit_findings.STRENGTHS)
    for line, domain in zip(lines, [ANY_DOMAIN] + domains):
        line["name"] = domain
        line["subject"] = f"{audits} ({domain.lower()})" if domain == ANY_DOMAIN else f"{audits} in {domain}"
    return {"title": title, "labels": [c.label for c in columns], "lines": lines}


# --- Proposed audit themes (six-monthly) ----------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    theme: str
    source: str     # what kind of evidence
    evidence: str   # the figures behind it


def most_frequent(counts: dict[str, float | None], at_most: int = MOST_FREQUENT) -> list[tuple[str, float]]:
    """The values with the highest counts, most first (ties A-Z), of 5 or more only: a
    ranking among suppressed counts would give them away."""
    return audit_findings.most_often(counts, SMALL_NUMBER, at_most)


def theme_name(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:1].upper() + text[1:]


def propose_themes(development: dict[str, float | None], drp_themes: dict[str, float | None],
                   complaint_themes: dict[str, float | None], red: list[tuple[Figure, str, str]],
                   half_label: str) -> list[Proposal]:
    """The proposals for the next six months, from the half's evidence, taken in turn from
    each kind (the domain most often needing development, the first Red measure, the most
    frequent DRP theme, the most frequent complaint category; then the second of each ...),
    a theme proposed once (case-insensitive). `red`: (figure, shown value, target) of the
    figures Red at the half's end."""
    kinds = [
        [Proposal(theme_name(d), "Audit findings: areas for development",
                  f"an area for development in {n:,.0f} audits completed in {half_label}")
         for d, n in most_frequent(development)],
        [Proposal(theme_name(subject_of(f)), "Red at the half's end",
                  f"{f.id} {f.name}: {value} against a target of {target} (Red)") for f, value, target in red],
        [Proposal(theme_name(t), "Dispute resolution themes", f"{n:,.0f} dispute resolution alerts raised in {half_label}")
         for t, n in most_frequent(drp_themes)],
        [Proposal(theme_name(c), "Complaint categories", f"{n:,.0f} complaints received in {half_label}")
         for c, n in most_frequent(complaint_themes)],
    ]
    proposals, seen = [], set()
    for turn in range(max((len(k) for k in kinds), default=0)):
        for kind in kinds:
            if turn < len(kind) and kind[turn].theme.casefold() not in seen:
                seen.add(kind[turn].theme.casefold())
                proposals.append(kind[turn])
    return proposals


def themes_toml(proposals: list[Proposal], half: Period, run_id: str) -> tuple[str, list[dict]]:
    """A `[qa.themes]` block (tasks.core.settings.QaSettings.themes: month YYYY-MM -> theme)
    planning the first six proposals over the six months after the half, and the plan."""
    months = [Period.containing(add_months(half.end.replace(day=1), offset)) for offset in range(1, THEME_MONTHS + 1)]
    plan = [{"month": m.id, "label": month_label(m.id), "theme": p.theme} for m, p in zip(months, proposals)]
    lines = [f"# Proposed audit themes for {month_label(months[0].id)} to {month_label(months[-1].id)}",
             f"# (six-monthly QA report {half.id}, run {run_id}). Each theme needs its cohort rule in",
             "# [qa.theme_keywords] (codes, CIN/CP/CLA, or \"*\" for every open case).",
             "[qa.themes]"]
    # a JSON string is a TOML basic string: quotes, backslashes and control characters escaped
    lines += [f"{json.dumps(item['month'])} = {json.dumps(item['theme'], ensure_ascii=False)}" for item in plan]
    return "\n".join(lines) + "\n", plan


def red_at_end(lines: list[dict]) -> list[tuple[Figure, str, str]]:
    """The figures whose latest column is Red (`with_rag`), with their shown value and target."""
    return [(line["figure"], line["cells"][-1], line["target"]) for line in lines if line.get("rag") == RED]


# --- The report ------------------------------------------------------------------------------------


def with_registry(kpis: list[Kpi]) -> list[Kpi]:
    """The run's KPIs, then the registry's others (the monthly measures the report reads
    as published: a quarterly run computes only the quarterly KPIs)."""
    given = {k.id for k in kpis}
    return list(kpis) + [k for k in default_registry() if k.id not in given]


def la_targets(kpis: list[Kpi], overrides: dict[str, KpiTarget]) -> dict[str, KpiTarget]:
    """The registry's targets with the LA's `[targets]` over them, for every figure the report rates."""
    return targets_for(with_registry(kpis), overrides)


def report_context(results, kpis: list[Kpi], run: RunInfo, engine: Engine, data_quality, period: Period,
                   targets: dict[str, KpiTarget] | None = None) -> dict:
    everything = with_registry(kpis)
    targets = targets if targets is not None else targets_for(everything, {})
    computed = {k.id for k in kpis}
    half = period.kind == "half"
    last_quarter = Period.quarter_containing(period.end)

    # the scorecards' headlines at the end of each of the last four quarters
    quarter_ends = month_columns(engine, [q.last_month for q in last_quarter.trailing(TREND_QUARTERS)])
    headline = with_rag(figure_lines(headline_figures(everything), quarter_ends), targets)

    # the monthly QA measures, as published for each month of the period
    months = month_columns(engine, period.months)
    qa = [k for k in everything if k.scorecard == QA_SCORECARD]
    moderation, loop = shown_in(qa, "qa_moderation"), shown_in(qa, "qa_loop")
    activity = [k for k in qa if k not in moderation and k not in loop]
    month_compare = (0, len(months) - 1)
    activity_lines = with_rag(figure_lines([Figure.of(k, k.id) for k in activity], months), targets)
    moderation_lines = figure_lines([f for k in moderation for f in named_figures(k)], months)
    _hide_pairs(moderation_lines)
    loop_lines = with_rag(figure_lines([Figure.of(k, k.id) for k in loop], months), targets)

    # the quarterly measures: this run's period and the periods before it (a half: its quarters)
    if half:
        periods = period.quarters + [period]
        beside_total, compare = (0, 1), (0, 1)
    else:
        periods = period.trailing(TREND_QUARTERS)
        beside_total, compare = (), (len(periods) - 2, len(periods) - 1)
    columns = run_columns(results, periods, engine, {"quarter": "quarterly", "half": "six-monthly"})
    context_kpis = [k for k in everything if k.scorecard in CONTEXT_SCORECARDS and k.id in computed]
    learning = [k for k in context_kpis if k.grain == LEARNING_ACTION_GRAIN]
    context_lines = figure_lines([Figure.of(k, k.id) for k in context_kpis], columns, beside_total)
    learning_lines = figure_lines([Figure.of(k, k.id) for k in learning], columns, beside_total)

    sections = [
        section("scorecards", "Scorecard headlines at each quarter's end", headline, quarter_ends,
                (len(quarter_ends) - 2, len(quarter_ends) - 1),
                "The Directorate Scorecard's headline figures (Safety, Drift and Delay) at the end of each of the "
                "last four quarters: the figures currently published for each quarter's last month; RAG against "
                "the target for the latest."),
        section("activity", "Audit activity and grades", activity_lines, months, month_compare,
                "Audits due and completed on time, audit compliance against the schedule and audits completed, "
                "as published for each month.",
                extra_tables=[t for t in [grade_table(kpi_shown_in(qa, "qa_grades"), months)] if t]),
        section("moderation", "Moderation", moderation_lines, months, month_compare,
                "Moderation coverage of the previous month's audits and agreement with the auditor's grade."),
        section("loop", "Closing the loop", loop_lines, months, month_compare,
                "Re-audits of Inadequate cases, follow-ups within two weeks, stretch targets, submission and "
                "feedback, and practice observations, as published for each month."),
    ]
    if learning_lines:
        sections[-1]["learning"] = section("learning", "Learning actions", learning_lines, columns, compare,
                                           chart=False)
    sections.append(findings_section(kpis, columns, compare, beside_total))
    sections.append(section("context", "Complaints, DRP, participation and surveys", context_lines, columns,
                            compare, "The complaints, dispute resolution and IRO, and participation and survey "
                            "headlines (each in full in its own quarterly report)."))

    context = {"run": run, "synthetic_banner": SYNTHETIC_BANNER, "suppression_note": FOOTNOTE,
               "period": period, "period_label": period_label(period.id), "half": half,
               "sections": sections, "quality": quality_summary(data_quality), "scale": 1.0,
               "not_published": NOT_PUBLISHED}
    if half:
        context["themes"] = themes_context(results, kpis, period, engine, headline + activity_lines + loop_lines, run)
    return context


def _hide_pairs(lines: list[dict]) -> None:
    """Named counts shown side by side (moderated up and down): a lone `<5` among them takes
    the other with it, so that the agreement's base cannot give it back."""
    counts = [line for line in lines if line["figure"].kind in ("count", "exception") and ":" in line["id"]]
    if len(counts) < 2:
        return
    for index in range(len(counts[0]["shown"])):
        hidden = hidden_counts([line["raw"][index] for line in counts])
        for position, symbol in hidden.items():
            counts[position]["shown"][index] = Shown(symbol, None, True)
            counts[position]["cells"][index] = symbol


def findings_section(kpis: list[Kpi], columns: list[Column], compare, beside_total) -> dict:
    strengths = kpi_shown_in(kpis, audit_findings.STRENGTHS)
    development = kpi_shown_in(kpis, audit_findings.DEVELOPMENTS)
    found = [k for k in (development, strengths) if k]
    if not found:
        return section("findings", "Audit findings by practice domain", [], columns, None,
                       audit_findings.NOT_SUPPLIED.replace("this month", "for this period"))
    tables = [domain_table(k, columns, f"{k.id} {k.name}", beside_total) for k in found]
    lines = [line for table in tables for line in table["lines"]]
    built = section("findings", "Audit findings by practice domain", lines, columns, compare,
                    "Audits with at least one area for development, and with at least one strength, by practice "
                    "domain (an audit counts once in each domain it has a finding in).", chart=False)
    built["tables"] = [{"title": t["title"], "labels": t["labels"],
                        "rows": [{"name": line["name"], "cells": line["cells"]} for line in t["lines"]]}
                       for t in tables]
    built["lines"] = []
    return built


def themes_context(results, kpis: list[Kpi], half: Period, engine: Engine, rated: list[dict], run: RunInfo) -> dict:
    """The proposals' evidence: this run's figures for the half (QA13 and IRO01 by theme,
    complaint categories from the warehouse) and the figures Red at the half's end."""
    own = Column(short_label(half), half.id, results.values[(results.values["level"] == "la")
                                                            & (results.values["period"] == half.id)])
    development = kpi_shown_in(kpis, audit_findings.DEVELOPMENTS)
    drp = [k for k in kpis if k.scorecard == "iro" and any(e.group == "theme" for e in k.extras if e.breakdown)]
    proposals = propose_themes(split_counts(own, development.id, "domain") if development else {},
                               split_counts(own, drp[0].id, "theme") if drp else {},
                               complaint_categories(engine, half), red_at_end(rated), period_label(half.id))
    block, plan = themes_toml(proposals, half, run.run_id)
    return {"proposals": proposals, "toml": block, "plan": plan, "more": max(len(proposals) - THEME_MONTHS, 0)}


def render_qa_period_report(results, monthly, kpis: list[Kpi], info: RunInfo, out_dir: Path, engine_url: str,
                            quality, period: Period, targets: dict[str, KpiTarget] | None = None) -> list[str]:
    """The quarterly QA report (`period` a quarter) or the six-monthly QA report (a
    financial-year half) as HTML and PDF in `out_dir`: `qa_quarterly_report_<period>` or
    `qa_six_monthly_report_<period>`; returns the paths written. `results`: the run's
    PeriodResults (values of the period, LA trend of the periods before); `monthly`: the
    LA figures of its months (not shown: the quarterly reports show them); `kpis`: the
    run's KPIs; `targets`: the LA's (tasks.kpis.rag.targets_for; the registry's when None)."""
    del monthly  # the period's months of CMP/IRO/SUR are in the complaints, DRP and participation reports
    engine = make_engine(engine_url)
    context = report_context(results, kpis, info, engine, quality, period, targets)
    name = "six-monthly QA report" if context["half"] else "quarterly QA report"
    html = template_environment().get_template("qa_period_report.html").render(
        **context, title=f"{info.la_name}: {name}, {context['period_label']}")
    stem = Path(out_dir) / f"{report_stem(period)}_{period.id}"
    html_path = write_bytes_atomically(stem.with_suffix(".html"), html.encode("utf-8"))
    pdf_path, _ = write_pdf(html, stem.with_suffix(".pdf"))
    return [str(html_path), str(pdf_path)]


def report_stem(period: Period) -> str:
    return "qa_six_monthly_report" if period.kind == "half" else "qa_quarterly_report"
