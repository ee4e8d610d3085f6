"""The monthly QA report (HTML and PDF) and "QA on a page" (a one-page A4 PDF).

Both are rendered from Jinja2 templates in `report_templates/` (a shared `base.html`
and `macros.html`) and read only the stored KPI values (the `values`/`trend` frames the
workbooks are written from), at LA and team level: no child-level data.

They leave the performance team, so kpis.md "Small numbers" applies, by the rules and
symbols of tasks.publish.suppression: every count of 1-4 is shown as `<5`, a suppressed
percentage (or a count hidden beside a `<5`) as `*`, with the one footnote; a suppressed
figure gets no RAG, no direction and no point in a chart, so that neither can give it away.

PDFs are made with WeasyPrint (it needs the Pango library of the operating system).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from tasks.core.settings import KpiTarget
from tasks.core.periods import Period
from tasks.publish.csv_files import write_bytes_atomically
from tasks.publish.html import (bar_chart_svg, line_chart_svg, render_pdf, template_environment, write_pdf,
                                write_rendered_pdf)
from tasks.publish.excel import la_trend_rows
from tasks.publish.lineage import RunInfo
from tasks.publish.style import SYNTHETIC_BANNER, month_label
from tasks.publish.suppression import (FOOTNOTE, NOT_AVAILABLE, SMALL_NUMBER, SUPPRESSED, base_too_small,
                                       hidden_counts, is_suppressed, shown_figure)
from tasks.core.figure_ids import breakdown_name, parse_figure_id
from tasks.kpis.compute import percent
from tasks.publish.cells import number_value
from tasks.publish.qa_workbook import GRADES, NO_GRADE, figure_label, figure_rag, grade_table, grades_by, \
    la_figure, qa_figures
from tasks.kpis.rag import direction_of_travel, targets_for
from tasks.kpis.registry import Figure, Kpi, kpi_shown_in, shown_in
from tasks.reports import findings as audit_findings

ONE_PAGE_SCALES = (1.0, 0.92, 0.84, 0.76, 0.68)
# QA on a page: (shareable finding summaries of each type, type scale), tried in turn
PAGE_SUMMARIES = (2, 1, 0)
ONE_PAGE_ATTEMPTS = tuple((2, s) for s in ONE_PAGE_SCALES[:3]) + tuple((1, s) for s in ONE_PAGE_SCALES[2:]) \
    + ((0, ONE_PAGE_SCALES[-1]),)
# The tables the QA measures read: their data-quality results are the reports' own.
QA_TABLES = ("qa_audits", "qa_moderations", "qa_observations", "qa_staff")


# --- Small numbers --------------------------------------------------------------------------------


def show_count(value) -> str:
    shown = shown_figure("count", value)
    return shown if isinstance(shown, str) else f"{int(shown):,}"


def show_percent(value, denominator) -> str:
    shown = shown_figure("percent", value, denominator=denominator)
    return shown if isinstance(shown, str) else f"{float(shown):.1f}%"


@dataclass(frozen=True)
class Shown:
    """One figure as a report may show it: `text` for people, `value` (None when
    suppressed or missing) for RAG, direction and charts."""

    text: str
    value: float | None
    suppressed: bool


def shown(figure: Figure, row) -> Shown:
    if row is None or row.value is None or pd.isna(row.value):
        return Shown(NOT_AVAILABLE, None, False)
    if figure.kind == "percent":
        text = show_percent(row.value, row.denominator)
    else:
        text = show_count(row.value)
    suppressed = is_suppressed(text)
    return Shown(text, None if suppressed else float(row.value), suppressed)


# --- Figures of the month -----------------------------------------------------------------------------


def _previous(period: str) -> str:
    return Period.month(period).shift(-1).id


def figure_line(figure: Figure, la_rows: pd.DataFrame, period: str,
                targets: dict[str, KpiTarget]) -> dict:
    """A table row: this month, last month, the base (denominator), target, RAG, direction."""
    current = la_figure(la_rows, figure.id, period)
    now, before = shown(figure, current), shown(figure, la_figure(la_rows, figure.id, _previous(period)))
    target, rag = figure_rag(figure, now.value, targets)
    base = current.denominator if current is not None and figure.kind == "percent" else None
    return {"id": figure.id, "name": figure.name, "value": now.text, "last": before.text,
            "base": show_count(base) if base is not None and not pd.isna(base) else "",
            "target": _show_target(target, figure), "rag": rag,
            "direction": direction_of_travel(now.value, before.value, figure.polarity) or "",
            "suppressed": now.suppressed}


def _show_target(target: float | None, figure: Figure) -> str:
    if target is None:
        return ""
    return f"{target:.1f}%" if figure.kind == "percent" else f"{target:g}"


def narrative(kpis: list[Kpi], la_rows: pd.DataFrame, period: str) -> tuple[list[dict], int]:
    """What changed since last month, one sentence per headline KPI with both figures
    publishable: ([{id, sentence, change}], number of KPIs left out for small numbers)."""
    sentences, left_out = [], 0
    for kpi in kpis:
        figure = Figure.of(kpi, kpi.id)
        now = shown(figure, la_figure(la_rows, kpi.id, period))
        before = shown(figure, la_figure(la_rows, kpi.id, _previous(period)))
        if now.suppressed or before.suppressed:
            left_out += 1
            continue
        if now.value is None or before.value is None:
            continue
        change = round(now.value - before.value, 1)
        subject = kpi.label_in("narrative") or kpi.name.removesuffix(" %").removesuffix("%").strip()
        if change == 0:
            sentence = f"{subject} was unchanged at {now.text}."
        else:
            verb = "rose" if change > 0 else "fell"
            sentence = f"{subject} {verb} from {before.text} to {now.text}."
        sentences.append({"id": kpi.id, "sentence": sentence,
                          "change": abs(change) if kpi.kind == "percent" else 0.0})
    return sentences, left_out


def grade_lines(la_rows: pd.DataFrame, period: str, grades_kpi: str, names: tuple[str, ...] = ()) -> list[dict]:
    """Audits by grade with small-number suppression. A grade's % is suppressed with its
    count (shown side by side, the % would give the count away)."""
    rows = grade_table(la_rows, period, grades_kpi, names)
    total = rows[-1]["count"]
    hidden_rows = hidden_counts([row["count"] for row in rows[:-1]])
    lines = []
    for index, row in enumerate(rows):
        count_text = hidden_rows.get(index) or show_count(row["count"])
        hidden = index in hidden_rows or base_too_small(total)
        percent_text = SUPPRESSED if hidden and row["count"] else show_percent(row["percent"], total)
        lines.append({"grade": row["grade"], "count": count_text, "percent": percent_text,
                      "chart_value": None if hidden else row["count"]})
    return lines


def grades_by_lines(la_rows: pd.DataFrame, period: str, grades_kpi: str, dimension: str) -> list[dict]:
    """Audits completed in the month by theme or service area and grade, counts of 1-4
    shown as <5: [{name, counts (in GRADES order), total}]."""
    counts = grades_by(la_rows, period, grades_kpi, dimension)
    lines = []
    for name, row in counts.iterrows():
        values = [int(row[g]) for g in GRADES]
        hidden = hidden_counts(values)
        lines.append({"name": name, "total": show_count(sum(values)),
                      "counts": [hidden.get(i) or show_count(v) for i, v in enumerate(values)]})
    return lines


def quality_summary(data_quality) -> dict | None:
    """The run's data-quality state and the rules that did not pass in the QA tables
    (counts and pass rates only, never record ids: the reports leave the team)."""
    if data_quality is None:
        return None
    failed = data_quality.not_passed
    if not failed.empty:
        failed = failed[failed["table_name"].isin(QA_TABLES)]
    rules = [{"table": r.table_name, "column": r.column_name or "", "rule": r.rule,
              "severity": r.severity, "failing": int(r.unexpected),
              "pass_rate": f"{100 * float(r.pass_rate):.1f}%" if int(r.checked) else "not checked"}
             for r in failed.itertuples(index=False)]
    return {"state": data_quality.state, "rules": rules}


# The table of audits by unit: by team, unless small numbers would hide more than this
# share of its figures; then by service area (the teams' parent departments).
MOSTLY_HIDDEN = 0.5
UNIT_CELLS = ("due", "on_time", "completed", "staff", "compliance")
# Senior roles whose audit compliance the reports keep in view, together when each alone
# is too few to show (qa-activity.md: the DCS and Assistant Directors re-audit Inadequate
# cases; a Head of Service shows here if the LA gives that role a QA02 requirement).
SENIOR_ROLES = ("DCS", "Assistant Director", "Head of Service")
UNITS_LAST = ("Unallocated", "Unknown service area")


def unit_lines(values: pd.DataFrame, period: str, kpis: list[Kpi], level: str = "team") -> list[dict]:
    """Audits due and done, and schedule compliance, per team or service area (the stored
    values of that level), with small numbers suppressed."""
    roles = [kpi_shown_in(kpis, output) for output in ("qa_due", "qa_compliance", "qa_grades")]
    units = values[(values["level"] == level) & (values["period"] == period)]
    by_unit_figure = {(str(r.unit_id), r.kpi_id): r for r in units.itertuples()}
    lines = []
    for unit_id, unit_name in sorted({(str(r.unit_id), r.unit_name) for r in units.itertuples()},
                                     key=lambda u: (u[0] in UNITS_LAST, u[0] == "Unallocated", str(u[1]).lower())):
        def get(kpi_id):
            return by_unit_figure.get((unit_id, kpi_id))
        qa01, qa02, qa03 = (get(kpi.id) if kpi else None for kpi in roles)
        lines.append(_unit_line(unit_name if isinstance(unit_name, str) else unit_id,
                                *((r.value, r.numerator, r.denominator) if r is not None else None
                                  for r in (qa01, qa02, qa03))))
    return lines


def _unit_line(name: str, due, compliance, completed) -> dict:
    """A row of the audits-by-unit table from (value, numerator, denominator) triples."""
    return {
        "name": name,
        "due": show_count(due[2]) if due is not None else NOT_AVAILABLE,
        "on_time": show_percent(due[0], due[2]) if due is not None else NOT_AVAILABLE,
        "completed": show_count(completed[0]) if completed is not None else NOT_AVAILABLE,
        "staff": show_count(compliance[2]) if compliance is not None else NOT_AVAILABLE,
        "compliance": show_percent(compliance[0], compliance[2]) if compliance is not None else NOT_AVAILABLE,
    }


def hidden_cells(lines: list[dict]) -> tuple[int, int]:
    """(figures hidden by small numbers, figures there are) in a table's rows; `n/a`
    (nothing to show) is neither."""
    cells = [line[key] for line in lines for key in UNIT_CELLS if line[key] != NOT_AVAILABLE]
    return sum(is_suppressed(cell) for cell in cells), len(cells)


def senior_line(la_rows: pd.DataFrame, period: str, kpis: list[Kpi],
                outputs: tuple[str, ...] = ("qa_due", "qa_compliance")) -> dict | None:
    """The senior roles' audits together (LA figures by auditor role, summed), so that
    their compliance shows as soon as there are 5 of them; None when no senior role has
    a figure of the KPIs shown in `outputs`."""
    roles = [r for r in SENIOR_ROLES
             if any(la_figure(la_rows, f"{k.id}:{breakdown_name('role', r)}", period) is not None
                    for k in (kpi_shown_in(kpis, o) for o in outputs) if k)]
    if not roles:
        return None
    sums = []
    for output in ("qa_due", "qa_compliance", "qa_grades"):
        kpi = kpi_shown_in(kpis, output)
        rows = [la_figure(la_rows, f"{kpi.id}:{breakdown_name('role', r)}", period) for r in roles] if kpi else []
        rows = [r for r in rows if r is not None]
        if not rows:
            sums.append(None)
            continue
        numerator = sum(int(number_value(r.numerator) or 0) for r in rows)
        denominators = [r.denominator for r in rows if r.denominator is not None and not pd.isna(r.denominator)]
        denominator = sum(int(d) for d in denominators) if denominators else None
        value = percent(numerator, denominator) if denominator is not None else numerator
        sums.append((value, numerator, denominator))
    line = _unit_line(f"Senior leaders ({', '.join(roles)})", *sums)
    return line | {"roles": roles}


def by_unit_table(values: pd.DataFrame, la_rows: pd.DataFrame, period: str, kpis: list[Kpi]) -> dict:
    """Audits by team, or by service area when small numbers would hide most of the
    teams' figures (issue 14: not a wall of `<5`), and the senior leaders' line."""
    teams = unit_lines(values, period, kpis, "team")
    hidden, cells = hidden_cells(teams)
    table = {"level": "team", "first_header": "Team", "lines": teams, "note": None}
    if cells and hidden / cells > MOSTLY_HIDDEN:
        areas = unit_lines(values, period, kpis, "service_area")
        if areas:
            table = {"level": "service_area", "first_header": "Service area", "lines": areas,
                     "note": f"Teams are grouped into their service areas: by team, small numbers would "
                             f"hide {hidden} of the {cells} figures."}
    return table | {"senior": senior_line(la_rows, period, kpis)}


def senior_role_line(la_rows: pd.DataFrame, period: str, kpis: list[Kpi]) -> dict | None:
    """The by-role table's line of the senior roles together (this month and last)."""
    compliance = kpi_shown_in(kpis, "qa_compliance")
    now = senior_line(la_rows, period, kpis, ("qa_compliance",))
    before = senior_line(la_rows, _previous(period), kpis, ("qa_compliance",))
    if compliance is None or now is None or len(now["roles"]) < 2:
        return None
    return {"id": f"{compliance.id}:senior", "label": f"Together: {', '.join(now['roles'])}",
            "name": now["name"], "base": now["staff"], "value": now["compliance"],
            "last": before["compliance"] if before else NOT_AVAILABLE, "target": "", "rag": None,
            "direction": "", "suppressed": is_suppressed(now["compliance"])}


