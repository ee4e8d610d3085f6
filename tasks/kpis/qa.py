"""QA activity (../shared/spec/qa-activity.md): the audit schedule as configuration,
QA02's compliance rule, the monthly random allocation of cases to auditors and the
escalation of Inadequate audits to the Head of Service.

The schedule is configuration, so an LA with a different framework changes numbers,
not code. The defaults follow qa-activity.md and are declared once, in
tasks.core.settings.QaSettings; the `[qa]` section of the settings TOML overrides them
(every key optional), for example:

    [qa]
    follow_up_days = 14               # QA07: follow-up within N calendar days
    submission_working_days = 5       # QA09: submitted within N working days of due
    inadequate_moderation_target = 100
    audits_per_auditor = 1            # monthly allocation
    allocation_seed = 20240301        # optional: else derived from the month

    [qa.moderation_targets]           # QA04 target % per service area
    "Social Care" = 20
    "Early Help" = 10
    "SEND" = 10

    # QA02: one table per role; the keys given replace that role's defaults, the other
    # roles keep theirs; count = 0 removes a role's requirement.
    [qa.requirements."Team Manager"]
    audit_types = ["case_file"]       # "any" = every audit type
    count = 1
    window_months = 2                 # the N calendar months ending with the period month
    other_team_only = true            # only audits of cases whose team_id is not their own

    [[qa.observations]]               # QA11 uses the "practice" requirement
    observer_role = "Team Manager"
    observed_role = "Practitioner"
    observation_type = "practice"
    count = 1
    window_days = 365

    [qa.themes]                       # planned 6 months ahead
    "2024-03" = "Neglect"
    [qa.theme_keywords]               # cohort rule: CP category / primary need codes,
    "Neglect" = ["neglect", "N1"]     # or how the case is open (CIN, CP, CLA);
    "Pathway planning" = ["CLA"]      # "*" = every open case. A planned theme with no
    "Voice of the child" = ["*"]      # rule is not drawn (the run warns and asks for it).

How QA02 uses it: the per-role requirement is a small table, which portable SQL cannot
bind; so `sql/qa/qa02_audit_compliance.sql` returns one row per staff member in post
and audit they completed on or before period_end, and the registry's `postprocess`
hook (`qa02_compliance`) applies the schedule in Python, returning the usual contract
rows (one per staff member with a requirement). The other QA KPIs take only scalar
schedule numbers, bound as SQL parameters (`sql_parameters`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from tasks.core.paths import SQL_DIR
from tasks.core.figure_ids import breakdown_name
from tasks.core.periods import Period, add_months
from tasks.core.settings import (ANY_TYPE, HEAD_OF_SERVICE, AuditRequirement, ObservationRequirement,  # noqa: F401
                                 QaSettings, Settings, section)
from tasks.kpis.queries import query
from tasks.warehouse.database import read_sql
from tasks.kpis.registry import Kpi, kpi_shown_in

ALL_OPEN_CASES = "*"  # a theme's rule drawing from every open case, said explicitly
OPEN_AS = ("CIN", "CP", "CLA")  # a keyword naming how the case is open matches that exactly
DEFAULT_ALLOCATED_ROLE = Settings.model_fields["allocated_worker_role"].default


@dataclass(frozen=True)
class QaSchedule:
    """The LA's QA framework, from the `[qa]` settings (tasks.core.settings.QaSettings,
    where every default is). Tuples of pairs (not dicts) so that it is hashable."""

    requirements: tuple[tuple[str, AuditRequirement], ...]
    moderation_targets: tuple[tuple[str, float], ...]
    inadequate_moderation_target: float
    follow_up_days: int
    submission_working_days: int
    observations: tuple[ObservationRequirement, ...]
    themes: tuple[tuple[str, str], ...]
    theme_keywords: tuple[tuple[str, tuple[str, ...]], ...]
    audits_per_auditor: int
    allocation_seed: int | None

    @property
    def requirement_by_role(self) -> dict[str, AuditRequirement]:
        return {role: r for role, r in self.requirements if r.count > 0}

    @property
    def practice_observation(self) -> ObservationRequirement:
        """The requirement QA11 measures (observation_type "practice")."""
        return next((o for o in self.observations if o.observation_type == "practice"),
                    QaSettings.model_fields["observations"].default[0])

    def figure_targets(self, kpis: list[Kpi]) -> dict[str, float]:
        """The moderation coverage KPI's targets (registry: qa_moderation_coverage, QA04) by
        published figure id (for RAG in the QA workbook and reports)."""
        coverage = kpi_shown_in(list(kpis), "qa_moderation_coverage")
        if coverage is None:
            return {}
        targets = {f"{coverage.id}:{breakdown_name('service_area', area)}": t for area, t in self.moderation_targets}
        targets[f"{coverage.id}:{breakdown_name('grade', 'Inadequate')}"] = self.inadequate_moderation_target
        return targets

    def theme_for(self, month: str) -> str | None:
        return dict(self.themes).get(month)

    def cohort_rule(self, theme: str | None) -> tuple[str, ...]:
        """The theme's keywords ([qa.theme_keywords]); () when it has none."""
        return tuple(dict(self.theme_keywords).get(theme or "", ()))

    def themes_without_rule(self, month: str, months_ahead: int = 6) -> list[tuple[str, str]]:
        """(month, theme) of the planned themes from `month` on with no cohort rule: they
        cannot be drawn (a theme is not a reason to audit any open case)."""
        start = Period.month(month)
        ahead = [start.shift(offset).id for offset in range(months_ahead + 1)]
        return [(m, self.theme_for(m)) for m in ahead if self.theme_for(m) and not self.cohort_rule(self.theme_for(m))]

    def months_without_theme(self, month: str, months_ahead: int = 6) -> list[str]:
        """Themes are planned 6 months ahead: the months from `month` on with none yet."""
        start = Period.month(month)
        ahead = [start.shift(offset).id for offset in range(months_ahead + 1)]
        return [m for m in ahead if self.theme_for(m) is None]

    def seed_for(self, month: str) -> int:
        """The recorded seed: configured, else the month as a number (2024-03 -> 202403)."""
        if self.allocation_seed is not None:
            return int(self.allocation_seed)
        return int(month.replace("-", ""))

    def sql_parameters(self, period_end: date) -> dict:
        """The schedule numbers the QA SQL binds."""
        observation = self.practice_observation
        return {
            "follow_up_days": int(self.follow_up_days),
            "submission_wd": int(self.submission_working_days),
            "observed_role": observation.observed_role,
            "observation_type": observation.observation_type,
            "observation_count": int(observation.count),
            "observation_window_start": period_end - timedelta(days=observation.window_days - 1),
            "qa_schedule": self,  # not bound by SQL: read by QA02's postprocess hook
        }


