"""CMP01-CMP07 (kpis.md "Complaints, compliments, IRO and participation" and the binding
decisions), hand-computed on tiny tables, on SQLite and PostgreSQL.

Quarter 2024-Q1 = 1 January to 31 March 2024. Bank holidays met here: 25 and 26 December
2023, 1 January 2024, Good Friday 29 March and Easter Monday 1 April 2024.
working_days_between(a, b) counts the working days in (a, b]."""

from tests.kpi_harness import REGISTRY, run_kpi


def complaint(complaint_id, **fields) -> dict:
    return {"complaint_id": complaint_id, "stage": "1", "complainant_type": "parent or carer",
            "service_area": "Social Care", "team_id": "T1", **fields}


# --- CMP01 ----------------------------------------------------------------------------

CMP01_COMPLAINTS = [
    complaint("C1", received_date="2024-01-05", complainant_type="child or young person"),
    complaint("C2", received_date="2024-03-31", stage="LGSCO", service_area="Early Help", team_id="T2"),
    complaint("C3", received_date="2024-02-10", stage="2", complainant_type="other"),
    complaint("C4", received_date="2023-12-31"),  # before the quarter
    complaint("C5", received_date="2024-04-01"),  # after it
    complaint("C6", received_date="2024-02-01", stage="3", complainant_type=None),  # empty type: adult
]


def test_cmp01_counts_complaints_received_by_stage_complainant_and_service_area(warehouse):
    figures = run_kpi(warehouse, "CMP01", "2024-Q1", {"complaints": CMP01_COMPLAINTS})
    assert figures.la("CMP01") == (4, 4, None)
    assert figures.record_ids("CMP01") == ["C1", "C2", "C3", "C6"]
    assert [figures.la(f"CMP01:stage={s}")[0] for s in ("1", "2", "3", "Ombudsman")] == [1, 1, 1, 1]
    assert figures.la("CMP01:complainant=child or young person") == (1, 1, None)
    assert figures.la("CMP01:complainant=adult") == (3, 3, None)  # parent or carer, other, empty
    assert figures.la("CMP01:service_area=Social Care") == (3, 3, None)
    assert figures.la("CMP01:service_area=Early Help") == (1, 1, None)
    assert figures.get("CMP01", "team", "T2") == (1, 1, None)  # the complaint's own team


def test_cmp01_for_a_month_and_a_financial_year_half(warehouse):
    tables = {"complaints": CMP01_COMPLAINTS}
    assert run_kpi(warehouse, "CMP01", "2024-02", tables).la("CMP01") == (2, 2, None)
    # 2023-24-H2 = October 2023 to March 2024
    assert run_kpi(warehouse, "CMP01", "2023-24-H2", tables).la("CMP01") == (5, 5, None)


# --- CMP02 ----------------------------------------------------------------------------

CMP02_COMPLAINTS = [
    # 15 Dec 2023 (Fri) to 3 Jan 2024: 18-22, 27-29 Dec, 2-3 Jan = 10 (25, 26 Dec and 1 Jan closed)
    complaint("A1", received_date="2023-12-15", response_date="2024-01-03"),
    complaint("A2", received_date="2023-12-15", response_date="2024-01-04"),  # 11
    # extended: 26 Feb to 21 Mar 2024 = 18 working days, within 20
    complaint("A3", received_date="2024-02-26", response_date="2024-03-21", extended="Y"),
    complaint("A4", received_date="2024-03-14", response_date="2024-03-28"),  # 10
    complaint("A5", received_date="2024-01-08", response_date="2024-01-10", outcome="withdrawn"),  # 2
    complaint("A6", received_date=None, response_date="2024-02-01"),  # no received date
    complaint("A7", stage="2", received_date="2024-01-08", response_date="2024-01-10"),  # stage 2
    complaint("A8", received_date="2024-03-25", response_date="2024-04-02"),  # answered next quarter
    complaint("A9", received_date="2024-01-02"),  # not answered
    complaint("A10", received_date="2024-02-26", response_date="2024-03-21", extended="N"),  # 18 > 10
]


