"""Independent reference computation of the complaints, DRP/IRO and survey measures of
shared/spec/kpis.md ("Complaints, compliments, IRO and participation": CMP01-CMP07,
IRO01-IRO05, SUR01-SUR02 and the sub-measure ids its "Identifiers" convention fixes)
over any period (a month, a quarter, a financial-year half or year), at LA level, from
the extract CSVs.

Written from kpis.md and sources.md only, without reading qaloop's SQL, so that it can
check the published figures of the monthly, quarterly, six-monthly and annual runs.

    reference_figures(folder, start, end) -> {figure_id: (value, numerator, denominator)}

Counts: (count, count, None); percentages: (value to 1 dp half up, numerator, denominator).
CMP05 ("stage 1 complaints responded to in the previous quarter") is computed only for a
quarter or a half (the quarter before the one containing period_end).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from tests.independent.reference_kpis import _date, _flag, _in, _open, add_months, count, pct, wdb

CHILD = "child or young person"
# IRO04: "participation code ... one of PN1-PN7: % with PN1-PN6"
PARTICIPATION_CODES = {f"PN{i}" for i in range(1, 8)}
ATTENDED_OR_VIEWS = {f"PN{i}" for i in range(1, 7)}
IRO_STAGES = ("informal", "1", "2", "3", "Cafcass")  # sources.md, iro_drp_alerts.stage


def _table(folder, name: str) -> pd.DataFrame:
    frame = pd.read_csv(Path(folder) / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [c.strip().lower() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def _as_at(text: str, end: date) -> date | None:
    """A date as at period_end: one after it has not happened yet (kpis.md, "As at")."""
    found = _date(text)
    return found if found is not None and found <= end else None


def _safe(text: str) -> str:
    """A breakdown value in an id: `%`, `:`, `=` and `/` percent-encoded (kpis.md, "Identifiers")."""
    return text.replace("%", "%25").replace(":", "%3A").replace("=", "%3D").replace("/", "%2F")


def _counts(figures: dict, prefix: str, values, declared=()) -> None:
    """A count per value found, and 0 for a declared value not found."""
    found = Counter(values)
    for value in (*declared, *found):
        figures[f"{prefix}={_safe(value)}"] = count(found[value])


def _within(a: date | None, b: date | None, limit: int) -> bool:
    """"Within N working days"; a missing date is never in timescale (kpis.md, "Missing dates")."""
    days = wdb(a, b)
    return days is not None and days <= limit


def _previous_quarter(start: date, end: date) -> tuple[date, date] | None:
    """CMP05's "previous quarter": the calendar quarter before the one containing period_end,
    for a period of whole calendar quarters that CMP05 is published for (a quarter, a half);
    None for a month or a year (kpis.md: "all but CMP05" for a month)."""
    quarters = {3: 1, 6: 2}.get((end.year - start.year) * 12 + end.month - start.month + 1)
    if start.day != 1 or start.month % 3 != 1 or quarters is None \
            or end != add_months(start, 3 * quarters) - timedelta(days=1):
        return None
    last_quarter_start = add_months(start, 3 * (quarters - 1))
    return add_months(last_quarter_start, -3), last_quarter_start - timedelta(days=1)


def _complaints(folder, start: date, end: date) -> dict:
    figures = {}
    complaints = list(_table(folder, "complaints").itertuples())
    received = [r for r in complaints if _in(_as_at(r.received_date, end), start, end)]
    figures["CMP01"] = count(len(received))
    # "count by stage (1, 2, 3, Ombudsman)"; "Ombudsman" is stage LGSCO
    _counts(figures, "CMP01:stage", ("Ombudsman" if r.stage == "LGSCO" else r.stage for r in received),
            declared=("1", "2", "3", "Ombudsman"))
    # "adult" is any complainant type other than child or young person
    figures[f"CMP01:complainant={CHILD}"] = count(sum(r.complainant_type.lower() == CHILD for r in received))
    figures["CMP01:complainant=adult"] = count(sum(r.complainant_type.lower() != CHILD for r in received))
    _counts(figures, "CMP01:service_area", (r.service_area for r in received))

    responded = [r for r in complaints if _in(_as_at(r.response_date, end), start, end)]
    # CMP02/CMP03: working days from received_date to response_date; 10/20 and 25/65 when extended
    for figure_id, stage, limit, extended_limit in (("CMP02", "1", 10, 20), ("CMP03", "2", 25, 65)):
        population = [r for r in responded if r.stage == stage]
        in_time = sum(_within(_date(r.received_date), _date(r.response_date),
                              extended_limit if _flag(r.extended) == "Y" else limit) for r in population)
        figures[figure_id] = pct(in_time, len(population))
    # CMP04: of complaints (any stage) with response_date in period, % upheld or partially upheld
    outcomes = Counter(r.outcome.lower() for r in responded)
    figures["CMP04"] = pct(outcomes["upheld"] + outcomes["partially upheld"], len(responded))
    figures["CMP04:upheld"] = pct(outcomes["upheld"], len(responded))
    figures["CMP04:partially_upheld"] = pct(outcomes["partially upheld"], len(responded))
    # CMP05: of stage 1 complaints responded to in the previous quarter, % with a stage 2
    # complaint linked to them (an escalation received after period_end does not exist yet)
    previous = _previous_quarter(start, end)
    if previous is not None:
        escalated = {r.parent_complaint_id for r in complaints
                     if r.stage == "2" and r.parent_complaint_id and _as_at(r.received_date, end)}
        earlier = [r for r in complaints if r.stage == "1" and _in(_as_at(r.response_date, end), *previous)]
        figures["CMP05"] = pct(sum(r.complaint_id in escalated for r in earlier), len(earlier))

    compliments = [r for r in _table(folder, "compliments").itertuples()
                   if _in(_as_at(r.received_date, end), start, end)]
    figures["CMP06"] = count(len(compliments))
    _counts(figures, "CMP06:theme", (r.theme for r in compliments))
    # CMP07: learning actions open at period_end (raised, not completed by then) with due_date < period_end
    actions = _table(folder, "learning_actions").itertuples()
    figures["CMP07"] = count(sum(_open(_date(a.raised_date), _date(a.completed_date), end)
                                 and _date(a.due_date) is not None and _date(a.due_date) < end for a in actions))
    return figures


def _ssd(folder, name: str) -> list:
    path = Path(folder) / f"{name}.csv"
    return list(_table(folder, name).itertuples()) if path.is_file() else []


def _reviews_held(folder, start: date, end: date) -> list[tuple[str, str, date, str]]:
    """CLA reviews (not cancelled) and CP reviews held in the period:
    (meeting_type, person_id, meeting_date, participation code)."""
    cla_person = {e.clae_cla_id: e.clae_person_id for e in _ssd(folder, "ssd_cla_episodes")}
    held = []
    for r in _ssd(folder, "ssd_cla_reviews"):
        when = _as_at(r.clar_cla_review_date, end)
        if _in(when, start, end) and _flag(r.clar_cla_review_cancelled) != "Y":
            person = getattr(r, "clar_cla_person_id", "") or cla_person.get(r.clar_cla_id, "")
            held.append(("CLA review", person, when, r.clar_cla_review_participation))
    for r in _ssd(folder, "ssd_cp_reviews"):
        when = _as_at(r.cppr_cp_review_date, end)
        if _in(when, start, end):
            held.append(("CP review", r.cppr_person_id, when, r.cppr_cp_review_participation))
    return held


def _iro(folder, start: date, end: date) -> dict:
    figures = {}
    alerts = list(_table(folder, "iro_drp_alerts").itertuples())
    raised = [a for a in alerts if _in(_as_at(a.raised_date, end), start, end)]
    figures["IRO01"] = count(len(raised))
    _counts(figures, "IRO01:stage", (a.stage for a in raised), declared=IRO_STAGES)
    _counts(figures, "IRO01:theme", (a.theme for a in raised))
    resolved = [a for a in alerts if _in(_as_at(a.resolved_date, end), start, end)]
    figures["IRO02"] = pct(sum(_within(_date(a.raised_date), _date(a.resolved_date), 20) for a in resolved),
                           len(resolved))
    # IRO03: open at period_end with working_days_between(raised, period_end) > 20 (exactly 20 is not)
    figures["IRO03"] = count(sum(_open(_date(a.raised_date), _date(a.resolved_date), end)
                                 and wdb(_date(a.raised_date), end) > 20 for a in alerts))
    reviews = _reviews_held(folder, start, end)
    coded = [code for *_, code in reviews if code in PARTICIPATION_CODES]
    figures["IRO04"] = pct(sum(code in ATTENDED_OR_VIEWS for code in coded), len(coded))
    # IRO05: CLA reviews, ICPCs (transfer-ins included) and CP reviews held in the period; a form
    # matches on meeting_type, person_id and meeting_date exactly
    meetings = [(kind, person, when) for kind, person, when, _ in reviews]
    for c in _ssd(folder, "ssd_initial_cp_conference"):
        when = _as_at(c.icpc_icpc_date, end)
        if _in(when, start, end):
            meetings.append(("ICPC", c.icpc_person_id, when))
    forms = {(f.meeting_type, f.person_id, _date(f.meeting_date)) for f in _table(folder, "iro_monitoring_forms").itertuples()}
    figures["IRO05"] = pct(sum(m in forms for m in meetings), len(meetings))
    return figures


def _surveys(folder, start: date, end: date) -> dict:
    figures = {}
    answers = _table(folder, "survey_responses")
    answers = answers[[_in(_as_at(d, end), start, end) for d in answers["submitted_date"]]]
    figures["SUR01"] = count(answers["response_id"].nunique())  # distinct response_ids
    for column, name in (("survey_id", "survey"), ("respondent_type", "respondent_type")):
        for value, group in answers.groupby(column):
            figures[f"SUR01:{name}={_safe(value)}"] = count(group["response_id"].nunique())
    # SUR02: likert5 questions; positive = the values in positive_values (`;`-separated);
    # a blank answer is not an answer
    questions = _table(folder, "survey_questions")
    positive = {(q.survey_id, q.question_id): {v.strip() for v in q.positive_values.split(";")}
                for q in questions.itertuples() if q.scale == "likert5"}
    tally = defaultdict(lambda: [0, 0])
    for a in answers.itertuples():
        key = (a.survey_id, a.question_id)
        if key in positive and a.answer:
            question = f"SUR02:question={_safe(a.survey_id)}/{_safe(a.question_id)}"
            for figure_id in ("SUR02", question, f"{question}:respondent_type={_safe(a.respondent_type)}"):
                tally[figure_id][0] += a.answer in positive[key]
                tally[figure_id][1] += 1
    figures["SUR02"] = pct(0, 0)
    figures |= {figure_id: pct(*counts) for figure_id, counts in tally.items()}
    return figures


def reference_figures(folder, start: date, end: date) -> dict[str, tuple]:
    return _complaints(folder, start, end) | _iro(folder, start, end) | _surveys(folder, start, end)


MEASURES = r"^(CMP|IRO|SUR)\d\d(:|$)"


def _figure(row) -> tuple:
    def number(text: str):
        return None if text == "" else float(text)
    return number(row.value), number(row.numerator), number(row.denominator)


def differences_from_the_reference(frame: pd.DataFrame, folder, start: date, end: date) -> list[str]:
    """Every LA-level CMP/IRO/SUR figure of a kpi_values.csv frame (read as str) against
    reference_figures: one line per figure id that differs, is not published or is not
    re-computed here."""
    rows = frame[(frame["level"] == "la") & frame["kpi_id"].str.match(MEASURES)]
    published = {row.kpi_id: _figure(row) for row in rows.itertuples()}
    expected = {figure_id: tuple(None if x is None else float(x) for x in figure)
                for figure_id, figure in reference_figures(folder, start, end).items()}
    lines = []
    for figure_id in sorted(published.keys() | expected.keys()):
        mine, theirs = expected.get(figure_id, "not re-computed"), published.get(figure_id, "not published")
        if mine != theirs:
            lines.append(f"{figure_id}: published {theirs}, reference {mine}")
    return lines
