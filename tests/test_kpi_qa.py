"""QA01-QA11 (kpis.md "QA activity" and the binding decisions), hand-computed on tiny
tables, on SQLite and PostgreSQL. Period 2024-03: previous month February 2024, rolling
3 months January-March 2024, the three months before December 2023-February 2024."""

from dataclasses import replace

from tasks.kpis.registry import load_registry
from tasks.kpis.qa import schedule_from_settings
from tests.kpi_harness import CONTEXT, run_kpi

STAFF_START = "2020-01-01"


def audit(audit_id, **fields) -> dict:
    return {"audit_id": audit_id, "audit_type": "case_file", "team_id": "T1", "auditor_id": "S1",
            "person_id": f"P-{audit_id}", **fields}


def staff(staff_id, role, team_id="T1", **fields) -> dict:
    return {"staff_id": staff_id, "name": f"Name {staff_id}", "role": role, "team_id": team_id,
            "start_date": STAFF_START, **fields}


# --- QA01 -----------------------------------------------------------------------------

def test_qa01_on_time_is_completed_on_or_before_due_of_audits_due_in_period(warehouse):
    figures = run_kpi(warehouse, "QA01", "2024-03", {"qa_audits": [
        audit("A1", due_date="2024-03-10", completed_date="2024-03-10"),
        audit("A2", due_date="2024-03-10", completed_date="2024-03-11"),
        audit("A3", due_date="2024-03-31", team_id="T2", auditor_id="S2"),  # not completed
        audit("A4", due_date="2024-04-01", completed_date="2024-03-01"),  # due next month
        audit("A5", due_date="2024-02-29", completed_date="2024-02-01"),  # due last month
    ]})
    assert figures.la("QA01") == (33.3, 1, 3)
    assert figures.record_ids("QA01", numerator_only=True) == ["A1"]
    assert figures.get("QA01", "team", "T1") == (50.0, 1, 2)
    assert figures.get("QA01", "worker", "S2") == (0.0, 0, 1)  # worker = the auditor


# --- QA02 -----------------------------------------------------------------------------

QA02_STAFF = [
    staff("TM1", "Team Manager", "T1"),
    staff("TM2", "Team Manager", "T2"),
    staff("TM3", "Team Manager", "T3"),
    staff("TM4", "Team Manager", "T4", end_date="2024-03-31"),  # left on period_end
    staff("TM5", "Team Manager", "T5", start_date="2024-04-01"),  # not yet in post
    staff("TM6", "Team Manager", "T6"),
    staff("SM1", "Service Manager", "S1"),
    staff("RM1", "Residential Manager", "T7"),
    staff("RM2", "Residential Manager", "T7"),
    staff("HS1", "Head of Service", "S1"),  # measured by QA06, not QA02
    staff("AD1", "Assistant Director", None),
    staff("IRO1", "IRO Service Manager", "T8"),
    staff("PR1", "Practitioner", "T1"),  # no audit requirement
]
QA02_AUDITS = [
    audit("B1", auditor_id="TM1", team_id="T1", completed_date="2024-03-05"),  # own team
    audit("B2", auditor_id="TM1", team_id="T2", completed_date="2024-02-15"),  # last month
    audit("B3", auditor_id="TM2", team_id="T1", completed_date="2024-03-31"),
    audit("B4", auditor_id="TM3", team_id=None, completed_date="2024-03-01"),  # no team: not own
    audit("B5", auditor_id="TM4", team_id="T1", completed_date="2024-03-01"),
    audit("B6", auditor_id="TM6", team_id="T1", completed_date="2024-04-01"),  # after period end
    audit("B7", auditor_id="SM1", team_id="T1", audit_type="themed", completed_date="2024-03-02"),
    audit("B8", auditor_id="RM1", team_id="T7", completed_date="2024-01-01"),  # quarter window
    audit("B9", auditor_id="RM2", team_id="T7", completed_date="2023-12-31"),  # before window
    audit("B10", auditor_id="AD1", team_id="T2", audit_type="re_audit", completed_date="2024-01-15"),
    audit("B11", auditor_id="IRO1", team_id="T2", audit_type="dip_sample", completed_date="2024-03-05"),
    audit("B12", auditor_id="HS1", team_id="T2", audit_type="re_audit", completed_date="2024-03-05"),
]