def actions_summary(la_rows: pd.DataFrame, period: str, kpis: list[Kpi]) -> dict | None:
    """What the follow-ups of last month's audits found: audits followed up with every
    action completed, with actions partly completed, and the rest (counts of 1-4 shown
    as `<5`, one more hidden beside a lone `<5`). None without the follow-up KPI."""
    kpi = kpi_shown_in(kpis, "qa_actions")
    headline = la_figure(la_rows, kpi.id, period) if kpi else None
    if headline is None:
        return None
    audits = int(number_value(headline.denominator) or 0)
    counts = [la_figure(la_rows, f"{kpi.id}:{name}", period)
              for name in ("actions_completed", "actions_partly_completed")]
    counts = [int(number_value(c.value) or 0) if c is not None else 0 for c in counts]
    rest = max(audits - sum(counts), 0)
    hidden = hidden_counts(counts + [rest])
    shown = [hidden.get(i) or show_count(c) for i, c in enumerate(counts + [rest])]
    return {"month": month_label(_previous(period)), "audits": show_count(audits),
            "completed": shown[0], "partly": shown[1], "not_yet": shown[2],
            "on_time": show_percent(headline.value, headline.denominator), "kpi": kpi}


def breakdown_lines(figures: list[Figure], kpi_id: str, dimension: str, la_rows: pd.DataFrame,
                    period: str, targets: dict[str, KpiTarget]) -> list[dict]:
    """Table rows of a KPI's `kpi_id:<dimension>=<value>` figures (e.g. QA02 by role)."""
    return [figure_line(f, la_rows, period, targets) | {"label": figure_label(f)} for f in figures
            if parse_figure_id(f.id).kpi_id == kpi_id and dict(parse_figure_id(f.id).dimensions).keys() == {dimension}]


