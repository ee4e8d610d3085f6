"""IRO01-IRO05 (kpis.md "Complaints, compliments, IRO and participation" and the binding
decisions), hand-computed on tiny tables, on SQLite and PostgreSQL.

Quarter 2024-Q1 = 1 January to 31 March 2024 (a Sunday). Bank holidays met here: 25 and
26 December 2023, 1 January 2024 and Good Friday 29 March 2024. working_days_between(a, b)
counts the working days in (a, b]."""

from tests.kpi_harness import run_kpi


def alert(drp_id, **fields) -> dict:
    return {"drp_id": drp_id, "person_id": f"P-{drp_id}", "iro_id": "I1", "team_id": "T1",
            "stage": "informal", "theme": "placement", **fields}


# --- IRO01 ----------------------------------------------------------------------------

def allocated(person_id, worker, team) -> dict:
    return {"invo_involvements_id": f"INV-{person_id}", "invo_professional_id": worker,
            "invo_professional_role_id": "ALLOCATED CASE WORKER", "invo_professional_team": team,
            "invo_involvement_start_date": "2023-01-01", "invo_person_id": person_id}


def test_iro01_alerts_raised_by_stage_theme_and_team(warehouse):
    figures = run_kpi(warehouse, "IRO01", "2024-Q1", {"iro_drp_alerts": [
        alert("R1", raised_date="2024-01-15"),
        alert("R2", raised_date="2024-03-31", stage="1", theme="health", team_id="T2", iro_id="I2"),
        alert("R3", raised_date="2024-02-01", stage="Cafcass", person_id="P3", team_id="T1"),
        alert("R4", raised_date="2024-04-01"),
        alert("R5", raised_date="2023-12-31"),
    ], "ssd_involvements": [allocated("P3", "W3", "T3")]})
    assert figures.la("IRO01") == (3, 3, None)
    assert [figures.la(f"IRO01:stage={s}")[0] for s in ("informal", "1", "2", "3", "Cafcass")] == [1, 1, 0, 0, 1]
    assert figures.la("IRO01:theme=placement") == (2, 2, None)
    assert figures.la("IRO01:theme=health") == (1, 1, None)
    # the child's allocated worker and team at period_end, else the alert's team
    assert figures.get("IRO01", "team", "T1") == (1, 1, None)
    assert figures.get("IRO01", "team", "T3") == (1, 1, None)
    assert figures.get("IRO01", "worker", "W3") == (1, 1, None)
    assert figures.get("IRO01", "worker", "Unallocated") == (2, 2, None)  # not the IRO


# --- IRO02 ----------------------------------------------------------------------------

def test_iro02_resolved_within_20_working_days(warehouse):
    figures = run_kpi(warehouse, "IRO02", "2024-Q1", {"iro_drp_alerts": [
        # 18 Dec 2023 (Mon) to 18 Jan 2024: 19-22, 27-29 Dec, 2-5, 8-12, 15-18 Jan = 20
        alert("G1", raised_date="2023-12-18", resolved_date="2024-01-18"),
        alert("G2", raised_date="2023-12-18", resolved_date="2024-01-19"),  # 21
        alert("G3", raised_date=None, resolved_date="2024-02-01"),  # no raised date: denominator only
        alert("G4", raised_date="2024-03-20", resolved_date="2024-04-02"),  # resolved next quarter
        alert("G5", raised_date="2024-03-20"),  # open
    ]})
    assert figures.la("IRO02") == (33.3, 1, 3)
    assert figures.record_ids("IRO02") == ["G1", "G2", "G3"]
    assert figures.measures("IRO02") == {"G1": 20}


# --- IRO03 ----------------------------------------------------------------------------

def test_iro03_open_over_20_working_days_at_period_end(warehouse):
    figures = run_kpi(warehouse, "IRO03", "2024-Q1", {"iro_drp_alerts": [
        # 29 Feb to Sunday 31 Mar 2024: 1, 4-8, 11-15, 18-22, 25-28 Mar = 20 (Good Friday closed)
        alert("O1", raised_date="2024-02-29"),  # exactly 20: not an exception
        alert("O2", raised_date="2024-02-28"),  # 21
        alert("O3", raised_date="2024-01-02", resolved_date="2024-03-31"),  # resolved on period_end
        alert("O4", raised_date="2024-01-02", resolved_date="2024-04-03", person_id="P9"),  # resolved later
        alert("O5", raised_date="2024-04-01"),  # not raised yet
        alert("O6", raised_date=None),  # no raised date: not shown to be open 20 days
    ]})
    assert figures.la("IRO03") == (2, 2, None)
    assert figures.record_ids("IRO03") == ["O2", "O4"]
    # O4: 2 Jan to 28 Mar 2024 = 21 (Jan) + 21 (Feb) + 20 (Mar)
    assert figures.measures("IRO03") == {"O2": 21, "O4": 62}
    rows = figures.records[figures.records["kpi_id"] == "IRO03"]
    assert sorted(rows["person_id"]) == ["P-O2", "P9"]  # a child-level list


# --- IRO04 ----------------------------------------------------------------------------

def cla_review(review_id, day, code, **fields) -> dict:
    return {"clar_cla_review_id": review_id, "clar_cla_id": "CLA1", "clar_cla_person_id": "P1",
            "clar_cla_review_date": day, "clar_cla_review_participation": code, **fields}


