"""Given/expect tests of SAF02-SAF06, SAF08-SAF12 (referrals, assessments, S47, ICPC,
CP plans), each figure computed by hand from kpis.md and its binding decisions.

Within one table a flag column is either given on every row or on none: under pandas 3
`tasks.extract.extracts._flag` fails on a column that mixes values and blanks (see the report).
"""

from dataclasses import replace

from tests.kpi_harness import CONTEXT, run_kpi


def referral(referral_id, person_id, referral_date, **extra):
    return {"cine_referral_id": referral_id, "cine_person_id": person_id,
            "cine_referral_date": referral_date, **extra}


def s47(enquiry_id, person_id, start_date, **extra):
    return {"s47e_s47_enquiry_id": enquiry_id, "s47e_person_id": person_id,
            "s47e_s47_start_date": start_date, **extra}


def icpc(icpc_id, person_id, icpc_date, s47_id=None, **extra):
    return {"icpc_icpc_id": icpc_id, "icpc_person_id": person_id, "icpc_icpc_date": icpc_date,
            "icpc_s47_enquiry_id": s47_id, **extra}


def cp_plan(plan_id, person_id, start_date, end_date=None):
    return {"cppl_cp_plan_id": plan_id, "cppl_person_id": person_id,
            "cppl_cp_plan_start_date": start_date, "cppl_cp_plan_end_date": end_date}


def test_saf02_counts_referrals_in_period_only(warehouse):
    figures = run_kpi(warehouse, "SAF02", "2024-03", {"ssd_cin_episodes": [
        referral("R1", "P1", "2024-03-01"),
        referral("R2", "P2", "2024-03-31"),
        referral("R3", "P3", "2024-04-01"),  # after period_end: does not exist yet
        referral("R4", "P3", "2024-02-29"),
        referral("R5", "P4", None),
    ]})
    assert figures.la("SAF02") == (2, 2, None)
    assert figures.record_ids("SAF02") == ["R1", "R2"]


def test_saf02_no_referrals_is_a_count_of_zero(warehouse):
    figures = run_kpi(warehouse, "SAF02", "2024-03", {})
    assert figures.la("SAF02") == (0, 0, None)


def test_saf03_rolling_365_days_across_29_february_and_half_up_rate(warehouse):
    # 2024-03-31 - 364 days = 2023-04-02 (the window contains 29 Feb 2024).
    context = replace(CONTEXT, population_0_17=80000)
    figures = run_kpi(warehouse, "SAF03", "2024-03", {"ssd_cin_episodes": [
        referral("R1", "P1", "2023-04-01"),  # 365 days before period_end: outside
        referral("R2", "P2", "2023-04-02"),  # first day of the window
        referral("R3", "P2", "2024-03-31"),
        referral("R4", "P3", "2024-04-01"),  # after period_end
    ]}, context=context)
    # 2 / 80,000 * 10,000 = 0.25 -> 0.3 (half up, not to even)
    assert figures.la("SAF03") == (0.3, 2, 80000)
    assert figures.record_ids("SAF03") == ["R2", "R3"]


def test_saf04_another_referral_in_the_365_days_before(warehouse):
    referrals = [
        # exactly 365 days before (29 Feb 2024 lies between): a re-referral
        referral("R0", "P1", "2023-03-11"),
        referral("R1", "P1", "2024-03-10"),
        # 366 days before: not
        referral("R2a", "P2", "2023-03-10"),
        referral("R2", "P2", "2024-03-10"),
        # same day, different ids: neither counts
        referral("R3", "P3", "2024-03-15"),
        referral("R3b", "P3", "2024-03-15"),
        # a later referral (after period_end) does not make R4 a re-referral
        referral("R4", "P4", "2024-03-20"),
        referral("R4b", "P4", "2024-04-05"),
        # the earlier referral counts though it was NFA (flag set below)
        referral("R5", "P5", "2024-03-05"),
        referral("R5b", "P5", "2024-03-25"),
        # a first referral: not a re-referral
        referral("R6", "P6", "2024-03-26"),
    ]
    for row in referrals:
        row["cine_referral_nfa"] = "Y" if row["cine_referral_id"] == "R5" else "N"
    figures = run_kpi(warehouse, "SAF04", "2024-03", {"ssd_cin_episodes": referrals})
    assert figures.la("SAF04") == (25.0, 2, 8)
    assert figures.record_ids("SAF04", numerator_only=True) == ["R1", "R5b"]