# --- Charts (inline SVG) ----------------------------------------------------------------------------------


def _month_short(period: str) -> str:
    start = Period.month(period).start
    return f"{calendar.month_abbr[start.month]} {start.year % 100:02d}"


def trend_chart(figure: Figure, la_rows: pd.DataFrame, period: str, targets: dict[str, KpiTarget],
                width: int = 300, height: int = 140, trend_months: int = 13) -> Markup:
    months = [p.id for p in Period.month(period).trailing(trend_months)]
    points = [shown(figure, la_figure(la_rows, figure.id, m)).value for m in months]
    target = targets.get(figure.id)
    return line_chart_svg([_month_short(m) for m in months], points, f"{figure.id} {figure.name}",
                          target.target if target else None, figure.kind == "percent", width, height)


def grade_chart(lines: list[dict], title: str, width: int = 420) -> Markup:
    bars = [(line["grade"], line["chart_value"], line["count"]) for line in lines if line["grade"] != "Total"]
    return bar_chart_svg(bars, title, width)


# --- Rendering --------------------------------------------------------------------------------------


def report_context(values: pd.DataFrame, trend: pd.DataFrame, kpis: list[Kpi], run: RunInfo,
                   targets: dict[str, KpiTarget], data_quality=None) -> dict:
    """Everything both reports show, from the stored LA and team values only."""
    la_rows = la_trend_rows(values, trend)
    figures = qa_figures(kpis, la_rows)
    by_id = {f.id: f for f in figures}
    sentences, left_out = narrative(kpis, la_rows, run.period)
    grades = kpi_shown_in(kpis, "qa_grades")
    grades_kpi = grades.id if grades else ""
    month_grades = grade_lines(la_rows, run.period, grades_kpi)
    rolling_grades = grade_lines(la_rows, run.period, grades_kpi, ("rolling_3m",))
    headline = [figure_line(by_id[k.id], la_rows, run.period, targets) for k in kpis]
    moderation = [line for line in (figure_line(f, la_rows, run.period, targets) for f in figures
                                    if _moderation_figure(f, kpis)) if _worth_a_line(line)]
    percent_kpis = [by_id[k.id] for k in kpis if k.kind == "percent"]
    compliance = kpi_shown_in(kpis, "qa_compliance")
    return {
        "run": run, "synthetic_banner": SYNTHETIC_BANNER,
        "period_label": month_label(run.period),
        "previous_label": month_label(_previous(run.period)),
        "suppression_note": FOOTNOTE,
        "headline": headline, "lines_by_id": {line["id"]: line for line in headline},
        "narrative": sentences, "left_out": left_out,
        "month_grades": month_grades, "rolling_grades": rolling_grades,
        "month_grade_chart": grade_chart(month_grades, "Audits completed this month, by grade"),
        "grades_by_theme": grades_by_lines(la_rows, run.period, grades_kpi, "theme"),
        "grades_by_area": grades_by_lines(la_rows, run.period, grades_kpi, "service_area"),
        "quality": quality_summary(data_quality),
        "moderation": moderation,
        "loop": [line for line in headline if line["id"] in {k.id for k in shown_in(kpis, "qa_loop")}],
        "by_role": (breakdown_lines(figures, compliance.id, "role", la_rows, run.period, targets)
                    + [line for line in [senior_role_line(la_rows, run.period, kpis)] if line]) if compliance else [],
        "units": by_unit_table(values, la_rows, run.period, kpis),
        "actions": actions_summary(la_rows, run.period, kpis),
        "charts": [trend_chart(f, la_rows, run.period, targets, trend_months=run.trend_months)
                   for f in percent_kpis],
        "kpis": kpis, "grades": GRADES, "no_grade": NO_GRADE,
    }