def cp_review(review_id, day, code, **fields) -> dict:
    return {"cppr_cp_review_id": review_id, "cppr_person_id": "P2", "cppr_cp_plan_id": "CP1",
            "cppr_cp_review_date": day, "cppr_cp_review_participation": code, **fields}


def test_iro04_participation_pn1_to_pn6_of_reviews_coded_pn1_to_pn7(warehouse):
    figures = run_kpi(warehouse, "IRO04", "2024-Q1", {
        "ssd_cla_reviews": [
            cla_review("V1", "2024-01-10", "PN1"),
            cla_review("V2", "2024-02-10", "pn6 "),  # read trimmed, in upper case
            cla_review("V3", "2024-02-11", "PN7"),  # did not take part: denominator only
            cla_review("V4", "2024-02-12", "PN0"),  # under 4: outside both
            cla_review("V5", "2024-02-13", "PN8"),  # another value: outside both
            cla_review("V6", "2024-02-14", None),
            cla_review("V7", "2024-02-15", "PN1", clar_cla_review_cancelled="Y"),  # cancelled
            cla_review("V8", "2024-04-01", "PN1"),  # next quarter
            cla_review("V9", None, "PN1", clar_cla_review_due_date="2024-02-01"),  # scheduled only
        ],
        "ssd_cp_reviews": [
            cp_review("W1", "2024-03-01", "PN3"),
            cp_review("W2", "2024-03-02", "PN7"),
            cp_review("W3", "2024-03-03", "PN0"),
        ]})
    assert figures.la("IRO04") == (60.0, 3, 5)
    assert figures.record_ids("IRO04") == ["V1", "V2", "V3", "W1", "W2"]
    assert figures.record_ids("IRO04", numerator_only=True) == ["V1", "V2", "W1"]


def test_iro04_for_a_month(warehouse):
    figures = run_kpi(warehouse, "IRO04", "2024-02", {"ssd_cla_reviews": [
        cla_review("V2", "2024-02-10", "PN6"), cla_review("V3", "2024-02-11", "PN7"),
        cla_review("V1", "2024-01-10", "PN1")]})
    assert figures.la("IRO04") == (50.0, 1, 2)


# --- IRO05 ----------------------------------------------------------------------------

def form(form_id, meeting_type, person_id, day) -> dict:
    return {"form_id": form_id, "meeting_type": meeting_type, "person_id": person_id, "meeting_date": day,
            "iro_id": "I1"}


def test_iro05_forms_match_meetings_on_type_child_and_date(warehouse):
    figures = run_kpi(warehouse, "IRO05", "2024-Q1", {
        "ssd_cla_reviews": [
            cla_review("M1", "2024-01-10", "PN1", clar_cla_person_id="P1"),
            cla_review("M2", "2024-01-11", "PN1", clar_cla_person_id="P2"),
            cla_review("M3", "2024-01-12", "PN1", clar_cla_person_id="P3", clar_cla_review_cancelled="Y"),
            # no person on the review: the child of its period of care
            cla_review("M4", "2024-02-01", "PN1", clar_cla_person_id=None, clar_cla_id="CLA4"),
        ],
        "ssd_cla_episodes": [{"clae_cla_episode_id": "EP4", "clae_person_id": "P4", "clae_cla_id": "CLA4",
                              "clae_cla_episode_start_date": "2023-05-01", "clae_entered_care_date": "2023-05-01"}],
        "ssd_cp_reviews": [cp_review("N1", "2024-02-05", "PN1", cppr_person_id="P5"),
                           cp_review("N2", "2024-02-06", "PN1", cppr_person_id="P6")],
        "ssd_initial_cp_conference": [
            {"icpc_icpc_id": "I1", "icpc_person_id": "P7", "icpc_icpc_date": "2024-03-04",
             "icpc_icpc_transfer_in": "Y", "icpc_icpc_team": "T7"},  # transfer-ins included
            {"icpc_icpc_id": "I2", "icpc_person_id": "P8", "icpc_icpc_date": "2024-03-05"},
            {"icpc_icpc_id": "I3", "icpc_person_id": "P9", "icpc_icpc_date": "2024-04-02"},  # next quarter
        ],
        "iro_monitoring_forms": [
            form("F1", "CLA review", "P1", "2024-01-10"),
            form("F2", "CP review", "P2", "2024-01-11"),  # another type of meeting
            form("F3", "CLA review", "P3", "2024-01-12"),  # for a cancelled review
            form("F4", "CLA review", "P4", "2024-02-01"),
            form("F5", "CP review", "P5", "2024-02-05"),
            form("F6", "CP review", "P6", "2024-02-07"),  # another date
            form("F7", "ICPC", "P7", "2024-03-04"),
            form("F9", "ICPC", "P9", "2024-04-02"),
        ]})
    assert figures.la("IRO05") == (57.1, 4, 7)
    assert figures.record_ids("IRO05") == ["I1", "I2", "M1", "M2", "M4", "N1", "N2"]
    assert figures.record_ids("IRO05", numerator_only=True) == ["I1", "M1", "M4", "N1"]
    assert figures.get("IRO05", "team", "T7") == (100.0, 1, 1)  # the ICPC's team (no allocated worker)