def test_cmp02_stage_1_within_10_or_20_extended_working_days(warehouse):
    figures = run_kpi(warehouse, "CMP02", "2024-Q1", {"complaints": CMP02_COMPLAINTS})
    assert figures.la("CMP02") == (57.1, 4, 7)
    assert figures.record_ids("CMP02") == ["A1", "A10", "A2", "A3", "A4", "A5", "A6"]
    assert figures.record_ids("CMP02", numerator_only=True) == ["A1", "A3", "A4", "A5"]
    measures = figures.records[figures.records["kpi_id"] == "CMP02"].set_index("record_id")["measure"]
    assert measures[["A1", "A2", "A3", "A4", "A5", "A10"]].tolist() == [10, 11, 18, 10, 2, 18]


def test_cmp02_working_days_skip_easter(warehouse):
    """20 Mar to 4 Apr 2024: 21-22, 25-28 Mar, 2-4 Apr = 9 (Good Friday and Easter Monday
    closed); counting every weekday it would be 11, late."""
    figures = run_kpi(warehouse, "CMP02", "2024-Q2", {"complaints": [
        complaint("E1", received_date="2024-03-20", response_date="2024-04-04")]})
    assert figures.la("CMP02") == (100.0, 1, 1)


# --- CMP03 ----------------------------------------------------------------------------

def test_cmp03_stage_2_within_25_or_65_extended_working_days(warehouse):
    figures = run_kpi(warehouse, "CMP03", "2024-Q1", {"complaints": [
        # 8 Jan (Mon) to 12 Feb 2024 = 25 working days
        complaint("B1", stage="2", received_date="2024-01-08", response_date="2024-02-12"),
        complaint("B2", stage="2", received_date="2024-01-08", response_date="2024-02-13"),  # 26
        complaint("B3", stage="2", received_date="2024-01-08", response_date="2024-02-13", extended="Y"),
        complaint("B4", stage="1", received_date="2024-01-08", response_date="2024-01-09"),  # stage 1
        complaint("B5", stage="2", received_date="2024-01-08", response_date="2024-02-13",
                  outcome="withdrawn"),  # withdrawn with a response: included
    ]})
    assert figures.la("CMP03") == (50.0, 2, 4)
    assert figures.record_ids("CMP03", numerator_only=True) == ["B1", "B3"]


# --- CMP04 ----------------------------------------------------------------------------

def test_cmp04_upheld_or_partially_upheld_of_complaints_responded_in_period(warehouse):
    figures = run_kpi(warehouse, "CMP04", "2024-Q1", {"complaints": [
        complaint("D1", received_date="2024-01-02", response_date="2024-01-10", outcome="upheld"),
        complaint("D2", received_date="2024-01-02", response_date="2024-02-10", outcome="Partially Upheld"),
        complaint("D3", received_date="2024-01-02", response_date="2024-03-10", outcome="not upheld"),
        complaint("D4", received_date="2024-01-02", response_date="2024-03-11", outcome="withdrawn"),
        complaint("D5", stage="2", received_date="2024-01-02", response_date="2024-03-31", outcome=" upheld "),
        complaint("D6", received_date="2024-03-02", response_date="2024-04-01", outcome="upheld"),  # later
        complaint("D7", received_date="2024-03-02", outcome="upheld"),  # no response
    ]})
    assert figures.la("CMP04") == (60.0, 3, 5)
    assert figures.la("CMP04:upheld") == (40.0, 2, 5)
    assert figures.la("CMP04:partially_upheld") == (20.0, 1, 5)
    assert figures.record_ids("CMP04", numerator_only=True) == ["D1", "D2", "D5"]


# --- CMP05 ----------------------------------------------------------------------------

CMP05_COMPLAINTS = [
    complaint("S1", received_date="2024-01-20", response_date="2024-02-01"),
    complaint("E1", stage="2", parent_complaint_id="S1", received_date="2024-04-15"),
    complaint("S2", received_date="2024-03-01", response_date="2024-03-31"),
    complaint("E2", stage="2", parent_complaint_id="S2", received_date="2024-07-01"),  # after 2024-Q2
    complaint("S3", received_date="2024-01-02", response_date="2024-01-10", outcome="withdrawn"),
    complaint("S4", received_date="2024-03-20", response_date="2024-04-02"),  # answered in Q2
    complaint("E4", stage="2", parent_complaint_id="S4", received_date="2024-05-01"),
    complaint("S5", received_date="2023-12-01", response_date="2023-12-29"),  # answered in 2023-Q4
    complaint("S6", received_date="2024-02-01", response_date="2024-03-01"),
    complaint("E6", stage="3", parent_complaint_id="S6", received_date="2024-04-10"),  # not stage 2
    complaint("S7", received_date="2024-02-01", response_date="2024-02-20"),
    complaint("E7a", stage="2", parent_complaint_id="S7", received_date="2024-03-01"),
    complaint("E7b", stage="2", parent_complaint_id="S7", received_date="2024-04-01"),
]


