"""Visits and reviews: SAF13, SAF14, SAF18, SAF19 and their exception lists DD04-DD07.

Every expectation is hand-computed. Calendar facts used (England):
- 2024-03-29 Good Friday and 2024-04-01 Easter Monday are bank holidays, and
  2024-03-30/31 a weekend, so wd(2024-03-31) = wd(Thu 2024-03-28).
- 2024-12-25/26 are bank holidays.
"""

from tests.kpi_harness import run_kpi


def cp_plan(plan_id, person_id, start, end=None):
    return {"cppl_cp_plan_id": plan_id, "cppl_person_id": person_id,
            "cppl_cp_plan_start_date": start, "cppl_cp_plan_end_date": end}


def cp_visit(visit_id, plan_id, date, seen="Y"):
    return {"cppv_cp_visit_id": visit_id, "cppv_cp_plan_id": plan_id,
            "cppv_cp_visit_date": date, "cppv_cp_visit_seen": seen}


def cp_review(review_id, plan_id, date, due=None):
    return {"cppr_cp_review_id": review_id, "cppr_cp_plan_id": plan_id,
            "cppr_cp_review_date": date, "cppr_cp_review_due": due}


def cla_episode(episode_id, person_id, cla_id, start, entered, ceased=None):
    return {"clae_cla_episode_id": episode_id, "clae_person_id": person_id,
            "clae_cla_id": cla_id, "clae_cla_episode_start_date": start,
            "clae_entered_care_date": entered, "clae_cla_episode_ceased_date": ceased}


def cla_review(review_id, cla_id, date, due=None, cancelled=None):
    return {"clar_cla_review_id": review_id, "clar_cla_id": cla_id,
            "clar_cla_review_date": date, "clar_cla_review_due_date": due,
            "clar_cla_review_cancelled": cancelled}


def cla_visit(visit_id, person_id, date, seen="Y"):
    return {"clav_cla_visit_id": visit_id, "clav_person_id": person_id,
            "clav_cla_visit_date": date, "clav_cla_visit_seen": seen}


# --- SAF13 / DD04: CP visits within 10 working days -------------------------------

CP_VISIT_TABLES = {
    "ssd_cp_plans": [
        cp_plan("CP1", "P1", "2024-01-10"),
        cp_plan("CP2", "P2", "2024-01-10"),
        cp_plan("CP3", "P3", "2024-01-10"),
        cp_plan("CP4", "P4", "2024-01-10"),
        cp_plan("CP5", "P5", "2024-01-10"),
        cp_plan("CP6", "P6", "2024-03-01"),
        cp_plan("CP7", "P7", "2024-03-14"),   # exactly 10 wd: not in the denominator
        cp_plan("CP8", "P8", "2024-03-13"),   # 11 wd: in, never visited
        cp_plan("CP9", "P5", "2023-12-01", "2024-03-31"),  # closed on period_end
        cp_plan("CP10", "P10", "2024-01-10", "2024-04-15"),  # ends after period_end: open
        cp_plan("CP11", "P11", "2024-04-01"),  # starts after period_end
    ],
    "ssd_cp_visits": [
        cp_visit("V1", "CP1", "2024-03-14"),  # 10 wd thanks to Good Friday: within
        cp_visit("V2", "CP2", "2024-03-13"),  # 11 wd: not within
        cp_visit("V2b", "CP2", "2024-03-01"),
        cp_visit("V3", "CP3", "2024-03-31"),  # Sunday on period_end: counts
        cp_visit("V4", "CP4", "2024-03-20", seen="N"),
        cp_visit("V4b", "CP4", "2024-04-02"),  # after period_end: does not exist yet
        cp_visit("V5", "CP9", "2024-03-20"),  # same child, other plan: not CP5's visit
        cp_visit("V6", "CP6", "2024-02-29"),  # before plan start
        cp_visit("V10", "CP10", "2024-03-16"),  # Saturday: 9 wd
    ],
}


def test_saf13_visits_within_10_working_days_over_easter(warehouse):
    figures = run_kpi(warehouse, "SAF13", "2024-03", CP_VISIT_TABLES)
    assert figures.la("SAF13") == (37.5, 3, 8)
    assert figures.record_ids("SAF13") == sorted(
        ["CP1", "CP2", "CP3", "CP4", "CP5", "CP6", "CP8", "CP10"])
    assert figures.record_ids("SAF13", numerator_only=True) == ["CP1", "CP10", "CP3"]