def test_qa02_compliance_follows_the_default_schedule(warehouse):
    figures = run_kpi(warehouse, "QA02", "2024-03", {"qa_staff": QA02_STAFF,
                                                     "qa_audits": QA02_AUDITS})
    # in post with a requirement: TM1 TM2 TM3 TM6 SM1 RM1 RM2 AD1 IRO1 = 9;
    # met: TM2 (other team), TM3 (case team empty), RM1 (3 months), AD1, IRO1 (any type)
    assert figures.la("QA02") == (55.6, 5, 9)
    assert figures.la("QA02:below_requirement") == (4, 4, None)
    assert figures.record_ids("QA02") == sorted(["TM1", "TM2", "TM3", "TM6", "SM1", "RM1",
                                                 "RM2", "AD1", "IRO1"])
    assert figures.record_ids("QA02", numerator_only=True) == ["AD1", "IRO1", "RM1", "TM2", "TM3"]
    below = figures.records[(figures.records["kpi_id"] == "QA02")
                            & (figures.records["in_numerator"] == 0)]
    assert dict(zip(below["record_id"], below["measure"].astype(int))) == \
        {"TM1": 1, "TM6": 1, "SM1": 1, "RM2": 1}  # how many audits behind
    assert figures.get("QA02", "worker", "TM1") == (0.0, 0, 1)
    assert figures.get("QA02", "team", "T7") == (50.0, 1, 2)  # the staff member's team
    assert figures.get("QA02", "worker", "TM2")[0] == 100.0
    assert figures.la("QA02:role=Team Manager") == (50.0, 2, 4)  # TM2 and TM3 of TM1 TM2 TM3 TM6
    assert figures.la("QA02:role=Residential Manager") == (50.0, 1, 2)


def test_qa02_a_different_schedule_changes_the_numbers_without_code(warehouse):
    # an LA where team managers audit once every 2 months and Service Managers may
    # count any audit type
    schedule = schedule_from_settings({"requirements": {
        "Team Manager": {"audit_types": ["case_file"], "count": 1, "window_months": 2,
                         "other_team_only": True},
        "Service Manager": {"audit_types": ["any"], "count": 1, "window_months": 1},
    }})
    figures = run_kpi(warehouse, "QA02", "2024-03", {"qa_staff": QA02_STAFF, "qa_audits": QA02_AUDITS},
                      context=replace(CONTEXT, qa=schedule))
    # TM1 now counts B2 (February, another team); SM1 counts the themed audit B7
    assert figures.la("QA02") == (77.8, 7, 9)
    assert figures.la("QA02:below_requirement") == (2, 2, None)


def test_qa02_team_manager_needs_more_than_own_team_audits_even_two(warehouse):
    schedule = schedule_from_settings({"requirements": {"Team Manager": {
        "count": 2, "window_months": 1, "other_team_only": True}}})
    figures = run_kpi(warehouse, "QA02", "2024-03", {
        "qa_staff": [staff("TM1", "Team Manager", "T1")],
        "qa_audits": [audit("C1", auditor_id="TM1", team_id="T2", completed_date="2024-03-05"),
                      audit("C2", auditor_id="TM1", team_id="T1", completed_date="2024-03-06")]},
        context=replace(CONTEXT, qa=schedule))
    assert figures.la("QA02") == (0.0, 0, 1)
    assert figures.measures("QA02") == {}
    assert figures.records["measure"].tolist() == [1]


# --- QA03 -----------------------------------------------------------------------------