def schedule_from_settings(qa: QaSettings | dict | None) -> QaSchedule:
    """The schedule of the `[qa]` settings (Settings.qa). A plain mapping (tests) is read
    as that section: a key not understood raises SettingsError naming `[qa] key`."""
    qa = section(QaSettings, qa, "qa")
    return QaSchedule(
        requirements=tuple(qa.requirements.items()),
        moderation_targets=tuple(qa.moderation_targets.items()),
        inadequate_moderation_target=qa.inadequate_moderation_target,
        follow_up_days=qa.follow_up_days,
        submission_working_days=qa.submission_working_days,
        observations=tuple(qa.observations),
        themes=tuple(sorted(qa.themes.items())),
        theme_keywords=tuple(sorted(qa.theme_keywords.items())),
        audits_per_auditor=qa.audits_per_auditor,
        allocation_seed=qa.allocation_seed,
    )


DEFAULT_SCHEDULE = schedule_from_settings(QaSettings())


# --- QA02: audit compliance by auditor -------------------------------------------------

def window_start(period_start: date, window_months: int) -> date:
    """The first day of the `window_months` calendar months ending with the period month."""
    return add_months(period_start, -(window_months - 1))


def qa02_compliance(rows: pd.DataFrame, params: dict) -> pd.DataFrame:
    """QA02's postprocess hook: one contract row per staff member in post whose role has
    a requirement. in_numerator = met; measure = the shortfall (how many behind).

    kpis.md: "a monthly requirement counts audits completed in the period month; a
    quarterly or 3-monthly one counts the 3 calendar months ending with the period month
    ... Team Managers' audits count only for cases whose team_id is not their own team.
    Heads of Service are measured by QA06, not here"."""
    schedule: QaSchedule = params.get("qa_schedule") or DEFAULT_SCHEDULE
    required = schedule.requirement_by_role
    staff = rows.drop_duplicates("staff_id").set_index("staff_id")
    staff = staff[staff["role"].isin(list(required))]
    result = []
    for staff_id, member in staff.iterrows():
        requirement = required[member["role"]]
        audits = rows[(rows["staff_id"] == staff_id) & rows["audit_id"].notna()]
        done = sum(_counts(requirement, audit, member["staff_team_id"], params["period_start"])
                   for audit in audits.itertuples())
        result.append({
            "record_id": staff_id, "person_id": None, "team_id": member["staff_team_id"],
            "worker_id": staff_id, "in_numerator": int(done >= requirement.count),
            "measure": max(requirement.count - done, 0),
            "flag_below_requirement": int(done < requirement.count),
            "role": member["role"], "service_area": member["staff_service_area"],
            "name": member["staff_name"],
            "required": requirement.count, "done": done,
            "window_months": requirement.window_months,
        })
    columns = ["record_id", "person_id", "team_id", "worker_id", "in_numerator", "measure",
               "flag_below_requirement", "role", "service_area", "name", "required", "done", "window_months"]
    return pd.DataFrame(result, columns=columns)


