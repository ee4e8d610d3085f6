"""The QA schedule configuration, the monthly audit allocation and the escalation of
Inadequate audits (tasks/kpis/qa.py)."""

import uuid
from datetime import date

import pandas as pd
import pytest

from tasks.core.settings import load_settings
from tasks.warehouse import database as warehouse_module
from tasks.kpis.compute import VALUE_COLUMNS
from tasks.core.periods import MonthToDate, Period
from tasks.kpis.registry import load_registry
from tasks.kpis.qa import (DEFAULT_SCHEDULE, NoCohortRule, allocate_audits, audit_cohort, auditors_in_post,
                           escalation_records, inadequate_audits_for_escalation, monthly_allocation,
                           schedule_from_settings, staff_in_post, with_names)
from tasks.reports.qa_outputs import qa_inputs
from tests.kpi_harness import load_tables

COHORT = pd.DataFrame({"person_id": [f"P{i:02d}" for i in range(1, 21)],
                       "team_id": [f"T{i % 4 + 1}" for i in range(1, 21)]})
AUDITORS = pd.DataFrame([
    {"staff_id": "TM1", "role": "Team Manager", "team_id": "T1", "manages_team_id": "T1"},
    {"staff_id": "TM2", "role": "Team Manager", "team_id": "T2", "manages_team_id": None},
    {"staff_id": "SM1", "role": "Service Manager", "team_id": "S1", "manages_team_id": "T3"},
])


def test_allocation_is_reproducible_from_the_seed_and_recorded():
    first = allocate_audits(COHORT, AUDITORS, "Neglect", "2024-03", seed=42, per_auditor=3)
    shuffled_input = allocate_audits(COHORT.sample(frac=1, random_state=7),
                                     AUDITORS.iloc[::-1], "Neglect", "2024-03", seed=42, per_auditor=3)
    pd.testing.assert_frame_equal(first, shuffled_input)
    other = allocate_audits(COHORT, AUDITORS, "Neglect", "2024-03", seed=43, per_auditor=3)
    assert first["person_id"].tolist() != other["person_id"].tolist()
    assert len(first) == 9
    assert set(first["seed"]) == {42}
    assert set(first["theme"]) == {"Neglect"} and set(first["month"]) == {"2024-03"}
    assert first["person_id"].is_unique
    assert first.groupby("auditor_id").size().to_dict() == {"SM1": 3, "TM1": 3, "TM2": 3}


def test_allocation_never_gives_an_auditor_a_case_from_a_team_they_manage():
    for seed in range(30):
        allocation = allocate_audits(COHORT, AUDITORS, "Neglect", "2024-03", seed=seed, per_auditor=4)
        managed = {"TM1": {"T1"}, "TM2": {"T2"}, "SM1": {"S1", "T3"}}
        for row in allocation.itertuples():
            assert row.team_id not in managed[row.auditor_id], (seed, row)


def test_allocation_stops_when_no_eligible_case_is_left():
    cohort = pd.DataFrame({"person_id": ["P1", "P2"], "team_id": ["T1", "T1"]})
    allocation = allocate_audits(cohort, AUDITORS, "Neglect", "2024-03", seed=1, per_auditor=2)
    assert "TM1" not in set(allocation["auditor_id"])  # only cases of its own team
    assert sorted(allocation["person_id"]) == ["P1", "P2"]


def test_schedule_is_read_from_the_settings_file(tmp_path):
    config = tmp_path / "qaloop.toml"
    config.write_text('''
la_code = 841
[qa]
follow_up_days = 10
submission_working_days = 3
allocation_seed = 7
[qa.moderation_targets]
SEND = 10
[qa.requirements."Team Manager"]
count = 1
window_months = 2
other_team_only = true
[qa.requirements."Service Manager"]
count = 0
[qa.themes]
"2024-03" = "Neglect"
"2024-04" = "Domestic abuse"
[qa.theme_keywords]
"Neglect" = ["neglect", "N1"]
''', encoding="utf-8")
    schedule = schedule_from_settings(load_settings(config).qa)
    assert schedule.follow_up_days == 10 and schedule.submission_working_days == 3
    assert schedule.requirement_by_role["Team Manager"].window_months == 2
    assert "Service Manager" not in schedule.requirement_by_role
    assert schedule.requirement_by_role["Residential Manager"].window_months == 3  # default kept
    assert schedule.figure_targets(load_registry())["QA04:service_area=SEND"] == 10.0
    assert schedule.theme_for("2024-03") == "Neglect"
    assert schedule.months_without_theme("2024-03") == ["2024-05", "2024-06", "2024-07",
                                                        "2024-08", "2024-09"]
    assert schedule.seed_for("2024-03") == 7
    assert DEFAULT_SCHEDULE.seed_for("2024-03") == 202403
    params = schedule.sql_parameters(date(2024, 3, 31))
    assert params["follow_up_days"] == 10 and params["submission_wd"] == 3
    assert params["observation_window_start"] == date(2023, 4, 2)
    assert "Head of Service" not in DEFAULT_SCHEDULE.requirement_by_role


