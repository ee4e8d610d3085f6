"""Drift and Delay exception lists DD01, DD02, DD03, DD08, DD09, DD10, DD11.

Flags default to "N" in the fixtures: a flag column mixing a value with empty cells
does not load under pandas 3 (tasks/extract/extracts.py::_flag meets NaN); empty flags are
tested in tables whose flag column is empty throughout.

Every test runs period 2024-03: period_end = Sunday 31 March 2024, after Good Friday
(29 March, a bank holiday), so wd(31 Mar) = wd(Thu 28 Mar). The rolling 12 months are
[2023-04-02, 2024-03-31].
"""

from dataclasses import replace

from tests.kpi_harness import CONTEXT, run_kpi

PERIOD = "2024-03"
ROLE = "ALLOCATED CASE WORKER"


def involvement(involvement_id, worker, person, start, end=None, role=ROLE, team=None,
                referral=None):
    return {"invo_involvements_id": involvement_id, "invo_professional_id": worker,
            "invo_professional_role_id": role, "invo_professional_team": team,
            "invo_involvement_start_date": start, "invo_involvement_end_date": end,
            "invo_person_id": person, "invo_referral_id": referral}


def cin_episode(referral_id, person, referral_date, close=None, nfa="N", team=None,
                worker=None):
    return {"cine_referral_id": referral_id, "cine_person_id": person,
            "cine_referral_date": referral_date, "cine_close_date": close,
            "cine_referral_nfa": nfa, "cine_referral_team": team,
            "cine_referral_worker_id": worker}


def cp_plan(plan_id, person, start, end=None):
    return {"cppl_cp_plan_id": plan_id, "cppl_person_id": person,
            "cppl_cp_plan_start_date": start, "cppl_cp_plan_end_date": end}


def cla_episode(episode_id, person, start, ceased=None):
    return {"clae_cla_episode_id": episode_id, "clae_person_id": person,
            "clae_cla_episode_start_date": start, "clae_cla_episode_ceased_date": ceased,
            "clae_entered_care_date": start}


# --- DD01 ---------------------------------------------------------------------------

def test_dd01_lists_open_children_without_an_open_allocated_worker(warehouse):
    figures = run_kpi(warehouse, "DD01", PERIOD, {
        "ssd_cin_episodes": [
            cin_episode("R1", "P1", "2024-03-01", team="T1"),   # no involvement at all
            cin_episode("R2", "P2", "2024-01-01", team="T1"),
            cin_episode("R3", "P3", "2024-01-01", team="T2"),
            cin_episode("R4", "P4", "2023-11-01", team="T2"),
            cin_episode("R6", "P6", "2024-03-01", nfa="Y"),     # NFA: not an open case
            cin_episode("R7", "P7", "2024-04-01"),              # referred after period end
            cin_episode("R8", "P8", "2024-01-01", close="2024-03-31"),  # closed on period end
            cin_episode("R9", "P9", "2024-01-01", team="T1"),
        ],
        "ssd_cp_plans": [cp_plan("CP4", "P4", "2023-12-01")],
        "ssd_cla_episodes": [cla_episode("E5", "P5", "2023-06-01")],
        "ssd_involvements": [
            # P2's involvement ended on period_end: closed, and the latest date (0 days).
            involvement("I2", "W1", "P2", "2024-01-02", "2024-03-31", team="T9"),
            # P3's ends after period_end: still open, so P3 is allocated.
            involvement("I3", "W1", "P3", "2024-01-02", "2024-04-10", team="T9"),
            # P4: allocated until 15 Feb; the open IRO involvement does not count.
            involvement("I4a", "W2", "P4", "2023-11-02", "2024-02-15", team="T9"),
            involvement("I4b", "IRO1", "P4", "2023-12-01", role="IRO", team="T9"),
            # P5 (looked after, no referral): allocated until 21 Mar.
            involvement("I5", "W2", "P5", "2023-06-01", "2024-03-21", team="T9"),
            # P9: allocated on another referral, role written in another case: allocated.
            involvement("I9", "W3", "P9", "2023-01-01", role=" allocated case worker ",
                        team="T9", referral="OTHER"),
        ],
    })
    assert figures.la("DD01") == (4, 4, None)
    assert figures.record_ids("DD01") == ["P1", "P2", "P4", "P5"]
    # P1: 1 Mar -> 31 Mar = 30; P2: involvement end 31 Mar = 0; P4: 15 Feb -> 31 Mar
    # = 45 (2024 is a leap year); P5: 21 Mar -> 31 Mar = 10.
    assert figures.measures("DD01") == {"P1": 30, "P2": 0, "P4": 45, "P5": 10}
    # the list shows the current referral's date and when the last allocated worker ended
    assert figures.listed("DD01") == {"P1": ("2024-03-01", None), "P2": ("2024-01-01", "2024-03-31"),
                                      "P4": ("2023-11-01", "2024-02-15"), "P5": (None, "2024-03-21")}
    assert figures.get("DD01", "team", "T1") == (2, 2, None)
    assert figures.get("DD01", "team", "T2") == (1, 1, None)
    assert figures.get("DD01", "team", "Unallocated") == (1, 1, None)
    assert figures.get("DD01", "worker", "Unallocated") == (4, 4, None)