def test_qa03_grades_in_month_and_rolling_3_months_with_ungraded_in_denominator(warehouse):
    figures = run_kpi(warehouse, "QA03", "2024-03", {"qa_audits": [
        audit("G1", completed_date="2024-03-01", grade="Good"),
        audit("G2", completed_date="2024-03-31", grade="Good"),
        audit("G3", completed_date="2024-03-15", grade="Inadequate", auditor_id="S2"),
        audit("G4", completed_date="2024-03-15"),  # no grade: stays in the denominator
        audit("G5", completed_date="2024-02-10", grade="Outstanding"),
        audit("G6", completed_date="2024-01-01", grade="Requires improvement"),
        audit("G7", completed_date="2023-12-31", grade="Good"),  # outside rolling 3 months
        audit("G8", completed_date="2024-04-01", grade="Good"),  # after period end
        audit("G9", due_date="2024-03-10", grade="Good"),  # not completed
    ]})
    assert figures.la("QA03") == (4, 4, None)
    assert figures.la("QA03:grade=Good") == (50.0, 2, 4)
    assert figures.la("QA03:grade=Inadequate") == (25.0, 1, 4)
    assert figures.la("QA03:grade=Outstanding") == (0.0, 0, 4)
    assert figures.la("QA03:grade=Requires improvement") == (0.0, 0, 4)
    assert figures.la("QA03:rolling_3m") == (6, 6, None)
    assert figures.la("QA03:rolling_3m:grade=Good") == (33.3, 2, 6)
    assert figures.la("QA03:rolling_3m:grade=Outstanding") == (16.7, 1, 6)
    assert figures.la("QA03:rolling_3m:grade=Requires improvement") == (16.7, 1, 6)
    assert figures.get("QA03", "worker", "S2") == (1, 1, None)
    assert figures.get("QA03:grade=Inadequate", "worker", "S2") == (100.0, 1, 1)


def test_qa03_grades_by_theme_and_service_area_and_audits_by_auditor_role(warehouse):
    figures = run_kpi(warehouse, "QA03", "2024-03", {"qa_audits": [
        audit("H1", completed_date="2024-03-01", grade="Good", theme="Neglect",
              service_area="Social Care", auditor_role="Team Manager"),
        audit("H2", completed_date="2024-03-02", grade="Inadequate", theme="Neglect",
              service_area="Early Help", auditor_role="Team Manager"),
        audit("H3", completed_date="2024-03-03", grade="Good", theme="Voice of the child",
              service_area="Social Care", auditor_role="Service Manager"),
        audit("H4", completed_date="2024-03-04", theme="Neglect", service_area="Social Care",
              auditor_role="Service Manager"),  # no grade: counted by theme, not by grade
        audit("H5", completed_date="2024-02-20", grade="Good", theme="Neglect",
              service_area="Social Care", auditor_role="Team Manager"),  # last month
    ]})
    assert figures.la("QA03:theme=Neglect") == (3, 3, None)
    assert figures.la("QA03:theme=Neglect:grade=Good") == (1, 1, None)
    assert figures.la("QA03:theme=Neglect:grade=Inadequate") == (1, 1, None)
    assert figures.la("QA03:theme=Voice of the child:grade=Good") == (1, 1, None)
    assert figures.la("QA03:service_area=Social Care") == (3, 3, None)
    assert figures.la("QA03:service_area=Social Care:grade=Good") == (2, 2, None)
    assert figures.la("QA03:service_area=Early Help:grade=Inadequate") == (1, 1, None)
    assert figures.la("QA03:role=Team Manager") == (2, 2, None)
    assert figures.la("QA03:role=Service Manager") == (2, 2, None)
    assert figures.get("QA03:theme=Neglect", "team", "T1") == (3, 3, None)


def test_qa01_by_auditor_role_and_service_area_found_in_the_data(warehouse):
    figures = run_kpi(warehouse, "QA01", "2024-03", {"qa_audits": [
        audit("R1", due_date="2024-03-10", completed_date="2024-03-09", auditor_role="Team Manager",
              service_area="Social Care"),
        audit("R2", due_date="2024-03-10", completed_date="2024-03-12", auditor_role="Team Manager",
              service_area="Early Help"),
        audit("R3", due_date="2024-03-10", auditor_role="DCS", service_area="Social Care"),
    ]})
    assert figures.la("QA01:role=Team Manager") == (50.0, 1, 2)
    assert figures.la("QA01:role=DCS") == (0.0, 0, 1)
    assert figures.la("QA01:service_area=Social Care") == (50.0, 1, 2)
    assert figures.la("QA01:service_area=Early Help") == (0.0, 0, 1)


# --- QA04 -----------------------------------------------------------------------------

