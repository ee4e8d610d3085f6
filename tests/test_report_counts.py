"""The plain counts of the complaints and DRP reports that kpis.md does not define
(sql/reports/: complaint themes, DRP outcomes, learning actions raised, completed and
overdue), hand-worked on tiny tables, on SQLite and PostgreSQL, for a quarter, a
financial-year half and a financial year; and their suppression in the report tables."""

from __future__ import annotations

import pandas as pd

from tasks.core.periods import Period
from tasks.reports.quarterly import COUNT_TABLES, count_table, report_counts
from tests.kpi_harness import load_tables, run_kpi


def counts(warehouse, period: str, tables: dict) -> dict[str, dict]:
    load_tables(warehouse, tables)
    found = report_counts(warehouse, Period.parse(period))
    return {name: {str(r["name"]): {c: int(v) for c, v in r.items() if c != "name"}
                   for r in rows.to_dict("records")} for name, rows in found.items()}


COMPLAINTS = [
    {"complaint_id": "C1", "received_date": "2024-01-05", "stage": "1", "category": "Communication"},
    {"complaint_id": "C2", "received_date": "2024-03-31", "stage": "LGSCO", "category": " Communication "},
    {"complaint_id": "C3", "received_date": "2024-02-10", "stage": "2", "category": "Delay"},
    {"complaint_id": "C4", "received_date": "2024-02-11", "stage": "1", "category": None},   # not recorded
    {"complaint_id": "C5", "received_date": "2023-12-31", "stage": "1", "category": "Delay"},  # Q4 2023
    {"complaint_id": "C6", "received_date": "2024-04-01", "stage": "1", "category": "Delay"},  # Q2 2024
]


def test_complaint_themes_count_the_complaints_received_in_the_period(warehouse):
    found = counts(warehouse, "2024-Q1", {"complaints": COMPLAINTS})["complaint_themes"]
    assert found == {"Communication": {"complaints": 2}, "Delay": {"complaints": 1},
                     "Not recorded": {"complaints": 1}}
    # the themes add up to CMP01 (the same population)
    assert run_kpi(warehouse, "CMP01", "2024-Q1", {"complaints": COMPLAINTS}).la("CMP01")[0] == 4
    # 2023-24-H2 = October 2023 to March 2024: C5 too; 2024-25 = April 2024 to March 2025: C6 only
    assert counts(warehouse, "2023-24-H2", {"complaints": COMPLAINTS})["complaint_themes"]["Delay"] == {
        "complaints": 2}
    assert counts(warehouse, "2024-25", {"complaints": COMPLAINTS})["complaint_themes"] == {
        "Delay": {"complaints": 1}}


ALERTS = [
    {"drp_id": "D1", "raised_date": "2024-01-02", "resolved_date": "2024-01-20", "outcome": "resolved"},
    {"drp_id": "D2", "raised_date": "2023-12-01", "resolved_date": "2024-03-31", "outcome": "Escalated "},
    {"drp_id": "D3", "raised_date": "2024-02-01", "resolved_date": "2024-02-05", "outcome": "withdrawn"},
    {"drp_id": "D4", "raised_date": "2024-02-01", "resolved_date": "2024-02-06", "outcome": None},
    {"drp_id": "D5", "raised_date": "2024-03-01", "resolved_date": None, "outcome": None},       # open
    {"drp_id": "D6", "raised_date": "2024-03-01", "resolved_date": "2024-04-01", "outcome": "resolved"},  # Q2
    {"drp_id": "D7", "raised_date": "2024-01-03", "resolved_date": "2024-03-01", "outcome": "resolved"},
]


def test_drp_outcomes_count_the_alerts_closed_in_the_period(warehouse):
    found = counts(warehouse, "2024-Q1", {"iro_drp_alerts": ALERTS})["drp_outcomes"]
    assert found == {"resolved": {"alerts": 2}, "escalated": {"alerts": 1}, "withdrawn": {"alerts": 1},
                     "not recorded": {"alerts": 1}}
    # they add up to IRO02's denominator (alerts with resolved_date in period)
    assert run_kpi(warehouse, "IRO02", "2024-Q1", {"iro_drp_alerts": ALERTS}).la("IRO02")[2] == 5
    assert counts(warehouse, "2024-25-H1", {"iro_drp_alerts": ALERTS})["drp_outcomes"] == {
        "resolved": {"alerts": 1}}