CASE_TABLES = {
    "ssd_cin_episodes": [
        {"cine_referral_id": "R1", "cine_person_id": "C1", "cine_referral_date": "2024-01-01",
         "cine_cin_primary_need_code": "N1", "cine_referral_team": "T1"},
        {"cine_referral_id": "R2", "cine_person_id": "C2", "cine_referral_date": "2024-01-01",
         "cine_cin_primary_need_code": "N2", "cine_referral_team": "T2"},
        {"cine_referral_id": "R3", "cine_person_id": "C3", "cine_referral_date": "2024-01-01",
         "cine_referral_nfa": "Y", "cine_referral_team": "T2"},  # NFA: not open work
        {"cine_referral_id": "R4", "cine_person_id": "C4", "cine_referral_date": "2024-01-01",
         "cine_close_date": "2024-02-29", "cine_referral_team": "T2"},  # closed at period end
    ],
    "ssd_cp_plans": [
        {"cppl_cp_plan_id": "CP1", "cppl_person_id": "C5", "cppl_cp_plan_start_date": "2023-06-01",
         "cppl_cp_plan_latest_category": "Neglect"},
    ],
    "ssd_cla_episodes": [
        {"clae_cla_episode_id": "E1", "clae_person_id": "C6", "clae_cla_episode_start_date": "2022-01-01",
         "clae_cla_primary_need_code": "N4"},
    ],
    "ssd_involvements": [
        {"invo_involvements_id": "V1", "invo_professional_id": "W1", "invo_professional_role_id":
         "ALLOCATED CASE WORKER", "invo_professional_team": "T3", "invo_person_id": "C5",
         "invo_involvement_start_date": "2023-06-01"},
    ],
    "ssd_professionals": [{"prof_professional_id": "W1", "prof_professional_name": "Wendy Worker"}],
    "ssd_department": [{"dept_team_id": f"T{i}", "dept_team_name": f"Team {name}", "dept_team_parent_id": "S1",
                        "dept_team_parent_name": "Safeguarding"} for i, name in ((1, "One"), (2, "Two"), (3, "Three"))],
    "qa_staff": [
        {"staff_id": "TM1", "name": "A", "role": "Team Manager", "team_id": "T1", "start_date": "2020-01-01"},
        {"staff_id": "TM3", "name": "B", "role": "Team Manager", "team_id": "T3", "start_date": "2020-01-01"},
        {"staff_id": "HS1", "name": "C", "role": "Head of Service", "team_id": "S1", "start_date": "2020-01-01"},
        {"staff_id": "TM9", "name": "D", "role": "Team Manager", "team_id": "T9", "start_date": "2020-01-01",
         "end_date": "2024-02-29"},
    ],
}


def test_cohort_is_children_open_at_period_end_filtered_by_theme_keywords(warehouse):
    load_tables(warehouse, CASE_TABLES)
    period = Period.month("2024-02")
    everyone = audit_cohort(warehouse, period)
    assert everyone[["person_id", "team_id"]].values.tolist() == [
        ["C1", "T1"], ["C2", "T2"], ["C5", "T3"], ["C6", None]]
    schedule = schedule_from_settings({"theme_keywords": {"Neglect": ["neglect", "N1"]}})
    neglect = audit_cohort(warehouse, period, "Neglect", schedule)
    assert neglect["person_id"].tolist() == ["C1", "C5"]  # primary need N1, CP category Neglect
    # a theme whose keywords match nobody draws nobody: never every open case instead
    other = schedule_from_settings({"theme_keywords": {"Pre-birth": ["unborn"]}})
    assert audit_cohort(warehouse, period, "Pre-birth", other).empty
    # a rule may name how the case is open, or say "*" for every open case
    rules = schedule_from_settings({"theme_keywords": {"Pathway planning": ["CLA"], "Supervision": ["*"]}})
    assert audit_cohort(warehouse, period, "Pathway planning", rules)["person_id"].tolist() == ["C6"]
    assert len(audit_cohort(warehouse, period, "Supervision", rules)) == 4