def test_qa04_moderation_coverage_of_last_months_audits_by_area_and_inadequate(warehouse):
    figures = run_kpi(warehouse, "QA04", "2024-03", {
        "qa_audits": [
            audit("M1", completed_date="2024-02-01", service_area="Social Care", grade="Good"),
            audit("M2", completed_date="2024-02-29", service_area="Social Care", grade="Good"),
            audit("M3", completed_date="2024-02-10", service_area="Social Care", grade="Good"),
            audit("M4", completed_date="2024-02-10", service_area="Early Help", grade="Good"),
            audit("M5", completed_date="2024-02-10", service_area="SEND", grade="Inadequate"),
            audit("M6", completed_date="2024-02-10", service_area="Social Care", grade="Inadequate"),
            audit("M7", completed_date="2024-03-01", service_area="Social Care"),  # this month
            audit("M8", completed_date="2024-01-31", service_area="Social Care"),  # too early
            audit("M9", completed_date="2024-02-10", service_area="Disabled Children"),
        ],
        "qa_moderations": [
            {"moderation_id": "D1", "audit_id": "M1", "moderated_date": "2024-03-31"},
            {"moderation_id": "D2", "audit_id": "M2", "moderated_date": "2024-04-01"},  # later
            {"moderation_id": "D4", "audit_id": "M4", "moderated_date": "2024-02-20"},
            {"moderation_id": "D5", "audit_id": "M5", "moderated_date": "2024-03-05"},
            {"moderation_id": "D5b", "audit_id": "M5", "moderated_date": "2024-03-06"},
            {"moderation_id": "D7", "audit_id": "M7", "moderated_date": "2024-03-05"},
        ]})
    assert figures.la("QA04") == (42.9, 3, 7)
    assert figures.record_ids("QA04", numerator_only=True) == ["M1", "M4", "M5"]
    assert figures.la("QA04:service_area=Social Care") == (25.0, 1, 4)
    assert figures.la("QA04:service_area=Early Help") == (100.0, 1, 1)
    assert figures.la("QA04:service_area=SEND") == (100.0, 1, 1)
    assert figures.la("QA04:service_area=Residential") == (None, 0, 0)
    assert figures.la("QA04:service_area=Disabled Children") == (0.0, 0, 1)  # found in data
    assert figures.la("QA04:grade=Inadequate") == (50.0, 1, 2)


def test_qa04_targets_are_configuration():
    default = schedule_from_settings({})
    assert default.figure_targets(load_registry()) == {"QA04:service_area=Social Care": 20.0,
                                        "QA04:service_area=Early Help": 10.0,
                                        "QA04:grade=Inadequate": 100.0}
    changed = schedule_from_settings({"moderation_targets": {"SEND": 10, "Social Care": 25}})
    assert changed.figure_targets(load_registry())["QA04:service_area=SEND"] == 10.0
    assert changed.figure_targets(load_registry())["QA04:service_area=Social Care"] == 25.0
    assert changed.figure_targets(load_registry())["QA04:service_area=Early Help"] == 10.0


# --- QA05 -----------------------------------------------------------------------------

def test_qa05_agreement_and_moderated_up_and_down(warehouse):
    figures = run_kpi(warehouse, "QA05", "2024-03", {
        "qa_audits": [audit("X1", grade="Good"), audit("X2", grade="Good"),
                      audit("X3", grade="Requires improvement"), audit("X4", grade="Good"),
                      audit("X5", grade="Inadequate"), audit("X6", grade="Good")],
        "qa_moderations": [
            {"moderation_id": "D1", "audit_id": "X1", "moderated_date": "2024-03-01", "moderated_grade": "Good"},
            {"moderation_id": "D2", "audit_id": "X2", "moderated_date": "2024-03-31", "moderated_grade": "Outstanding"},
            {"moderation_id": "D3", "audit_id": "X3", "moderated_date": "2024-03-10", "moderated_grade": "Inadequate"},
            {"moderation_id": "D4", "audit_id": "X4", "moderated_date": "2024-03-10", "moderated_grade": ""},
            {"moderation_id": "D5", "audit_id": "X5", "moderated_date": "2024-03-10", "moderated_grade": "Good"},
            {"moderation_id": "D6", "audit_id": "X6", "moderated_date": "2024-04-01", "moderated_grade": "Good"},
            {"moderation_id": "D7", "audit_id": "X6", "moderated_date": "2024-02-29", "moderated_grade": "Good"},
        ]})
    assert figures.la("QA05") == (20.0, 1, 5)
    assert figures.record_ids("QA05", numerator_only=True) == ["D1"]
    assert figures.la("QA05:moderated_up") == (2, 2, None)  # Good->Outstanding, Inadequate->Good
    assert figures.la("QA05:moderated_down") == (1, 1, None)  # empty grade: neither