def test_saf04_no_referrals_in_period_is_empty(warehouse):
    figures = run_kpi(warehouse, "SAF04", "2024-03", {"ssd_cin_episodes": [
        referral("R1", "P1", "2024-02-10"),
        referral("R2", "P1", "2024-04-10"),
    ]})
    assert figures.la("SAF04") == (None, 0, 0)


def test_saf05_nfa_flag_only_with_half_up_rounding(warehouse):
    referrals = [referral("R01", "P01", "2024-03-01", cine_referral_nfa="Yes")]
    referrals += [referral(f"R{n:02d}", f"P{n:02d}", "2024-03-15", cine_referral_nfa=flag)
                  for n, flag in zip(range(2, 17), ["N", "no", "X", "unknown"] + ["N"] * 11)]
    referrals.append(referral("R17", "P17", "2024-04-01", cine_referral_nfa="Y"))
    # an NFA assessment outcome does not make the referral NFA
    assessments = [{"cina_assessment_id": "A1", "cina_person_id": "P02", "cina_referral_id": "R02",
                    "cina_assessment_auth_date": "2024-03-20", "cina_assessment_outcome_nfa": "Y"}]
    figures = run_kpi(warehouse, "SAF05", "2024-03", {"ssd_cin_episodes": referrals,
                                                      "ssd_cin_assessments": assessments})
    assert figures.la("SAF05") == (6.3, 1, 16)  # 1/16 = 6.25% -> 6.3
    assert figures.record_ids("SAF05", numerator_only=True) == ["R01"]


def test_saf05_empty_nfa_flag_is_not_y(warehouse):
    figures = run_kpi(warehouse, "SAF05", "2024-03", {"ssd_cin_episodes": [
        referral("R1", "P1", "2024-03-01"), referral("R2", "P2", "2024-03-02"),
    ]})
    assert figures.la("SAF05") == (0.0, 0, 2)


def test_saf06_counts_assessments_authorised_in_period(warehouse):
    def assessment(assessment_id, start, auth):
        return {"cina_assessment_id": assessment_id, "cina_person_id": "P1",
                "cina_assessment_start_date": start, "cina_assessment_auth_date": auth}
    figures = run_kpi(warehouse, "SAF06", "2024-03", {"ssd_cin_assessments": [
        assessment("A1", "2024-01-10", "2024-03-01"),
        assessment("A2", "2024-03-10", "2024-03-31"),
        assessment("A3", "2024-03-10", "2024-04-01"),  # authorised after period_end: open
        assessment("A4", "2024-03-10", None),
        assessment("A5", "2024-02-01", "2024-02-29"),
    ]})
    assert figures.la("SAF06") == (2, 2, None)
    assert figures.record_ids("SAF06") == ["A1", "A2"]


def test_saf08_counts_s47_started_in_period(warehouse):
    figures = run_kpi(warehouse, "SAF08", "2024-03", {"ssd_s47_enquiry": [
        s47("S1", "P1", "2024-03-01"),
        s47("S2", "P1", "2024-03-31", s47e_s47_end_date="2024-03-31"),
        s47("S3", "P2", "2024-04-01"),
        s47("S4", "P3", "2024-02-29"),
        s47("S5", "P4", None),
    ]})
    assert figures.la("SAF08") == (2, 2, None)
    assert figures.record_ids("SAF08") == ["S1", "S2"]


