"""SUR01 and SUR02 (kpis.md "Complaints, compliments, IRO and participation" and the
binding decisions), hand-computed on tiny tables, on SQLite and PostgreSQL.
Quarter 2024-Q1 = 1 January to 31 March 2024."""

from tests.kpi_harness import run_kpi

QUESTIONS = [
    {"survey_id": "SV01", "question_id": "Q1", "scale": "likert5", "positive_values": "4;5"},
    {"survey_id": "SV01", "question_id": "Q2", "scale": "likert5", "positive_values": "Agree; Strongly agree"},
    {"survey_id": "SV01", "question_id": "Q3", "scale": "yes_no", "positive_values": "Yes"},
    {"survey_id": "SV02", "question_id": "Q1", "scale": "likert5", "positive_values": "4;5"},
    {"survey_id": "YP/2024", "question_id": "Q1", "scale": "likert5", "positive_values": "4;5"},
]


def answers(response_id, survey_id, respondent_type, day, team_id, **by_question) -> list[dict]:
    return [{"survey_id": survey_id, "response_id": response_id, "respondent_type": respondent_type,
             "submitted_date": day, "team_id": team_id, "question_id": question, "answer": answer}
            for question, answer in by_question.items()]


CHILD, PARENT = "child or young person", "parent or carer"
RESPONSES = [
    *answers("R1", "SV01", CHILD, "2024-01-10", "T1", Q1="5", Q2="strongly agree", Q3="Yes"),
    *answers("R2", "SV01", CHILD, "2024-02-10", "T1", Q1="3", Q2="", Q3="No"),  # Q2 blank: not an answer
    *answers("R3", "SV01", PARENT, "2024-03-31", "T2", Q1="6", Q2="Agree"),  # 6: outside the scale
    *answers("R4", "SV02", "foster carer", "2024-02-01", None, Q1="4"),
    *answers("R5", "SV01", CHILD, "2024-04-01", "T1", Q1="5"),  # next quarter
    *answers("R6", "SV01", CHILD, "2023-12-31", "T1", Q1="5"),  # last quarter
    *answers("R7", "YP/2024", CHILD, "2024-01-20", "T2", Q1=" 4 "),
]
TABLES = {"survey_questions": QUESTIONS, "survey_responses": RESPONSES}


def test_sur01_counts_distinct_responses_by_survey_respondent_type_and_team(warehouse):
    figures = run_kpi(warehouse, "SUR01", "2024-Q1", TABLES)
    assert figures.la("SUR01") == (5, 5, None)
    assert figures.record_ids("SUR01") == ["R1", "R2", "R3", "R4", "R7"]
    assert figures.la("SUR01:survey=SV01") == (3, 3, None)
    assert figures.la("SUR01:survey=SV02") == (1, 1, None)
    assert figures.la("SUR01:survey=YP%2F2024") == (1, 1, None)  # "/" in a value is percent-encoded
    assert figures.la(f"SUR01:respondent_type={CHILD}") == (3, 3, None)
    assert figures.la(f"SUR01:respondent_type={PARENT}") == (1, 1, None)
    assert figures.la("SUR01:respondent_type=foster carer") == (1, 1, None)
    assert figures.get("SUR01", "team", "T1") == (2, 2, None)
    assert figures.get("SUR01", "team", "Unallocated") == (1, 1, None)  # no team on the response


def test_sur02_positive_answers_to_likert_questions(warehouse):
    figures = run_kpi(warehouse, "SUR02", "2024-Q1", TABLES)
    # answers: R1 Q1 5 (+), R1 Q2 strongly agree (+), R2 Q1 3, R3 Q1 6 (outside the scale:
    # an answer, not positive), R3 Q2 Agree (+), R4 Q1 4 (+), R7 Q1 4 (+); yes/no and blank left out
    assert figures.la("SUR02") == (71.4, 5, 7)
    assert figures.record_ids("SUR02") == ["R1/Q1", "R1/Q2", "R2/Q1", "R3/Q1", "R3/Q2", "R4/Q1", "R7/Q1"]
    assert figures.la("SUR02:question=SV01/Q1") == (33.3, 1, 3)
    assert figures.la(f"SUR02:question=SV01/Q1:respondent_type={CHILD}") == (50.0, 1, 2)
    assert figures.la(f"SUR02:question=SV01/Q1:respondent_type={PARENT}") == (0.0, 0, 1)
    assert figures.la("SUR02:question=SV01/Q2") == (100.0, 2, 2)
    assert figures.la("SUR02:question=SV02/Q1") == (100.0, 1, 1)
    # the parts of <survey_id>/<question_id> are percent-encoded, the "/" between them is not
    assert figures.la("SUR02:question=YP%2F2024/Q1") == (100.0, 1, 1)
    assert not [i for i in figures.ids("SUR02") if "Q3" in i]


def test_sur02_for_a_month(warehouse):
    figures = run_kpi(warehouse, "SUR02", "2024-03", TABLES)
    assert figures.la("SUR02") == (50.0, 1, 2)  # R3's two answers