# --- QA06 -----------------------------------------------------------------------------

def test_qa06_inadequate_audits_of_the_three_months_before_re_audited_by_period_end(warehouse):
    figures = run_kpi(warehouse, "QA06", "2024-03", {"qa_audits": [
        audit("I1", grade="Inadequate", completed_date="2023-12-01"),
        audit("I2", grade="Inadequate", completed_date="2024-02-29"),
        audit("I3", grade="Inadequate", completed_date="2024-01-10"),
        audit("I4", grade="Inadequate", completed_date="2023-11-30"),  # before the window
        audit("I5", grade="Inadequate", completed_date="2024-03-01"),  # the period month
        audit("I6", grade="Inadequate", completed_date="2024-02-01"),
        audit("G1", grade="Good", completed_date="2024-01-10"),
        audit("R1", audit_type="re_audit", grade="Good", original_audit_id="I1",
              completed_date="2024-03-31"),
        audit("R2", audit_type="re_audit", grade="Good", original_audit_id="I2",
              completed_date="2024-04-01"),  # after period end
        audit("R3", audit_type="case_file", grade="Good", original_audit_id="I6",
              completed_date="2024-02-15"),  # any audit type
        audit("R4", audit_type="re_audit", original_audit_id="I3"),  # not completed
        audit("R5", audit_type="re_audit", grade="Good", original_audit_id="I5",
              completed_date="2024-03-10"),
    ]})
    assert figures.la("QA06") == (50.0, 2, 4)
    assert figures.record_ids("QA06") == ["I1", "I2", "I3", "I6"]
    assert figures.record_ids("QA06", numerator_only=True) == ["I1", "I6"]


# --- QA07 -----------------------------------------------------------------------------

QA07_AUDITS = [
    audit("F1", completed_date="2024-02-10", follow_up_completed_date="2024-02-24"),  # 14 days
    audit("F2", completed_date="2024-02-10", follow_up_completed_date="2024-02-25"),  # 15 days
    audit("F3", completed_date="2024-02-29", follow_up_completed_date="2024-03-14"),  # 14 days
    audit("F4", completed_date="2024-02-20"),  # no follow-up
    audit("F5", completed_date="2024-03-01", follow_up_completed_date="2024-03-02"),  # this month
]


def test_qa07_follow_up_14_days_within_15_not(warehouse):
    figures = run_kpi(warehouse, "QA07", "2024-03", {"qa_audits": QA07_AUDITS})
    assert figures.la("QA07") == (50.0, 2, 4)
    assert figures.measures("QA07") == {"F1": 14, "F3": 14}


def test_qa07_follow_up_window_is_configuration(warehouse):
    schedule = schedule_from_settings({"follow_up_days": 15})
    figures = run_kpi(warehouse, "QA07", "2024-03", {"qa_audits": QA07_AUDITS},
                      context=replace(CONTEXT, qa=schedule))
    assert figures.la("QA07") == (75.0, 3, 4)


# --- QA08, QA10 -----------------------------------------------------------------------

def test_qa08_stretch_target_on_every_audit_completed_in_period(warehouse):
    figures = run_kpi(warehouse, "QA08", "2024-03", {"qa_audits": [
        audit("T1", completed_date="2024-03-01", grade="Outstanding", stretch_target_set="Y"),
        audit("T2", completed_date="2024-03-02", grade="Good", stretch_target_set="N"),
        audit("T3", completed_date="2024-03-03", grade="Good"),
        audit("T4", completed_date="2024-03-31", grade="Inadequate", stretch_target_set="Yes"),
        audit("T5", completed_date="2024-02-28", stretch_target_set="Y"),
    ]})
    assert figures.la("QA08") == (50.0, 2, 4)
    assert figures.record_ids("QA08", numerator_only=True) == ["T1", "T4"]