def test_dd04_lists_saf13_denominator_not_in_numerator(warehouse):
    figures = run_kpi(warehouse, ["SAF13", "DD04"], "2024-03", CP_VISIT_TABLES)
    assert figures.la("DD04") == (5, 5, None)
    # working days since last seen visit in the plan, else since plan start:
    # CP2 13 Mar -> 11; CP4/CP5 10 Jan -> 56; CP6 1 Mar -> 19; CP8 13 Mar -> 11.
    assert figures.measures("DD04") == {"CP2": 11, "CP4": 56, "CP5": 56, "CP6": 19, "CP8": 11}
    # plan start, last seen visit, the 10th working day after it (or plan start), working days past that
    listed = figures.listed("DD04")
    assert listed["CP2"] == ("2024-01-10", "2024-03-13", "2024-03-27", 1)
    assert listed["CP4"] == ("2024-01-10", None, "2024-01-24", 46)
    assert listed["CP6"] == ("2024-03-01", None, "2024-03-15", 9)
    assert listed["CP8"] == ("2024-03-13", None, "2024-03-27", 1)
    saf13_out = set(figures.record_ids("SAF13")) - set(figures.record_ids("SAF13", True))
    assert set(figures.record_ids("DD04")) == saf13_out
    assert figures.records.query("kpi_id == 'DD04'")["person_id"].tolist().count("P5") == 1


def test_saf13_and_dd04_over_christmas(warehouse):
    # 25-26 Dec 2024 are bank holidays: 13 Dec -> 31 Dec = 10 wd, 12 Dec = 11 wd.
    figures = run_kpi(warehouse, ["SAF13", "DD04"], "2024-12", {
        "ssd_cp_plans": [cp_plan("A", "P1", "2024-10-01"), cp_plan("B", "P2", "2024-10-01")],
        "ssd_cp_visits": [cp_visit("V1", "A", "2024-12-13"), cp_visit("V2", "B", "2024-12-12")],
    })
    assert figures.la("SAF13") == (50.0, 1, 2)
    assert figures.record_ids("SAF13", numerator_only=True) == ["A"]
    assert figures.measures("DD04") == {"B": 11}


def test_saf13_and_dd04_empty(warehouse):
    figures = run_kpi(warehouse, ["SAF13", "DD04"], "2024-03", {
        "ssd_cp_plans": [cp_plan("CP7", "P7", "2024-03-14")]})
    assert figures.la("SAF13") == (None, 0, 0)
    assert figures.la("DD04") == (0, 0, None)


# --- SAF14 / DD05: CP reviews in timescale ------------------------------------------

def test_saf14_cp_reviews_recorded_and_computed_due_dates(warehouse):
    figures = run_kpi(warehouse, "SAF14", "2024-03", {
        "ssd_cp_plans": [
            cp_plan("P1", "C1", "2023-12-31"),
            cp_plan("P2", "C2", "2023-06-01"),
            cp_plan("P3", "C3", "2023-12-01"),
            cp_plan("P4", "C4", "2023-06-15"),
            cp_plan("P5", "C5", "2023-12-20"),
            cp_plan("P6", "C6", "2023-12-08"),
        ],
        "ssd_cp_reviews": [
            cp_review("R1a", "P1", "2024-03-31"),  # first: due 31 Mar, on the day
            cp_review("R1b", "P1", "2024-04-02"),  # after period_end
            cp_review("R2a", "P2", "2023-08-31"),
            cp_review("R2b", "P2", "2024-03-01"),  # 31 Aug + 6 months = 29 Feb: late
            cp_review("R3a", "P3", "2024-03-05", due="2024-03-08"),  # recorded due: on time
            cp_review("R4a", "P4", "2023-09-10", due="2023-09-30"),
            cp_review("R4b", "P4", "2024-03-12"),  # 10 Sep (actual) + 6 months: late
            cp_review("R5a", "P5", "2024-03-15", due="2024-03-10"),  # recorded due wins: late
            cp_review("S6", "P6", None, due="2024-03-08"),  # scheduled only: not a review
            cp_review("R6a", "P6", "2024-03-08"),  # first: 8 Dec + 3 months
        ],
    })
    assert figures.la("SAF14") == (50.0, 3, 6)
    assert figures.record_ids("SAF14") == ["R1a", "R2b", "R3a", "R4b", "R5a", "R6a"]
    assert figures.record_ids("SAF14", numerator_only=True) == ["R1a", "R3a", "R6a"]
    assert figures.records.query("kpi_id == 'SAF14' and record_id == 'R4b'")["person_id"].item() == "C4"