def test_a_planned_theme_without_a_cohort_rule_is_not_drawn_and_the_run_asks_for_the_rule(warehouse, caplog):
    load_tables(warehouse, CASE_TABLES)
    schedule = schedule_from_settings({"themes": {"2024-03": "Quality of supervision",
                                                  "2024-05": "Pre-birth", "2024-06": "Neglect"}})
    with pytest.raises(NoCohortRule, match='"Quality of supervision" has no cohort rule'):
        audit_cohort(warehouse, Period.month("2024-02"), "Quality of supervision", schedule)
    with pytest.raises(NoCohortRule, match=r"\(2024-03\)"):
        monthly_allocation(warehouse, "2024-03", schedule)
    with caplog.at_level("WARNING", logger="qaloop.qa"):
        inputs = qa_inputs(warehouse, Period.month("2024-02"), schedule)
    assert inputs.allocation.empty
    assert inputs.allocation_not_drawn.startswith('not drawn: the planned theme "Quality of supervision" (2024-03) '
                                                  "has no cohort rule: give it one under [qa.theme_keywords]")
    # every planned theme of the 6 months ahead without a rule is a warning, in the log and the metadata
    assert [w.split(" has no")[0] for w in inputs.themes_without_rule] == [
        'the planned theme "Quality of supervision" (2024-03)', 'the planned theme "Pre-birth" (2024-05)']
    logged = [r.getMessage() for r in caplog.records if "cohort rule" in r.getMessage()]
    assert len(logged) == 2 and "Pre-birth" in logged[1]
    assert inputs.metadata()["qa_allocation"]["theme"] == "Quality of supervision"
    assert inputs.metadata()["qa_themes_without_cohort_rule"] == inputs.themes_without_rule
    # a rule no open case matches: an empty allocation that says so
    unmatched = qa_inputs(warehouse, Period.month("2024-02"), schedule_from_settings(
        {"themes": {"2024-03": "Pre-birth"}, "theme_keywords": {"Pre-birth": ["unborn"]}}))
    assert unmatched.allocation.empty
    assert unmatched.allocation_not_drawn == ('empty: no case open at the end of 2024-02 matches the cohort rule '
                                              'of "Pre-birth" (unborn)')


def test_monthly_allocation_uses_the_configured_theme_and_seed(warehouse):
    load_tables(warehouse, CASE_TABLES)
    schedule = schedule_from_settings({"themes": {"2024-03": "Neglect"},
                                       "theme_keywords": {"Neglect": ["neglect", "N1"]},
                                       "allocation_seed": 5})
    assert auditors_in_post(warehouse, Period.month("2024-02"), schedule)["staff_id"].tolist() == \
        ["TM1", "TM3"]
    # staff in post with their team's name; a Head of Service's team id is a service
    staff = staff_in_post(warehouse, Period.month("2024-02"), schedule).set_index("staff_id")
    assert staff["team_name"].to_dict() == {"TM1": "Team One", "TM3": "Team Three", "HS1": "Safeguarding"}
    allocation = monthly_allocation(warehouse, "2024-03", schedule)
    # C1 (team T1) can only go to TM3, C5 (team T3) only to TM1
    assert sorted(zip(allocation["auditor_id"], allocation["person_id"])) == \
        [("TM1", "C5"), ("TM3", "C1")]
    # names beside the ids: the auditor's, the case worker's and the teams'
    named = allocation.set_index("person_id")
    assert named.loc["C5", ["auditor_name", "auditor_team_name", "worker_id", "worker_name", "team_name"]] \
        .tolist() == ["A", "Team One", "W1", "Wendy Worker", "Team Three"]
    assert named.loc["C1", ["worker_id", "worker_name", "team_name"]].tolist() == [None, None, "Team One"]
    # a Service Manager's team_id is their service: named as the teams' parent
    service = with_names(warehouse, allocation.head(1).assign(auditor_team_id="S1"))
    assert service["auditor_team_name"].tolist() == ["Safeguarding"]
    assert set(allocation["seed"]) == {5} and set(allocation["theme"]) == {"Neglect"}
    again = monthly_allocation(warehouse, "2024-03", schedule)
    pd.testing.assert_frame_equal(allocation, again)