# --- DD02 ---------------------------------------------------------------------------

def assessment(assessment_id, person, start, auth=None, team=None, worker=None):
    return {"cina_assessment_id": assessment_id, "cina_person_id": person,
            "cina_referral_id": "R" + person, "cina_assessment_start_date": start,
            "cina_assessment_auth_date": auth, "cina_assessment_team": team,
            "cina_assessment_worker_id": worker}


def test_dd02_assessments_open_over_45_working_days(warehouse):
    # Thu 25 Jan to Thu 28 Mar = 9 weeks = 45 working days; Good Friday (29 Mar) and the
    # weekend add none, so 25 Jan is exactly 45 (not an exception) and 24 Jan is 46.
    figures = run_kpi(warehouse, "DD02", PERIOD, {
        "ssd_cin_assessments": [
            assessment("A1", "P1", "2024-01-24", team="T1", worker="W1"),
            assessment("A2", "P2", "2024-01-25", team="T1", worker="W1"),
            assessment("A3", "P3", "2024-01-24", auth="2024-04-02", team="T2", worker="W2"),
            assessment("A4", "P4", "2024-01-24", auth="2024-03-31", team="T2", worker="W2"),
            assessment("A5", "P5", "2024-04-01"),
            # Saturday 20 Jan has the working-day index of Friday 19 Jan: 49.
            assessment("A6", "P6", "2024-01-20", team="T2", worker="W3"),
        ],
        # The referral of A6 closed long ago: the assessment is listed all the same.
        "ssd_cin_episodes": [cin_episode("RP6", "P6", "2024-01-02", close="2024-02-01")],
    })
    assert figures.la("DD02") == (3, 3, None)
    assert figures.measures("DD02") == {"A1": 46, "A3": 46, "A6": 49}
    # start, the 45th working day after it, and working days past it
    assert figures.listed("DD02") == {"A1": ("2024-01-24", "2024-03-27", 1), "A3": ("2024-01-24", "2024-03-27", 1),
                                      "A6": ("2024-01-20", "2024-03-22", 4)}
    assert figures.get("DD02", "team", "T2") == (2, 2, None)
    assert figures.get("DD02", "worker", "W1") == (1, 1, None)


def test_dd02_allocated_worker_takes_precedence_over_the_assessment_worker(warehouse):
    figures = run_kpi(warehouse, "DD02", PERIOD, {
        "ssd_cin_assessments": [assessment("A1", "P1", "2024-01-02", team="T1", worker="W1")],
        "ssd_involvements": [involvement("I1", "W9", "P1", "2024-01-02", team="T9")],
    })
    assert figures.get("DD02", "team", "T9") == (1, 1, None)
    assert figures.get("DD02", "worker", "W9") == (1, 1, None)


# --- DD03 ---------------------------------------------------------------------------

def s47(enquiry_id, person, start, end=None, nfa="N", team=None, worker=None):
    return {"s47e_s47_enquiry_id": enquiry_id, "s47e_person_id": person,
            "s47e_s47_start_date": start, "s47e_s47_end_date": end, "s47e_s47_nfa": nfa,
            "s47e_s47_completed_by_team": team, "s47e_s47_completed_by_worker_id": worker}


