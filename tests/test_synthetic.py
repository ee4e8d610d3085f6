"""The synthetic demonstration LA: deterministic, on contract, loadable, consistent, and
with rows on every Drift and Delay exception list at the last complete month end."""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd
import pytest

from tasks.core.calendar import working_days_between
from tasks.kpis.compute import LaContext, compute_period
from tasks.extract.extracts import extract_sources
from tasks.core.periods import Period
from tasks.kpis.registry import load_registry
from tasks.core.sources import TABLES
from qaloop.synthetic import SyntheticLa, generate_la
from tasks.warehouse.database import make_engine, replace_source_tables, upgrade_schema

AS_AT = date(2024, 4, 10)
MONTH_END = date(2024, 3, 31)  # the last complete month end before AS_AT
CHILDREN = 300
DD_IDS = [f"DD{n:02d}" for n in range(1, 12)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(folder, generator) for a small synthetic LA."""
    folder = tmp_path_factory.mktemp("synthetic")
    generator = SyntheticLa(AS_AT, CHILDREN, seed=2024, years=3)
    generator.generate()
    generator.write(folder)
    return folder, generator


@pytest.fixture(scope="module")
def extracts(demo):
    return extract_sources(str(demo[0]))


@pytest.fixture(scope="module")
def frames(extracts):
    return {name: extract.frame for name, extract in extracts.items()}


@pytest.fixture(scope="module")
def drift_and_delay(tmp_path_factory, frames):
    """The DD01-DD11 records at the last complete month end, computed on SQLite."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('wh') / 'warehouse.sqlite'}")
    upgrade_schema(engine)
    replace_source_tables(engine, frames)
    registry = [k for k in load_registry() if k.id in DD_IDS]
    _, records = compute_period(engine, registry, Period.month("2024-03"),
                                LaContext("999", "Synthetic LA", 20000))
    engine.dispose()
    return records[records["in_numerator"] == 1]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    first = generate_la(tmp_path / "a", AS_AT, children=120, seed=7)
    second = generate_la(tmp_path / "b", AS_AT, children=120, seed=7)
    other = generate_la(tmp_path / "c", AS_AT, children=120, seed=8)
    assert sorted(first) == sorted(TABLES)
    for name in TABLES:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert (tmp_path / "a" / "README.txt").read_bytes() == (tmp_path / "b" / "README.txt").read_bytes()
    assert first["ssd_person"].read_bytes() != other["ssd_person"].read_bytes()
    assert first["ssd_cp_visits"].read_bytes() != other["ssd_cp_visits"].read_bytes()


def test_every_table_has_the_contract_columns_and_a_synthetic_readme(demo):
    folder, _ = demo
    for name, table in TABLES.items():
        with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == table.column_names, name
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "no real children" in readme.lower().replace("\n", " ")


def test_every_file_loads_and_no_table_is_empty(extracts):
    assert sorted(extracts) == sorted(TABLES)
    empty = [name for name, extract in extracts.items() if extract.frame.empty]
    assert empty == []
    assert len(extracts["ssd_person"].frame) == CHILDREN


def test_no_date_after_the_extract_date(frames):
    for name, frame in frames.items():
        for column in TABLES[name].columns_of_type("date"):
            latest = frame[column].dropna().max() if frame[column].notna().any() else None
            assert latest is None or latest <= AS_AT, f"{name}.{column}: {latest}"
    # activity reaches past the last complete month end (as-at rules are exercised)
    assert (frames["ssd_contacts"]["cont_contact_date"] > MONTH_END).any()


def test_flags_are_y_or_n_and_ids_carry_table_prefixes(frames):
    assert set(frames["ssd_cp_visits"]["cppv_cp_visit_seen"]) == {"Y", "N"}
    assert set(frames["ssd_cin_episodes"]["cine_referral_nfa"]) == {"Y", "N"}
    assert frames["ssd_person"]["pers_person_id"].str.match(r"^P\d{6}$").all()
    assert frames["ssd_cin_episodes"]["cine_referral_id"].str.match(r"^R\d{6}$").all()
    assert set(frames["ssd_person"]["pers_sex"]) == {"M", "F"}


def ids(frame: pd.DataFrame, column: str) -> set:
    return set(frame[column].dropna())