def test_saf14_month_end_clamping(warehouse):
    # 31 Aug + 3 months = 30 Nov (clamped), so a first review on 1 Dec is late;
    # 1 Sep + 3 months = 1 Dec, so the same date is on time.
    figures = run_kpi(warehouse, "SAF14", "2023-12", {
        "ssd_cp_plans": [cp_plan("PA", "C1", "2023-08-31"), cp_plan("PB", "C2", "2023-09-01")],
        "ssd_cp_reviews": [cp_review("RA", "PA", "2023-12-01"), cp_review("RB", "PB", "2023-12-01")],
    })
    assert figures.la("SAF14") == (50.0, 1, 2)
    assert figures.record_ids("SAF14", numerator_only=True) == ["RB"]


def test_saf14_and_saf18_count_reviews_whatever_their_participation_code(warehouse):
    # kpis.md: participation codes outside PN1-PN7 and SSD placeholders are "data-quality
    # warnings, never a reason to withhold a KPI: the definition says where such a row
    # counts". SAF14 and SAF18 count every review held, whatever its participation code.
    codes = ["PN1", "PN0", "PN8", "PLACEHOLDER_DATA", None]
    figures = run_kpi(warehouse, ["SAF14", "SAF18"], "2024-03", {
        "ssd_cp_plans": [cp_plan(f"P{n}", f"C{n}", "2024-01-02") for n in range(5)],
        "ssd_cp_reviews": [
            cp_review(f"R{n}", f"P{n}", "2024-03-20", due="2024-03-25" if n < 3 else "2024-03-19")
            | {"cppr_cp_review_participation": code} for n, code in enumerate(codes)],
        "ssd_cla_episodes": [cla_episode(f"E{n}", f"K{n}", f"C{n}", "2024-01-02", "2024-01-02")
                             for n in range(5)],
        "ssd_cla_reviews": [
            cla_review(f"V{n}", f"C{n}", "2024-03-20", due="2024-03-25" if n < 3 else "2024-03-19")
            | {"clar_cla_review_participation": code} for n, code in enumerate(codes)],
    })
    # every review is in the denominator: R0-R2 / V0-V2 on time (due 25 Mar), R3 / V3
    # (placeholder) and R4 / V4 (empty) late (due 19 Mar)
    assert figures.record_ids("SAF14") == ["R0", "R1", "R2", "R3", "R4"]
    assert figures.la("SAF14") == (60.0, 3, 5)
    assert figures.record_ids("SAF18") == ["V0", "V1", "V2", "V3", "V4"]
    assert figures.la("SAF18") == (60.0, 3, 5)


def test_saf14_empty(warehouse):
    figures = run_kpi(warehouse, "SAF14", "2024-03", {
        "ssd_cp_plans": [cp_plan("P1", "C1", "2023-12-31")],
        "ssd_cp_reviews": [cp_review("R1", "P1", "2024-04-01"), cp_review("S1", "P1", None, "2024-03-31")],
    })
    assert figures.la("SAF14") == (None, 0, 0)