def icpc(icpc_id, person, enquiry_id, icpc_date):
    return {"icpc_icpc_id": icpc_id, "icpc_person_id": person,
            "icpc_s47_enquiry_id": enquiry_id, "icpc_icpc_date": icpc_date}


def test_dd03_s47_without_icpc_after_15_working_days(warehouse):
    # Thu 7 Mar to Thu 28 Mar = 15 working days (Good Friday is a bank holiday, so
    # period_end Sunday 31 Mar adds none): 7 Mar is exactly 15, Wed 6 Mar is 16.
    figures = run_kpi(warehouse, "DD03", PERIOD, {
        "ssd_s47_enquiry": [
            s47("S1", "P1", "2024-03-06", team="T1", worker="W1"),
            s47("S2", "P2", "2024-03-07", team="T1", worker="W1"),
            s47("S3", "P3", "2024-03-06", team="T1"),                     # ICPC held
            s47("S4", "P4", "2024-03-06", team="T2"),                     # ICPC after period end
            s47("S5", "P5", "2024-03-06", team="T2"),                     # ICPC not linked by id
            s47("S6", "P6", "2024-03-06", end="2024-03-31", nfa="Y"),     # NFA on period end
            s47("S7", "P7", "2024-03-06", end="2024-04-05", nfa="Y"),     # not NFA yet
            s47("S8", "P8", "2024-03-02", end="2024-03-20", nfa="N", team="T2"),
            s47("S9", "P9", "2024-04-02"),                                # starts after period end
        ],
        "ssd_initial_cp_conference": [
            icpc("C3", "P3", "S3", "2024-03-20"),
            icpc("C4", "P4", "S4", "2024-04-02"),
            icpc("C5", "P5", None, "2024-03-20"),
        ],
    })
    assert figures.record_ids("DD03") == ["S1", "S4", "S5", "S7", "S8"]
    # Saturday 2 Mar has the index of Friday 1 Mar: 19 working days.
    assert figures.measures("DD03") == {"S1": 16, "S4": 16, "S5": 16, "S7": 16, "S8": 19}
    assert figures.listed("DD03")["S1"] == ("2024-03-06", "2024-03-27", 1)
    assert figures.listed("DD03")["S8"] == ("2024-03-02", "2024-03-22", 4)
    assert figures.get("DD03", "team", "T2") == (3, 3, None)
    assert figures.get("DD03", "worker", "W1") == (1, 1, None)


# --- DD08 ---------------------------------------------------------------------------

def test_dd08_cp_plans_open_548_days_or_more(warehouse):
    # 2022-09-30 -> 2024-03-31 = 548 days; 2022-10-01 is 547.
    figures = run_kpi(warehouse, "DD08", PERIOD, {
        "ssd_cp_plans": [
            cp_plan("CP1", "P1", "2022-09-30"),
            cp_plan("CP2", "P2", "2022-10-01"),
            cp_plan("CP3", "P3", "2022-01-01", end="2024-03-31"),   # ended on period end
            cp_plan("CP4", "P4", "2022-01-01", end="2024-04-01"),   # ends after: open
            cp_plan("CP5", "P5", "2024-04-01"),
        ],
        "ssd_involvements": [involvement("I1", "W1", "P1", "2023-01-01", team="T1")],
    })
    assert figures.la("DD08") == (2, 2, None)
    assert figures.measures("DD08") == {"CP1": 548, "CP4": 820}
    assert figures.listed("DD08") == {"CP1": ("2022-09-30", "2024-03-31"), "CP4": ("2022-01-01", "2023-07-03")}
    assert figures.get("DD08", "team", "T1") == (1, 1, None)
    assert figures.get("DD08", "team", "Unallocated") == (1, 1, None)


# --- DD09 ---------------------------------------------------------------------------