def test_cmp05_stage_1_of_the_previous_quarter_escalated_by_period_end(warehouse):
    figures = run_kpi(warehouse, "CMP05", "2024-Q2", {"complaints": CMP05_COMPLAINTS})
    # responded in 2024-Q1: S1, S2, S3, S6, S7; escalated to stage 2 by 30 June: S1, S7
    assert figures.la("CMP05") == (40.0, 2, 5)
    assert figures.record_ids("CMP05") == ["S1", "S2", "S3", "S6", "S7"]
    assert figures.record_ids("CMP05", numerator_only=True) == ["S1", "S7"]


def test_cmp05_for_a_half_is_its_first_quarter(warehouse):
    """2024-25-H1 ends 30 September: the quarter before July-September is April-June."""
    figures = run_kpi(warehouse, "CMP05", "2024-25-H1", {"complaints": CMP05_COMPLAINTS})
    assert figures.la("CMP05") == (100.0, 1, 1)
    assert figures.record_ids("CMP05") == ["S4"]


# --- CMP06 ----------------------------------------------------------------------------

def test_cmp06_compliments_by_team_and_theme(warehouse):
    figures = run_kpi(warehouse, "CMP06", "2024-Q1", {"compliments": [
        {"compliment_id": "K1", "received_date": "2024-01-01", "team_id": "T1", "theme": "support"},
        {"compliment_id": "K2", "received_date": "2024-03-31", "team_id": "T1", "theme": "communication"},
        {"compliment_id": "K3", "received_date": "2024-02-02", "team_id": "T2", "theme": "support"},
        {"compliment_id": "K4", "received_date": "2024-04-01", "team_id": "T2", "theme": "support"},
        {"compliment_id": "K5", "received_date": "2023-12-31", "team_id": "T2", "theme": "support"},
        {"compliment_id": "K6", "received_date": "2024-02-03", "team_id": "T2", "theme": None},
    ]})
    assert figures.la("CMP06") == (4, 4, None)
    assert figures.ids("CMP06") == ["CMP06", "CMP06:theme=communication", "CMP06:theme=support"]
    assert figures.la("CMP06:theme=support") == (2, 2, None)
    assert figures.get("CMP06", "team", "T1") == (2, 2, None)
    assert figures.get("CMP06", "team", "T2") == (2, 2, None)
    assert figures.get("CMP06:theme=support", "team", "T2") == (1, 1, None)


# --- CMP07 ----------------------------------------------------------------------------

def action(action_id, **fields) -> dict:
    return {"action_id": action_id, "source": "complaint", "owner_id": "W1", "raised_date": "2024-01-01",
            **fields}


def test_cmp07_learning_actions_open_and_overdue_at_period_end(warehouse):
    figures = run_kpi(warehouse, "CMP07", "2024-Q1", {"learning_actions": [
        action("L1", due_date="2024-03-01"),  # open, 30 days overdue
        action("L2", due_date="2024-03-31"),  # due on period_end: not overdue
        action("L3", due_date="2024-03-30", completed_date="2024-03-31"),  # closed on period_end
        action("L4", due_date="2024-03-01", completed_date="2024-04-05", owner_id="W2"),  # done later: open
        action("L5", raised_date="2024-04-01", due_date="2024-03-01"),  # raised after period_end
        action("L6", due_date=None),  # no due date: not overdue
        action("L7", due_date="2024-03-01", completed_date="2024-02-01"),  # completed
    ]})
    assert figures.la("CMP07") == (2, 2, None)
    assert figures.record_ids("CMP07") == ["L1", "L4"]
    assert figures.measures("CMP07") == {"L1": 30, "L4": 30}
    assert figures.get("CMP07", "worker", "W2") == (1, 1, None)  # the action's owner


def test_a_shared_rule_does_not_widen_what_a_failure_withholds():
    """complaints.outcome and received_date carry critical rules: CMP02/CMP03 do not read
    the outcome, CMP04 not the received date (sql/common/complaints_responded is a filter)."""
    assert "outcome" not in REGISTRY["CMP02"].source_columns["complaints"]
    assert "received_date" not in REGISTRY["CMP04"].source_columns["complaints"]
    assert "source" not in REGISTRY["CMP07"].source_columns["learning_actions"]