def _counts(requirement: AuditRequirement, audit, staff_team_id, period_start: date) -> bool:
    completed = pd.Timestamp(audit.completed_date).date()
    if completed < window_start(period_start, requirement.window_months):
        return False
    if not requirement.counts_type(audit.audit_type):
        return False
    # "a case from a team they do not manage": an audit of the auditor's own team does
    # not count; a case with no team recorded is not their own team.
    if requirement.other_team_only and _present(audit.audit_team_id) \
            and audit.audit_team_id == staff_team_id:
        return False
    return True


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


# --- monthly allocation of cases to auditors -------------------------------------------

ALLOCATION_COLUMNS = ["month", "theme", "seed", "round", "auditor_id", "auditor_role",
                      "auditor_team_id", "person_id", "team_id"]
COHORT_COLUMNS = ["person_id", "team_id", "worker_id", "open_as", "characteristics"]


class NoCohortRule(ValueError):
    """A planned theme with no [qa.theme_keywords]: its cases cannot be chosen."""

    def __init__(self, theme: str, month: str | None = None):
        self.theme, self.month = theme, month
        super().__init__(no_rule_message(theme, month))


def no_rule_message(theme: str, month: str | None = None) -> str:
    return (f'the planned theme "{theme}"{f" ({month})" if month else ""} has no cohort rule: give it one '
            f'under [qa.theme_keywords] in the settings (CP category or primary need codes, or CIN, CP, '
            f'CLA; e.g. "{theme}" = ["N1"]), or ["{ALL_OPEN_CASES}"] to draw from every open case')


def audit_cohort(engine: Engine, period: Period, theme: str | None = None,
                 schedule: QaSchedule = DEFAULT_SCHEDULE,
                 allocated_role: str = DEFAULT_ALLOCATED_ROLE) -> pd.DataFrame:
    """The cohort of relevant children for a theme: children open at period_end (an
    open CIN episode not NFA, CP plan or CLA episode), with the team and worker of their
    open allocated-worker involvement (`allocated_role`; else the team on the CIN
    referral), how they are open and their codes.

    The theme's cohort rule (`[qa.theme_keywords]`) keeps the children whose CP category
    or CIN/CLA primary need contains one of its keywords (case-insensitive), or who are
    open as a keyword CIN, CP or CLA; "*" keeps every open child. No child matching:
    an empty cohort. A planned theme with no rule raises NoCohortRule (drawing its cases
    from every open case would audit the wrong children); no theme: every open child."""
    keywords = [k.lower() for k in schedule.cohort_rule(theme)]
    if theme and not keywords:
        raise NoCohortRule(theme)
    rows = read_sql(engine, query(SQL_DIR / "qa" / "audit_cohort.sql"),
                    {"period_end": period.end, "allocated_role": allocated_role})
    if keywords and ALL_OPEN_CASES not in keywords:
        text = rows["characteristics"].fillna("").str.lower()
        codes = [k for k in keywords if k.upper() not in OPEN_AS]
        open_as = {k.upper() for k in keywords if k.upper() in OPEN_AS}
        rows = rows[text.map(lambda t: any(k in t for k in codes)) | rows["open_as"].isin(open_as)]
    return _one_row_per_child(rows)