def test_dd09_cin_episodes_open_730_days_or_more(warehouse):
    # 2022-04-01 -> 2024-03-31 = 730 days (29 Feb 2024 included); 2022-04-02 is 729.
    figures = run_kpi(warehouse, "DD09", PERIOD, {
        "ssd_cin_episodes": [
            cin_episode("R1", "P1", "2022-04-01", team="T1", worker="W1"),
            cin_episode("R2", "P2", "2022-04-02", team="T1", worker="W1"),
            cin_episode("R3", "P3", "2021-01-01", nfa="Y", team="T1"),
            cin_episode("R4", "P4", "2021-01-01", close="2024-03-31", team="T1"),
            cin_episode("R5", "P5", "2021-01-01", close="2024-04-01", team="T2", worker="W2"),
            cin_episode("R6", "P6", "2021-01-01", team="T1"),
            cin_episode("R7", "P7", "2021-01-01", team="T1"),
            cin_episode("R8", "P8", "2021-01-01", team="T1"),
        ],
        # On a CP plan or looked after at period_end: their drift shows in DD04-DD08, so
        # R6 (plan open) and R7 (episode ceasing after period_end) are not listed; P8's
        # plan ended on period_end, so R8 is.
        "ssd_cp_plans": [cp_plan("CP6", "P6", "2023-01-01"), cp_plan("CP8", "P8", "2023-01-01", end="2024-03-31")],
        "ssd_cla_episodes": [cla_episode("E7", "P7", "2023-06-01", ceased="2024-04-01")],
    })
    assert figures.la("DD09") == (3, 3, None)
    assert figures.measures("DD09") == {"R1": 730, "R5": 1185, "R8": 1185}
    assert figures.listed("DD09") == {"R1": ("2022-04-01", "2024-03-31"), "R5": ("2021-01-01", "2023-01-01"),
                                      "R8": ("2021-01-01", "2023-01-01")}
    assert figures.get("DD09", "team", "T2") == (1, 1, None)
    assert figures.get("DD09", "worker", "W1") == (1, 1, None)


def test_an_empty_nfa_flag_is_not_nfa(warehouse):
    figures = run_kpi(warehouse, ["DD01", "DD03", "DD09"], PERIOD, {
        "ssd_s47_enquiry": [s47("S1", "P1", "2024-03-01", end="2024-03-10", nfa=None)],
        "ssd_cin_episodes": [cin_episode("R1", "P1", "2022-01-01", nfa=None)],
    })
    assert figures.measures("DD03") == {"S1": 19}
    assert figures.measures("DD09") == {"R1": 820}
    assert figures.measures("DD01") == {"P1": 820}


# --- DD10 ---------------------------------------------------------------------------

def test_dd10_caseload_above_threshold_and_mean_caseload(warehouse):
    context = replace(CONTEXT, caseload_threshold=2)
    figures = run_kpi(warehouse, "DD10", PERIOD, {"ssd_involvements": [
        # W1 (T1): P1 twice (two referrals), P2, P3 -> 3 children, above 2.
        involvement("I1", "W1", "P1", "2023-01-01", team="T1", referral="R1"),
        involvement("I2", "W1", "P1", "2023-06-01", team="T1", referral="R2"),
        involvement("I3", "W1", "P2", "2023-06-01", "2024-04-01", team="T1"),
        involvement("I4", "W1", "P3", "2024-03-31", team="T1"),
        # W2 (T1): P4, P5 -> exactly 2, not an exception. P6 ended on period end and P7
        # is an IRO involvement: neither counts.
        involvement("I5", "W2", "P4", "2023-01-01", team="T1"),
        involvement("I6", "W2", "P5", "2023-01-01", role="allocated case worker", team="T1"),
        involvement("I7", "W2", "P6", "2023-01-01", "2024-03-31", team="T1"),
        involvement("I8", "W2", "P7", "2023-01-01", role="IRO", team="T1"),
        # W3: team of the latest-started open involvement (T2), caseload 2.
        involvement("I9", "W3", "P8", "2023-01-01", team="T1"),
        involvement("I10", "W3", "P9", "2024-02-01", team="T2"),
        involvement("I11", "W3", "P10", "2024-03-01", "2024-03-15", team="T3"),
        # W4 starts after period end: not a worker with an open involvement.
        involvement("I12", "W4", "P11", "2024-04-01", team="T2"),
    ]}, context=context)
    assert figures.la("DD10") == (1, 1, None)
    assert figures.record_ids("DD10") == ["W1", "W2", "W3"]
    assert figures.measures("DD10") == {"W1": 3}
    # Mean caseload over workers with an open allocation: (3 + 2 + 2) / 3 = 2.33 -> 2.3.
    assert figures.la("DD10:mean_caseload") == (2.3, 7, 3)
    assert figures.get("DD10:mean_caseload", "team", "T1") == (2.5, 5, 2)
    assert figures.get("DD10:mean_caseload", "team", "T2") == (2.0, 2, 1)
    assert figures.get("DD10", "team", "T1") == (1, 1, None)
    assert figures.get("DD10", "team", "T2") == (0, 0, None)
    assert figures.get("DD10", "worker", "W1") == (1, 1, None)
    assert figures.get("DD10", "worker", "W2") == (0, 0, None)