def test_dd05_cp_review_overdue(warehouse):
    figures = run_kpi(warehouse, "DD05", "2024-03", {
        "ssd_cp_plans": [
            cp_plan("D1", "C1", "2023-12-31"),  # due 31 Mar = period_end: not overdue
            cp_plan("D2", "C2", "2023-12-30"),  # due 30 Mar: 1 day
            cp_plan("D3", "C3", "2023-06-01"),
            cp_plan("D4", "C4", "2023-06-01"),
            cp_plan("D5", "C5", "2023-06-01"),
            cp_plan("D6", "C6", "2023-01-01", "2024-03-31"),  # closed on period_end
            cp_plan("D7", "C7", "2024-04-01"),  # not started yet
            cp_plan("D8", "C8", "2023-06-01"),
        ],
        "ssd_cp_reviews": [
            cp_review("R3", "D3", "2023-08-31"),  # next 29 Feb (clamped): 31 days
            cp_review("R4", "D4", "2023-09-30", due="2023-10-01"),  # next 30 Mar: 1 day
            cp_review("S4", "D4", None, due="2024-04-30"),  # scheduled: ignored
            cp_review("R5", "D5", "2023-09-15"),  # next 15 Mar: 16 days
            cp_review("R5b", "D5", "2024-04-02"),  # after period_end: does not exist
            cp_review("R8a", "D8", "2023-08-31"),
            cp_review("R8b", "D8", "2023-10-01"),  # latest: next 1 Apr, not overdue
        ],
    })
    assert figures.la("DD05") == (4, 4, None)
    assert figures.measures("DD05") == {"D2": 1, "D3": 31, "D4": 1, "D5": 16}
    # plan start, the latest review held (none yet: empty) and the next review's due date
    assert figures.listed("DD05")["D3"] == ("2023-06-01", "2023-08-31", "2024-02-29")
    assert figures.listed("DD05")["D2"] == ("2023-12-30", None, "2024-03-30")
    assert figures.records.query("kpi_id == 'DD05' and record_id == 'D3'")["person_id"].item() == "C3"


def test_dd05_empty(warehouse):
    figures = run_kpi(warehouse, "DD05", "2024-03", {
        "ssd_cp_plans": [cp_plan("D1", "C1", "2023-12-31")]})
    assert figures.la("DD05") == (0, 0, None)


# --- SAF18 / DD07: CLA reviews in timescale -----------------------------------------

def test_saf18_cla_reviews_20_working_days_over_easter(warehouse):
    # 20 wd after Mon 4 Mar 2024 = Wed 3 Apr (Good Friday and Easter Monday skipped);
    # 20 wd after Sat 2 Mar = Tue 2 Apr; 20 wd after Mon 8 Jan = Mon 5 Feb.
    figures = run_kpi(warehouse, "SAF18", "2024-04", {
        "ssd_cla_episodes": [
            cla_episode("E1", "K1", "C1", "2024-03-04", "2024-03-04"),
            # starts after period_end: its earlier entry date does not exist yet
            cla_episode("E1b", "K1", "C1", "2024-05-02", "2024-02-01"),
            cla_episode("E2", "K2", "C2", "2024-03-04", "2024-03-04"),
            cla_episode("E3", "K3", "C3", "2024-03-02", "2024-03-02"),
            cla_episode("E4", "K4", "C4", "2024-01-08", "2024-01-08"),
            # the period of care's entry date is the earliest one
            cla_episode("E6a", "K6", "C6", "2024-03-04", "2024-03-04", "2024-03-25"),
            cla_episode("E6b", "K6", "C6", "2024-03-25", "2024-03-25"),
            cla_episode("E7", "K7", "C7", "2024-03-04", "2024-03-04"),
            cla_episode("E8", "K8", "C8", "2024-01-02", "2024-01-02"),
        ],
        "ssd_cla_reviews": [
            cla_review("V1", "C1", "2024-04-03"),  # due 3 Apr: on time
            cla_review("V1z", "C1", "2024-05-01"),  # after period_end
            cla_review("V2", "C2", "2024-04-04"),  # late
            cla_review("V3x", "C3", "2024-04-01", cancelled="Y"),  # outside the KPI
            cla_review("V3", "C3", "2024-04-02"),  # first (cancelled one skipped): on time
            cla_review("V4x", "C4", "2024-01-22", cancelled="Yes"),
            cla_review("V4a", "C4", "2024-01-25"),
            cla_review("V4b", "C4", "2024-04-26"),  # second: 25 Jan + 3 months: late
            cla_review("V6", "C6", "2024-04-10"),  # due 3 Apr from 4 Mar entry: late
            cla_review("V7", "C7", "2024-04-10", due="2024-04-12"),  # recorded due: on time
            cla_review("V8a", "C8", "2024-01-31"),
            cla_review("V8b", "C8", "2024-04-30"),  # 31 Jan + 3 months = 30 Apr: on time
        ],
    })
    assert figures.la("SAF18") == (57.1, 4, 7)
    assert figures.record_ids("SAF18") == ["V1", "V2", "V3", "V4b", "V6", "V7", "V8b"]
    assert figures.record_ids("SAF18", numerator_only=True) == ["V1", "V3", "V7", "V8b"]
    assert figures.records.query("kpi_id == 'SAF18' and record_id == 'V6'")["person_id"].item() == "K6"