def test_key_links_resolve(frames):
    f = frames
    assert ids(f["ssd_cp_visits"], "cppv_cp_plan_id") <= ids(f["ssd_cp_plans"], "cppl_cp_plan_id")
    assert ids(f["ssd_cp_reviews"], "cppr_cp_plan_id") <= ids(f["ssd_cp_plans"], "cppl_cp_plan_id")
    plan_person = dict(zip(f["ssd_cp_plans"]["cppl_cp_plan_id"], f["ssd_cp_plans"]["cppl_person_id"]))
    visits = f["ssd_cp_visits"]
    assert (visits["cppv_cp_plan_id"].map(plan_person) == visits["cppv_person_id"]).all()
    assert ids(f["ssd_cin_assessments"], "cina_referral_id") <= ids(f["ssd_cin_episodes"], "cine_referral_id")
    referral_person = dict(zip(f["ssd_cin_episodes"]["cine_referral_id"], f["ssd_cin_episodes"]["cine_person_id"]))
    assessments = f["ssd_cin_assessments"]
    assert (assessments["cina_referral_id"].map(referral_person) == assessments["cina_person_id"]).all()
    icpcs = f["ssd_initial_cp_conference"]
    assert ids(icpcs, "icpc_s47_enquiry_id") <= ids(f["ssd_s47_enquiry"], "s47e_s47_enquiry_id")
    assert icpcs["icpc_s47_enquiry_id"].notna().any()
    # an ICPC with no S47 is a transfer-in
    assert (icpcs.loc[icpcs["icpc_s47_enquiry_id"].isna(), "icpc_icpc_transfer_in"] == "Y").all()
    assert ids(f["ssd_cp_plans"], "cppl_icpc_id") <= ids(icpcs, "icpc_icpc_id")
    involvements = f["ssd_involvements"]
    assert ids(involvements, "invo_professional_id") <= ids(f["ssd_professionals"], "prof_professional_id")
    assert ids(involvements, "invo_professional_team") <= ids(f["ssd_department"], "dept_team_id")
    assert ids(involvements, "invo_person_id") <= ids(f["ssd_person"], "pers_person_id")
    assert ids(f["ssd_cla_visits"], "clav_cla_id") <= ids(f["ssd_cla_episodes"], "clae_cla_id")
    assert ids(f["ssd_cla_reviews"], "clar_cla_id") <= ids(f["ssd_cla_episodes"], "clae_cla_id")
    assert ids(f["ssd_cla_episodes"], "clae_cla_placement_id") <= ids(f["ssd_cla_placement"], "clap_cla_placement_id")


def test_qa_and_iro_records_link_to_staff_audits_and_meetings(frames):
    f = frames
    staff = f["qa_staff"]
    practitioners = ids(staff[staff["role"] == "Practitioner"], "staff_id")
    professionals = ids(f["ssd_professionals"], "prof_staff_id")
    assert len(practitioners & professionals) >= len(practitioners) - 2  # two former staff
    assert ids(f["qa_audits"], "auditor_id") <= ids(staff, "staff_id")
    assert ids(f["qa_audits"], "original_audit_id") <= ids(f["qa_audits"], "audit_id")
    assert ids(f["qa_moderations"], "audit_id") <= ids(f["qa_audits"], "audit_id")
    stage_two = f["complaints"][f["complaints"]["stage"] == "2"]
    stage_one_ids = ids(f["complaints"][f["complaints"]["stage"] == "1"], "complaint_id")
    assert len(stage_two) > 0 and set(stage_two["parent_complaint_id"]) <= stage_one_ids
    cla_reviews = f["ssd_cla_reviews"]
    meetings = {("ICPC", p, d) for p, d in zip(f["ssd_initial_cp_conference"]["icpc_person_id"],
                                                f["ssd_initial_cp_conference"]["icpc_icpc_date"])}
    meetings |= {("CP review", p, d) for p, d in zip(f["ssd_cp_reviews"]["cppr_person_id"],
                                                     f["ssd_cp_reviews"]["cppr_cp_review_date"])}
    held = cla_reviews[cla_reviews["clar_cla_review_cancelled"] != "Y"]
    meetings |= {("CLA review", p, d) for p, d in zip(held["clar_cla_person_id"], held["clar_cla_review_date"])}
    forms = f["iro_monitoring_forms"]
    form_keys = set(zip(forms["meeting_type"], forms["person_id"], forms["meeting_date"]))
    assert form_keys <= meetings
    assert 0.8 < len(form_keys) / len(meetings) < 0.95


