"""Given/expect tests of SAF15, SAF16, SAF17, SAF20, SAF21, SAF22 and SAF23.

Period 2024-03: period_end 2024-03-31, rolling 12 months [2023-04-02, 2024-03-31],
period_end - 913 days = 2021-09-30, period_end - 730 days = 2022-04-01,
dob_16y = 2008-03-31.
"""

import pytest

from tests.kpi_harness import run_kpi


def cp_plan(plan_id, person_id, start, end):
    return {"cppl_cp_plan_id": plan_id, "cppl_person_id": person_id,
            "cppl_cp_plan_start_date": start, "cppl_cp_plan_end_date": end}


def episode(episode_id, person_id, start, ceased=None, entered=None):
    return {"clae_cla_episode_id": episode_id, "clae_person_id": person_id,
            "clae_cla_episode_start_date": start, "clae_cla_episode_ceased_date": ceased,
            "clae_entered_care_date": entered or start}


def placement(placement_id, person_id, start, end=None, cla_id="CLA1"):
    return {"clap_cla_placement_id": placement_id, "clap_cla_id": cla_id,
            "clap_person_id": person_id, "clap_cla_placement_start_date": start,
            "clap_cla_placement_end_date": end}


def person(person_id, dob):
    return {"pers_person_id": person_id, "pers_dob": dob}


def missing(missing_id, start, rhi_offered, episode_type="Missing"):
    return {"miss_table_id": missing_id, "miss_person_id": f"P{missing_id}",
            "miss_missing_episode_start_date": start, "miss_missing_episode_type": episode_type,
            "miss_missing_rhi_offered": rhi_offered}


def care_leaver(table_id, person_id, latest_contact, in_touch, accom_suitable=None,
                activity=None, eligibility="Relevant", team=None, worker=None):
    return {"clea_table_id": table_id, "clea_person_id": person_id,
            "clea_care_leaver_eligibility": eligibility,
            "clea_care_leaver_in_touch": in_touch,
            "clea_care_leaver_latest_contact": latest_contact,
            "clea_care_leaver_accom_suitable": accom_suitable,
            "clea_care_leaver_activity": activity,
            "clea_care_leaver_allocated_team": team, "clea_care_leaver_worker_id": worker}


# --- SAF15 ---------------------------------------------------------------------------

def test_saf15_plans_ending_in_period_lasting_730_days_or_more(warehouse):
    figures = run_kpi(warehouse, "SAF15", "2024-03", {"ssd_cp_plans": [
        cp_plan("CP1", "P1", "2022-03-11", "2024-03-10"),  # exactly 730 days: numerator
        cp_plan("CP2", "P2", "2022-03-12", "2024-03-10"),  # 729 days
        cp_plan("CP3", "P3", "2024-01-01", "2024-03-31"),  # ends on period_end: ended
        cp_plan("CP4", "P4", None, "2024-03-15"),          # no start: denominator only
        cp_plan("CP5", "P5", "2020-01-01", "2024-04-01"),  # ends after period_end
        cp_plan("CP6", "P6", "2020-01-01", "2024-02-29"),  # ended before the period
        cp_plan("CP7", "P7", "2020-01-01", None),          # still open
    ]})
    assert figures.la("SAF15") == (25.0, 1, 4)
    assert figures.record_ids("SAF15") == ["CP1", "CP2", "CP3", "CP4"]
    assert figures.measures("SAF15") == {"CP1": 730}


# --- SAF16 ---------------------------------------------------------------------------

def test_saf16_distinct_children_with_an_open_episode_and_rate(warehouse):
    figures = run_kpi(warehouse, "SAF16", "2024-03", {"ssd_cla_episodes": [
        episode("E1", "P1", "2024-01-01"),
        episode("E2", "P1", "2024-02-01"),                # same child: counted once
        episode("E3", "P2", "2023-01-01", "2024-03-31"),  # ceased on period_end: closed
        episode("E4", "P3", "2023-01-01", "2024-04-01"),  # ceases after period_end: open
        episode("E5", "P4", "2024-04-01"),                # starts after period_end
        episode("E6", "P5", "2024-03-31"),                # starts on period_end
    ]})
    assert figures.la("SAF16") == (3, 3, None)
    assert figures.record_ids("SAF16") == ["P1", "P3", "P5"]
    # 3 / 20,000 children aged 0-17 * 10,000
    assert figures.la("SAF16:rate_per_10k") == (1.5, 3, 20000)


