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