def test_saf09_15_working_days_over_easter(warehouse):
    # From Wed 2024-03-27: Good Friday 29 Mar and Easter Monday 1 Apr are bank
    # holidays, so Fri 2024-04-19 is working day 15 and Mon 2024-04-22 is day 16.
    figures = run_kpi(warehouse, "SAF09", "2024-04", {
        "ssd_s47_enquiry": [
            s47("S1", "P1", "2024-03-27"),
            s47("S2", "P2", "2024-03-27"),
            s47("S3", "P3", "2024-03-27"),
            s47("S4", "P4", "2024-04-10", s47e_referral_id="REF4"),
            s47("S5", "P5", None),
            s47("S8", "P8", "2024-04-06"),  # a Saturday
            s47("S9", "P9", "2024-05-02"),  # starts after period_end: does not exist yet
        ],
        "ssd_initial_cp_conference": [
            icpc("I1", "P1", "2024-04-19", "S1", icpc_icpc_transfer_in="N"),
            icpc("I2", "P2", "2024-04-22", "S2", icpc_icpc_transfer_in="no"),
            icpc("I3", "P3", "2024-04-05", "S3", icpc_icpc_transfer_in="Yes"),  # transfer-in
            # linked only through icpc_s47_enquiry_id, not the referral: denominator only
            icpc("I4", "P4", "2024-04-12", None, icpc_referral_id="REF4",
                 icpc_icpc_transfer_in="N"),
            icpc("I5", "P5", "2024-04-12", "S5", icpc_icpc_transfer_in="N"),  # S47 has no start
            icpc("I6", "P1", "2024-05-01", "S1", icpc_icpc_transfer_in="N"),  # after period_end
            icpc("I8", "P8", "2024-04-08", "S8", icpc_icpc_transfer_in="N"),  # 1 working day
            icpc("I9", "P9", "2024-04-30", "S9", icpc_icpc_transfer_in="N"),
        ],
    })
    assert figures.la("SAF09") == (33.3, 2, 6)
    assert figures.record_ids("SAF09") == ["I1", "I2", "I4", "I5", "I8", "I9"]
    assert figures.record_ids("SAF09", numerator_only=True) == ["I1", "I8"]
    assert figures.measures("SAF09") == {"I1": 15, "I8": 1}


def test_saf09_15_working_days_over_christmas_with_empty_transfer_in(warehouse):
    # An empty transfer-in flag is "not Y". From Wed 2023-12-13: 25, 26 Dec and 1 Jan are bank holidays, so Mon 2024-01-08
    # is working day 15 and Tue 2024-01-09 is day 16.
    figures = run_kpi(warehouse, "SAF09", "2024-01", {
        "ssd_s47_enquiry": [s47("S1", "P1", "2023-12-13"), s47("S2", "P2", "2023-12-13")],
        "ssd_initial_cp_conference": [icpc("I1", "P1", "2024-01-08", "S1"),
                                      icpc("I2", "P2", "2024-01-09", "S2")],
    })
    assert figures.la("SAF09") == (50.0, 1, 2)
    assert figures.record_ids("SAF09", numerator_only=True) == ["I1"]


def test_saf09_only_transfer_ins_is_empty(warehouse):
    figures = run_kpi(warehouse, "SAF09", "2024-04", {"ssd_initial_cp_conference": [
        icpc("I1", "P1", "2024-04-10", icpc_icpc_transfer_in="Y"),
    ]})
    assert figures.la("SAF09") == (None, 0, 0)


def test_saf10_counts_cp_plans_started_in_period(warehouse):
    figures = run_kpi(warehouse, "SAF10", "2024-03", {"ssd_cp_plans": [
        cp_plan("PL1", "P1", "2024-03-01"),
        cp_plan("PL2", "P1", "2024-03-31", "2024-03-31"),
        cp_plan("PL3", "P2", "2024-04-01"),
        cp_plan("PL4", "P3", "2024-02-29"),
    ]})
    assert figures.la("SAF10") == (2, 2, None)
    assert figures.record_ids("SAF10") == ["PL1", "PL2"]


def test_saf11_any_strictly_earlier_plan_ever(warehouse):
    figures = run_kpi(warehouse, "SAF11", "2024-03", {"ssd_cp_plans": [
        cp_plan("PL0", "P1", "2019-01-01", "2019-06-01"),  # years earlier, ended
        cp_plan("PL1", "P1", "2024-03-05"),
        cp_plan("PL2", "P2", "2024-03-10"),  # same day: neither is subsequent
        cp_plan("PL2b", "P2", "2024-03-10"),
        cp_plan("PL3", "P3", "2024-03-12", "2024-03-15"),
        cp_plan("PL3b", "P3", "2024-03-20"),
        cp_plan("PL4", "P4", "2024-03-31"),
        cp_plan("PL4b", "P4", "2024-04-01"),  # after period_end
        cp_plan("PL5", "P5", None),  # no start date: neither in the period nor earlier
        cp_plan("PL6", "P5", "2024-03-02"),
    ]})
    assert figures.la("SAF11") == (28.6, 2, 7)  # 2/7 = 28.57%
    assert figures.record_ids("SAF11", numerator_only=True) == ["PL1", "PL3b"]