def _moderation_figure(figure: Figure, kpis: list[Kpi]) -> bool:
    """The moderation KPIs' figures without a breakdown (QA05 overall, up and down), and
    the coverage KPI's breakdowns too, which carry its targets (QA04 by service area)."""
    if figure.kpi not in shown_in(kpis, "qa_moderation"):
        return False
    return not parse_figure_id(figure.id).dimensions or figure.kpi == kpi_shown_in(kpis, "qa_moderation_coverage")


def _worth_a_line(line: dict) -> bool:
    """A breakdown with nothing this month or last (a service area with no audits) is
    left out; a headline always has its line."""
    return ":" not in line["id"] or line["value"] != NOT_AVAILABLE or line["last"] != NOT_AVAILABLE


def render_monthly_qa_report(values: pd.DataFrame, trend: pd.DataFrame, kpis: list[Kpi], run: RunInfo,
                             out_dir: Path, targets: dict[str, KpiTarget] | None = None,
                             data_quality=None, findings: list[Kpi] = (),
                             summaries: audit_findings.SharedSummaries | None = None) -> tuple[Path, Path]:
    """The monthly QA report as HTML and PDF in `out_dir`; returns (html_path, pdf_path).
    Targets default to the registry's (tasks.kpis.rag.targets_for); `data_quality` (a
    tasks.publish.dq_sheet.DataQuality) adds the data-quality section. `findings`
    (QA12, QA13 when the optional audit findings were supplied) and `summaries` fill
    the "Audit findings" section (findings_context)."""
    targets = targets if targets is not None else targets_for(kpis, {})
    context = report_context(values, trend, kpis, run, targets, data_quality)
    context["findings"] = findings_context(values, trend, [*kpis, *findings], run.period, summaries)
    html = template_environment().get_template("monthly_qa_report.html").render(
        **context, title=f"{run.la_name}: monthly QA report, {context['period_label']}", scale=1.0)
    out_dir = Path(out_dir)
    html_path = write_bytes_atomically(out_dir / f"qa_monthly_report_{run.period}.html", html.encode("utf-8"))
    pdf_path, _ = write_pdf(html, out_dir / f"qa_monthly_report_{run.period}.pdf")
    return html_path, pdf_path