def test_inadequate_audits_escalate_to_the_head_of_service_of_their_area(warehouse):
    def audit(audit_id, day, area, grade="Inadequate"):
        return {"audit_id": audit_id, "completed_date": day, "service_area": area, "grade": grade,
                "person_id": f"P{audit_id}", "team_id": "T1", "auditor_id": "TM1"}
    load_tables(warehouse, {
        "qa_audits": [audit("A1", "2024-02-29", "Social Care"),  # Thursday
                      audit("A2", "2024-03-01", "Social Care"),  # Friday
                      audit("A3", "2024-03-03", "Early Help"),
                      audit("A4", "2024-03-04", "SEND"),  # no Head of Service for SEND
                      audit("A5", "2024-03-05", "Social Care"),  # after as_at
                      audit("A6", "2024-03-02", "Social Care", grade="Good")],
        "qa_staff": [
            {"staff_id": "H1", "name": "Hana", "role": "Head of Service", "service_area": "Social Care",
             "start_date": "2020-01-01"},
            {"staff_id": "H2", "name": "Hugo", "role": "Head of Service", "service_area": "Early Help",
             "start_date": "2020-01-01"},
            {"staff_id": "H3", "name": "Old", "role": "Head of Service", "service_area": "Social Care",
             "start_date": "2020-01-01", "end_date": "2024-03-04"},
        ]})
    listed = inadequate_audits_for_escalation(warehouse, date(2024, 3, 4))  # a Monday
    assert [(r.audit_id, r.head_of_service_id if pd.notna(r.head_of_service_id) else None)
            for r in listed.itertuples()] == [
        ("A1", "H1"), ("A2", "H1"), ("A3", "H2"), ("A4", None)]
    since_friday = inadequate_audits_for_escalation(warehouse, date(2024, 3, 4), since=date(2024, 3, 1))
    assert since_friday["audit_id"].tolist() == ["A2", "A3", "A4"]

    # Monday's daily list is published: Tuesday's lists only what is new since
    run_id = f"daily-{uuid.uuid4().hex[:8]}"
    warehouse_module.start_run(warehouse, run_id, "daily", "2024-03-04", "test", "v", "", None)
    warehouse_module.store_results(warehouse, run_id, pd.DataFrame(columns=VALUE_COLUMNS),
                                   escalation_records(listed, MonthToDate.as_at(date(2024, 3, 4))))
    warehouse_module.complete_run(warehouse, run_id, "daily", "2024-03-04", "Completed", None, [])
    tuesday = inadequate_audits_for_escalation(warehouse, date(2024, 3, 5))
    assert tuesday["audit_id"].tolist() == ["A5"]
    again_monday = inadequate_audits_for_escalation(warehouse, date(2024, 3, 4))  # a re-run of Monday
    assert again_monday["audit_id"].tolist() == ["A1", "A2", "A3", "A4"]


def test_a_role_override_keeps_the_keys_it_does_not_give_and_head_of_service_is_refused():
    schedule = schedule_from_settings({"requirements": {"Team Manager": {"window_months": 2}}})
    manager = schedule.requirement_by_role["Team Manager"]
    assert (manager.window_months, manager.other_team_only, manager.audit_types, manager.count) == \
        (2, True, ("case_file",), 1)
    with pytest.raises(ValueError, match="Heads of Service by the re-audits of Inadequate cases"):
        schedule_from_settings({"requirements": {"Head of Service": {"count": 1}}})


def test_the_allocation_uses_the_configured_allocated_worker_role(warehouse, tmp_path, monkeypatch):
    """The case worker and team of the cohort come from the involvements of the settings'
    allocated_worker_role, in the monthly run too (flows/steps.py read_qa_inputs)."""
    from prefect.logging import disable_run_logger

    from flows import steps
    tables = {**CASE_TABLES, "ssd_involvements": [
        {"invo_involvements_id": "V1", "invo_professional_id": "W1", "invo_professional_role_id": "KEY WORKER",
         "invo_professional_team": "T3", "invo_person_id": "C5", "invo_involvement_start_date": "2023-06-01"}]}
    load_tables(warehouse, tables)
    schedule = schedule_from_settings({"themes": {"2024-03": "Neglect"},
                                       "theme_keywords": {"Neglect": ["neglect", "N1"]}})
    by_default = monthly_allocation(warehouse, "2024-03", schedule).set_index("person_id")
    assert by_default.loc["C5", ["team_id", "worker_id"]].tolist() == [None, None]  # not the default role
    keyed = monthly_allocation(warehouse, "2024-03", schedule, allocated_role="KEY WORKER").set_index("person_id")
    assert keyed.loc["C5", ["team_id", "worker_id", "worker_name"]].tolist() == ["T3", "W1", "Wendy Worker"]

    config = tmp_path / "qaloop.toml"
    config.write_text('la_code = 841\nallocated_worker_role = "KEY WORKER"\n[qa.themes]\n"2024-03" = "Neglect"\n'
                      '[qa.theme_keywords]\n"Neglect" = ["neglect", "N1"]\n', encoding="utf-8")
    settings = load_settings(config)
    assert settings.allocated_worker_role == "KEY WORKER"
    monkeypatch.setattr(steps.pipeline, "warehouse_engine", lambda url: warehouse)
    with disable_run_logger():
        inputs = steps.read_qa_inputs.fn(Period.month("2024-02"), settings, "the test warehouse")
    assert inputs.allocation.set_index("person_id").loc["C5", "worker_id"] == "W1"