def test_dd10_default_threshold_is_20(warehouse):
    rows = [involvement(f"I{n}", "W1", f"P{n}", "2024-01-01", team="T1") for n in range(20)]
    rows += [involvement(f"J{n}", "W2", f"Q{n}", "2024-01-01", team="T2") for n in range(21)]
    figures = run_kpi(warehouse, "DD10", PERIOD, {"ssd_involvements": rows})
    assert figures.measures("DD10") == {"W2": 21}
    assert figures.la("DD10:mean_caseload") == (20.5, 41, 2)


# --- DD11 ---------------------------------------------------------------------------

def test_dd11_three_or_more_allocated_workers_in_rolling_12_months(warehouse):
    # Rolling 12 months = [2023-04-02, 2024-03-31].
    def three_workers(person, first_end="2023-04-02"):
        return [
            involvement(f"{person}a", "WA", person, "2022-01-01", first_end),
            involvement(f"{person}b", "WB", person, "2023-06-01", "2023-12-01"),
            involvement(f"{person}c", "WC", person, "2023-12-01", team="T1"),
        ]

    figures = run_kpi(warehouse, "DD11", PERIOD, {
        "ssd_cin_episodes": [
            cin_episode("R1", "P1", "2022-01-01"),
            cin_episode("R2", "P2", "2022-01-01"),
            cin_episode("R6", "P6", "2022-01-01", nfa="Y"),
            cin_episode("R7", "P7", "2022-01-01", close="2024-03-31"),
        ],
        "ssd_cp_plans": [cp_plan("CP3", "P3", "2023-01-01")],
        "ssd_cla_episodes": [cla_episode("E4", "P4", "2023-01-01"),
                             cla_episode("E5", "P5", "2023-01-01")],
        "ssd_involvements": [
            # P1 (open CIN): WA ends on the window's first day, so it overlaps: 3.
            *three_workers("P1"),
            # P2: WA ended the day before the window; the IRO and a WB repeat don't add.
            *three_workers("P2", first_end="2023-04-01"),
            involvement("P2d", "IRO1", "P2", "2023-01-01", role="IRO"),
            involvement("P2e", "WB", "P2", "2024-01-01"),
            # P3 (CP plan) and P4 (looked after): 3 workers each.
            *three_workers("P3"),
            *three_workers("P4"),
            # P5: the third worker starts after period end.
            *three_workers("P5")[:2],
            involvement("P5c", "WC", "P5", "2024-04-01"),
            # P6 (NFA) and P7 (closed on period end) are not open cases.
            *three_workers("P6"),
            *three_workers("P7"),
        ],
    })
    assert figures.la("DD11") == (3, 3, None)
    assert figures.record_ids("DD11") == ["P1", "P3", "P4"]
    assert figures.measures("DD11") == {"P1": 3, "P3": 3, "P4": 3}
    assert figures.listed("DD11") == {"P1": ("2023-12-01",), "P3": ("2023-12-01",), "P4": ("2023-12-01",)}
    # Attributed to the child's allocated worker at period end (WC in T1).
    assert figures.get("DD11", "team", "T1") == (3, 3, None)
    assert figures.get("DD11", "worker", "WC") == (3, 3, None)