# --- SAF17 ---------------------------------------------------------------------------

def test_saf17_distinct_children_entering_care_in_period(warehouse):
    figures = run_kpi(warehouse, "SAF17", "2024-03", {"ssd_cla_episodes": [
        episode("E1", "P1", "2024-03-01"),
        episode("E2", "P1", "2024-03-20"),  # second entry of the same child
        episode("E3", "P2", "2024-03-31"),
        episode("E4", "P3", "2024-04-01"),  # after period_end
        episode("E5", "P4", "2024-02-29"),  # before the period
        episode("E6", "P5", "2024-03-05", entered="2023-06-01"),  # new episode, earlier entry
    ]})
    assert figures.la("SAF17") == (2, 2, None)
    assert figures.record_ids("SAF17") == ["P1", "P2"]


# --- SAF20 ---------------------------------------------------------------------------

def test_saf20_three_placements_in_rolling_12_months(warehouse):
    figures = run_kpi(warehouse, "SAF20", "2024-03", {
        "ssd_cla_episodes": [
            episode("E1", "P1", "2023-01-01"),
            episode("E2", "P2", "2023-01-01"),
            episode("E3", "P3", "2023-11-01"),
            episode("E4", "P4", "2023-01-01", "2024-03-31"),  # not looked after at period_end
            episode("E5", "P5", "2024-03-01"),
        ],
        "ssd_cla_placement": [
            placement("L11", "P1", "2023-04-02"),  # first day of the window
            placement("L12", "P1", "2023-10-01"),
            placement("L13", "P1", "2024-03-31"),  # period_end
            placement("L21", "P2", "2023-04-01"),  # the day before the window
            placement("L22", "P2", "2023-10-01"),
            placement("L23", "P2", "2024-01-01"),
            placement("L24", "P2", "2024-04-01"),  # after period_end
            placement("L31", "P3", "2023-05-01", cla_id="CLA-A"),  # across periods of care
            placement("L32", "P3", "2023-06-01", cla_id="CLA-A"),
            placement("L33", "P3", "2023-12-01", cla_id="CLA-B"),
            placement("L41", "P4", "2023-05-01"),
            placement("L42", "P4", "2023-06-01"),
            placement("L43", "P4", "2023-07-01"),
        ],
    })
    assert figures.la("SAF20") == (50.0, 2, 4)
    assert figures.record_ids("SAF20") == ["P1", "P2", "P3", "P5"]
    assert figures.record_ids("SAF20", numerator_only=True) == ["P1", "P3"]


# --- SAF21 ---------------------------------------------------------------------------