def test_qa10_family_feedback_sought(warehouse):
    figures = run_kpi(warehouse, "QA10", "2024-03", {"qa_audits": [
        audit("T1", completed_date="2024-03-01", family_feedback_sought="Y"),
        audit("T2", completed_date="2024-03-02", family_feedback_sought="N"),
        audit("T3", completed_date="2024-03-03"),
        audit("T4", completed_date="2024-03-31", family_feedback_sought="maybe"),
        audit("T5", completed_date="2024-04-01", family_feedback_sought="Y"),
    ]})
    assert figures.la("QA10") == (25.0, 1, 4)


# --- QA09 -----------------------------------------------------------------------------

# Good Friday 29 March and Easter Monday 1 April 2024 are bank holidays.
QA09_AUDITS = [
    audit("S1", completed_date="2024-03-20", due_date="2024-03-20", submitted_date="2024-03-27"),  # 5
    audit("S2", completed_date="2024-03-20", due_date="2024-03-20", submitted_date="2024-03-28"),  # 6
    audit("S3", completed_date="2024-03-14", due_date="2024-03-25", submitted_date="2024-03-15"),  # early
    audit("S4", completed_date="2024-03-26", due_date="2024-03-26", submitted_date="2024-04-02"),  # later
    audit("S5", completed_date="2024-03-26", due_date="2024-03-26"),  # not submitted
    audit("S6", completed_date="2024-03-21", due_date="2024-03-21", submitted_date="2024-03-29"),  # 5
    audit("S7", completed_date="2024-02-20", due_date="2024-02-20", submitted_date="2024-02-20"),
]


def test_qa09_submitted_within_5_working_days_of_due(warehouse):
    figures = run_kpi(warehouse, "QA09", "2024-03", {"qa_audits": QA09_AUDITS})
    assert figures.la("QA09") == (50.0, 3, 6)
    assert figures.record_ids("QA09", numerator_only=True) == ["S1", "S3", "S6"]
    assert figures.measures("QA09")["S3"] == -6


def test_qa09_submission_window_is_configuration(warehouse):
    schedule = schedule_from_settings({"submission_working_days": 6})
    figures = run_kpi(warehouse, "QA09", "2024-03", {"qa_audits": QA09_AUDITS},
                      context=replace(CONTEXT, qa=schedule))
    assert figures.la("QA09") == (66.7, 4, 6)


# --- QA11 -----------------------------------------------------------------------------

def test_qa11_practitioners_with_a_practice_observation_in_rolling_12_months(warehouse):
    observation = lambda oid, who, day, kind="practice": {  # noqa: E731
        "observation_id": oid, "observation_type": kind, "observed_staff_id": who, "observed_date": day}
    figures = run_kpi(warehouse, "QA11", "2024-03", {
        "qa_staff": [staff("P1", "Practitioner", "T1"), staff("P2", "Practitioner", "T1"),
                     staff("P3", "Practitioner", "T2"), staff("P4", "Practitioner", "T2"),
                     staff("P5", "Practitioner", "T2", end_date="2024-03-31"),
                     staff("P6", "IRO", "T3"), staff("P7", "Practitioner", "T3")],
        "qa_observations": [
            observation("O1", "P1", "2023-04-01"),  # period_end - 365: outside
            observation("O2", "P2", "2023-04-02"),  # period_end - 364: inside
            observation("O3", "P3", "2024-03-01", "supervision"),
            observation("O4", "P4", "2024-04-01"),
            observation("O5", "P5", "2024-03-01"),
            observation("O6", "P6", "2024-03-01"),
            observation("O7", "P7", "2024-03-31"),
        ]})
    assert figures.la("QA11") == (40.0, 2, 5)
    assert figures.record_ids("QA11", numerator_only=True) == ["P2", "P7"]
    assert figures.get("QA11", "team", "T1") == (50.0, 1, 2)
    assert figures.get("QA11", "worker", "P7")[0] == 100.0


def test_all_qa_kpis_publish_the_fixed_ids_and_staff_names(warehouse):
    figures = run_kpi(warehouse, [f"QA{i:02d}" for i in range(1, 12)], "2024-03", {
        "qa_staff": [staff("TM1", "Team Manager", "T1")],
        "qa_audits": [audit("A1", auditor_id="TM1", team_id="T2", completed_date="2024-03-05",
                            due_date="2024-03-05", grade="Good", service_area="Social Care")]})
    ids = set(figures.values.loc[figures.values["level"] == "la", "kpi_id"])
    assert {"QA02:below_requirement", "QA03:grade=Good", "QA03:rolling_3m",
            "QA03:rolling_3m:grade=Inadequate", "QA04:service_area=Social Care",
            "QA04:service_area=Early Help", "QA04:grade=Inadequate", "QA05:moderated_up",
            "QA05:moderated_down"} <= ids
    assert {f"QA{i:02d}" for i in range(1, 12)} <= ids
    worker = figures.values[(figures.values["kpi_id"] == "QA02") & (figures.values["level"] == "worker")]
    assert worker["unit_name"].tolist() == ["Name TM1"]