ACTIONS = [
    # raised and completed in Q1
    {"action_id": "L1", "source": "complaint", "raised_date": "2024-01-10", "due_date": "2024-02-10",
     "completed_date": "2024-02-01"},
    # raised in Q1, open and overdue at 31 March
    {"action_id": "L2", "source": "Complaint", "raised_date": "2024-01-10", "due_date": "2024-03-30"},
    # due on period_end: not overdue (strict)
    {"action_id": "L3", "source": "audit", "raised_date": "2024-02-01", "due_date": "2024-03-31"},
    # raised before the quarter, completed after it: open and overdue, completed not yet
    {"action_id": "L4", "source": "drp", "raised_date": "2023-11-01", "due_date": "2023-12-01",
     "completed_date": "2024-04-02"},
    # completed on period_end: closed, completed in the quarter
    {"action_id": "L5", "source": "drp", "raised_date": "2023-11-01", "due_date": "2023-12-01",
     "completed_date": "2024-03-31"},
    # raised after the quarter: nothing
    {"action_id": "L6", "source": "review", "raised_date": "2024-04-01", "due_date": "2024-04-02"},
    # no source
    {"action_id": "L7", "source": None, "raised_date": "2024-03-01", "due_date": "2024-03-02"},
]


def test_learning_actions_raised_completed_and_overdue_by_source(warehouse):
    found = counts(warehouse, "2024-Q1", {"learning_actions": ACTIONS})["learning_actions_by_source"]
    assert found == {"complaint": {"raised": 2, "completed": 1, "overdue": 1},
                     "audit": {"raised": 1, "completed": 0, "overdue": 0},
                     "drp": {"raised": 0, "completed": 1, "overdue": 1},
                     "not recorded": {"raised": 1, "completed": 0, "overdue": 1}}
    # the overdue counts add up to CMP07 (the same rule)
    cmp07 = run_kpi(warehouse, "CMP07", "2024-Q1", {"learning_actions": ACTIONS}).la("CMP07")[0]
    assert sum(row["overdue"] for row in found.values()) == cmp07 == 3
    # 2024-25 (April 2024 to March 2025): L6 raised; L4 completed; at 31 March 2025 L2, L3, L6, L7 overdue
    year = counts(warehouse, "2024-25", {"learning_actions": ACTIONS})["learning_actions_by_source"]
    assert year == {"complaint": {"raised": 0, "completed": 0, "overdue": 1},
                    "audit": {"raised": 0, "completed": 0, "overdue": 1},
                    "drp": {"raised": 0, "completed": 1, "overdue": 0},
                    "review": {"raised": 1, "completed": 0, "overdue": 1},
                    "not recorded": {"raised": 0, "completed": 0, "overdue": 1}}


def test_a_count_whose_table_failed_a_critical_rule_is_left_out(warehouse):
    load_tables(warehouse, {"complaints": COMPLAINTS})
    found = report_counts(warehouse, Period.parse("2024-Q1"), failed_tables=["complaints"])
    assert set(found) == {"drp_outcomes", "learning_actions_by_source"}


def test_no_count_table_reveals_a_count_of_one_to_four():
    rows = pd.DataFrame({"name": ["Communication", "Delay", "Placement", "Not recorded"],
                         "complaints": [12, 3, 7, 0]})
    table = count_table(COUNT_TABLES["complaint_themes"], rows)
    assert [(r["name"], r["cells"]) for r in table["rows"]] == [
        ("Communication", ["12"]), ("Delay", ["<5"]), ("Placement", ["7"]),
        # the lone <5 takes the smallest other with it: 22 - 12 - 7 would give Delay's 3
        ("Not recorded", ["*"]), ("Total", ["22"])]
    # each column on its own: two small counts hide each other and their total of 1-4 is
    # <5 too; a lone 4 beside 9 takes the 9 with it (13 - 9 would give it)
    rows = pd.DataFrame({"name": ["complaint", "audit"], "raised": [2, 1], "completed": [0, 6],
                         "overdue": [4, 9]})
    table = count_table(COUNT_TABLES["learning_actions_by_source"], rows)
    assert [(r["name"], r["cells"]) for r in table["rows"]] == [
        ("audit", ["<5", "6", "*"]), ("complaint", ["<5", "0", "<5"]), ("Total", ["<5", "6", "13"])]
    assert count_table(COUNT_TABLES["drp_outcomes"], rows.iloc[0:0]) is None
