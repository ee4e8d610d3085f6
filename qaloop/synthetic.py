"""A deterministic SYNTHETIC demonstration local authority: every source table of
`tasks.core.sources.TABLES` as CSV files, for demonstrations, tests and benchmarks.

    generate_la(Path("demo"), date(2024, 4, 10))  # ~3,000 children over 3 years

No real children or staff: people are random ids, staff names are drawn from small
built-in lists. The same arguments give byte-identical files: one `random.Random(seed)`
drives every choice, nothing reads the clock, rows are written in generation order.

`as_at` is the extract date. Activity runs over `years` years up to it (long-running
cases began earlier), so a few records fall after the last complete month end. The flow
of new work (contacts, referrals, assessments, S47s, plan and care starts) is steady
month to month over the window, with mild seasonal and random variation: first
episodes start on dates spread evenly over the window (weighted by season, and thinned
as returning children build up), not at random, so that no month is empty or doubled. No date
after `as_at` is written: an end, due or completion date still in the future is left
empty, as an extract taken that day would show it.

Every Drift and Delay exception list (DD01-DD11) has rows at the last complete month
end: besides the random journeys (which produce most of them naturally), a few
"planted" children are built with the exact dates that make each exception happen.
"""

from __future__ import annotations

import bisect
import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from tasks.core.calendar import bank_holidays
from tasks.extract.freshness import write_manifest
from tasks.core.periods import add_months, latest_complete_month
from tasks.core.sources import TABLES

ALLOCATED = "ALLOCATED CASE WORKER"
IRO_ROLE = "IRO"
PA_ROLE = "PERSONAL ADVISER"

# (team id, team name, service id, service name, kind)
TEAMS = [
    ("T01", "MASH", "S01", "Front Door", "front_door"),
    ("T02", "Family Solutions (Early Help)", "S01", "Front Door", "early_help"),
    ("T03", "Assessment Team A", "S02", "Assessment", "assessment"),
    ("T04", "Assessment Team B", "S02", "Assessment", "assessment"),
    ("T05", "Safeguarding and Family Support North", "S03", "Safeguarding and Family Support", "safeguarding"),
    ("T06", "Safeguarding and Family Support South", "S03", "Safeguarding and Family Support", "safeguarding"),
    ("T07", "Safeguarding and Family Support Central", "S03", "Safeguarding and Family Support", "safeguarding"),
    ("T08", "Children in Care 1", "S04", "Children in Care", "children_in_care"),
    ("T09", "Children in Care 2", "S04", "Children in Care", "children_in_care"),
    ("T10", "Fostering", "S04", "Children in Care", "fostering"),
    ("T11", "Oak House Children's Home", "S04", "Children in Care", "residential"),
    ("T12", "Leaving Care", "S05", "Care Leavers", "care_leavers"),
    ("T13", "Disabled Children's Team", "S06", "Disabled Children", "disabled"),
    ("T14", "Independent Reviewing Service", "S07", "Quality Assurance and Safeguarding", "iro"),
]
# Share of the children open at any time held by each kind of team (for staffing).
CASE_SHARE = {"front_door": 0.03, "assessment": 0.17, "safeguarding": 0.42,
              "children_in_care": 0.30, "disabled": 0.08}
CHILDREN_PER_WORKER = 15
SERVICE_AREA_OF_KIND = {"early_help": "Early Help", "fostering": "Fostering",
                        "residential": "Residential"}

FIRST_NAMES = ["Amira", "Ben", "Chloe", "Daniel", "Ella", "Farah", "George", "Hannah", "Imran",
               "Jade", "Kieran", "Leah", "Mohammed", "Niamh", "Oliver", "Priya", "Quinn",
               "Rachel", "Samuel", "Tasha", "Usman", "Vicky", "William", "Yasmin", "Zoe",
               "Aaron", "Bethany", "Callum", "Deborah", "Emeka"]
SURNAMES = ["Adams", "Begum", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hussain",
            "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel",
            "Quinn", "Roberts", "Singh", "Taylor", "Usher", "Vaughan", "Walsh", "Young",
            "Ahmed", "Brown", "Cooper", "Dawson", "Ellis", "Foster"]

ETHNICITIES = ["WBRI"] * 62 + ["WOTH"] * 5 + ["WIRI", "WIRT", "WROM"] + ["MWBC"] * 4 \
    + ["MWBA", "MWAS", "MOTH"] * 2 + ["AIND", "APKN", "APKN", "ABAN", "AOTH"] \
    + ["BCRB"] * 2 + ["BAFR"] * 2 + ["BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
NEED_CODES = ["N1"] * 50 + ["N2"] * 4 + ["N3"] * 3 + ["N4"] * 16 + ["N5"] * 5 \
    + ["N6"] * 3 + ["N7"] * 2 + ["N8"] * 7 + ["N9"] * 10
SOURCE_CODES = ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F",
                "4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"]
SOURCE_WEIGHTS = [3, 2, 1, 1, 12, 3, 14, 1, 1, 1, 2, 1, 4, 19, 3, 1, 1, 2, 1, 2, 7, 3]
CP_CATEGORIES = ["NEG"] * 46 + ["EMO"] * 34 + ["PHY"] * 8 + ["SAB"] * 4 + ["MUL"] * 8
PARTICIPATION = ["PN1"] * 40 + ["PN2"] * 10 + ["PN3"] * 15 + ["PN4"] * 15 + ["PN5"] * 5 \
    + ["PN6"] * 5 + ["PN7"] * 10
PLACEMENT_TYPES = ["U1", "U3", "U4", "U4", "U4", "U5", "U6", "U6", "U6", "U2", "R1",
                   "K2", "P1", "H5", "Z1"]
CHANGE_REASONS = ["CARPL", "CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO",
                  "CHILD", "LAREQ", "PLACE", "OTHER"]
CEASED_REASONS = ["E4A"] * 30 + ["E13"] * 8 + ["E41"] * 5 + ["E45"] * 10 + ["E11"] * 10 \
    + ["E12"] * 2 + ["E14"] * 3 + ["E15"] * 2 + ["E16"] + ["E3"] * 2 + ["E8"] * 5
LEAVING_CARE_AT_18 = ["E17", "E17", "E8", "E8", "E8"]
# Mild seasonality of new work (per day, by calendar month): quieter in the school summer
# holiday and at Christmas.
SEASON = {1: 1.04, 2: 1.03, 3: 1.03, 4: 0.97, 5: 1.02, 6: 1.03, 7: 1.0, 8: 0.9, 9: 1.0,
          10: 1.03, 11: 1.04, 12: 0.91}
# Children come back: repeat episodes are about a fifth of all episodes once the returns
# have built up (they start about a year after the first episodes and build up over
# about two and a half years), so first episodes thin out as returns build up and the
# total flow of new work stays steady.
RETURN_SHARE, RETURN_DELAY_DAYS, RETURN_BUILD_UP_DAYS = 0.22, 330, 900
# Share of early first episodes that go straight into care, standing in for the children
# who would step up into care from plans begun before the history starts.
STEP_UP_SHARE = 0.035
CLOSE_REASONS = ["RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7"]
CL_ACCOMMODATION = ["B", "C", "D", "E", "G", "H", "K", "R", "S", "T", "U", "V", "W", "X", "Y", "Z"]
CL_ACTIVITIES = ["F1"] * 20 + ["P1"] * 5 + ["F2"] * 10 + ["P2"] * 3 + ["F4"] * 8 + ["P4"] * 4 \
    + ["F5"] * 6 + ["P5"] * 4 + ["G4"] * 20 + ["G5"] * 10 + ["G6"] * 10
CL_IN_TOUCH = ["YES"] * 86 + ["NO"] * 5 + ["REFU"] * 4 + ["NREQ"] * 3 + ["RHOM"] * 2

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
GRADE_WEIGHTS = [8, 45, 36, 11]
AUDIT_THEMES = ["Neglect", "Domestic abuse", "Voice of the child", "Pre-birth",
                "Contextual safeguarding", "Permanence planning", "Missing from care",
                "Quality of supervision", "Pathway planning", "Step-down to Early Help",
                "Parental mental health", "Disabled children"]
# The synthetic LA's cohort rule of each theme ([qa.theme_keywords]): CP category or CIN/CLA
# primary need codes, how the case is open (CIN, CP, CLA), or "*" for every open case.
AUDIT_THEME_RULES = {
    "Neglect": ["neglect", "NEG", "N1"], "Domestic abuse": ["N4", "N5"], "Voice of the child": ["*"],
    "Pre-birth": ["CIN", "CP"], "Contextual safeguarding": ["N6"], "Permanence planning": ["CLA"],
    "Missing from care": ["CLA"], "Quality of supervision": ["*"], "Pathway planning": ["CLA"],
    "Step-down to Early Help": ["CIN"], "Parental mental health": ["N3"], "Disabled children": ["N2"],
}


def audit_theme(month: date, seed: int) -> str:
    """Themes are planned 6 months ahead: one theme per month, in a fixed rotation."""
    return AUDIT_THEMES[(month.year * 12 + month.month + seed) % len(AUDIT_THEMES)]


