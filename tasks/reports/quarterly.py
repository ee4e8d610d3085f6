"""The quarterly reports (HTML and PDF): complaints and compliments, DRP and IRO,
participation and surveys (issue 15; kpis.md "Complaints, compliments, IRO and participation").
The same renderer serves any period kind the KPIs are computed for: a calendar quarter
(`2024-Q1`), a financial-year half (`2024-25-H1`) or a financial year (`2024-25`); the
trend is the period and the three periods of its kind before it.

Beside the KPIs, a report may show plain counts that kpis.md does not define (complaint
themes, DRP outcomes, learning actions raised and completed): each is one SQL file of
`sql/reports/` (its rule in its comment), run for the period by `report_counts`.

Each reads only the stored KPI values of the quarterly run (the quarter's figures at LA
and team level, the three previous periods' LA figures for the trend, and its parts at LA
level: a quarter's three months, a half's two quarters, a year's four): aggregate figures only, never a child's record. They leave the
performance team, so every figure goes through tasks.publish.suppression: a count of 1-4
is `<5`, a percentage on a base under 5 is `*`, and in a table of counts shown beside
their total a lone `<5` takes the smallest other count with it (`*`, secondary
suppression); a suppressed figure has no point on a chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tasks.core.figure_ids import parse_figure_id
from tasks.core.paths import SQL_DIR
from tasks.core.periods import Period
from tasks.kpis.queries import query
from tasks.kpis.registry import Figure, Kpi
from tasks.publish.csv_files import write_bytes_atomically
from tasks.publish.html import line_chart_svg, template_environment, write_pdf
from tasks.publish.lineage import RunInfo
from tasks.publish.style import SYNTHETIC_BANNER, month_label
from tasks.publish.suppression import FOOTNOTE, hidden_counts, shown_figure
from tasks.reports.render import quality_summary, shown, show_count

TREND_QUARTERS = 4  # the period and the three of its kind before it
REPORT_SQL_DIR = SQL_DIR / "reports"
PERIOD_NOUNS = {"quarter": "quarter", "half": "half-year", "year": "year", "month": "month"}
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class CountTable:
    """A table of plain counts (no KPI): the rows of one SQL file of sql/reports/ (`name`,
    then one count column per `columns` entry), with a Total row. Each column is a set of
    counts shown beside its total: a count of 1-4 is `<5` and a lone `<5` takes the
    smallest other count of the column with it."""

    sql: str                                  # file stem in sql/reports/
    table: str                                # the source table it counts
    heading: str
    row_heading: str
    columns: tuple[tuple[str, str], ...]      # (SQL column, header)
    note: str


COUNT_TABLES = {table.sql: table for table in (
    CountTable("complaint_themes", "complaints", "Complaints received by theme", "Theme", (("complaints", "Complaints"),),
               "The complaint's category; the themes add up to the complaints received."),
    CountTable("learning_actions_by_source", "learning_actions", "Learning actions", "Raised from",
               (("raised", "Raised in the period"), ("completed", "Completed in the period"),
                ("overdue", "Overdue at the period's end")),
               "Every learning action (from complaints, audits, DRP alerts and reviews). Overdue: open at "
               "the period's end and due before it (the total is the learning actions overdue measure)."),
    CountTable("drp_outcomes", "iro_drp_alerts", "DRP alerts closed, by outcome", "Outcome", (("alerts", "Alerts"),),
               "The alerts closed (resolved date) in the period, by their recorded outcome; they add up to "
               "the alerts the resolution-within-20-working-days measure is based on."),
)}


@dataclass(frozen=True)
class QuarterlyReport:
    """One quarterly report: the KPIs of one registry scorecard. What it shows follows the
    registry (no KPI id is named here): each KPI's quarter, months and trend; a table per
    split (`CMP01:stage=...`) and one of its named figures (`CMP04:upheld`); a question
    table for a split within a split (SUR02 per question and respondent type); the count
    KPIs by team."""

    key: str            # file name stem: <key>_<quarter>.html / .pdf
    title: str
    scorecard: str      # the registry scorecard whose KPIs the report shows
    intro: str
    counts: tuple[str, ...] = ()  # COUNT_TABLES shown after the KPIs' tables


REPORTS = (
    QuarterlyReport(
        "complaints_compliments", "Complaints and compliments report", "complaints",
        "Complaints received and responded to in the period; timeliness against the statutory "
        "10 (extended 20) working days at stage 1 and 25 (extended 65) at stage 2; outcomes; "
        "escalation to stage 2 of the previous quarter's stage 1 responses; complaint themes; compliments "
        "by theme and team; learning actions raised, completed and overdue.",
        counts=("complaint_themes", "learning_actions_by_source")),
    QuarterlyReport(
        "drp_iro", "Dispute resolution (DRP) and IRO report", "iro",
        "Dispute resolution alerts raised and resolved in the period (resolution within 20 working "
        "days), alerts open over 20 working days at the period's end, child participation in "
        "reviews (PN1-PN6 of PN1-PN7) and IRO monitoring-form completion; alerts by stage, theme and "
        "team, and the outcomes of the alerts closed.",
        counts=("drp_outcomes",)),
    QuarterlyReport(
        "participation_surveys", "Participation and survey report", "participation",
        "Survey responses submitted in the period and the % positive answers (the top two points of "
        "the scale) to each question, with the trend over the last four periods."),
)


def breakdowns_of(kpi: Kpi) -> list[tuple[str, str]]:
    """[(dimension, heading)] of the tables of a KPI: one per split (in registry order),
    and one ("") of its named figures; a split within a split is the question table."""
    tables, seen = [], set()
    for extra in kpi.extras:
        if extra.breakdown == "split" and not extra.within and extra.group not in seen:
            seen.add(extra.group)
            tables.append((extra.group, f"{kpi.name} by {extra.group.replace('_', ' ')}"))
        elif extra.breakdown is None and "" not in seen:
            seen.add("")
            named = [e for e in kpi.extras if e.breakdown is None]
            tables.append(("", f"{kpi.name}: {', '.join((e.label or e.name).replace('_', ' ') for e in named)}"))
    return tables


def question_kpi(kpis: list[Kpi]) -> Kpi | None:
    """The KPI split by a value within another (SUR02: question, then respondent type)."""
    return next((k for k in kpis for e in k.extras if e.breakdown == "split" and e.within), None)


def period_label(period_id: str) -> str:
    """"Q1 2024 (January to March 2024)", "2024-25 H1 (April to September 2024)",
    "2024-25 (April 2024 to March 2025)"."""
    period = Period.parse(period_id)
    first, last = month_label(period.months[0].id), month_label(period.months[-1].id)
    span = f"{first.split()[0] if period.start.year == period.end.year else first} to {last}"
    if period.kind == "quarter":
        return f"Q{(period.start.month + 2) // 3} {period.start.year} ({span})"
    if period.kind == "half":
        year, half = period.id.rsplit("-", 1)
        return f"{year} {half} ({span})"
    return f"{period.id} ({span})" if period.kind == "year" else first


quarter_label = period_label


def _row(frame: pd.DataFrame, figure_id: str, period: str, level: str = "la", unit_id=None):
    rows = frame[(frame["kpi_id"] == figure_id) & (frame["period"] == period) & (frame["level"] == level)]
    if unit_id is not None:
        rows = rows[rows["unit_id"].astype(str) == str(unit_id)]
    return next(rows.itertuples(), None)


def _base(figure: Figure, row) -> str:
    if figure.kind != "percent" or row is None or pd.isna(row.denominator):
        return ""
    return show_count(row.denominator)


def headline_lines(kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame, months: pd.DataFrame,
                   quarter: Period) -> list[dict]:
    """One row per KPI: the period (and its base), its months (a quarter's three), the
    three periods of its kind before."""
    earlier = [p.id for p in quarter.trailing(TREND_QUARTERS)[:-1]]
    lines = []
    for kpi in kpis:
        figure = Figure.of(kpi, kpi.id)
        now = _row(values, kpi.id, quarter.id)
        in_months = [_row(months, kpi.id, m.id) for m in shown_parts(quarter)]
        month_text = [shown(figure, row).text for row in in_months]
        if kpi.kind == "count":  # the months add up to the quarter shown beside them
            for i, symbol in hidden_counts([_value(row) for row in in_months]).items():
                month_text[i] = symbol
        lines.append({"id": kpi.id, "name": kpi.name, "definition": kpi.definition,
                      "value": shown(figure, now).text, "base": _base(figure, now),
                      "months": month_text,
                      "quarters": [shown(figure, _row(trend, kpi.id, q)).text for q in earlier]})
    return lines


def shown_parts(period: Period) -> list[Period]:
    """The periods shown beside a report's period: a quarter's three months, a half's two
    quarters, a financial year's four (the annual complaints report: the four quarters
    together)."""
    return period.months if period.kind == "quarter" else period.quarters


def part_label(part: Period) -> str:
    return month_label(part.id, abbreviated=True) if part.kind == "month" else part.id


def breakdown_table(kpi: Kpi, dimension: str, values: pd.DataFrame, period: str) -> list[dict]:
    """The LA figures of one split of a KPI (`dimension` "" for its named extras), counts
    suppressed together with the headline as their total (secondary suppression)."""
    la = values[(values["level"] == "la") & (values["period"] == period)]
    rows = []
    for row in la.itertuples():
        parsed = parse_figure_id(row.kpi_id)
        if parsed.kpi_id != kpi.id or row.kpi_id == kpi.id:
            continue
        dims = parsed.dimensions
        if dimension and len(dims) == 1 and dims[0][0] == dimension and not parsed.names:
            rows.append((row, dims[0][1]))
        elif not dimension and parsed.names and not dims:
            rows.append((row, Figure.of(kpi, row.kpi_id).name))
    if kpi.kind in ("count", "exception"):
        hidden = hidden_counts([r.value for r, _ in rows])
        return [{"name": name, "value": hidden.get(i) or shown(Figure.of(kpi, kpi.id), r).text, "base": ""}
                for i, (r, name) in enumerate(rows)]
    return [{"name": name, "value": shown(Figure.of(kpi, r.kpi_id), r).text,
             "base": show_count(r.denominator) if not pd.isna(r.denominator) else ""}
            for r, name in rows]


def team_table(kpi_ids: tuple, values: pd.DataFrame, period: str, teams: pd.DataFrame | None) -> dict:
    """Counts by team, one column per KPI; in each column a lone `<5` hides the smallest other
    count too (the LA total is shown)."""
    rows = values[(values["level"] == "team") & (values["period"] == period) & values["kpi_id"].isin(kpi_ids)]
    if rows.empty:
        return {"columns": [], "rows": []}
    names = dict(zip(rows["unit_id"].astype(str), rows["unit_name"]))
    units = sorted(names, key=lambda u: str(names[u]))
    table = {u: {} for u in units}
    for kpi_id in kpi_ids:
        # a team with no row had none of them in the quarter (counts are by team on the record)
        counts = [_value(_row(values, kpi_id, period, "team", u)) or 0 for u in units]
        hidden = hidden_counts(counts)
        for i, u in enumerate(units):
            table[u][kpi_id] = hidden.get(i) or show_count(counts[i])
    return {"columns": list(kpi_ids), "rows": [{"name": names[u], "cells": [table[u][k] for k in kpi_ids]}
                                               for u in units]}


def _value(row):
    return None if row is None or pd.isna(row.value) else row.value


def question_lines(values: pd.DataFrame, period: str, questions: dict[str, str],
                   trend: pd.DataFrame | None = None, kpi_id: str | None = None) -> list[dict]:
    """SUR02 per question, with its text, and per respondent type within it; with the
    three quarters before (each suppressed on its own base) for the trend."""
    earlier = [p.id for p in Period.parse(period).trailing(TREND_QUARTERS)[:-1]]
    trend = trend if trend is not None else values.iloc[0:0]
    lines = []
    la = values[(values["level"] == "la") & (values["period"] == period)]
    for row in la.itertuples():
        parsed = parse_figure_id(row.kpi_id)
        if parsed.kpi_id != kpi_id or not parsed.dimensions or parsed.dimensions[0][0] != "question":
            continue
        key = parsed.dimensions[0][1]
        respondent = dict(parsed.dimensions).get("respondent_type", "")
        lines.append({"question": key, "text": questions.get(key, ""), "respondent": respondent or "All respondents",
                      "value": shown_figure_text(row), "base": show_count(row.denominator),
                      "quarters": [_percent_text(_row(trend, row.kpi_id, q)) for q in earlier]})
    return lines


def _percent_text(row) -> str:
    return "n/a" if row is None else shown_figure_text(row)


def shown_figure_text(row) -> str:
    shown_value = shown_figure("percent", row.value, denominator=row.denominator)
    return shown_value if isinstance(shown_value, str) else f"{float(shown_value):.1f}%"


def trend_charts(kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame, quarter: Period) -> list:
    periods = [p.id for p in quarter.trailing(TREND_QUARTERS)]
    frame = pd.concat([trend, values], ignore_index=True)
    charts = []
    for kpi in kpis:
        if kpi.kind != "percent":
            continue
        figure = Figure.of(kpi, kpi.id)
        points = [shown(figure, _row(frame, kpi.id, p)).value for p in periods]
        charts.append(line_chart_svg(periods, points, f"{kpi.id} {kpi.name}", width=340))
    return charts


def count_table(table: CountTable, rows: pd.DataFrame | None) -> dict | None:
    """The shown cells of a CountTable: each column's counts suppressed beside their total
    (hidden_counts), the total itself a count like any other; "not recorded" last."""
    if rows is None or rows.empty:
        return None
    rows = rows.assign(last=rows["name"].astype(str).str.lower() == NOT_RECORDED).sort_values(["last", "name"])
    names = [str(n) for n in rows["name"]]
    columns = []
    for column, _ in table.columns:
        counts = [int(c) for c in rows[column].fillna(0)]
        hidden = hidden_counts(counts)
        columns.append([hidden.get(i) or show_count(c) for i, c in enumerate(counts)] + [show_count(sum(counts))])
    return {"heading": table.heading, "row_heading": table.row_heading, "note": table.note,
            "headers": [header for _, header in table.columns],
            "rows": [{"name": name, "cells": [cells[i] for cells in columns]}
                     for i, name in enumerate([*names, "Total"])]}


def report_counts(engine, period: Period, failed_tables=()) -> dict[str, pd.DataFrame]:
    """{sql file stem: its rows} of the COUNT_TABLES for the period (the warehouse has
    every source table, empty when never supplied: a report then shows no such table).
    A count whose table failed a critical data-quality rule this run (`failed_tables`)
    is left out: the warehouse may hold an older load of it."""
    from tasks.warehouse.database import read_sql
    return {name: read_sql(engine, query(REPORT_SQL_DIR / f"{name}.sql"),
                           {"period_start": period.start, "period_end": period.end})
            for name, table in COUNT_TABLES.items() if table.table not in failed_tables}


def report_context(report: QuarterlyReport, kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame,
                   months: pd.DataFrame, run: RunInfo, questions: dict[str, str] | None = None,
                   data_quality=None, counts: dict[str, pd.DataFrame] | None = None) -> dict:
    quarter = Period.parse(run.period)
    shown_kpis = [k for k in kpis if k.scorecard == report.scorecard]
    breakdowns = [{"heading": heading, "kpi": kpi, "rows": breakdown_table(kpi, dimension, values, quarter.id)}
                  for kpi in shown_kpis for dimension, heading in breakdowns_of(kpi)]
    team_kpis = tuple(k.id for k in shown_kpis if k.kind == "count")
    by_question = question_kpi(shown_kpis)
    return {"run": run, "synthetic_banner": SYNTHETIC_BANNER, "report": report,
            "period_label": period_label(quarter.id), "suppression_note": FOOTNOTE,
            "period_noun": PERIOD_NOUNS[quarter.kind],
            "counts": [t for t in (count_table(COUNT_TABLES[name], (counts or {}).get(name))
                                   for name in report.counts) if t],
            "month_labels": [part_label(part) for part in shown_parts(quarter)],
            "part_noun": "months" if quarter.kind == "quarter" else "quarters",
            "quarter_labels": [p.id for p in quarter.trailing(TREND_QUARTERS)[:-1]],
            "headline": headline_lines(shown_kpis, values, trend, months, quarter),
            "breakdowns": [b for b in breakdowns if b["rows"]],
            "teams": team_table(team_kpis, values, quarter.id, None),
            "team_names": [k.name for k in shown_kpis if k.id in team_kpis],
            "questions": question_lines(values, quarter.id, questions or {}, trend, by_question.id)
            if by_question else [],
            "charts": trend_charts(shown_kpis, values, trend, quarter),
            "quality": quality_summary(data_quality), "scale": 1.0}


def render_quarterly_reports(kpis: list[Kpi], values: pd.DataFrame, trend: pd.DataFrame, months: pd.DataFrame,
                             run: RunInfo, out_dir: Path, questions: dict[str, str] | None = None,
                             data_quality=None, *, counts: dict[str, pd.DataFrame] | None = None) -> list[Path]:
    """Each quarterly report with a KPI computed this period (a quarter, half or financial
    year), as HTML and PDF in `out_dir`; `counts`: report_counts' rows for the period."""
    template = template_environment().get_template("quarterly_report.html")
    paths = []
    for report in REPORTS:
        if not any(k.scorecard == report.scorecard for k in kpis):
            continue
        context = report_context(report, kpis, values, trend, months, run, questions, data_quality, counts)
        html = template.render(**context, title=f"{run.la_name}: {report.title}, {context['period_label']}")
        stem = Path(out_dir) / f"{report.key}_{run.period}"
        paths.append(write_bytes_atomically(stem.with_suffix(".html"), html.encode("utf-8")))
        paths.append(write_pdf(html, stem.with_suffix(".pdf"))[0])
    return paths


def survey_question_texts(engine) -> dict[str, str]:
    """{"SV01/Q1": "My worker listens to me"} from the loaded survey_questions table
    (empty when it was never supplied)."""
    from tasks.warehouse.database import read_sql
    try:
        rows = read_sql(engine, "select survey_id, question_id, question_text from survey_questions")
    except Exception:  # the table was never loaded
        return {}
    return {f"{r.survey_id}/{r.question_id}": str(r.question_text) for r in rows.itertuples()}


def month_values(engine, kpis: list[Kpi], quarter: Period, context) -> pd.DataFrame:
    """The LA figures of the period's parts (a quarter's three months, a half's two
    quarters, a year's four), of the KPIs computed for a period of the parts' kind."""
    from tasks.kpis.compute import compute_periods
    parts = shown_parts(quarter)
    computed = [k for k in kpis if k.computed_for(parts[0])]
    return compute_periods(engine, computed, parts, context)