def _one_row_per_child(rows: pd.DataFrame) -> pd.DataFrame:
    """A child's rows as one, in order of person_id: the first team and worker given, how
    the case is open (in OPEN_AS order) and each of its codes once, sorted. One pass over
    the rows (a pandas aggregation by child cost seconds for a large LA's open cases)."""
    children: dict = {}
    for person, team, worker, open_as, characteristics in rows[COHORT_COLUMNS].itertuples(index=False, name=None):
        child = children.setdefault(person, [None, None, set(), set()])
        if child[0] is None and not pd.isna(team):
            child[0] = team
        if child[1] is None and not pd.isna(worker):
            child[1] = worker
        child[2].add(open_as)
        if not pd.isna(characteristics) and characteristics:
            child[3].add(characteristics)
    cohort = pd.DataFrame([(person, team, worker, "; ".join(o for o in OPEN_AS if o in open_as),
                            "; ".join(sorted(codes)))
                           for person, (team, worker, open_as, codes) in children.items()],
                          columns=COHORT_COLUMNS)
    for column in ("team_id", "worker_id"):
        cohort[column] = cohort[column].astype(object).where(cohort[column].notna(), None)
    return cohort.sort_values("person_id", kind="stable").reset_index(drop=True)


def allocate_audits(cohort: pd.DataFrame, auditors: pd.DataFrame, theme: str, month: str,
                    seed: int, per_auditor: int = 1) -> pd.DataFrame:
    """A reproducible random allocation: the same inputs and seed give the same rows.

    The cohort (person_id, team_id, ...) is sorted by person_id and shuffled with
    random.Random(seed); auditors (staff_id, role, team_id, optional manages_team_id)
    are taken in staff_id order, one case each per round for `per_auditor` rounds. A
    case is never allocated to an auditor who manages its team (the auditor's own team_id
    or manages_team_id) and never twice. An auditor left without an eligible case gets
    fewer rows. The seed is recorded on every row."""
    rng = random.Random(seed)
    cases = cohort.sort_values("person_id", kind="stable").to_dict("records")
    rng.shuffle(cases)
    ordered = auditors.sort_values("staff_id", kind="stable").to_dict("records")
    taken: set = set()
    allocation = []
    for round_number in range(1, per_auditor + 1):
        for auditor in ordered:
            managed = {t for t in (auditor.get("team_id"), auditor.get("manages_team_id"))
                       if _present(t)}
            case = next((c for c in cases if c["person_id"] not in taken
                         and c.get("team_id") not in managed), None)
            if case is None:
                continue
            taken.add(case["person_id"])
            allocation.append({**case, "month": month, "theme": theme, "seed": seed,
                               "round": round_number, "auditor_id": auditor["staff_id"],
                               "auditor_role": auditor.get("role"),
                               "auditor_team_id": auditor.get("team_id")})
    extra = [c for c in cohort.columns if c not in ALLOCATION_COLUMNS]
    return pd.DataFrame(allocation, columns=ALLOCATION_COLUMNS + extra)


def staff_in_post(engine: Engine, period: Period, schedule: QaSchedule = DEFAULT_SCHEDULE) -> pd.DataFrame:
    """qa_staff in post at period_end (start <= period_end, end empty or later), with the
    number of audits their role's requirement asks for (empty: none) and their team's
    name (`team_names`)."""
    staff = read_sql(engine, "select staff_id, name, role, team_id, service_area from qa_staff "
                             "where start_date <= :period_end "
                             "and (end_date is null or end_date > :period_end)",
                     {"period_end": period.end})
    required = {role: r.count for role, r in schedule.requirement_by_role.items()}
    names = team_names(engine)
    return staff.assign(audits_required=staff["role"].map(required),
                        team_name=[names.get(str(t)) if _present(t) else None for t in staff["team_id"]])


def auditors_in_post(engine: Engine, period: Period,
                     schedule: QaSchedule = DEFAULT_SCHEDULE,
                     audit_types: tuple[str, ...] = ("case_file",)) -> pd.DataFrame:
    """Staff in post at period_end whose role's requirement includes these audit types."""
    staff = staff_in_post(engine, period, schedule)
    roles = [role for role, r in schedule.requirement_by_role.items()
             if any(r.counts_type(t) for t in audit_types)]
    return staff[staff["role"].isin(roles)].sort_values("staff_id").reset_index(drop=True)