@pytest.mark.parametrize("kpi_id", DD_IDS)
def test_every_drift_and_delay_list_has_rows_at_the_last_month_end(drift_and_delay, kpi_id):
    rows = drift_and_delay[drift_and_delay["kpi_id"] == kpi_id]
    assert len(rows) > 0, f"{kpi_id} has no exceptions at {MONTH_END}"


@pytest.mark.parametrize("kpi_id", [k for k in DD_IDS if k != "DD10"])
def test_planted_children_are_on_their_list(demo, drift_and_delay, kpi_id):
    _, generator = demo
    rows = drift_and_delay[drift_and_delay["kpi_id"] == kpi_id]
    planted = generator.planted[kpi_id]
    assert len(planted) == 2
    assert set(planted) <= set(rows["person_id"])


def test_planted_measures_are_the_hand_computed_ones(demo, drift_and_delay):
    _, generator = demo
    measures = {(r.kpi_id, r.person_id): r.measure for r in drift_and_delay.itertuples()}
    for person in generator.planted["DD08"]:  # CP plan started 600 days before the month end
        assert measures[("DD08", person)] == 600
    for person in generator.planted["DD09"]:  # referral 800 days before the month end
        assert measures[("DD09", person)] == 800
    for person in generator.planted["DD02"]:  # assessment started 99 days before: 2023-12-23
        assert measures[("DD02", person)] == working_days_between(date(2023, 12, 23), MONTH_END)


def test_a_worker_carries_more_than_twenty_children(drift_and_delay):
    caseloads = drift_and_delay[drift_and_delay["kpi_id"] == "DD10"]["measure"]
    assert (pd.to_numeric(caseloads) > 20).all() and len(caseloads) >= 1


STEADY_AS_AT = date(2026, 11, 5)
LAST_12_MONTHS = [f"{year}-{month:02d}" for year, month in
                  [(2025, m) for m in range(11, 13)] + [(2026, m) for m in range(1, 11)]]
PREVIOUS_12_MONTHS = [f"{year}-{month:02d}" for year, month in
                      [(2024, m) for m in range(11, 13)] + [(2025, m) for m in range(1, 11)]]


@pytest.fixture(scope="module")
def steady_la(tmp_path_factory):
    """The folder of a 3,000-child LA."""
    folder = tmp_path_factory.mktemp("steady")
    generate_la(folder, STEADY_AS_AT, children=3000, seed=2024)
    return folder


@pytest.fixture(scope="module")
def monthly_counts(steady_la):
    """{table: {YYYY-MM: rows}} of contacts and referrals for a 3,000-child LA."""
    folder = steady_la
    counts = {}
    for table, column in (("ssd_contacts", "cont_contact_date"), ("ssd_cin_episodes", "cine_referral_date")):
        with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            months = [row[column][:7] for row in csv.DictReader(handle)]
        counts[table] = pd.Series(months).value_counts().to_dict()
    return counts


@pytest.mark.parametrize("table", ["ssd_contacts", "ssd_cin_episodes"])
def test_new_work_is_steady_over_the_last_twelve_complete_months(monthly_counts, table):
    counts = [monthly_counts[table].get(month, 0) for month in LAST_12_MONTHS]
    assert min(counts) >= 0.6 * max(counts), counts
    # and no trend: the last year is within 10% of the year before
    previous = sum(monthly_counts[table].get(month, 0) for month in PREVIOUS_12_MONTHS)
    assert 0.9 <= sum(counts) / previous <= 1.1, (sum(counts), previous)


def test_history_before_the_window_is_modest(monthly_counts):
    """Long-running cases began earlier (and first episodes from half a year before the
    3-year window), but few contacts come before that."""
    contacts = monthly_counts["ssd_contacts"]
    before = sum(n for month, n in contacts.items() if month < "2023-05")
    assert before < 0.12 * sum(contacts.values()), before


# --- cross-table date order -----------------------------------------------------------

def read_tables(folder) -> dict[str, pd.DataFrame]:
    """Every CSV as text (empty cells NaN): ISO dates compare correctly as strings."""
    return {name: pd.read_csv(folder / f"{name}.csv", dtype=str) for name in TABLES}