def test_saf18_review_of_unknown_period_of_care_counts_in_denominator_only(warehouse):
    review = cla_review("V9", "C9", "2024-04-10") | {"clar_cla_person_id": "K9"}
    figures = run_kpi(warehouse, "SAF18", "2024-04", {"ssd_cla_reviews": [review]})
    assert figures.la("SAF18") == (0.0, 0, 1)
    assert figures.records.query("kpi_id == 'SAF18'")["person_id"].tolist() == ["K9"]


def test_saf18_empty(warehouse):
    # the only review in the period is cancelled; the held one is after period_end
    figures = run_kpi(warehouse, "SAF18", "2024-03", {
        "ssd_cla_episodes": [cla_episode("E1", "K1", "C1", "2024-03-04", "2024-03-04")],
        "ssd_cla_reviews": [cla_review("V1", "C1", "2024-04-03"),
                            cla_review("V1x", "C1", "2024-03-20", cancelled="Y")],
    })
    assert figures.la("SAF18") == (None, 0, 0)


def test_dd07_cla_review_overdue(warehouse):
    figures = run_kpi(warehouse, "DD07", "2024-04", {
        "ssd_cla_episodes": [
            cla_episode("E1", "K1", "C1", "2024-03-04", "2024-03-04"),  # due 3 Apr: 27 days
            # entered on Good Friday: 20 wd later = Mon 29 Apr: 1 day
            cla_episode("E2", "K2", "C2", "2024-03-29", "2024-03-29"),
            cla_episode("E3", "K3", "C3", "2024-03-04", "2024-03-04"),
            cla_episode("E4", "K4", "C4", "2023-10-02", "2023-10-02"),
            cla_episode("E5", "K5", "C5", "2023-10-02", "2023-10-02"),
            cla_episode("E6", "K6", "C6", "2023-06-01", "2023-06-01"),
            cla_episode("E7", "K7", "C7", "2024-03-04", "2024-03-04"),
            cla_episode("E8", "K8", "C8", "2023-01-01", "2023-01-01", "2024-04-30"),  # ceased
        ],
        "ssd_cla_reviews": [
            cla_review("R3", "C3", "2024-04-02"),  # one review: next 2 Jul
            cla_review("R4", "C4", "2024-01-30"),  # one review: next 30 Apr = period_end
            cla_review("R5", "C5", "2024-01-29"),  # one review: next 29 Apr: 1 day
            cla_review("R5x", "C5", "2024-04-10", cancelled="Y"),  # not a review held
            cla_review("R6a", "C6", "2023-06-20"),
            cla_review("R6b", "C6", "2023-10-25"),  # latest of 2: next 25 Apr: 5 days
            cla_review("R6c", "C6", "2024-05-02"),  # after period_end
            cla_review("S7", "C7", None, due="2024-05-15"),  # scheduled: ignored
        ],
    })
    assert figures.la("DD07") == (5, 5, None)
    assert figures.measures("DD07") == {"K1": 27, "K2": 1, "K5": 1, "K6": 5, "K7": 27}
    assert figures.listed("DD07")["K6"] == ("2023-06-01", "2023-10-25", "2024-04-25")
    assert figures.listed("DD07")["K1"] == ("2024-03-04", None, "2024-04-03")
    assert figures.records.query("kpi_id == 'DD07'")["person_id"].tolist() == \
        figures.records.query("kpi_id == 'DD07'")["record_id"].tolist()


# kpis.md: "Several open CLA episodes for one child at period_end (a recording error; the
# validation warns): the child's current episode is the open one with the latest start
# (ties: highest episode id), and the child's period of care began on the earliest
# clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".

