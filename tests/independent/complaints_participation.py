"""Independent reference computation of a few complaints, DRP and survey measures of
shared/spec/kpis.md ("Complaints, compliments, IRO and participation") over any period
(a quarter, a financial-year half or year), at LA level, from the extract CSVs.

Written from kpis.md and sources.md only, without reading qaloop's SQL, so that it can
check the published figures of the quarterly, six-monthly and annual runs.

    reference_figures(folder, start, end) -> {figure_id: (value, numerator, denominator)}

Counts: (count, count, None); percentages: (value to 1 dp half up, numerator, denominator).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from tests.independent.reference_kpis import _date, _in, count, pct, wdb


def _table(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _as_at(text: str, end: date) -> date | None:
    """A date as at period_end: one after it has not happened yet (kpis.md, "As at")."""
    found = _date(text)
    return found if found is not None and found <= end else None


def reference_figures(folder, start: date, end: date) -> dict[str, tuple]:
    figures = {}
    complaints = _table(folder, "complaints")
    received = [r for r in complaints.itertuples() if _in(_as_at(r.received_date, end), start, end)]
    figures["CMP01"] = count(len(received))
    for stage in ("1", "2"):
        figures[f"CMP01:stage={stage}"] = count(sum(r.stage.strip() == stage for r in received))
    # CMP02: stage 1 complaints responded to in the period, within 10 working days (20 extended)
    responded = [r for r in complaints.itertuples() if _in(_as_at(r.response_date, end), start, end)]
    stage_1 = [r for r in responded if r.stage.strip() == "1"]
    in_time = sum(wdb(_date(r.received_date), _date(r.response_date)) <= (20 if r.extended.strip() == "Y" else 10)
                  for r in stage_1)
    figures["CMP02"] = pct(in_time, len(stage_1))
    # CMP06: compliments received in the period
    compliments = _table(folder, "compliments")
    figures["CMP06"] = count(sum(_in(_as_at(d, end), start, end) for d in compliments["received_date"]))
    # IRO01 raised in the period; IRO02 resolved in the period within 20 working days
    alerts = _table(folder, "iro_drp_alerts")
    figures["IRO01"] = count(sum(_in(_as_at(d, end), start, end) for d in alerts["raised_date"]))
    resolved = [r for r in alerts.itertuples() if _in(_as_at(r.resolved_date, end), start, end)]
    figures["IRO02"] = pct(sum(wdb(_date(r.raised_date), _date(r.resolved_date)) <= 20 for r in resolved),
                           len(resolved))
    # SUR01 distinct responses submitted in the period; SUR02 positive answers to likert5 questions
    answers = _table(folder, "survey_responses")
    answers = answers[[_in(_as_at(d, end), start, end) for d in answers["submitted_date"]]]
    figures["SUR01"] = count(answers["response_id"].nunique())
    questions = _table(folder, "survey_questions")
    positive = {(q.survey_id, q.question_id): {v.strip() for v in q.positive_values.split(";")}
                for q in questions.itertuples() if q.scale.strip() == "likert5"}
    rated = [(key, a.strip()) for key, a in zip(zip(answers["survey_id"], answers["question_id"]), answers["answer"])
             if key in positive and a.strip()]
    figures["SUR02"] = pct(sum(a in positive[key] for key, a in rated), len(rated))
    return figures