def render_qa_on_a_page(values: pd.DataFrame, trend: pd.DataFrame, kpis: list[Kpi], run: RunInfo,
                        out_dir: Path, targets: dict[str, KpiTarget] | None = None,
                        data_quality=None, findings: list[Kpi] = (),
                        summaries: audit_findings.SharedSummaries | None = None) -> Path:
    """"QA on a page": one A4 page as PDF (the type is scaled down until it fits; the
    shareable finding summaries go first, two of each type, then one, then none).
    `findings`: the audit findings KPIs (strengths and areas for development by domain,
    QA12/QA13), with `summaries`: the page leads with what the audits found."""
    targets = targets if targets is not None else targets_for(kpis, {})
    context = report_context(values, trend, kpis, run, targets, data_quality)
    page_findings = {n: findings_context(values, trend, [*kpis, *findings], run.period, summaries, n)
                     for n in PAGE_SUMMARIES}
    context["tiles"] = [context["lines_by_id"][k.id] | {"name": k.label_in("tile") or context["lines_by_id"][k.id]["name"]}
                        for k in shown_in(kpis, "qa_tile") if k.id in context["lines_by_id"]]
    context["top_changes"] = sorted(context["narrative"], key=lambda s: -s["change"])[:5]
    charted = {k.id for k in shown_in(kpis, "qa_page_chart")}
    context["page_charts"] = [trend_chart(f, la_trend_rows(values, trend), run.period, targets, 250, 120,
                                          run.trend_months)
                              for f in qa_figures(kpis, la_trend_rows(values, trend)) if f.id in charted]
    template = template_environment().get_template("qa_on_a_page.html")

    def page(attempt: int) -> str:
        per_type, scale = ONE_PAGE_ATTEMPTS[attempt]
        return template.render(**context, findings=page_findings[per_type],
                               title=f"{run.la_name}: QA on a page, {context['period_label']}", scale=scale)

    html, document = first_that_fits(page, len(ONE_PAGE_ATTEMPTS))
    return write_rendered_pdf(document, html, Path(out_dir) / f"qa_on_a_page_{run.period}.pdf")