# --- QA12, QA13 (audit findings by practice domain) -------------------------------------

def finding(finding_id, audit_id, domain, finding_type, share="Y") -> dict:
    return {"finding_id": finding_id, "audit_id": audit_id, "domain": domain, "finding_type": finding_type,
            "summary": "A sentence for sharing", "share": share}


FINDINGS_AUDITS = [
    audit("A1", completed_date="2024-01-10"),
    audit("A2", completed_date="2024-02-10", team_id="T2", auditor_id="S2"),
    audit("A3", completed_date="2024-03-31"),
    audit("A4", completed_date="2024-04-01"),  # next quarter
    audit("A5", completed_date="2024-02-01"),  # no findings
    audit("A6", due_date="2024-03-01"),  # not completed
]
FINDINGS = [
    finding("F1", "A1", "Voice of the child", "strength"),
    finding("F2", "A1", "Voice of the child", "strength", share="N"),  # the same domain again
    finding("F3", "A1", "Planning", "strength"),
    finding("F4", "A1", "Recording", "area_for_development"),
    finding("F5", "A2", "Planning", "area_for_development"),
    finding("F6", "A2", "Recording", "Area for development"),
    finding("F7", "A2", None, "strength"),  # no domain: an audit with a strength, in no domain
    finding("F8", "A3", "Multi-agency working", "strength"),
    finding("F9", "A3", "Assessment", "note"),  # another type: neither
    finding("F10", "A4", "Planning", "strength"),
    finding("F11", "A6", "Planning", "strength"),
]


def test_qa12_audits_with_a_strength_by_domain(warehouse):
    figures = run_kpi(warehouse, ["QA12", "QA13"], "2024-Q1",
                      {"qa_audits": FINDINGS_AUDITS, "qa_audit_findings": FINDINGS})
    assert figures.la("QA12") == (3, 3, None)
    assert figures.record_ids("QA12", numerator_only=True) == ["A1", "A2", "A3"]
    assert figures.la("QA12:domain=Voice of the child") == (1, 1, None)  # one audit, two findings
    assert figures.la("QA12:domain=Planning") == (1, 1, None)
    assert figures.la("QA12:domain=Multi-agency working") == (1, 1, None)
    assert figures.la("QA12:domain=Assessment") == (0, 0, None)
    assert figures.la("QA12:domain=Outcomes for the child") == (0, 0, None)  # declared: always published
    assert figures.get("QA12", "team", "T1") == (2, 2, None)
    assert figures.get("QA12", "worker", "S2") == (1, 1, None)  # the auditor
    # QA13: A1 (Recording), A2 (Planning, Recording)
    assert figures.la("QA13") == (2, 2, None)
    assert figures.la("QA13:domain=Recording") == (2, 2, None)
    assert figures.la("QA13:domain=Planning") == (1, 1, None)
    assert figures.la("QA13:domain=Voice of the child") == (0, 0, None)


def test_qa12_qa13_for_a_month_and_a_domain_outside_the_list(warehouse):
    figures = run_kpi(warehouse, ["QA12", "QA13"], "2024-02", {
        "qa_audits": FINDINGS_AUDITS,
        "qa_audit_findings": FINDINGS + [finding("F12", "A5", "Early help offer", "strength")]})
    assert figures.la("QA12") == (2, 2, None)  # A2, A5
    assert figures.la("QA12:domain=Early help offer") == (1, 1, None)  # observed in the data
    assert figures.la("QA13") == (1, 1, None)


def test_qa12_without_findings_is_zero(warehouse):
    figures = run_kpi(warehouse, "QA12", "2024-Q1", {"qa_audits": FINDINGS_AUDITS})
    assert figures.la("QA12") == (0, 0, None)