def test_dd07_several_open_episodes(warehouse):
    # period_end 2024-04-30. 20 wd after Sun 1 Jan 2023 (Mon 2 Jan a bank holiday) =
    # Mon 30 Jan 2023; 20 wd after Fri 1 Dec 2023 (25/26 Dec, 1 Jan bank holidays) =
    # Wed 3 Jan 2024; 20 wd after Mon 8 Apr 2024 = Tue 7 May (6 May a bank holiday).
    figures = run_kpi(warehouse, "DD07", "2024-04", {
        "ssd_cla_episodes": [
            # K1: current = E1b (latest start, period of care C1b, no review held); the
            # period of care began 1 Jan 2023 (E1a): first review due 30 Jan 2023: 456 days.
            # On E1b's own entry date it would be due 14 May 2024: not overdue.
            cla_episode("E1a", "K1", "C1a", "2023-01-01", "2023-01-01"),
            cla_episode("E1b", "K1", "C1b", "2024-04-15", "2024-04-15"),
            # K2: same start: the highest id (E2b, C2b, no review) is current, not E2a
            # (whose C2a review of 31 Jan would make the next due 30 Apr = period_end);
            # began 1 Dec 2023 (E2a): due 3 Jan 2024: 118 days (on E2b's entry date
            # 8 Jan it would be 5 Feb: 85 days).
            cla_episode("E2a", "K2", "C2a", "2024-01-08", "2023-12-01"),
            cla_episode("E2b", "K2", "C2b", "2024-01-08", "2024-01-08"),
            # K3: a closed episode does not set the start: began 8 Apr 2024 (E3b), due
            # 7 May: not overdue (from E3a's 2022 entry it would be).
            cla_episode("E3a", "K3", "C3a", "2022-01-04", "2022-01-04", "2024-03-01"),
            cla_episode("E3b", "K3", "C3b", "2024-04-08", "2024-04-08"),
            cla_episode("E3c", "K3", "C3b", "2024-04-10", "2024-04-10"),
            # K4: two open episodes of one period of care with a review held: the next
            # due date comes from the review (29 Jan + 3 months = 29 Apr): 1 day.
            cla_episode("E4a", "K4", "C4", "2023-10-02", "2023-10-02"),
            cla_episode("E4b", "K4", "C4", "2024-02-01", "2024-02-01"),
        ],
        "ssd_cla_reviews": [
            cla_review("R2", "C2a", "2024-01-31"),
            cla_review("R4", "C4", "2024-01-29"),
        ],
    })
    assert figures.la("DD07") == (3, 3, None)
    assert figures.measures("DD07") == {"K1": 456, "K2": 118, "K4": 1}


def test_dd07_empty(warehouse):
    figures = run_kpi(warehouse, "DD07", "2024-04", {
        "ssd_cla_episodes": [cla_episode("E3", "K3", "C3", "2024-03-04", "2024-03-04")],
        "ssd_cla_reviews": [cla_review("R3", "C3", "2024-04-02")],
    })
    assert figures.la("DD07") == (0, 0, None)


# --- SAF19 / DD06: CLA visits within 6 weeks ----------------------------------------

# period_end 31 Mar 2024; 31 Mar - 42 days = 18 Feb 2024.
CLA_VISIT_TABLES = {
    "ssd_cla_episodes": [
        cla_episode("E1", "L1", "C1", "2024-01-01", "2024-01-01"),
        cla_episode("E2", "L2", "C2", "2024-01-01", "2024-01-01"),
        cla_episode("E3", "L3", "C3", "2024-02-18", "2024-02-18"),  # exactly 42 days: out
        cla_episode("E4", "L4", "C4", "2024-02-17", "2024-02-17"),  # 43 days: in
        cla_episode("E5", "L5", "C5", "2024-01-01", "2024-01-01"),
        cla_episode("E6", "L6", "C6", "2023-01-01", "2023-01-01", "2024-03-31"),  # ceased
        cla_episode("E7", "L7", "C7", "2023-06-01", "2023-06-01", "2024-04-10"),
        cla_episode("E8", "L8", "C8", "2023-01-01", "2023-01-01"),
    ],
    "ssd_cla_visits": [
        cla_visit("V1", "L1", "2024-02-18"),  # 42 days: within
        cla_visit("V2", "L2", "2024-02-17"),  # 43 days: not within
        cla_visit("V5", "L5", "2024-03-20", seen="N"),
        cla_visit("V5b", "L5", "2024-04-01"),  # after period_end
        cla_visit("V6", "L6", "2024-03-01"),
        cla_visit("V7", "L7", "2024-03-31"),  # on period_end (a Sunday)
        cla_visit("V8", "L8", "2024-03-01", seen="yes"),  # normalised to Y on load
    ],
}