def first_that_fits(page, attempts: int) -> tuple[str, object]:
    """(HTML, rendered document) of the first attempt that fits on one page. An attempt
    never takes more pages than the one before it (fewer summaries, or smaller type), so
    the first that fits is found by halving: a few renders, not one per attempt."""
    rendered: dict[int, tuple[str, object]] = {}

    def fits(attempt: int) -> bool:
        if attempt not in rendered:
            html = page(attempt)
            rendered[attempt] = html, render_pdf(html)
        return len(rendered[attempt][1].pages) == 1

    low, high = 0, attempts  # the first that fits is in [low, high]; `attempts`: none does
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    if low == attempts:
        raise RuntimeError(f"QA on a page does not fit on one A4 page even at scale {ONE_PAGE_SCALES[-1]}")
    return rendered[low]


# --- Audit findings (QA12, QA13 and the shareable summaries: tasks/reports/findings.py) -------------


def findings_context(values: pd.DataFrame, trend: pd.DataFrame, kpis: list[Kpi], period: str,
                     summaries: audit_findings.SharedSummaries | None,
                     per_type: int = audit_findings.SHOWN_PER_TYPE) -> dict:
    """The "Audit findings" sections: audits with a strength and with an area for
    development this month, by practice domain (QA12, QA13 as stored, counts of 1-4 shown
    as `<5`), the three domains most often strong and needing development (only those of
    5 or more audits), and up to `per_type` shareable summaries of each type (of those
    domains first). `kpis`: the run's KPIs; without the findings KPIs (the optional
    table not supplied) only a note."""
    strengths = kpi_shown_in(kpis, audit_findings.STRENGTHS)
    developments = kpi_shown_in(kpis, audit_findings.DEVELOPMENTS)
    if strengths is None and developments is None:
        return {"supplied": False, "note": audit_findings.NOT_SUPPLIED}
    la_rows = la_trend_rows(values, trend)
    strong = audit_findings.domain_counts(la_rows, period, strengths.id) if strengths else {}
    develop = audit_findings.domain_counts(la_rows, period, developments.id) if developments else {}

    def headline(kpi):
        row = la_figure(la_rows, kpi.id, period) if kpi else None
        return show_count(row.value) if row is not None else NOT_AVAILABLE

    declared = audit_findings.declared_domains([k for k in (strengths, developments) if k])
    domains = audit_findings.domain_order(declared, strong, develop)
    summaries = summaries or audit_findings.SharedSummaries([], {})
    most_strong = audit_findings.most_often(strong, SMALL_NUMBER)
    most_development = audit_findings.most_often(develop, SMALL_NUMBER)
    return {
        "supplied": True,
        "completed": headline(kpi_shown_in(kpis, "qa_grades")),
        "with_strength": headline(strengths),
        "with_development": headline(developments),
        "domains": [{"domain": d, "strength": audit_findings.count_or_missing(strong, d, show_count),
                     "development": audit_findings.count_or_missing(develop, d, show_count)} for d in domains],
        "most_strong": [{"domain": d, "count": show_count(c)} for d, c in most_strong],
        "most_development": [{"domain": d, "count": show_count(c)} for d, c in most_development],
        "strengths": summaries.of_type(audit_findings.STRENGTH, per_type, [d for d, _ in most_strong]),
        "developments": summaries.of_type(audit_findings.DEVELOPMENT, per_type, [d for d, _ in most_development]),
        "dropped": sum(summaries.dropped.values()),
    }