def test_saf21_long_term_stability(warehouse):
    long_ago = "2019-01-01"
    figures = run_kpi(warehouse, "SAF21", "2024-03", {
        "ssd_person": [person(p, "2010-01-01") for p in ("A", "B", "E", "F", "G", "H", "J", "K")]
        + [person("C", "2008-03-31"),   # 16 on period_end: not under 16
           person("D", "2008-04-01"),   # 15 on period_end
           person("I", None)],          # no date of birth: outside the population
        "ssd_cla_episodes": [
            episode("EA", "A", "2021-09-30"),  # entered exactly period_end - 913 days
            episode("EB", "B", "2021-10-01"),  # 912 days: too recent
            episode("EC", "C", long_ago),
            episode("ED", "D", long_ago),
            # E: the next episode starts the day after the previous one ceased: a gap
            episode("EE1", "E", long_ago, "2020-06-30"),
            episode("EE2", "E", "2020-07-01", entered=long_ago),
            # F: the next episode starts on the day the previous one ceased: no gap
            episode("EF1", "F", long_ago, "2020-06-30"),
            episode("EF2", "F", "2020-06-30", entered=long_ago),
            episode("EG", "G", long_ago),
            episode("EH", "H", long_ago),
            episode("EI", "I", long_ago),
            episode("EJ", "J", long_ago, "2024-03-31"),  # ceased on period_end
            # K: EK3 starts after EK2 ceased, but EK1 still covers up to that day: no gap
            episode("EK1", "K", long_ago, "2021-01-01"),
            episode("EK2", "K", "2019-06-01", "2020-01-01", entered=long_ago),
            episode("EK3", "K", "2021-01-01", entered=long_ago),
        ],
        "ssd_cla_placement": [
            placement("LA", "A", "2022-04-01"),   # exactly period_end - 730 days
            placement("LB", "B", "2021-10-01"),
            placement("LC", "C", long_ago),
            placement("LD", "D", "2022-04-02"),   # 729 days
            placement("LE", "E", long_ago),
            placement("LF", "F", "2020-06-30"),
            placement("LG1", "G", long_ago),      # two open: the latest start is current
            placement("LG2", "G", "2023-01-01"),
            placement("LH1", "H", long_ago),
            placement("LH2", "H", "2024-04-01"),  # starts after period_end
            placement("LI", "I", long_ago),
            placement("LJ", "J", long_ago),
            placement("LK", "K", long_ago, "2024-03-31"),  # ended on period_end: none open
        ],
    })
    assert figures.record_ids("SAF21") == ["A", "D", "F", "G", "H", "K"]
    assert figures.record_ids("SAF21", numerator_only=True) == ["A", "F", "H"]
    assert figures.la("SAF21") == (50.0, 3, 6)


def test_saf21_29_february_birthday_on_a_leap_period_end(warehouse):
    # period_end 2024-02-29: a child born 2008-02-29 is 16 that day.
    long_ago = "2019-01-01"
    figures = run_kpi(warehouse, "SAF21", "2024-02", {
        "ssd_person": [person("A", "2008-02-29"), person("B", "2008-03-01")],
        "ssd_cla_episodes": [episode("EA", "A", long_ago), episode("EB", "B", long_ago)],
        "ssd_cla_placement": [placement("LA", "A", long_ago), placement("LB", "B", long_ago)],
    })
    assert figures.record_ids("SAF21") == ["B"]
    assert figures.la("SAF21") == (100.0, 1, 1)


def test_saf21_several_open_episodes(warehouse):
    # kpis.md: "the child's current episode is the open one with the latest start (ties:
    # highest episode id), and the child's period of care began on the earliest
    # clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".
    # period_end - 913 days = 2021-09-30, - 730 days = 2022-04-01.
    figures = run_kpi(warehouse, "SAF21", "2024-03", {
        "ssd_person": [person(p, "2012-01-01") for p in ("S1", "S2", "S3", "S4")],
        "ssd_cla_episodes": [
            # S1: current ES1b entered 2023 (too recent) but ES1a, also open, entered in
            # January 2021 and covers every day since: in; placed 2021: numerator.
            episode("ES1a", "S1", "2021-01-04"),
            episode("ES1b", "S1", "2023-06-01"),
            # S2: same start, the highest id (ES2b, entered 2022) is current; began
            # 2021-05-03 (ES2a): in; placed 2023: not in the numerator.
            episode("ES2a", "S2", "2021-05-03"),
            episode("ES2b", "S2", "2021-05-03", entered="2022-01-03"),
            # S3: began 2020-01-02 (ES3a's entered date), but no episode covers the days
            # before 2021-03-01: a gap since entering care: out (on the current ES3b's
            # own entry date, 2021-06-01, there would be no gap).
            episode("ES3a", "S3", "2021-03-01", entered="2020-01-02"),
            episode("ES3b", "S3", "2021-06-01"),
            # S4: a closed episode does not set the start: began 2023-01-01: out.
            episode("ES4a", "S4", "2020-01-01", "2023-01-01"),
            episode("ES4b", "S4", "2023-01-01"),
            episode("ES4c", "S4", "2023-02-01"),
        ],
        "ssd_cla_placement": [
            placement("LS1", "S1", "2021-02-01"),
            placement("LS2", "S2", "2023-01-02"),
            placement("LS3", "S3", "2021-03-01"),
            placement("LS4", "S4", "2020-01-01"),
        ],
    })
    assert figures.record_ids("SAF21") == ["S1", "S2"]
    assert figures.record_ids("SAF21", numerator_only=True) == ["S1"]
    assert figures.la("SAF21") == (50.0, 1, 2)