def planned_themes(first_month: date, months: int, seed: int) -> dict[str, str]:
    """The synthetic LA's audit plan ({"YYYY-MM": theme}) from `first_month` on, in the
    form of the `[qa.themes]` settings."""
    plan = {}
    for offset in range(months):
        index = first_month.year * 12 + first_month.month - 1 + offset
        month = date(index // 12, index % 12 + 1, 1)
        plan[f"{month:%Y-%m}"] = audit_theme(month, seed)
    return plan


DRP_THEMES = ["care plan drift", "statutory visits", "assessment", "placement", "health",
              "education", "permanence", "pathway plan", "other"]
COMPLAINT_CATEGORIES = ["Communication", "Quality of service", "Delay", "Staff conduct",
                        "Decision made", "Placement", "Contact arrangements"]
LEARNING_TEXTS = ["Share learning at team meeting", "Update practice guidance",
                  "Refresh training on chronologies", "Review supervision recording",
                  "Apologise and review the plan with the family", "Escalate to service manager"]
FINDING_DOMAINS = ["Voice of the child", "Assessment", "Planning", "Management oversight", "Supervision",
                   "Recording", "Multi-agency working", "Outcomes for the child"]
# Findings written for sharing: no names, no ids (the QA manager approves them: share Y)
FINDING_SUMMARIES = {
    "strength": ["The child's wishes and feelings are recorded in their own words",
                 "The plan is specific, with clear timescales for each action",
                 "Partner agencies contributed to the assessment",
                 "Management oversight gives clear direction on next steps",
                 "Visits are purposeful and linked to the plan"],
    "area_for_development": ["Chronology is not up to date",
                             "The plan lacks measurable outcomes",
                             "Supervision records do not show reflective discussion",
                             "The child's views are not reflected in the assessment",
                             "Case recording is not timely"],
}
SURVEYS = [
    ("SV01", "Children and young people feedback", "child or young person", [
        ("Q1", "My worker listens to me", "likert5"),
        ("Q2", "I know why I have a social worker", "likert5"),
        ("Q3", "I feel safe where I live", "likert5"),
        ("Q4", "Did you take part in your last review or meeting?", "yes_no"),
        ("Q5", "What could we do better?", "text")]),
    ("SV02", "Parent and carer feedback", "parent or carer", [
        ("Q1", "The social worker explained things clearly", "likert5"),
        ("Q2", "I was treated with respect", "likert5"),
        ("Q3", "Things have got better for my family", "likert5"),
        ("Q4", "Were you given a copy of the plan?", "yes_no"),
        ("Q5", "Anything else you want to tell us?", "text")]),
    ("SV03", "Practitioner health check", "staff", [
        ("Q1", "My caseload is manageable", "likert5"),
        ("Q2", "I receive regular good-quality supervision", "likert5"),
        ("Q3", "I would recommend this service as a place to work", "likert5"),
        ("Q4", "Have you had a practice observation this year?", "yes_no"),
        ("Q5", "One thing that would help you", "text")]),
]
SURVEY_TEXTS = ["", "", "More time to talk", "Keep the same worker", "Call back sooner",
                "Nothing, thank you", "Explain the plan better"]

README = """SYNTHETIC DATA - NOT REAL
=========================

Every file in this folder was generated by qaloop/synthetic.py (qaloop) for a fictional
local authority. There are no real children, families or staff in it: person ids are
random, staff names are combined from short built-in lists of first names and surnames,
and all dates and events are drawn from a seeded random generator.

Extract date (as at): {as_at}
Children with a social-care journey: {children} over {years} years; seed {seed}.

One CSV per source table, with the column names of the data contracts
(shared/spec/sources.md), ISO dates (YYYY-MM-DD) and Y/N flags.

Children built to appear on the Drift and Delay exception lists at {month_end}
(besides those the random journeys put there):
{planted}
"""


class WorkingDays:
    """Working days (Monday-Friday less England and Wales bank holidays) by table look-up."""

    def __init__(self, first: date, last: date):
        closed = bank_holidays(first.year, last.year)
        self.first = first
        self.index = []  # wd(d) for each day from `first`
        self.dates = []  # dates[k - 1] is the working day with wd = k
        count, day = 0, first
        while day <= last:
            if day.weekday() < 5 and day not in closed:
                count += 1
                self.dates.append(day)
            self.index.append(count)
            day += timedelta(days=1)

    def add(self, day: date, count: int) -> date:
        """The `count`-th working day after `day`; with count 0, `day` itself when it is a
        working day, else the next one (never the working day before: a weekend referral's
        assessment must not start on the Friday before it)."""
        worked = self.index[(day - self.first).days]
        if count == 0 and (worked == 0 or self.dates[worked - 1] != day):
            count = 1
        return self.dates[worked + count - 1]


@dataclass
class Staff:
    professional_id: str
    staff_id: str
    name: str
    job_title: str
    team_id: str


@dataclass
class Meeting:
    """A meeting an IRO chairs: the key of its monitoring form."""

    meeting_type: str
    meeting_date: date
    person_id: str
    team_id: str
    participation: str
    iro: Staff


@dataclass
class Audit:
    audit_id: str
    person_id: str
    team_id: str
    service_area: str
    grade: str | None
    completed: date | None


@dataclass
class Child:
    person_id: str
    dob: date
    eighteenth: date = field(init=False)
    had_cp_plan: bool = False

    def __post_init__(self):
        self.eighteenth = add_months(self.dob, 18 * 12)


def generate_la(out_dir: Path, as_at: date, children: int = 3000, seed: int = 2024,
                years: int = 3) -> dict[str, Path]:
    """Write one CSV per contract table (and README.txt, and extract_manifest.json dated
    `as_at`) into out_dir; return {table: path}."""
    generator = SyntheticLa(as_at, children, seed, years)
    generator.generate()
    return generator.write(Path(out_dir))


class SyntheticLa:
    def __init__(self, as_at: date, children: int, seed: int, years: int):
        self.as_at = as_at
        self.children = children
        self.seed = seed
        self.years = years
        self.rng = random.Random(seed)
        self.window_start = add_months(as_at, -12 * years)
        self.first_start = self.window_start - timedelta(days=180)  # first episodes from here
        self.month_end = latest_complete_month(as_at).end  # the last complete month end
        self.wd = WorkingDays(date(as_at.year - years - 22, 1, 1), date(as_at.year + 3, 12, 31))
        self.rows: dict[str, list[list]] = {name: [] for name in TABLES}
        self.counters: dict[str, int] = {}
        self.meetings: list[Meeting] = []
        self.team_cases: dict[str, list[tuple[str, str]]] = {t[0]: [] for t in TEAMS}
        self.child_iro: dict[str, Staff] = {}
        self.care_leavers: set[str] = set()
        self.planted: dict[str, list[str]] = {}  # DD id -> children built to be on its list
        self.planting = ""
        self.team_by_id = {t[0]: t for t in TEAMS}
        self.teams_of_kind: dict[str, list[str]] = {}
        for team in TEAMS:
            self.teams_of_kind.setdefault(team[4], []).append(team[0])

    # --- small helpers ----------------------------------------------------------------

    def new_id(self, prefix: str, width: int = 6) -> str:
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        return f"{prefix}{number:0{width}d}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def upto(self, day: date | None) -> date | None:
        """A date as the extract shows it: empty when it is after the extract date."""
        return day if day is not None and day <= self.as_at else None

    def add_wd(self, day: date, count: int) -> date:
        return self.wd.add(day, count)

    def random_day(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def yn(self, p: float) -> str:
        return "Y" if self.rng.random() < p else "N"

    def name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    # --- the whole LA -----------------------------------------------------------------

    def generate(self) -> None:
        self.make_departments()
        self.make_staff()
        planted = self.planted_scenarios()
        kinds = [self.rng.choices(["standard", "legacy_cla", "care_leaver", "disabled"],
                                  weights=[85, 5, 5, 5])[0]
                 for _ in range(max(0, self.children - len(planted)))]
        starts = iter(self.first_episode_starts(sum(k in ("standard", "disabled") for k in kinds)))
        for kind in kinds:
            self.random_child(kind, next(starts) if kind in ("standard", "disabled") else None)
        for code, scenario in planted:
            self.planting = code
            scenario()
        self.ensure_caseload_above_threshold()
        self.make_monitoring_forms_and_drp()
        self.make_qa()
        self.make_complaints()
        self.make_surveys()
        self.make_audit_findings()

    def make_departments(self) -> None:
        for team_id, name, service_id, service, _ in TEAMS:
            self.rows["ssd_department"].append([team_id, name, service_id, service])

    def make_staff(self) -> None:
        """Social workers sized to the caseload, managers, IROs, advisers, QA roles."""
        self.workers: dict[str, list[Staff]] = {}
        self.worker_weights: dict[str, list[float]] = {}
        self.team_managers: dict[str, Staff] = {}
        self.iro_service_manager = self.other_staff("IRO Service Manager", "T14", "Social Care")
        self.residential_manager = self.other_staff("Residential Manager", "T11", "Residential")
        self.family_solutions_manager = self.other_staff("Family Solutions Manager", "T02", "Early Help")
        # who manages each team (observes its staff, owns its learning actions)
        self.team_leads = {"T02": self.family_solutions_manager, "T11": self.residential_manager,
                           "T14": self.iro_service_manager}
        open_children = self.children / self.years * 0.85
        for team_id, team_name, service_id, service, kind in TEAMS:
            if team_id not in self.team_leads:
                manager = self.professional("Team Manager", team_id, team_name)
                self.team_managers[team_id] = self.team_leads[team_id] = manager
                self.qa_staff(manager, "Team Manager", team_id, self.service_area(team_id))
            if kind in CASE_SHARE:
                share = CASE_SHARE[kind] / len(self.teams_of_kind[kind])
                count = max(3, round(open_children * share / CHILDREN_PER_WORKER))
                titles = ["Social Worker"] * 5 + ["Senior Social Worker"] * 2 + ["Advanced Practitioner"]
            elif kind == "care_leavers":
                count = max(2, round(open_children * 0.04 / 18))
                titles = ["Personal Adviser"]
            elif kind == "iro":
                count = max(2, round(open_children * 0.7 / 60))
                titles = ["Independent Reviewing Officer"]
            else:
                count, titles = 3, ["Social Worker", "Family Support Worker"]
            staff = [self.professional(self.rng.choice(titles), team_id, team_name,
                                       agency=kind in CASE_SHARE and self.chance(0.15))
                     for _ in range(count)]
            self.workers[team_id] = staff
            # uneven weights so that a few workers carry heavy caseloads
            self.worker_weights[team_id] = self.cumulative([self.rng.uniform(0.7, 1.4) for _ in staff])
            for person in staff:
                role = "IRO" if kind == "iro" else "Practitioner"
                self.qa_staff(person, role, team_id, self.service_area(team_id))
        self.service_managers = {}
        for service_id, service in sorted({(t[2], t[3]) for t in TEAMS}):
            manager = self.professional("Service Manager", service_id, service)
            self.service_managers[service_id] = manager
            self.qa_staff(manager, "Service Manager", service_id, "Social Care")
        self.iros = self.workers["T14"]
        self.heads_of_service = {
            "safeguarding": self.other_staff("Head of Service", "S03", "Social Care"),
            "children_in_care": self.other_staff("Head of Service", "S04", "Social Care"),
        }
        self.assistant_director = self.other_staff("Assistant Director", None, "Social Care")
        self.dcs = self.other_staff("DCS", None, "Social Care")
        self.elected_member = self.other_staff("Elected Member", None, None)
        self.qa_practitioners = [self.other_staff("QA Practitioner", "T14", "Social Care")
                                 for _ in range(2)]
        for _ in range(2):  # former practitioners: left during the window
            self.other_staff("Practitioner", self.rng.choice(["T05", "T08"]), "Social Care")
            self.rows["qa_staff"][-1][6] = self.random_day(self.window_start, self.month_end)

    def cumulative(self, weights: list[float]) -> list[float]:
        total, result = 0.0, []
        for weight in weights:
            total += weight
            result.append(total)
        return result

    def service_area(self, team_id: str) -> str:
        kind = self.team_by_id[team_id][4] if team_id in self.team_by_id else ""
        return SERVICE_AREA_OF_KIND.get(kind, "Social Care")

    def professional(self, job_title: str, team_id: str, department: str, agency: bool = False) -> Staff:
        staff = Staff(self.new_id("W", 4), self.new_id("E", 4), self.name(), job_title, team_id)
        fte = self.rng.choice([1.0] * 8 + [0.8, 0.6])
        self.rows["ssd_professionals"].append([staff.professional_id, staff.staff_id, staff.name,
                                               job_title, department, fte, "Y" if agency else "N"])
        return staff

    def other_staff(self, role: str, team_id: str | None, service_area: str | None) -> Staff:
        """Staff known to the QA system only (not case-holding professionals)."""
        staff = Staff("", self.new_id("E", 4), self.name(), role, team_id or "")
        self.qa_staff(staff, role, team_id, service_area)
        return staff

    def qa_staff(self, staff: Staff, role: str, team_id: str | None, service_area: str | None) -> None:
        if self.chance(0.85):
            start = self.window_start - timedelta(days=self.rng.randint(30, 4000))
        else:
            start = self.random_day(self.window_start, self.month_end - timedelta(days=200))
        self.rows["qa_staff"].append([staff.staff_id, staff.name, role, team_id, service_area, start, None])

    def pick_worker(self, team_id: str, other_than: Staff | None = None) -> Staff:
        staff = self.workers[team_id]
        for _ in range(4):
            chosen = self.rng.choices(staff, cum_weights=self.worker_weights[team_id])[0]
            if chosen is not other_than:
                return chosen
        return chosen

    # --- people and journeys ----------------------------------------------------------

    def person(self, dob: date) -> Child:
        child = Child(self.new_id("P"), dob)
        self.rows["ssd_person"].append([child.person_id, self.rng.choice("MF"),
                                        self.rng.choice(ETHNICITIES), dob, None])
        return child

    def dob_for_age(self, on: date, age: int) -> date:
        return on - timedelta(days=int(age * 365.25) + self.rng.randint(0, 364))

    def random_age(self) -> int:
        band = self.rng.choices([(0, 0), (1, 4), (5, 9), (10, 15), (16, 17)],
                                weights=[9, 21, 27, 34, 9])[0]
        return self.rng.randint(*band)

    def first_episode_starts(self, count: int) -> list[date]:
        """`count` first-episode dates in order, spread evenly (stratified sampling)
        over the window and the half year before it. The random variation month to month
        comes from what happens next (returns, contacts that go no further)."""
        days, cumulative, total = [], [], 0.0
        day = self.first_start
        while day <= self.as_at:
            # seasonal, and fewer first episodes once returning children build up
            total += SEASON[day.month] * (1 - RETURN_SHARE * self.returns_build_up(day))
            days.append(day)
            cumulative.append(total)
            day += timedelta(days=1)
        # the i-th child starts at a random point of the i-th of `count` equal slices
        quantiles = [(i + self.rng.random()) / count * total for i in range(count)]
        return [days[min(len(days) - 1, bisect.bisect_left(cumulative, q))] for q in quantiles]

    def returns_build_up(self, day: date) -> float:
        """How far returning children have built up by `day`: 0 (none yet) to 1 (steady)."""
        days = (day - self.first_start).days - RETURN_DELAY_DAYS
        return min(1.0, max(0.0, days / RETURN_BUILD_UP_DAYS))

    def random_child(self, kind: str, start: date | None) -> None:
        if kind == "legacy_cla":
            entry = self.window_start - timedelta(days=self.rng.randint(60, 2300))
            child = self.person(self.dob_for_age(entry, self.rng.randint(0, 12)))
            profile = self.rng.choices(["stable", "normal", "unstable"], weights=[60, 28, 12])[0]
            stay = self.rng.randint(400, 4000) if self.chance(0.8) else self.rng.randint(100, 900)
            referral = entry - timedelta(days=self.rng.randint(20, 200))
            self.episode(child, referral, route="cla", cla_days=stay + (entry - referral).days,
                         cla_profile=profile)
            return
        if kind == "care_leaver":
            # referred at 11-15 and 16-21 now; referrals spread evenly over ten years so
            # that care starts do not thin out towards as_at
            referral = self.random_day(self.as_at - timedelta(days=3650), self.as_at)
            years_ago = (self.as_at - referral).days / 365.25
            youngest, oldest = max(11, 16 - years_ago), min(16, 22 - years_ago)  # at referral
            age_days = self.rng.randint(int(youngest * 365.25) + 1, max(int(youngest * 365.25) + 1,
                                                                         int(oldest * 365.25) - 1))
            child = self.person(referral - timedelta(days=age_days))
            self.episode(child, referral, route="cla", cla_days=99999,
                         cla_profile=self.rng.choice(["normal", "stable", "unstable"]))
            return
        child = self.person(self.dob_for_age(start, self.random_age()))
        disabled = kind == "disabled"
        # Early in the window some "first" episodes are returns of children known before
        # the history starts (as many as returns within it have not yet built up to).
        known_before = self.chance(RETURN_SHARE * (1 - self.returns_build_up(start)))
        child.had_cp_plan = known_before and self.chance(0.25)
        into_care = self.chance(STEP_UP_SHARE * (1 - self.returns_build_up(start)))
        for number in range(3):
            end = self.episode(child, start, disabled=disabled, repeat=known_before or number > 0,
                               route="cla" if into_care and number == 0 else None)
            if end is None or not self.chance(0.45 if child.had_cp_plan else 0.22):
                return
            start = end + timedelta(days=self.rng.randint(20, 450))
            if start > self.as_at:
                return

    def episode(self, child: Child, start: date, disabled: bool = False, route: str | None = None,
                cla_days: int | None = None, cla_profile: str = "normal", repeat: bool = False) -> date | None:
        """One contact and (mostly) a referral with its assessment and plans.
        Returns the date the episode closed, or None when still open at as_at."""
        rng = self.rng
        pid = child.person_id
        if start >= child.eighteenth:
            return start
        self.contact(pid, start)
        # later contacts about the (now known) child that went no further: dated after
        # this contact, so the months just before as_at are not short of contacts
        later_contacts = rng.choices([0, 1, 2, 3], weights=[50, 30, 13, 7])[0]
        for days_after in sorted(rng.randint(3, 180) for _ in range(later_contacts)):
            self.contact(pid, start + timedelta(days=days_after))
        if route is None and self.chance(0.2):
            return start  # a contact that did not become a referral
        referral_date = start + timedelta(days=rng.randint(0, 2))
        if referral_date > self.as_at:
            return None
        assessment_team = rng.choice(self.teams_of_kind["assessment"])
        plan_team = "T13" if disabled else rng.choice(self.teams_of_kind["safeguarding"])
        care_team = "T13" if disabled else rng.choice(self.teams_of_kind["children_in_care"])
        first_worker = self.pick_worker(assessment_team)
        nfa = route is None and self.chance(0.07)
        referral = self.referral(pid, referral_date, assessment_team, first_worker, nfa)
        rid = referral[0]
        if nfa:
            close = referral_date + timedelta(days=rng.randint(0, 4))
            self.allocate(pid, rid, "T01", referral_date, close, gaps=False)
            self.close_referral(referral, close, "RC8")
            return self.upto(close)

        assessment_start = self.add_wd(referral_date, rng.randint(0, 4))
        duration = rng.randint(8, 45) if self.chance(0.87) else rng.randint(46, 80)
        auth = self.add_wd(assessment_start, duration)
        stages: list[tuple] = []  # (cp | cin | cla, start, ICPC details of a CP plan)
        close: date | None = None
        outcome_nfa = False
        s47_route = route is None and self.chance(0.75 if child.had_cp_plan else 0.35 if repeat else 0.2)
        if route == "cla":
            stages.append(("cla", auth + timedelta(days=rng.randint(-10, 20)), None))
        elif s47_route:
            s47_start = self.add_wd(assessment_start, rng.randint(0, 3))
            s47_nfa = self.chance(0.3)
            if s47_nfa:
                s47_end = self.add_wd(s47_start, rng.randint(4, 14))
                self.s47(pid, rid, s47_start, s47_end, True, assessment_team, first_worker)
                if self.chance(0.4):
                    stages.append(("cin", max(auth, s47_end) + timedelta(days=rng.randint(3, 15)), None))
                else:
                    close = max(auth, s47_end) + timedelta(days=rng.randint(1, 12))
            else:
                gap = rng.randint(5, 15) if self.chance(0.86) else rng.randint(16, 28)
                icpc_date = self.add_wd(s47_start, gap)
                s47_end = min(self.add_wd(s47_start, rng.randint(4, 12)), icpc_date)
                sid = self.s47(pid, rid, s47_start, s47_end, False, assessment_team, first_worker)
                if self.chance(0.86):
                    stages.append(("cp", icpc_date, (sid, self.add_wd(s47_start, 15), "N")))
                else:
                    self.icpc(pid, rid, sid, None, icpc_date, self.add_wd(s47_start, 15), "N",
                              False, plan_team)
                    stages.append(("cin", icpc_date, None))
        else:
            outcome_nfa = self.chance(0.32)
            branch = rng.random()
            if outcome_nfa or branch < 0.14:
                close = auth + timedelta(days=rng.randint(1, 12))
            elif branch < 0.2 and self.chance(0.5):  # a child moving in on a plan: transfer-in ICPC
                stages.append(("cp", auth + timedelta(days=rng.randint(5, 20)), (None, None, "Y")))
            elif branch < 0.3:
                stages.append(("cla", auth + timedelta(days=rng.randint(0, 25)), None))
            else:
                stages.append(("cin", auth + timedelta(days=rng.randint(3, 15)), None))
        self.assessment(pid, rid, assessment_start, auth, outcome_nfa, assessment_team, first_worker)

        segments: list[list] = []  # [team, start, end]
        if stages:
            segments.append([assessment_team, referral_date, stages[0][1]])
        end = None
        while stages:
            kind, stage_start, icpc = stages.pop()
            if stage_start >= child.eighteenth:
                end = stage_start
                break
            if kind == "cp":
                end = self.cp_plan(child, rid, stage_start, self.cp_days(), plan_team, icpc)
                following = rng.choices(["cin", "cla", "close"], weights=[50, 13, 37])[0]
                team = plan_team
            elif kind == "cin":
                days = rng.randint(90, 420) if self.chance(0.93) else rng.randint(700, 1100)
                end = self.cin_plan(child, rid, stage_start, days, plan_team)
                following = "cla" if self.chance(0.04) else "close"
                team = plan_team
            else:
                days = cla_days or self.cla_days()
                end = self.cla_period(child, rid, stage_start, days, care_team, cla_profile)
                following = "cin" if self.chance(0.15) and end < child.eighteenth else "close"
                team = care_team
            if segments and segments[-1][0] == team:
                segments[-1][2] = end
            else:
                segments.append([team, stage_start, end])
            if end > self.as_at:
                break
            if following != "close":
                stages.append((following, end, None))
        if close is None:
            close = (end or auth) + timedelta(days=rng.randint(0, 14))
        if not segments:
            segments.append([assessment_team, referral_date, close])
        segments[-1][2] = close
        for team, seg_start, seg_end in segments:
            self.allocate(pid, rid, team, seg_start, seg_end, gaps=True)
        if self.upto(close):
            reason = "RC8" if outcome_nfa else rng.choice(CLOSE_REASONS)
            self.close_referral(referral, close, reason)
        return self.upto(close)

    def cp_days(self) -> int:
        band = self.rng.choices([(90, 365), (366, 640), (641, 729), (730, 1000)],
                                weights=[62, 29, 6, 3])[0]
        return self.rng.randint(*band)

    def cla_days(self) -> int:
        band = self.rng.choices([(20, 200), (200, 700), (700, 2500)], weights=[35, 30, 35])[0]
        return self.rng.randint(*band)

    # --- records ----------------------------------------------------------------------

    def contact(self, pid: str, day: date) -> None:
        if day <= self.as_at:
            source = self.rng.choices(SOURCE_CODES, weights=SOURCE_WEIGHTS)[0]
            self.rows["ssd_contacts"].append([self.new_id("C"), pid, day, source])

    def referral(self, pid, day, team, worker: Staff, nfa: bool) -> list:
        source = self.rng.choices(SOURCE_CODES, weights=SOURCE_WEIGHTS)[0]
        row = [self.new_id("R"), pid, day, self.rng.choice(NEED_CODES), source,
               "Y" if nfa else "N", None, None, team, worker.professional_id]
        self.rows["ssd_cin_episodes"].append(row)
        return row

    def close_referral(self, row: list, day: date, reason: str) -> None:
        if day <= self.as_at:
            row[6], row[7] = reason, day

    def assessment(self, pid, rid, start, auth, nfa, team, worker: Staff) -> None:
        if start > self.as_at:
            return
        authorised = self.upto(auth)
        self.rows["ssd_cin_assessments"].append([
            self.new_id("A"), pid, rid, start, self.yn(0.96), authorised,
            ("Y" if nfa else "N") if authorised else None, team, worker.professional_id])

    def s47(self, pid, rid, start, end, nfa, team, worker: Staff) -> str | None:
        if start > self.as_at:
            return None
        sid = self.new_id("S")
        ended = self.upto(end)
        self.rows["ssd_s47_enquiry"].append([sid, rid, pid, start, ended,
                                             ("Y" if nfa else "N") if ended else None, team,
                                             worker.professional_id])
        return sid

    def icpc(self, pid, rid, sid, plan_id, day, target, transfer_in, outcome_cp, team) -> str | None:
        if day > self.as_at:
            return None
        icpc_id = self.new_id("IC")
        worker = self.pick_worker(team) if team in self.workers else None
        self.rows["ssd_initial_cp_conference"].append([
            icpc_id, sid, pid, plan_id, rid, transfer_in, self.upto(target), day,
            "Y" if outcome_cp else "N", team, worker.professional_id if worker else None])
        self.meetings.append(Meeting("ICPC", day, pid, team, self.rng.choice(PARTICIPATION),
                                     self.iro_for(pid)))
        return icpc_id

    def iro_for(self, pid: str) -> Staff:
        if pid not in self.child_iro:
            self.child_iro[pid] = self.rng.choice(self.iros)
        return self.child_iro[pid]

    def participation(self, child: Child, day: date) -> str:
        if add_months(child.dob, 48) > day:
            return "PN0"
        return self.rng.choice(PARTICIPATION)

    def cp_plan(self, child: Child, rid: str, start: date, days: int, team: str,
                icpc: tuple | None = None, visits_until: date | None = None,
                reviews: int | None = None) -> date:
        """A CP plan with its ICPC (icpc = (S47 id, target date, transfer-in flag)), visits
        and reviews; returns its end (possibly after as_at, i.e. still open)."""
        pid = child.person_id
        end = min(start + timedelta(days=days), child.eighteenth)
        if start > self.as_at:
            return end
        plan_id = self.new_id("CPP")
        child.had_cp_plan = True
        sid, target, transfer_in = icpc or (None, None, "Y")
        icpc_id = self.icpc(pid, rid, sid, plan_id, start, target, transfer_in, True, team)
        category = self.rng.choice(CP_CATEGORIES)
        latest = category if self.chance(0.85) else self.rng.choice(CP_CATEGORIES)
        self.rows["ssd_cp_plans"].append([plan_id, rid, icpc_id, pid, start, self.upto(end),
                                          category, latest])
        self.iro_involvement(pid, rid, start, end)
        last_visit = min(end, self.as_at, visits_until or self.as_at)
        visit = self.add_wd(start, self.rng.randint(1, 6))
        while visit <= last_visit:
            seen = self.yn(0.93)
            self.rows["ssd_cp_visits"].append([
                self.new_id("CPV", 7), pid, plan_id, visit, seen,
                self.yn(0.6) if seen == "Y" else "N", self.yn(0.7) if seen == "Y" else "N"])
            gap = self.rng.choices([(4, 10), (11, 15), (16, 25)], weights=[88, 10, 2])[0]
            visit = self.add_wd(visit, self.rng.randint(*gap))
        due = add_months(start, 3)
        held_count = 0
        while reviews is None or held_count < reviews:
            held = self.review_day(due, start)
            if held >= end or held > self.as_at:
                break
            participation = self.participation(child, held)
            self.rows["ssd_cp_reviews"].append([
                self.new_id("CPR"), pid, plan_id, self.upto(due) if self.chance(0.88) else None,
                held, participation])
            self.meetings.append(Meeting("CP review", held, pid, team, participation, self.iro_for(pid)))
            held_count += 1
            due = add_months(held, 6)
        return end

    def review_day(self, due: date, after: date) -> date:
        if self.chance(0.93):
            return max(after + timedelta(days=1), due - timedelta(days=self.rng.randint(0, 10)))
        return due + timedelta(days=self.rng.randint(1, 25))

    def iro_involvement(self, pid: str, rid: str, start: date, end: date) -> None:
        iro = self.iro_for(pid)
        self.rows["ssd_involvements"].append([self.new_id("I"), iro.professional_id, IRO_ROLE, "T14",
                                              start, self.upto(end), pid, rid])

    def cin_plan(self, child: Child, rid: str, start: date, days: int, team: str) -> date:
        end = min(start + timedelta(days=days), child.eighteenth)
        if start > self.as_at:
            return end
        worker = self.pick_worker(team)
        self.rows["ssd_cin_plans"].append([self.new_id("CINP"), rid, child.person_id, start,
                                           self.upto(end), team, worker.professional_id])
        visit = start + timedelta(days=self.rng.randint(3, 20))
        while visit <= min(end, self.as_at):
            seen = self.yn(0.9)
            self.rows["ssd_cin_visits"].append([self.new_id("CINV", 7), child.person_id, visit,
                                                seen, self.yn(0.5) if seen == "Y" else "N"])
            visit = self.add_wd(visit, self.rng.randint(10, 30))
        return end

    def cla_period(self, child: Child, rid: str, entry: date, days: int, team: str,
                   profile: str = "normal", visits_until: date | None = None,
                   reviews: int | None = None) -> date:
        """A period of care: placements (one episode each), visits, reviews, missing
        episodes, and the care-leaver record when it ends at 18."""
        pid = child.person_id
        end = min(entry + timedelta(days=days), child.eighteenth)
        if entry > self.as_at or end <= entry:
            return end
        cla_id = self.new_id("CLA")
        need = self.rng.choice(NEED_CODES)
        start, number = entry, 0
        while start < end and start <= self.as_at:
            if profile == "stable" and number > 0:
                length = 99999
            elif profile == "stable":
                length = self.rng.randint(20, 500)
            elif profile == "unstable":
                length = self.rng.randint(15, 150)
            else:
                length = self.rng.randint(90, 900)
            placement_end = min(start + timedelta(days=length), end)
            is_last = placement_end >= end
            placement_id = self.new_id("PL")
            ended = self.upto(placement_end)
            self.rows["ssd_cla_placement"].append([
                placement_id, cla_id, pid, start, ended, self.rng.choice(PLACEMENT_TYPES),
                round(self.rng.uniform(0.5, 60), 1),
                (None if is_last else self.rng.choice(CHANGE_REASONS)) if ended else None])
            if not ended:
                ceased_reason = None
            elif not is_last:
                ceased_reason = "X1"
            elif end == child.eighteenth:
                ceased_reason = self.rng.choice(LEAVING_CARE_AT_18)
            else:
                ceased_reason = self.rng.choice(CEASED_REASONS)
            start_reason = "S" if number == 0 else self.rng.choice("PPPPPLT")
            self.rows["ssd_cla_episodes"].append([
                self.new_id("CLE"), pid, start, start_reason, need, ended, ceased_reason,
                cla_id, rid, placement_id, entry])
            start, number = placement_end, number + 1
        self.iro_involvement(pid, rid, entry, end)
        self.cla_visits(pid, cla_id, entry, min(end, visits_until or end))
        self.cla_reviews(child, cla_id, entry, end, team, reviews)
        self.missing_episodes(child, entry, end)
        if child.eighteenth <= end or add_months(child.dob, 16 * 12) <= min(end, self.as_at):
            self.care_leaver(child, entry, end)
        return end

    def cla_visits(self, pid: str, cla_id: str, entry: date, last: date) -> None:
        visit = entry + timedelta(days=self.rng.randint(2, 14))
        while visit <= min(last, self.as_at):
            seen = self.yn(0.95)
            self.rows["ssd_cla_visits"].append([self.new_id("CLV", 7), cla_id, pid, visit, seen,
                                                self.yn(0.55) if seen == "Y" else "N"])
            gap = self.rng.choices([(21, 42), (43, 56), (57, 90)], weights=[86, 11, 3])[0]
            visit += timedelta(days=self.rng.randint(*gap))

    def cla_reviews(self, child: Child, cla_id: str, entry: date, end: date, team: str,
                    limit: int | None) -> None:
        """First review 20 working days after entry, then 3 months, then 6-monthly."""
        due = self.add_wd(entry, 20)
        held_count = 0
        while limit is None or held_count < limit:
            held = self.review_day(due, entry)
            if held >= end or held > self.as_at:
                return
            recorded_due = self.upto(due) if self.chance(0.88) else None
            if self.chance(0.03):
                cancelled = held - timedelta(days=self.rng.randint(1, 5))
                if cancelled > entry:
                    self.rows["ssd_cla_reviews"].append([self.new_id("CLR"), cla_id, recorded_due,
                                                         cancelled, "Y", None, child.person_id])
            participation = self.participation(child, held)
            self.rows["ssd_cla_reviews"].append([self.new_id("CLR"), cla_id, recorded_due, held,
                                                 "N", participation, child.person_id])
            self.meetings.append(Meeting("CLA review", held, child.person_id, team, participation,
                                         self.iro_for(child.person_id)))
            held_count += 1
            due = add_months(held, 3 if held_count == 1 else 6)

    def missing_episodes(self, child: Child, entry: date, end: date) -> None:
        first = max(entry, add_months(child.dob, 11 * 12))
        last = min(end, self.as_at)
        if first >= last or not self.chance(0.35):
            return
        for _ in range(self.rng.randint(1, 6)):
            start = self.random_day(first, last)
            offered = self.rng.choices(["Y", "N", "NA"], weights=[86, 8, 6])[0]
            self.rows["ssd_missing"].append([
                self.new_id("M"), child.person_id, start, self.rng.choice("MMMA"),
                self.upto(start + timedelta(days=self.rng.randint(0, 3))), offered,
                self.yn(0.6) if offered == "Y" else None])

    def care_leaver(self, child: Child, entry: date, end: date) -> None:
        """The current care-leaver snapshot row (SSD): eligibility as at the extract date."""
        age_now = (self.as_at - child.dob).days // 365.25
        if age_now > 21 or age_now < 16 or child.person_id in self.care_leavers:
            return
        self.care_leavers.add(child.person_id)
        in_care = end > self.as_at
        if in_care:
            eligibility = "Eligible"
        elif end >= child.eighteenth:
            eligibility = "Former Relevant"
        else:
            eligibility = "Relevant"
        if (end - entry).days < 91:
            return
        in_touch = self.rng.choice(CL_IN_TOUCH)
        latest_contact = self.as_at - timedelta(days=self.rng.randint(0, 120))
        team = "T12"
        adviser = self.pick_worker(team)
        self.rows["ssd_care_leavers"].append([
            self.new_id("CL"), child.person_id, eligibility, in_touch, latest_contact,
            self.rng.choice(CL_ACCOMMODATION), "1" if self.chance(0.9) else "2",
            self.rng.choice(CL_ACTIVITIES),
            self.as_at - timedelta(days=self.rng.randint(0, 180)), team, adviser.professional_id])
        adviser_from = max(entry, add_months(child.dob, 16 * 12))
        if adviser_from <= self.as_at:
            self.rows["ssd_involvements"].append([self.new_id("I"), adviser.professional_id, PA_ROLE,
                                                  team, adviser_from, None, child.person_id, None])

    def allocate(self, pid: str, rid: str, team: str, start: date, end: date | None,
                 gaps: bool = True, workers: list[Staff] | None = None) -> None:
        """Allocated-worker involvements from start to end: sometimes a change of worker,
        and (rarely) an open case left with no allocated worker."""
        if start > self.as_at:
            return
        stop = self.upto(end)
        horizon = stop or self.as_at
        cuts = [start]
        if workers:
            span = (horizon - start).days
            cuts += [start + timedelta(days=span * (i + 1) // len(workers)) for i in range(len(workers) - 1)]
        elif (horizon - start).days > 120 and self.chance(0.14):
            for _ in range(self.rng.randint(1, 2)):
                cuts.append(self.random_day(start + timedelta(days=30), horizon - timedelta(days=10)))
            cuts = sorted(set(cuts))
        ends = cuts[1:] + [stop]
        if stop is None and gaps and cuts[-1] < self.as_at - timedelta(days=1) and self.chance(0.015):
            # the worker left recently and the case is waiting for reallocation
            ends[-1] = self.random_day(max(cuts[-1] + timedelta(days=1), self.as_at - timedelta(days=90)),
                                       self.as_at)
        worker = None
        for index, (seg_start, seg_end) in enumerate(zip(cuts, ends)):
            worker = workers[index] if workers else self.pick_worker(team, other_than=worker)
            self.rows["ssd_involvements"].append([self.new_id("I"), worker.professional_id, ALLOCATED,
                                                  team, seg_start, seg_end, pid, rid])
            self.team_cases[team].append((pid, worker.professional_id))

    # --- planted exceptions at the last complete month end -----------------------------

    def planted_scenarios(self) -> list:
        """Children built so that every DD01-DD11 list has rows at the last month end."""
        copies = 2  # not more: they cluster on fixed dates and would make monthly counts lumpy
        builders = [("DD01", self.plant_unallocated), ("DD02", self.plant_assessment_overdue),
                    ("DD03", self.plant_s47_no_icpc), ("DD04", self.plant_cp_visit_overdue),
                    ("DD05", self.plant_cp_review_overdue), ("DD06", self.plant_cla_visit_overdue),
                    ("DD07", self.plant_cla_review_overdue), ("DD08", self.plant_long_cp_plan),
                    ("DD09", self.plant_long_cin_episode), ("DD11", self.plant_three_workers)]
        return [builder for builder in builders for _ in range(copies)]

    def days_before_end(self, days: int) -> date:
        return self.month_end - timedelta(days=days)

    def planted_child(self, referral_days_before: int) -> tuple[Child, str, str, date]:
        referral_date = self.days_before_end(referral_days_before)
        child = self.person(self.dob_for_age(referral_date, self.rng.randint(1, 12)))
        self.planted.setdefault(self.planting, []).append(child.person_id)
        team = self.rng.choice(self.teams_of_kind["assessment"])
        worker = self.pick_worker(team)
        self.contact(child.person_id, referral_date)
        referral = self.referral(child.person_id, referral_date, team, worker, False)
        return child, referral[0], team, referral_date

    def planted_assessment(self, child, rid, team, referral_date, days=30) -> date:
        start = referral_date + timedelta(days=2)
        self.assessment(child.person_id, rid, start, start + timedelta(days=days), False, team,
                        self.pick_worker(team))
        return start + timedelta(days=days)

    def plant_unallocated(self) -> None:
        """DD01: open CIN plan; the allocated worker's involvement ended 30 days before."""
        child, rid, team, referral_date = self.planted_child(220)
        auth = self.planted_assessment(child, rid, team, referral_date)
        plan_team = self.rng.choice(self.teams_of_kind["safeguarding"])
        self.cin_plan(child, rid, auth, 900, plan_team)
        self.allocate(child.person_id, rid, team, referral_date, auth, gaps=False)
        self.allocate(child.person_id, rid, plan_team, auth, self.days_before_end(30), gaps=False)

    def plant_assessment_overdue(self) -> None:
        """DD02: assessment started ~100 days before the month end, not authorised."""
        child, rid, team, referral_date = self.planted_child(100)
        self.assessment(child.person_id, rid, referral_date + timedelta(days=1),
                        self.as_at + timedelta(days=30), False, team, self.pick_worker(team))
        self.allocate(child.person_id, rid, team, referral_date, None, gaps=False)

    def plant_s47_no_icpc(self) -> None:
        """DD03: S47 started 40 days before the month end, not NFA, no ICPC."""
        child, rid, team, referral_date = self.planted_child(50)
        self.planted_assessment(child, rid, team, referral_date, days=20)
        self.s47(child.person_id, rid, self.days_before_end(40), self.days_before_end(30), False,
                 team, self.pick_worker(team))
        self.allocate(child.person_id, rid, team, referral_date, None, gaps=False)

    def planted_cp(self, days_before: int, **options) -> None:
        child, rid, team, referral_date = self.planted_child(days_before + 40)
        self.planted_assessment(child, rid, team, referral_date)
        plan_team = self.rng.choice(self.teams_of_kind["safeguarding"])
        start = self.days_before_end(days_before)
        self.cp_plan(child, rid, start, 2000, plan_team, **options)
        self.allocate(child.person_id, rid, team, referral_date, start, gaps=False)
        self.allocate(child.person_id, rid, plan_team, start, None, gaps=False)

    def plant_cp_visit_overdue(self) -> None:
        """DD04: the last CP visit was 30 days before the month end."""
        self.planted_cp(200, visits_until=self.days_before_end(30))

    def plant_cp_review_overdue(self) -> None:
        """DD05: plan started 330 days before; only the first review (at ~3 months) held,
        so the next was due ~6 months later, about two months before the month end."""
        self.planted_cp(330, reviews=1)

    def plant_long_cp_plan(self) -> None:
        """DD08: a CP plan open for 600 days."""
        self.planted_cp(600)

    def planted_cla(self, days_before: int, **options) -> None:
        child, rid, team, referral_date = self.planted_child(days_before + 40)
        self.planted_assessment(child, rid, team, referral_date)
        care_team = self.rng.choice(self.teams_of_kind["children_in_care"])
        entry = self.days_before_end(days_before)
        self.cla_period(child, rid, entry, 3000, care_team, "normal", **options)
        self.allocate(child.person_id, rid, team, referral_date, entry, gaps=False)
        self.allocate(child.person_id, rid, care_team, entry, None, gaps=False)

    def plant_cla_visit_overdue(self) -> None:
        """DD06: the last CLA visit was 70 days before the month end."""
        self.planted_cla(300, visits_until=self.days_before_end(70))

    def plant_cla_review_overdue(self) -> None:
        """DD07: entered care 400 days before; two reviews held (20 working days, then
        3 months), the third (6 months later) never held."""
        self.planted_cla(400, reviews=2)

    def plant_long_cin_episode(self) -> None:
        """DD09: a CIN episode (with a CIN plan) open for 800 days."""
        child, rid, team, referral_date = self.planted_child(800)
        auth = self.planted_assessment(child, rid, team, referral_date)
        plan_team = self.rng.choice(self.teams_of_kind["safeguarding"])
        self.cin_plan(child, rid, auth, 3000, plan_team)
        self.allocate(child.person_id, rid, team, referral_date, auth, gaps=False)
        self.allocate(child.person_id, rid, plan_team, auth, None, gaps=False)

    def plant_three_workers(self) -> None:
        """DD11: three allocated workers in turn over the last 250 days."""
        child, rid, team, referral_date = self.planted_child(250)
        auth = self.planted_assessment(child, rid, team, referral_date)
        plan_team = self.rng.choice(self.teams_of_kind["safeguarding"])
        self.cin_plan(child, rid, auth, 900, plan_team)
        first = self.pick_worker(plan_team)
        second = self.pick_worker(plan_team, other_than=first)
        third = next(w for w in self.workers[plan_team] if w is not first and w is not second)
        self.allocate(child.person_id, rid, plan_team, referral_date, None, gaps=False,
                      workers=[first, second, third])

    def ensure_caseload_above_threshold(self, threshold: int = 20) -> None:
        """DD10: if no worker holds more than `threshold` children at the month end,
        move open allocations within the busiest team onto one worker."""
        end = self.month_end
        open_rows = [row for row in self.rows["ssd_involvements"]
                     if row[2] == ALLOCATED and row[4] <= end and (row[5] is None or row[5] > end)]
        caseloads: dict[str, set] = {}
        for row in open_rows:
            caseloads.setdefault(row[1], set()).add(row[6])
        if any(len(children) > threshold for children in caseloads.values()):
            return
        planted = {pid for ids in self.planted.values() for pid in ids}
        open_rows = [row for row in open_rows if row[6] not in planted]
        team_sizes: dict[str, int] = {}
        for row in open_rows:
            team_sizes[row[3]] = team_sizes.get(row[3], 0) + 1
        team = max(sorted(team_sizes), key=lambda t: team_sizes[t])
        target = self.workers[team][0].professional_id
        children = set(caseloads.get(target, set()))
        for row in open_rows:
            if len(children) > threshold + 1:
                break
            if row[1] != target and row[6] not in children:
                row[1], row[3] = target, team
                children.add(row[6])

    # --- IRO monitoring forms and dispute resolution ------------------------------------

    def make_monitoring_forms_and_drp(self) -> None:
        for meeting in self.meetings:
            if self.chance(0.88):
                midpoint = self.upto(meeting.meeting_date + timedelta(days=self.rng.randint(45, 100)))
                self.rows["iro_monitoring_forms"].append([
                    self.new_id("F"), meeting.meeting_type, meeting.meeting_date, meeting.person_id,
                    meeting.iro.staff_id, meeting.team_id, self.yn(0.92), meeting.participation,
                    self.yn(0.85), self.rng.choices(["good", "adequate", "inadequate"], weights=[45, 42, 13])[0],
                    midpoint, self.yn(0.3), self.yn(0.1)])
            if self.chance(0.06):
                self.drp_alert(meeting)

    def drp_alert(self, meeting: Meeting) -> None:
        raised = meeting.meeting_date + timedelta(days=self.rng.randint(0, 10))
        if raised > self.as_at:
            return
        resolution = self.rng.choices(["on_time", "late", "open"], weights=[70, 20, 10])[0]
        resolved = None
        if resolution == "on_time":
            resolved = self.add_wd(raised, self.rng.randint(1, 20))
        elif resolution == "late":
            resolved = self.add_wd(raised, self.rng.randint(21, 45))
        resolved = self.upto(resolved)
        outcome = self.rng.choices(["resolved", "escalated", "withdrawn"], weights=[80, 14, 6])[0] \
            if resolved else None
        stage = self.rng.choices(["informal", "1", "2", "3", "Cafcass"], weights=[50, 26, 13, 7, 4])[0]
        drp_id = self.new_id("D")
        self.rows["iro_drp_alerts"].append([
            drp_id, raised, meeting.person_id, meeting.iro.staff_id, meeting.team_id, stage,
            self.rng.choice(DRP_THEMES), self.upto(self.add_wd(raised, 20)), resolved, outcome])
        if outcome == "escalated" and self.chance(0.5):
            self.learning_action("drp", drp_id, resolved, meeting.team_id)

    # --- quality assurance --------------------------------------------------------------

    def months(self) -> list[date]:
        """First days of the months of the window, up to the extract month."""
        first = date(self.window_start.year, self.window_start.month, 1)
        months = []
        while first <= self.as_at:
            months.append(first)
            first = add_months(first, 1)
        return months

    def make_qa(self) -> None:
        self.audits: list[Audit] = []
        inadequate_pending: list[Audit] = []
        for number, month in enumerate(self.months()):
            due = month.replace(day=25)
            for team_id, manager in self.team_managers.items():
                own = self.chance(0.2) and bool(self.team_cases[team_id])
                audited_team = team_id if own else self.rng.choice(
                    [t for t in self.team_cases if self.team_cases[t] and t != team_id])
                self.scheduled_audit(manager, "Team Manager", "case_file", month, due, audited_team)
            for manager in self.service_managers.values():
                self.scheduled_audit(manager, "Service Manager", "case_file", month, due,
                                     self.rng.choice(["T05", "T06", "T07", "T08", "T09", "T13"]))
            self.scheduled_audit(self.family_solutions_manager, "Family Solutions Manager",
                                 "case_file", month, due, "T02")
            if month.month % 3 == 0:
                self.scheduled_audit(self.residential_manager, "Residential Manager", "case_file",
                                     month, due, "T11")
            self.scheduled_audit(self.iro_service_manager, "IRO Service Manager",
                                 "themed" if number % 2 == 0 else "dip_sample", month, due,
                                 self.rng.choice(["T08", "T09", "T05"]))
            if self.chance(0.5):
                peer = self.rng.choice(self.workers["T05"] + self.workers["T08"])
                self.scheduled_audit(peer, "Practitioner", self.rng.choice(["peer", "benchmarking"]),
                                     month, due, self.rng.choice(["T06", "T07", "T09"]))
            # Heads of Service re-audit last month's Inadequate cases
            for audit in inadequate_pending:
                head = self.heads_of_service["children_in_care" if audit.team_id in ("T08", "T09", "T10", "T11", "T12")
                                             else "safeguarding"]
                if self.chance(0.85):
                    self.scheduled_audit(head, "Head of Service", "re_audit", month, due,
                                         audit.team_id, original=audit)
            # re-audits are of audits completed before the month they are allocated in
            done_before = [a for a in self.audits if a.completed and a.completed < month]
            recent_inadequate = [a for a in done_before if a.grade == "Inadequate"
                                 and a.completed >= add_months(month, -3)]
            inadequate_pending = [a for a in self.audits if a.grade == "Inadequate" and a.completed
                                  and a.completed >= add_months(month, -1) and a.completed < month]
            if month.month % 3 == 0:
                for leader, role in ((self.assistant_director, "Assistant Director"),
                                     (self.dcs, "DCS"), (self.elected_member, "Elected Member")):
                    pool = done_before if role == "Elected Member" else recent_inadequate
                    if pool and self.chance(0.9):
                        original = self.rng.choice(pool)
                        self.scheduled_audit(leader, role, "re_audit", month, due, original.team_id,
                                             original=original)
        self.make_moderations()
        self.make_observations()

    def scheduled_audit(self, auditor: Staff, role: str, audit_type: str, month: date, due: date,
                        team_id: str, original: Audit | None = None) -> None:
        if due > self.as_at:
            return
        outcome = self.rng.choices(["on_time", "late", "missed"], weights=[80, 9, 11])[0]
        if outcome == "missed":
            return  # not allocated or not done: counts against compliance
        completed = due - timedelta(days=self.rng.randint(0, 20)) if outcome == "on_time" \
            else due + timedelta(days=self.rng.randint(1, 12))
        completed = self.upto(completed)
        cases = self.team_cases.get(team_id) or []
        if cases:
            person_id, worker_id = self.rng.choice(cases)
        else:
            person_id, worker_id = f"P{self.rng.randint(1, max(1, self.counters.get('P', 1))):06d}", None
        if original is not None:
            person_id = original.person_id
        area = self.service_area(team_id)
        if team_id == "T13" and self.chance(0.5):
            area = "SEND"
        grade = self.rng.choices(GRADES, weights=GRADE_WEIGHTS if original is None else [5, 45, 40, 10])[0] \
            if completed else None
        submitted = None
        if completed:
            submitted = self.add_wd(completed, self.rng.randint(0, 3)) if self.chance(0.88) \
                else self.add_wd(due, self.rng.randint(6, 12))
            submitted = self.upto(max(submitted, completed))
        actions = self.rng.randint(0, 6) if completed else None
        follow_up_due = self.upto(completed + timedelta(days=14)) if completed else None
        follow_up_done = None
        if completed and self.chance(0.85):
            follow_up_done = self.upto(completed + timedelta(days=self.rng.randint(5, 21)))
        audit_id = self.new_id("AU")
        self.rows["qa_audits"].append([
            audit_id, audit_type, self.theme_of(month), area, person_id, team_id, worker_id,
            auditor.staff_id, role, month, due, completed, submitted, grade,
            self.yn(0.86) if completed else None, self.yn(0.65) if completed else None, actions,
            follow_up_due, follow_up_done,
            self.rng.choice(["Y", "Y", "Partial", "N"]) if follow_up_done else None,
            original.audit_id if original else None])
        audit = Audit(audit_id, person_id, team_id, area, grade, completed)
        self.audits.append(audit)
        if grade == "Inadequate" and self.chance(0.7):
            self.learning_action("audit", audit_id, completed, team_id)

    def make_audit_findings(self) -> None:
        """The optional qa_audit_findings table: one to four findings per completed audit,
        drawn from a generator of their own so that no other table changes with them."""
        rng = random.Random(f"{self.seed}-audit-findings")
        for audit in self.audits:
            if not audit.completed:
                continue
            for _ in range(rng.randint(1, 4)):
                finding_type = rng.choices(["strength", "area_for_development"], weights=[55, 45])[0]
                self.rows["qa_audit_findings"].append([
                    self.new_id("FN"), audit.audit_id, rng.choice(FINDING_DOMAINS), finding_type,
                    rng.choice(FINDING_SUMMARIES[finding_type]), "Y" if rng.random() < 0.7 else "N"])

    def theme_of(self, month: date) -> str:
        return audit_theme(month, self.seed)

    def make_moderations(self) -> None:
        order = {g: i for i, g in enumerate(["Inadequate", "Requires improvement", "Good", "Outstanding"])}
        ordered = ["Inadequate", "Requires improvement", "Good", "Outstanding"]
        for audit in self.audits:
            if not audit.completed or not audit.grade:
                continue
            rate = 1.0 if audit.grade == "Inadequate" else {"Social Care": 0.2, "Early Help": 0.1}.get(
                audit.service_area, 0.05)
            if not self.chance(rate):
                continue
            moderated = audit.completed + timedelta(days=self.rng.randint(3, 25))
            if moderated > self.as_at:
                continue
            grade = audit.grade
            if self.chance(0.2):
                grade = ordered[max(0, min(3, order[grade] + self.rng.choice([-1, 1])))]
            elif self.chance(0.02):
                grade = None
            self.rows["qa_moderations"].append([
                self.new_id("MOD"), audit.audit_id, self.rng.choice(self.qa_practitioners).staff_id,
                "panel" if self.chance(0.2) else "single", moderated, grade, self.yn(0.9)])

    def make_observations(self) -> None:
        years = [(add_months(self.as_at, -12 * (i + 1)) + timedelta(days=1), add_months(self.as_at, -12 * i))
                 for i in range(self.years)]
        for first, last in years:
            for team_id, staff in self.workers.items():
                manager = self.team_leads[team_id]
                kind = "iro_chairing" if team_id == "T14" else "practice"
                observer, observer_role = manager, manager.job_title
                for person in staff:
                    if self.chance(0.85):
                        self.observation(kind, observer, observer_role, person, team_id, first, last)
                    if self.chance(0.05):
                        self.observation(self.rng.choice(["home_visit", "meeting"]), observer,
                                         observer_role, person, team_id, first, last)
                service_manager = self.service_managers[self.team_by_id[team_id][2]]
                for kind in ("welfare_supervision_audit", "supervision"):
                    if self.chance(0.8):
                        self.observation(kind, service_manager, "Service Manager", manager, team_id,
                                         first, last)

    def observation(self, kind, observer: Staff, observer_role, observed: Staff, team_id, first, last) -> None:
        self.rows["qa_observations"].append([
            self.new_id("OB"), kind, observer.staff_id, observer_role, observed.staff_id, team_id,
            self.random_day(first, last), self.yn(0.93),
            self.rng.choices(GRADES, weights=[12, 55, 28, 5])[0]])

    # --- complaints, compliments, learning actions ---------------------------------------

    def make_complaints(self) -> None:
        per_year = self.children / self.years
        for _ in range(max(8, round(per_year * 0.04 * self.years))):
            received = self.random_day(self.window_start, self.as_at)
            self.complaint(received, "1", None)
        self.ensure_an_escalation()
        for _ in range(max(8, round(per_year * 0.05 * self.years))):
            team_id = self.rng.choice([t[0] for t in TEAMS])
            self.rows["compliments"].append([
                self.new_id("CMPL"), self.random_day(self.window_start, self.as_at),
                self.service_area(team_id), team_id,
                self.rng.choice(["parent or carer", "child or young person", "professional", "carer"]),
                self.rng.choice(["communication", "support", "going the extra mile", "outcomes",
                                 "listening"])])

    def ensure_an_escalation(self) -> None:
        """A small LA may draw no stage 2 complaint: escalate the first answered one."""
        complaints = self.rows["complaints"]
        if any(row[2] == "2" for row in complaints):
            return
        latest = self.as_at - timedelta(days=30)
        answered = [row for row in complaints if row[2] == "1" and row[13] and row[13] <= latest
                    and row[14] != "withdrawn"]
        if answered:
            self.complaint(answered[0][13] + timedelta(days=10), "2", answered[0])

    COMPLAINT_LIMITS = {"1": (10, 20), "2": (25, 65), "3": (30, 40), "LGSCO": (60, 90)}
    NEXT_STAGE = {"1": ("2", 0.15), "2": ("3", 0.15), "3": ("LGSCO", 0.3)}

    def complaint(self, received: date, stage: str, parent: list | None) -> None:
        if received > self.as_at:
            return
        if parent is None:
            team_id = self.rng.choice([t[0] for t in TEAMS if t[4] != "iro"])
            person_id = f"P{self.rng.randint(1, self.counters['P']):06d}" if self.chance(0.7) else None
            complainant = self.rng.choices(["child or young person", "parent or carer", "other"],
                                           weights=[20, 70, 10])[0]
            category = self.rng.choice(COMPLAINT_CATEGORIES)
        else:
            team_id, person_id, complainant, category = parent[7], parent[8], parent[4], parent[9]
        limit, extended_limit = self.COMPLAINT_LIMITS[stage]
        extended = self.chance(0.1)
        allowed = extended_limit if extended else limit
        timing = self.rng.choices(["within", "late", "none"], weights=[80, 15, 5])[0]
        response = None
        if timing == "within":
            response = self.add_wd(received, self.rng.randint(2, allowed))
        elif timing == "late":
            response = self.add_wd(received, self.rng.randint(allowed + 1, allowed + 15))
        response = self.upto(response)
        outcome = self.rng.choices(["upheld", "partially upheld", "not upheld", "withdrawn"],
                                   weights=[24, 26, 45, 5])[0] if response else None
        complaint_id = self.new_id("CMP")
        row = [complaint_id, received, stage, parent[0] if parent else None, complainant,
               self.yn(0.7 if complainant == "child or young person" else 0.2), self.service_area(team_id),
               team_id, person_id, category, self.upto(self.add_wd(received, self.rng.randint(1, 3))),
               self.upto(self.add_wd(received, allowed)), "Y" if extended else "N", response, outcome]
        self.rows["complaints"].append(row)
        if outcome in ("upheld", "partially upheld") and self.chance(0.6):
            self.learning_action("complaint", complaint_id, response, team_id)
        if response and outcome != "withdrawn" and stage in self.NEXT_STAGE:
            next_stage, p = self.NEXT_STAGE[stage]
            if self.chance(p):
                self.complaint(response + timedelta(days=self.rng.randint(5, 40)), next_stage, row)

    def learning_action(self, source: str, source_id: str, raised: date | None, team_id: str) -> None:
        if raised is None or raised > self.as_at:
            return
        due = raised + timedelta(days=self.rng.randint(20, 90))
        outcome = self.rng.choices(["on_time", "late", "open"], weights=[72, 13, 15])[0]
        completed = None
        if outcome == "on_time":
            completed = self.random_day(raised, due)
        elif outcome == "late":
            completed = due + timedelta(days=self.rng.randint(1, 40))
        owner = self.team_leads.get(team_id) or self.team_leads["T05"]
        self.rows["learning_actions"].append([
            self.new_id("LA"), source, source_id, self.rng.choice(LEARNING_TEXTS), owner.staff_id,
            raised, self.upto(due), self.upto(completed)])

    # --- surveys ------------------------------------------------------------------------

    def make_surveys(self) -> None:
        per_survey = max(12, round(self.children / 15))
        case_teams = [t[0] for t in TEAMS if t[4] in CASE_SHARE]
        for survey_id, survey_name, respondent, questions in SURVEYS:
            for question_id, text, scale in questions:
                positive = {"likert5": "4;5", "yes_no": "Yes"}.get(scale, "")
                self.rows["survey_questions"].append([survey_id, survey_name, question_id, text,
                                                      scale, positive])
            for _ in range(per_survey):
                response_id = self.new_id("SR")
                submitted = self.random_day(self.window_start, self.as_at)
                team_id = self.rng.choice(case_teams) if self.chance(0.8) else None
                kind = respondent if survey_id != "SV02" or self.chance(0.85) else "foster carer"
                for question_id, _, scale in questions:
                    self.rows["survey_responses"].append([survey_id, response_id, kind, submitted, team_id,
                                                          question_id, self.answer(scale)])

    def answer(self, scale: str) -> str:
        if scale == "likert5":
            return "" if self.chance(0.05) else str(self.rng.choices([1, 2, 3, 4, 5], weights=[5, 9, 18, 38, 30])[0])
        if scale == "yes_no":
            return self.rng.choices(["Yes", "No", ""], weights=[72, 24, 4])[0]
        return self.rng.choice(SURVEY_TEXTS)

    # --- writing ------------------------------------------------------------------------

    def write(self, out_dir: Path) -> dict[str, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, table in TABLES.items():
            path = out_dir / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(table.column_names)
                writer.writerows(self.cells(name, row) for row in self.rows[name])
            paths[name] = path
        (out_dir / "README.txt").write_text(
            README.format(as_at=self.as_at.isoformat(), children=self.children, years=self.years,
                          seed=self.seed, month_end=self.month_end.isoformat(),
                          planted="\n".join(f"  {code}: {', '.join(ids)}"
                                            for code, ids in self.planted.items())),
            encoding="utf-8")
        write_manifest(out_dir, self.as_at, system="qaloop synthetic LA (qaloop/synthetic.py)")
        return paths

    def cells(self, table: str, row: list) -> list[str]:
        cells = []
        for value in row:
            if value is None:
                cells.append("")
            elif isinstance(value, date):
                if value > self.as_at:
                    raise AssertionError(f"{table}: date {value} after the extract date in {row}")
                cells.append(value.isoformat())
            else:
                cells.append(str(value))
        return cells
