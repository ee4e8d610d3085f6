"""Example of the per-KPI test pattern (the given/expect fixtures of bigquery-etl)."""

from tests.kpi_harness import run_kpi


def test_saf01_counts_contacts_in_period_only(warehouse):
    figures = run_kpi(warehouse, "SAF01", "2024-03", {"ssd_contacts": [
        {"cont_contact_id": "C1", "cont_person_id": "P1", "cont_contact_date": "2024-03-01"},
        {"cont_contact_id": "C2", "cont_person_id": "P2", "cont_contact_date": "2024-03-31"},
        {"cont_contact_id": "C3", "cont_person_id": "P3", "cont_contact_date": "2024-04-01"},
        {"cont_contact_id": "C4", "cont_person_id": "P3", "cont_contact_date": "2024-02-29"},
    ]})
    assert figures.la("SAF01") == (2, 2, None)


def test_saf07_45_working_days_spans_bank_holidays(warehouse):
    # 2024-01-02 (Tue) + 45 working days = 2024-03-05; Good Friday 29 Mar and Easter
    # Monday 1 Apr 2024 are bank holidays.
    figures = run_kpi(warehouse, "SAF07", "2024-03", {"ssd_cin_assessments": [
        {"cina_assessment_id": "A1", "cina_person_id": "P1",
         "cina_assessment_start_date": "2024-01-02", "cina_assessment_auth_date": "2024-03-05"},
        {"cina_assessment_id": "A2", "cina_person_id": "P2",
         "cina_assessment_start_date": "2024-01-02", "cina_assessment_auth_date": "2024-03-06"},
        {"cina_assessment_id": "A3", "cina_person_id": "P3",
         "cina_assessment_start_date": "2024-02-01", "cina_assessment_auth_date": "2024-04-02"},
    ]})
    assert figures.la("SAF07") == (50.0, 1, 2)
    assert figures.record_ids("SAF07", numerator_only=True) == ["A1"]


def assessment(assessment_id, start, auth):
    return {"cina_assessment_id": assessment_id, "cina_person_id": f"P-{assessment_id}",
            "cina_assessment_start_date": start, "cina_assessment_auth_date": auth}


def test_saf07_a_weekend_start_counts_from_the_friday_and_a_missing_start_is_not_in_timescale(warehouse):
    # "a Saturday to the following Monday = 1": Saturday 6 Jan 2024 has the working-day
    # index of Friday 5 Jan, and Friday 5 Jan + 45 working days = Friday 8 Mar.
    figures = run_kpi(warehouse, "SAF07", "2024-03", {"ssd_cin_assessments": [
        assessment("W1", "2024-01-06", "2024-03-08"),  # Saturday start: 45 working days
        assessment("W2", "2024-01-06", "2024-03-11"),  # the Monday after: 46
        assessment("W3", None, "2024-03-11"),  # no start date: denominator only
        assessment("W4", "2024-03-01", "2024-03-09"),  # authorised on a Saturday: 5
    ]})
    assert figures.la("SAF07") == (50.0, 2, 4)
    assert figures.record_ids("SAF07", numerator_only=True) == ["W1", "W4"]


def test_saf07_and_saf05_with_nothing_in_the_period_are_published_empty(warehouse):
    figures = run_kpi(warehouse, ["SAF05", "SAF06", "SAF07"], "2024-03", {
        "ssd_cin_assessments": [assessment("E1", "2024-01-02", "2024-04-02")],  # authorised after
        "ssd_cin_episodes": [{"cine_referral_id": "R1", "cine_person_id": "P1",
                              "cine_referral_date": "2024-04-01", "cine_referral_nfa": "Y"}]})
    assert figures.la("SAF07") == (None, 0, 0)
    assert figures.la("SAF05") == (None, 0, 0)
    assert figures.la("SAF06") == (0, 0, None)  # a count of nothing is 0, not empty