# --- SAF22 ---------------------------------------------------------------------------

def test_saf22_count_and_rhi_offered_rounds_half_up(warehouse):
    episodes = [missing("M01", "2024-03-01", "yes"),  # normalised to Y on load
                missing("M02", "2024-03-02", "NA"),
                missing("M03", "2024-03-03", None, episode_type="Away from placement")]
    episodes += [missing(f"M{n:02d}", "2024-03-31", "N") for n in range(4, 17)]
    episodes += [missing("M17", "2024-04-01", "Y"), missing("M18", "2024-02-29", "Y")]
    figures = run_kpi(warehouse, "SAF22", "2024-03", {"ssd_missing": episodes})
    assert figures.la("SAF22") == (16, 16, None)
    # 1 / 16 = 6.25% -> 6.3 (half up from the exact fraction)
    assert figures.la("SAF22:rhi_offered_pct") == (6.3, 1, 16)


# --- SAF23 ---------------------------------------------------------------------------

def test_saf23_care_leavers_in_touch_accommodation_and_eet(warehouse):
    # period_end 2025-02-28: dob_17y = 2008-02-28, dob_22y = 2003-02-28.
    figures = run_kpi(warehouse, "SAF23", "2025-02", {
        "ssd_person": [
            person("L1", "2008-02-29"),  # 17th birthday reached on 1 March 2025: 16
            person("L2", "2008-02-28"),  # 17
            person("L3", "2003-03-01"),  # 21
            person("L4", "2003-02-28"),  # 22
            person("L5", "2006-01-01"),
            person("L6", "2006-01-01"),
            person("L7", "2005-05-05"),
        ],
        "ssd_care_leavers": [
            care_leaver("T1", "L1", "2025-01-01", "YES", "1", "F1"),
            care_leaver("T2a", "L2", "2024-01-01", "NO", "2", "G5", team="TM1", worker="W1"),
            care_leaver("T2b", "L2", "2025-01-10", "yes", "1", "P5", team="TM1", worker="W1"),
            care_leaver("T3", "L3", "2025-01-01", "Y", "Y", "G5", team="TM1", worker="W1"),
            care_leaver("T4", "L4", "2025-01-01", "YES", "1", "F1"),
            care_leaver("T5", "L5", "2025-01-01", "YES", "1", "F1", eligibility=None),
            # same latest contact: the highest table id is kept
            care_leaver("T6a", "L6", "2025-01-05", "YES", "2", "F1", team="TM2", worker="W2"),
            care_leaver("T6b", "L6", "2025-01-05", "REFU", "1", "G4", team="TM2", worker="W2"),
            # no contact date sorts after a dated row
            care_leaver("T7a", "L7", None, "YES", "1", "F1", team="TM2", worker="W2"),
            care_leaver("T7b", "L7", "2024-12-01", "NO", "N", "0", team="TM2", worker="W2"),
            care_leaver("T8", "L8", "2025-01-01", "YES", "1", "F1"),  # no ssd_person row
        ],
    })
    assert figures.record_ids("SAF23") == ["L2", "L3", "L6", "L7"]
    assert figures.la("SAF23") == (50.0, 2, 4)
    assert figures.la("SAF23:accom_suitable_pct") == (75.0, 3, 4)
    assert figures.la("SAF23:eet_pct") == (25.0, 1, 4)
    assert figures.get("SAF23", "team", "TM1") == (100.0, 2, 2)
    assert figures.get("SAF23", "worker", "W2") == (0.0, 0, 2)


def test_saf23_29_february_birthday_at_22(warehouse):
    # period_end 2026-02-28: dob_17y = 2009-02-28, dob_22y = 2004-02-28.
    figures = run_kpi(warehouse, "SAF23", "2026-02", {
        "ssd_person": [person("L1", "2004-02-29"),   # 22nd birthday on 1 March 2026: 21
                       person("L2", "2004-02-28"),   # 22
                       person("L3", "2009-03-01")],  # 16
        "ssd_care_leavers": [care_leaver("T1", "L1", "2026-01-01", "NO", "2", "F2"),
                             care_leaver("T2", "L2", "2026-01-01", "YES", "1", "F1"),
                             care_leaver("T3", "L3", "2026-01-01", "YES", "1", "F1")],
    })
    assert figures.record_ids("SAF23") == ["L1"]
    assert figures.la("SAF23") == (0.0, 0, 1)
    assert figures.la("SAF23:eet_pct") == (100.0, 1, 1)