def linked(frame: pd.DataFrame, key: str, other: pd.DataFrame, other_key: str, columns: list[str]):
    """`frame` with `columns` of the `other` row its `key` points to (left join)."""
    return frame.merge(other[[other_key] + columns], how="left", left_on=key, right_on=other_key,
                       suffixes=("", "_linked"))


def date_order_breaches(folder) -> dict[str, list[str]]:
    """{rule: ids of the rows breaking it}: a later event dated before the one it follows.
    A comparison with an empty date (an open plan, an audit not done) is not a breach."""
    t = read_tables(folder)
    breaches = {}

    def rule(name, frame, id_column, earlier, later):
        bad = frame[frame[later] < frame[earlier]]
        breaches[name] = sorted(bad[id_column])

    assessments = linked(t["ssd_cin_assessments"], "cina_referral_id", t["ssd_cin_episodes"],
                         "cine_referral_id", ["cine_referral_date"])
    rule("assessment starts on or after its referral", assessments, "cina_assessment_id",
         "cine_referral_date", "cina_assessment_start_date")
    s47s = linked(t["ssd_s47_enquiry"], "s47e_referral_id", t["ssd_cin_episodes"],
                  "cine_referral_id", ["cine_referral_date"])
    rule("S47 starts on or after its referral", s47s, "s47e_s47_enquiry_id",
         "cine_referral_date", "s47e_s47_start_date")
    icpcs = linked(t["ssd_initial_cp_conference"], "icpc_s47_enquiry_id", t["ssd_s47_enquiry"],
                   "s47e_s47_enquiry_id", ["s47e_s47_start_date"])
    icpcs = linked(icpcs, "icpc_referral_id", t["ssd_cin_episodes"], "cine_referral_id",
                   ["cine_referral_date"])
    rule("ICPC on or after its S47 start", icpcs, "icpc_icpc_id", "s47e_s47_start_date", "icpc_icpc_date")
    rule("ICPC on or after its referral", icpcs, "icpc_icpc_id", "cine_referral_date", "icpc_icpc_date")
    plans = linked(t["ssd_cp_plans"], "cppl_icpc_id", t["ssd_initial_cp_conference"], "icpc_icpc_id",
                   ["icpc_icpc_date"])
    rule("CP plan starts on or after its ICPC", plans, "cppl_cp_plan_id", "icpc_icpc_date",
         "cppl_cp_plan_start_date")
    plan_dates = ["cppl_cp_plan_start_date", "cppl_cp_plan_end_date"]
    for table, prefix, day in (("ssd_cp_visits", "cppv", "cppv_cp_visit_date"),
                               ("ssd_cp_reviews", "cppr", "cppr_cp_review_date")):
        rows = linked(t[table], f"{prefix}_cp_plan_id", t["ssd_cp_plans"], "cppl_cp_plan_id", plan_dates)
        id_column = t[table].columns[0]
        rule(f"{table} on or after the plan start", rows, id_column, "cppl_cp_plan_start_date", day)
        rule(f"{table} on or before the plan end", rows, id_column, day, "cppl_cp_plan_end_date")
    cin_plans = linked(t["ssd_cin_plans"], "cinp_referral_id", t["ssd_cin_episodes"],
                       "cine_referral_id", ["cine_referral_date"])
    rule("CIN plan starts on or after its referral", cin_plans, "cinp_cin_plan_id",
         "cine_referral_date", "cinp_cin_plan_start_date")
    visits = t["ssd_cin_visits"].merge(t["ssd_cin_plans"], left_on="cinv_person_id",
                                        right_on="cinp_person_id")
    during = (visits["cinv_cin_visit_date"] >= visits["cinp_cin_plan_start_date"]) & ~(
        visits["cinv_cin_visit_date"] > visits["cinp_cin_plan_end_date"])
    visited = set(visits.loc[during, "cinv_cin_visit_id"])
    breaches["CIN visit during one of the child's CIN plans"] = sorted(
        set(t["ssd_cin_visits"]["cinv_cin_visit_id"]) - visited)
    episodes = t["ssd_cla_episodes"]
    rule("CLA episode starts on or after entering care", episodes, "clae_cla_episode_id",
         "clae_entered_care_date", "clae_cla_episode_start_date")
    periods = episodes.groupby("clae_cla_id", as_index=False).agg(
        entered=("clae_entered_care_date", "min"), left=("clae_cla_episode_ceased_date", "max"),
        open_episodes=("clae_cla_episode_ceased_date", lambda ceased: ceased.isna().sum()))
    periods.loc[periods["open_episodes"] > 0, "left"] = None  # still in care
    for table, key, day in (("ssd_cla_placement", "clap_cla_id", "clap_cla_placement_start_date"),
                            ("ssd_cla_visits", "clav_cla_id", "clav_cla_visit_date"),
                            ("ssd_cla_reviews", "clar_cla_id", "clar_cla_review_date")):
        rows = linked(t[table], key, periods, "clae_cla_id", ["entered", "left"])
        rule(f"{table} on or after entering care", rows, t[table].columns[0], "entered", day)
        rule(f"{table} on or before leaving care", rows, t[table].columns[0], day, "left")
    audits = t["qa_audits"]
    moderations = linked(t["qa_moderations"], "audit_id", audits, "audit_id", ["completed_date"])
    rule("moderation on or after the audit", moderations, "moderation_id", "completed_date", "moderated_date")
    re_audits = linked(audits, "original_audit_id", audits, "audit_id", ["completed_date"])
    rule("re-audit allocated after the original was completed", re_audits, "audit_id",
         "completed_date_linked", "allocated_date")
    rule("audit submitted on or after completion", audits, "audit_id", "completed_date", "submitted_date")
    rule("audit follow-up on or after completion", audits, "audit_id", "completed_date",
         "follow_up_completed_date")
    complaints = t["complaints"]
    rule("complaint response on or after receipt", complaints, "complaint_id", "received_date", "response_date")
    rule("complaint acknowledged on or after receipt", complaints, "complaint_id", "received_date",
         "acknowledged_date")
    escalations = linked(complaints, "parent_complaint_id", complaints, "complaint_id", ["response_date"])
    rule("escalation received after the earlier stage's response", escalations, "complaint_id",
         "response_date_linked", "received_date")
    drp = t["iro_drp_alerts"]
    rule("DRP resolved on or after it was raised", drp, "drp_id", "raised_date", "resolved_date")
    actions = t["learning_actions"]
    rule("learning action completed on or after it was raised", actions, "action_id", "raised_date",
         "completed_date")
    return breaches