def test_saf11_no_plans_started_is_empty(warehouse):
    figures = run_kpi(warehouse, "SAF11", "2024-03", {"ssd_cp_plans": [
        cp_plan("PL1", "P1", "2024-02-05"),
    ]})
    assert figures.la("SAF11") == (None, 0, 0)


def test_saf12_distinct_children_on_an_open_plan_and_rate(warehouse):
    figures = run_kpi(warehouse, "SAF12", "2024-03", {"ssd_cp_plans": [
        cp_plan("PL1", "P1", "2024-01-01"),
        cp_plan("PL1b", "P1", "2024-02-01", "2024-04-15"),  # ends after period_end: open
        cp_plan("PL2", "P2", "2023-06-01", "2024-03-31"),  # ends on period_end: closed
        cp_plan("PL3", "P3", "2024-04-01"),  # starts after period_end
        cp_plan("PL4", "P4", "2024-03-31"),
        cp_plan("PL5", "P5", "2022-01-01", "2024-04-01"),
        cp_plan("PL6", "P6", "2022-01-01", "2023-01-01"),
    ]})
    assert figures.la("SAF12") == (3, 3, None)
    assert figures.record_ids("SAF12") == ["P1", "P4", "P5"]
    assert figures.la("SAF12:rate_per_10k") == (1.5, 3, 20000)  # 3 / 20,000 * 10,000


def test_team_attribution_prefers_the_open_allocated_worker(warehouse):
    def involvement(invo_id, person_id, role, team, worker, start, end=None):
        return {"invo_involvements_id": invo_id, "invo_person_id": person_id,
                "invo_professional_role_id": role, "invo_professional_team": team,
                "invo_professional_id": worker, "invo_involvement_start_date": start,
                "invo_involvement_end_date": end}
    figures = run_kpi(warehouse, ["SAF05", "SAF12"], "2024-03", {
        "ssd_cin_episodes": [
            referral("R1", "P1", "2024-03-04", cine_referral_nfa="Y",
                     cine_referral_team="T1", cine_referral_worker_id="W1"),
            referral("R2", "P2", "2024-03-05", cine_referral_nfa="N",
                     cine_referral_team="T1", cine_referral_worker_id="W1"),
            referral("R3", "P3", "2024-03-06", cine_referral_nfa="Y"),
        ],
        "ssd_involvements": [
            involvement("V1", "P1", "ALLOCATED CASE WORKER", "T9", "W9", "2024-01-01"),
            # P2: an IRO is not an allocated worker; an allocation ending on
            # period_end is closed
            involvement("V2", "P2", "IRO", "T8", "W8", "2024-01-01"),
            involvement("V3", "P2", "ALLOCATED CASE WORKER", "T7", "W7", "2024-01-01", "2024-03-31"),
        ],
        "ssd_cp_plans": [cp_plan("PL1", "P1", "2024-02-01"), cp_plan("PL3", "P3", "2024-02-01")],
    })
    assert figures.get("SAF05", "team", "T9") == (100.0, 1, 1)
    assert figures.get("SAF05", "team", "T1") == (0.0, 0, 1)
    assert figures.get("SAF05", "team", "Unallocated") == (100.0, 1, 1)
    assert figures.get("SAF05", "worker", "W9") == (100.0, 1, 1)
    assert figures.get("SAF05", "worker", "W1") == (0.0, 0, 1)
    assert set(figures.values.query("kpi_id == 'SAF05' and level == 'team'")["unit_id"]) == \
        {"T9", "T1", "Unallocated"}
    # CP plans carry no team: P1 goes to the allocated worker's team, P3 to Unallocated
    assert figures.get("SAF12", "team", "T9") == (1, 1, None)
    assert figures.get("SAF12", "team", "Unallocated") == (1, 1, None)