def monthly_allocation(engine: Engine, month: str, schedule: QaSchedule = DEFAULT_SCHEDULE,
                       seed: int | None = None, allocated_role: str = DEFAULT_ALLOCATED_ROLE) -> pd.DataFrame:
    """The month's worksheet: the configured theme's cohort, as at the end of the month
    before, allocated to the auditors in post then (the seed recorded on each row), with
    the names of the auditors, case workers and teams beside their ids. The cohort's
    allocated worker is the involvement of `allocated_role` (settings allocated_worker_role).
    Raises NoCohortRule when the month's theme has no cohort rule."""
    period = Period.month(month)
    as_at = period.shift(-1)
    theme = schedule.theme_for(month) or ""
    try:
        cohort = audit_cohort(engine, as_at, theme, schedule, allocated_role)
    except NoCohortRule as refusal:
        raise NoCohortRule(refusal.theme, month) from None
    auditors = auditors_in_post(engine, as_at, schedule)
    allocation = allocate_audits(cohort, auditors, theme, month,
                                 schedule.seed_for(month) if seed is None else seed,
                                 schedule.audits_per_auditor)
    return with_names(engine, allocation)


def team_names(engine: Engine) -> dict[str, str]:
    """Team names by id (ssd_department), and the services their parents are, which a
    Service Manager's team_id names."""
    teams = read_sql(engine, "select dept_team_id, dept_team_name, dept_team_parent_id, dept_team_parent_name "
                             "from ssd_department")
    services = teams.dropna(subset=["dept_team_parent_id", "dept_team_parent_name"])
    return dict(zip(services["dept_team_parent_id"].astype(str), services["dept_team_parent_name"])) \
        | dict(zip(teams["dept_team_id"].astype(str), teams["dept_team_name"]))


def with_names(engine: Engine, allocation: pd.DataFrame) -> pd.DataFrame:
    """The allocation with auditor_name, auditor_team_name, worker_name and team_name
    (qa_staff, ssd_professionals and `team_names`): empty where the id has none."""
    staff = read_sql(engine, "select staff_id, name from qa_staff")
    workers = read_sql(engine, "select prof_professional_id, prof_professional_name from ssd_professionals")
    staff_names = dict(zip(staff["staff_id"].astype(str), staff["name"]))
    worker_names = dict(zip(workers["prof_professional_id"].astype(str), workers["prof_professional_name"]))
    teams = team_names(engine)

    def names(column, lookup):
        return [lookup.get(str(v)) if _present(v) else None for v in allocation.get(column, [])]

    named = allocation.assign(auditor_name=names("auditor_id", staff_names),
                              auditor_team_name=names("auditor_team_id", teams),
                              worker_name=names("worker_id", worker_names),
                              team_name=names("team_id", teams))
    text = [c for c in named.columns if c.endswith(("_id", "_name"))]
    named[text] = named[text].astype(object).where(named[text].notna(), None)
    return named


# --- escalation of Inadequate audits ---------------------------------------------------

ESCALATION_RECORD = "QA_ESCALATION"  # kpi_records rows of a daily run: the audits its list escalated
ESCALATION_LOOKBACK_DAYS = 30


def inadequate_audits_for_escalation(engine: Engine, as_at: date,
                                     since: date | None = None) -> pd.DataFrame:
    """Audits graded Inadequate completed in [since, as_at] that no earlier day's daily
    list escalated, each with the Head(s) of Service in post at as_at whose service_area
    is the audit's. qa-activity.md: "an audit graded Inadequate appears in the next daily
    exception list to the Head of Service". So `since` defaults to 30 days before as_at:
    an audit recorded days after its completion, or completed on a day whose list was
    not published, still reaches the next list, and once only. An audit whose area has
    no Head of Service is listed with that column empty."""
    since = since or as_at - timedelta(days=ESCALATION_LOOKBACK_DAYS)
    return read_sql(engine, query(SQL_DIR / "qa" / "escalation_inadequate.sql"),
                    {"since": since, "as_at": as_at, "as_at_day": as_at.isoformat(),
                     "escalation_record": ESCALATION_RECORD})


def escalation_records(escalations: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The escalated audits as kpi_records rows of the daily run, so that later days'
    lists leave them out (RECORD_COLUMNS of tasks.kpis.compute)."""
    audits = escalations.drop_duplicates("audit_id")
    return pd.DataFrame({"period": period.id, "kpi_id": ESCALATION_RECORD,
                         "record_id": audits["audit_id"].astype(str), "person_id": audits["person_id"],
                         "team_id": audits["team_id"], "worker_id": audits["auditor_id"],
                         "in_numerator": 1, "measure": None})