def test_later_events_never_precede_the_events_they_follow(demo):
    breaches = date_order_breaches(demo[0])
    assert len(breaches) == 27  # every rule ran
    assert {rule: ids for rule, ids in breaches.items() if ids} == {}


def test_date_order_holds_in_the_three_thousand_child_la(steady_la):
    assert {rule: ids[:5] for rule, ids in date_order_breaches(steady_la).items() if ids} == {}


def test_the_demo_la_gives_every_quarterly_measure_a_figure(tmp_path):
    """Issue 15: the demo LA's complaints, compliments, learning actions, IRO forms and
    alerts, surveys and audit findings give every measure a figure for a recent quarter
    and financial-year half (the demo's size and seed)."""
    from qaloop.cli import DEMO_CHILDREN, DEMO_SEED
    from tasks.kpis.registry import computed_for

    generate_la(tmp_path / "la", AS_AT, children=DEMO_CHILDREN, seed=DEMO_SEED)
    frames = {name: extract.frame for name, extract in extract_sources(str(tmp_path / "la")).items()}
    findings = frames["qa_audit_findings"]
    assert len(findings) > 0 and set(findings["share"]) == {"Y", "N"}
    names = set(frames["qa_staff"]["name"]) | set(frames["ssd_professionals"]["prof_professional_name"])
    assert not findings["summary"].str.contains(r"\d").any()  # no ids
    assert not any(name in summary for summary in set(findings["summary"]) for name in names)
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    upgrade_schema(engine)
    replace_source_tables(engine, frames)
    for period_id in ("2024-Q1", "2023-24-H2"):
        period = Period.parse(period_id)
        kpis = computed_for(load_registry(), period)
        values, _ = compute_period(engine, kpis, period, LaContext("999", "Synthetic LA", 20000), levels=("la",))
        headline = values[values["kpi_id"].isin([k.id for k in kpis])].set_index("kpi_id")["value"]
        assert len(kpis) == 16 and headline.notna().all() and (headline > 0).all(), (period_id, headline)
    engine.dispose()
