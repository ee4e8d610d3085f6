"""The service-area level (issue 14, point 4): kpis.md asks for figures "by LA, service
area, team". Service areas are the teams' parent departments in ssd_department; they
are never team units, and a service area's figures are the sums over its teams."""

from __future__ import annotations

import uuid

import pandas as pd
from sqlalchemy import text

from tasks.kpis.compute import UNALLOCATED, UNKNOWN_SERVICE_AREA, service_areas
from tasks.operations.pipeline import unit_tables
from tasks.warehouse import database as warehouse_module
from tests.kpi_harness import run_kpi

DEPARTMENTS = [
    # a parent department present as a row of its own (the SSD hierarchy allows it)
    {"dept_team_id": "S1", "dept_team_name": "Front Door", "dept_team_parent_id": None},
    {"dept_team_id": "T1", "dept_team_name": "MASH", "dept_team_parent_id": "S1",
     "dept_team_parent_name": "Front Door"},
    {"dept_team_id": "T2", "dept_team_name": "Assessment A", "dept_team_parent_id": "S1",
     "dept_team_parent_name": "Front Door"},
    {"dept_team_id": "T3", "dept_team_name": "Safeguarding North", "dept_team_parent_id": "S2",
     "dept_team_parent_name": "Safeguarding"},
    {"dept_team_id": "T4", "dept_team_name": "Orphan Team", "dept_team_parent_id": None},
]


def referral(referral_id, person_id, team, nfa):
    return {"cine_referral_id": referral_id, "cine_person_id": person_id, "cine_referral_date": "2024-03-05",
            "cine_referral_nfa": nfa, "cine_referral_team": team, "cine_referral_worker_id": "W1"}


def test_service_areas_from_the_parent_departments():
    teams, areas, parents = service_areas(pd.DataFrame(DEPARTMENTS).reindex(
        columns=["dept_team_id", "dept_team_name", "dept_team_parent_id", "dept_team_parent_name"]))
    assert teams == {"T1": "MASH", "T2": "Assessment A", "T3": "Safeguarding North", "T4": "Orphan Team"}
    assert areas == {"S1": "Front Door", "S2": "Safeguarding"}
    assert parents == {"T1": "S1", "T2": "S1", "T3": "S2", "S1": "S1", "S2": "S2"}


def test_service_area_figures_are_sums_over_their_teams(warehouse):
    figures = run_kpi(warehouse, ["SAF02", "SAF05"], "2024-03", {
        "ssd_department": DEPARTMENTS,
        "ssd_cin_episodes": [
            referral("R1", "P1", "T1", "Y"), referral("R2", "P2", "T1", "N"),
            referral("R3", "P3", "T2", "Y"),
            referral("R4", "P4", "T3", "N"),
            referral("R5", "P5", "S2", "Y"),      # recorded against the service area itself
            referral("R6", "P6", "T4", "N"),      # a team with no parent
            referral("R7", "P7", "T9", "N"),      # a team code ssd_department does not know
            referral("R8", "P8", None, "Y"),      # no team: Unallocated
        ]})
    values = figures.values
    areas = values[(values["level"] == "service_area") & (values["kpi_id"] == "SAF05")]
    assert {(r.unit_id, r.unit_name, r.value, r.numerator, r.denominator) for r in areas.itertuples()} == {
        ("S1", "Front Door", 66.7, 2, 3),           # T1 (1 of 2) + T2 (1 of 1)
        ("S2", "Safeguarding", 50.0, 1, 2),         # T3 (0 of 1) + the service's own row (1 of 1)
        (UNKNOWN_SERVICE_AREA, UNKNOWN_SERVICE_AREA, 0.0, 0, 2),  # T4 and T9
        (UNALLOCATED, UNALLOCATED, 100.0, 1, 1),
    }
    assert figures.get("SAF02", "service_area", "S1") == (3, 3, None)
    # the service area counts add up to the LA's; so do the teams' plus the service's own
    saf02 = values[values["kpi_id"] == "SAF02"]
    assert saf02[saf02["level"] == "service_area"]["value"].sum() == figures.la("SAF02")[0] == 8
    # no parent department is a team unit
    team_units = set(values[values["level"] == "team"]["unit_id"])
    assert team_units == {"T1", "T2", "T3", "T4", "T9", UNALLOCATED}
    assert {"S1", "S2"}.isdisjoint(team_units)
    assert figures.get("SAF05", "team", "T1") == (50.0, 1, 2)
    # rates stay LA only
    assert figures.la("SAF05") == (50.0, 4, 8)


def test_unit_tables_list_real_teams_with_their_service_area(warehouse):
    run_kpi(warehouse, "SAF02", "2024-03", {"ssd_department": DEPARTMENTS})
    teams, _ = unit_tables(warehouse)
    assert teams.sort_values("team_id").values.tolist() == [
        ["T1", "MASH", "S1", "Front Door"], ["T2", "Assessment A", "S1", "Front Door"],
        ["T3", "Safeguarding North", "S2", "Safeguarding"],
        ["T4", "Orphan Team", UNKNOWN_SERVICE_AREA, UNKNOWN_SERVICE_AREA]]


def test_the_warehouse_stores_the_service_area_level(warehouse):
    figures = run_kpi(warehouse, "SAF02", "2024-03", {
        "ssd_department": DEPARTMENTS, "ssd_cin_episodes": [referral("R1", "P1", "T1", "N")]})
    run_id = f"units-{uuid.uuid4().hex[:8]}"
    warehouse_module.start_run(warehouse, run_id, "monthly", "2024-03", "test", "v", "", None)
    warehouse_module.store_results(warehouse, run_id, figures.values, figures.records)
    with warehouse.connect() as connection:
        stored = connection.execute(text("select unit_id, value from kpi_values where run_id = :run "
                                         "and level = 'service_area'"), {"run": run_id}).all()
    assert [tuple(r) for r in stored] == [("S1", 1.0)]