def test_saf23_code_values_the_definition_places(warehouse):
    # kpis.md: "Code values the definitions already place (for example ... in-touch values
    # other than YES/Y, SSD build placeholders such as PLACEHOLDER_DATA) are data-quality
    # warnings, never a reason to withhold a KPI: the definition says where such a row
    # counts". SAF23: "the cohort is care leavers whose eligibility is not empty ... In
    # touch = YES/Y; suitable accommodation = code 1/Y" (Y as the Y/N decision spells it:
    # Y, y, Yes, YES, 1, true, TRUE). period_end 2025-02-28; everyone is 19.
    figures = run_kpi(warehouse, "SAF23", "2025-02", {
        "ssd_person": [person(f"C{n}", "2006-01-01") for n in range(1, 8)],
        "ssd_care_leavers": [
            # a placeholder eligibility is not empty: in the cohort
            care_leaver("T1", "C1", "2025-01-01", " y ", "Yes", "F4", eligibility="PLACEHOLDER_DATA"),
            care_leaver("T2", "C2", "2025-01-01", "PLACEHOLDER_DATA", "true", "PLACEHOLDER_DATA"),
            care_leaver("T3", "C3", "2025-01-01", "NREQ", "PLACEHOLDER_DATA", "G6"),
            care_leaver("T4", "C4", "2025-01-01", "Yes", "2", "0"),
            care_leaver("T5", "C5", "2025-01-01", "1", "N", "P1"),  # 1 is not an in-touch code
            care_leaver("T6", "C6", "2025-01-01", "REFU", "y", None),
            care_leaver("T7", "C7", "2025-01-01", "YES", "1", "F1", eligibility="  "),  # empty
        ],
    })
    assert figures.record_ids("SAF23") == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert figures.la("SAF23") == (33.3, 2, 6)                     # C1, C4
    assert figures.la("SAF23:accom_suitable_pct") == (50.0, 3, 6)  # C1, C2, C6
    assert figures.la("SAF23:eet_pct") == (33.3, 2, 6)             # C1, C5


# --- empty denominators ----------------------------------------------------------------

@pytest.mark.parametrize("kpi_id", ["SAF15", "SAF20", "SAF21", "SAF23", "SAF22:rhi_offered_pct",
                                    "SAF23:accom_suitable_pct", "SAF23:eet_pct"])
def test_percentages_with_an_empty_denominator_are_empty(warehouse, kpi_id):
    # Only records outside every population: after period_end or not looked after.
    figures = run_kpi(warehouse, kpi_id.split(":")[0], "2024-03", {
        "ssd_cp_plans": [cp_plan("CP1", "P1", "2020-01-01", "2024-04-01")],
        "ssd_cla_episodes": [episode("E1", "P1", "2024-04-01")],
        "ssd_cla_placement": [placement("L1", "P1", "2024-04-01")],
        "ssd_missing": [missing("M1", "2024-04-01", "Y")],
        "ssd_person": [person("P1", "2000-01-01")],  # 24: not a care leaver aged 17-21
        "ssd_care_leavers": [care_leaver("T1", "P1", "2024-01-01", "YES", "1", "F1")],
    })
    assert figures.la(kpi_id) == (None, 0, 0)


def test_counts_with_nothing_in_period_are_zero(warehouse):
    figures = run_kpi(warehouse, ["SAF16", "SAF17", "SAF22"], "2024-03", {
        "ssd_cla_episodes": [episode("E1", "P1", "2024-04-01")],
        "ssd_missing": [missing("M1", "2024-04-01", "Y")],
    })
    assert figures.la("SAF16") == (0, 0, None)
    assert figures.la("SAF17") == (0, 0, None)
    assert figures.la("SAF22") == (0, 0, None)
    assert figures.la("SAF16:rate_per_10k") == (0.0, 0, 20000)