def test_saf19_cla_visits_within_42_days(warehouse):
    figures = run_kpi(warehouse, "SAF19", "2024-03", CLA_VISIT_TABLES)
    assert figures.la("SAF19") == (50.0, 3, 6)
    assert figures.record_ids("SAF19") == ["L1", "L2", "L4", "L5", "L7", "L8"]
    assert figures.record_ids("SAF19", numerator_only=True) == ["L1", "L7", "L8"]


def test_dd06_lists_saf19_denominator_not_in_numerator(warehouse):
    figures = run_kpi(warehouse, ["SAF19", "DD06"], "2024-03", CLA_VISIT_TABLES)
    assert figures.la("DD06") == (3, 3, None)
    # days since last seen visit, else since entering care: L2 17 Feb -> 43;
    # L4 entered 17 Feb -> 43; L5 entered 1 Jan -> 90.
    assert figures.measures("DD06") == {"L2": 43, "L4": 43, "L5": 90}
    # entered care, last seen visit, 42 days after it (or entering care), days past that
    assert figures.listed("DD06") == {"L2": ("2024-01-01", "2024-02-17", "2024-03-30", 1),
                                      "L4": ("2024-02-17", None, "2024-03-30", 1),
                                      "L5": ("2024-01-01", None, "2024-02-12", 48)}
    saf19_out = set(figures.record_ids("SAF19")) - set(figures.record_ids("SAF19", True))
    assert set(figures.record_ids("DD06")) == saf19_out


def test_saf19_and_dd06_empty(warehouse):
    figures = run_kpi(warehouse, ["SAF19", "DD06"], "2024-03", {
        "ssd_cla_episodes": [cla_episode("E3", "L3", "C3", "2024-02-18", "2024-02-18")]})
    assert figures.la("SAF19") == (None, 0, 0)
    assert figures.la("DD06") == (0, 0, None)


def test_saf19_and_dd06_several_open_episodes(warehouse):
    # period_end 2024-03-31; 42 days before = 18 Feb 2024. The period of care began on
    # the earliest clae_entered_care_date among the open episodes (kpis.md decision).
    figures = run_kpi(warehouse, ["SAF19", "DD06"], "2024-03", {
        "ssd_cla_episodes": [
            # L1: current E1a entered 1 Mar (30 days) but E1b, also open, entered 5 Jan:
            # in the denominator; no visit: DD06, 86 days since 5 Jan.
            cla_episode("E1a", "L1", "C1", "2024-03-01", "2024-03-01"),
            cla_episode("E1b", "L1", "C1", "2024-01-05", "2024-01-05"),
            # L2: same start, the highest id (E2b, entered 20 Feb: 40 days) is current;
            # began 10 Jan (E2a): in; seen 1 Mar: in the numerator.
            cla_episode("E2a", "L2", "C2", "2024-02-20", "2024-01-10"),
            cla_episode("E2b", "L2", "C2", "2024-02-20", "2024-02-20"),
            # L3: the current episode has no entered-care date, the other open one does:
            # in; last seen 10 Feb: DD06, 50 days.
            cla_episode("E3a", "L3", "C3", "2024-03-05", None),
            cla_episode("E3b", "L3", "C3", "2023-12-01", "2023-12-01"),
            # L4: a closed episode does not set the start: began 1 Mar (30 days): out.
            cla_episode("E4a", "L4", "C4a", "2023-01-01", "2023-01-01", "2024-02-29"),
            cla_episode("E4b", "L4", "C4b", "2024-03-01", "2024-03-01"),
        ],
        "ssd_cla_visits": [
            cla_visit("V2", "L2", "2024-03-01"),
            cla_visit("V3", "L3", "2024-02-10"),
            cla_visit("V4", "L4", "2024-03-20"),
        ],
    })
    assert figures.record_ids("SAF19") == ["L1", "L2", "L3"]
    assert figures.record_ids("SAF19", numerator_only=True) == ["L2"]
    assert figures.la("SAF19") == (33.3, 1, 3)
    assert figures.la("DD06") == (2, 2, None)
    assert figures.measures("DD06") == {"L1": 86, "L3": 50}
