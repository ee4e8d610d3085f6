"""The daily exceptions workbook and the weekly team packs (openpyxl).

Both show live lists as at one day (a `MonthToDate` period): a Summary of the figures,
a Workers sheet, one sheet per KPI listing its rows (in_numerator = 1, most overdue
first, with the dates a manager needs: tasks/publish/lists.py) and a Run sheet. A team pack is the same workbook filtered to one team.
These name children and workers: internal to the performance team and team managers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tasks.publish.cells import text_value, write_row
from tasks.publish.csv_files import write_csv
from tasks.publish.dq_sheet import write_data_quality_sheet
from tasks.publish.excel import write_list_table, write_run
from tasks.publish.lists import list_table, listed_rows
from tasks.publish.lineage import RunInfo
from tasks.publish.style import (FIRST_DATA_ROW, describe_workbook, save_workbook, set_widths, write_header,
                                 write_heading)
from tasks.kpis.registry import Kpi

LIST_WIDTHS = [14, 44, 16, 30, 30, 16]


def exception_rows(records: pd.DataFrame, kpi_id: str, team_id: str | None = None) -> pd.DataFrame:
    """The listed rows of one KPI (in_numerator = 1), optionally one team's, largest
    measure first, then person and record id."""
    rows = records[records["kpi_id"] == kpi_id]
    rows = rows[pd.to_numeric(rows["in_numerator"]).fillna(0).astype(int) == 1]
    if team_id is not None:
        rows = rows[rows["team_id"].astype(str) == str(team_id)]
    rows = rows.assign(measure=pd.to_numeric(rows["measure"], errors="coerce"),
                       person_id=rows["person_id"].astype(str), record_id=rows["record_id"].astype(str))
    return rows.sort_values(["measure", "person_id", "record_id"], ascending=[False, True, True],
                            na_position="last").reset_index(drop=True)


def figure(values: pd.DataFrame, kpi_id: str, level: str, unit_id: str | None = None) -> int:
    rows = values[(values["kpi_id"] == kpi_id) & (values["level"] == level)]
    if unit_id is not None:
        rows = rows[rows["unit_id"].astype(str) == str(unit_id)]
    return int(pd.to_numeric(rows["value"]).fillna(0).sum()) if not rows.empty else 0


def publish_exceptions_workbook(path: Path, title: str, kpis: list[Kpi], values: pd.DataFrame,
                                records: pd.DataFrame, teams: pd.DataFrame, workers: pd.DataFrame,
                                run: RunInfo, team_id: str | None = None,
                                escalations: pd.DataFrame | None = None, data_quality=None,
                                service_area: str | None = None, subtitle: str | None = None) -> Path:
    """`team_id` or `service_area` (its name, unit_tables' service_name): only that
    unit's rows; `escalations`: audits graded Inadequate to escalate to their Head of Service
    (tasks.kpis.qa.inadequate_audits_for_escalation), listed on their own sheet;
    `data_quality`: a tasks.publish.dq_sheet.DataQuality, written as the Data quality sheet."""
    team_names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    worker_names = dict(zip(workers["worker_id"].astype(str), workers["worker_name"]))
    if service_area is not None:
        records = records[records["team_id"].astype(str).isin(area_teams(teams, service_area))]
    workbook = Workbook()
    workbook.active.title = "Summary"
    subtitle = subtitle or (f"Live lists as at {run.period} (month to date for in-month counts). "
                            "Internal: names children and workers.")
    unit = ("team", team_id) if team_id is not None else \
        ("service_area", area_id(teams, service_area)) if service_area is not None else None
    _write_summary(workbook.active, title, subtitle, kpis, values, run, unit, escalations)
    if escalations is not None:
        _write_escalations(workbook.create_sheet(ESCALATION_SHEET), escalations, team_names, run)
    _write_workers(workbook.create_sheet("Workers"), kpis, records, worker_names, run, team_id)
    for kpi in kpis:
        rows = listed_rows(records, kpi, team_id)
        _write_list(workbook.create_sheet(kpi.id), kpi, rows, team_names, worker_names, run)
    if data_quality is not None:  # LA-wide results: a team's pack names no other team's records
        write_data_quality_sheet(workbook, data_quality, run, with_record_ids=False)
    write_run(workbook.create_sheet("Run"), run)
    describe_workbook(workbook, title, run)
    return save_workbook(workbook, Path(path))


def team_pack_name(team_id: str, day: str) -> str:
    return f"team_pack_{file_part(team_id)}_{day}.xlsx"


def file_part(text) -> str:
    """A team id or service area as it appears in a file name."""
    return re.sub(r'[^A-Za-z0-9_-]+', '_', str(text))


def daily_team_list_name(team_id: str, day: str) -> str:
    return f"daily_team_list_{file_part(team_id)}_{day}.xlsx"


def area_pack_name(service_area: str, day: str) -> str:
    return f"area_pack_{file_part(service_area)}_{day}.xlsx"


def daily_area_list_name(service_area: str, day: str) -> str:
    return f"daily_area_list_{file_part(service_area)}_{day}.xlsx"


def drift_delay_area_lists_name(service_area: str, period: str) -> str:
    return f"drift_delay_lists_{file_part(service_area)}_{period}.xlsx"


def escalation_name(service_area: str, day: str) -> str:
    return f"inadequate_escalation_{file_part(service_area)}_{day}.xlsx"


def publish_escalation_workbook(path: Path, title: str, escalations: pd.DataFrame, teams: pd.DataFrame,
                                run: RunInfo) -> Path:
    """One service area's audits graded Inadequate, for its Head of Service (delivered to
    them: tasks/operations/delivery.py), with a Run sheet."""
    team_names = dict(zip(teams["team_id"].astype(str), teams["team_name"]))
    workbook = Workbook()
    workbook.active.title = ESCALATION_SHEET
    _write_escalations(workbook.active, escalations, team_names, run)
    write_run(workbook.create_sheet("Run"), run)
    describe_workbook(workbook, title, run)
    return save_workbook(workbook, Path(path))


def _table(sheet: Worksheet, headers: list[str], rows: list[list]) -> None:
    write_header(sheet, headers)
    for row_number, row in enumerate(rows, start=FIRST_DATA_ROW):
        write_row(sheet, row_number, row)
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    set_widths(sheet, LIST_WIDTHS)


ESCALATION_SHEET = "Inadequate audits"
ESCALATION_NAME = "Audits graded Inadequate, for their Head of Service"


UNIT_HEADERS = {"team": "Team", "service_area": "Service area"}  # the unit's figure


def _write_summary(sheet, title, subtitle, kpis, values, run, unit, escalations=None) -> None:
    """`unit`: (level, unit id) of a team's or a service area's workbook, else None (the LA's)."""
    write_heading(sheet, title, subtitle, run)
    if unit is None:
        rows = [[k.id, k.name, figure(values, k.id, "la")] for k in kpis]
        if escalations is not None:
            rows.append([ESCALATION_SHEET, ESCALATION_NAME, int(escalations["audit_id"].nunique())])
        _table(sheet, ["KPI", "Name", "LA"], rows)
    else:
        level, unit_id = unit
        _table(sheet, ["KPI", "Name", UNIT_HEADERS[level], "LA"],
               [[k.id, k.name, figure(values, k.id, level, unit_id), figure(values, k.id, "la")]
                for k in kpis])


def area_teams(teams: pd.DataFrame, service_area: str) -> set[str]:
    """The ids of one service area's teams (by its name: unit_tables' service_name)."""
    if "service_name" not in teams:
        return set()
    return set(teams.loc[teams["service_name"].astype(str) == str(service_area), "team_id"].astype(str))


def area_id(teams: pd.DataFrame, service_area: str) -> str | None:
    if "service_name" not in teams or "service_area_id" not in teams:
        return None
    ids = teams.loc[teams["service_name"].astype(str) == str(service_area), "service_area_id"]
    return str(ids.iloc[0]) if not ids.empty else None


def teams_with_rows(records: pd.DataFrame, kpis: list[Kpi]) -> list[str]:
    """The teams with at least one listed row (in_numerator = 1) of these KPIs."""
    listed = records[records["kpi_id"].isin([k.id for k in kpis])
                     & (pd.to_numeric(records["in_numerator"]).fillna(0) == 1)]
    return sorted(listed["team_id"].astype(str).unique())


def areas_with_rows(records: pd.DataFrame, kpis: list[Kpi], teams: pd.DataFrame) -> list[str]:
    """The service areas (names) with at least one listed row; a team of no known area has none."""
    if "service_name" not in teams:
        return []
    names = dict(zip(teams["team_id"].astype(str), teams["service_name"].astype(str)))
    return sorted({names[team] for team in teams_with_rows(records, kpis) if team in names})


def publish_area_lists(folder: Path, name, title: str, kpis: list[Kpi], values: pd.DataFrame,
                       records: pd.DataFrame, teams: pd.DataFrame, workers: pd.DataFrame, run: RunInfo,
                       data_quality=None, subtitle: str | None = None) -> list[str]:
    """One workbook per service area with listed rows, holding only its teams' rows, for its
    Head of Service (delivered: tasks/operations/delivery.py). `name(area, period)`: the
    file name; `title`: formatted with {area}."""
    return [str(publish_exceptions_workbook(folder / name(area, run.period), title.format(area=area), kpis,
                                            values, records, teams, workers, run, data_quality=data_quality,
                                            service_area=area, subtitle=subtitle))
            for area in areas_with_rows(records, kpis, teams)]


ESCALATION_HEADERS = ["Head of Service", "Service area", "Audit ID", "Completed", "Audit type", "Theme",
                      "Person ID", "Team", "Worker ID", "Auditor ID", "Auditor role"]


def _write_escalations(sheet, escalations: pd.DataFrame, team_names, run) -> None:
    """qa-activity.md: "an audit graded Inadequate appears in the next daily exception
    list to the Head of Service, not only at month end"; one row per audit and Head of
    Service in post for its service area."""
    write_heading(sheet, f"{ESCALATION_NAME}: {escalations['audit_id'].nunique()} at {run.period}",
                  "Completed in the last 30 days and not on an earlier day's list. Act today: the auditor had concerns "
                  "serious enough to grade the case Inadequate. No Head of Service in post for the "
                  "service area: shown as 'none in post' (escalate to the Assistant Director).", run)
    _table(sheet, ESCALATION_HEADERS, [
        [_name_or(r.head_of_service_name, r.head_of_service_id), r.service_area, str(r.audit_id),
         pd.Timestamp(r.completed_date).date(), r.audit_type, r.theme, text_value(r.person_id),
         team_names.get(str(r.team_id), text_value(r.team_id)), text_value(r.worker_id),
         text_value(r.auditor_id), r.auditor_role]
        for r in escalations.itertuples(index=False)])


def _name_or(name, staff_id) -> str:
    name, staff_id = text_value(name), text_value(staff_id)
    if staff_id is None:
        return "none in post"
    return f"{name} ({staff_id})" if name else staff_id


def _write_workers(sheet, kpis, records, worker_names, run, team_id) -> None:
    write_heading(sheet, "Workers", "Listed rows per worker (the child's allocated worker).", run)
    listed = pd.concat([exception_rows(records, k.id, team_id) for k in kpis], ignore_index=True)
    counts = listed.groupby(["worker_id", "kpi_id"]).size().unstack(fill_value=0) if not listed.empty \
        else pd.DataFrame()
    rows = []
    for worker_id in sorted(counts.index, key=str):
        rows.append([str(worker_id), worker_names.get(str(worker_id), str(worker_id))]
                    + [int(counts.loc[worker_id].get(k.id, 0)) for k in kpis])
    _table(sheet, ["Worker ID", "Worker"] + [k.id for k in kpis], rows)


def _write_list(sheet, kpi: Kpi, rows: pd.DataFrame, team_names, worker_names, run) -> None:
    """One list as the monthly workbook shows it (tasks/publish/lists.py): the dates a
    manager needs, most overdue first."""
    write_heading(sheet, f"{kpi.id} {kpi.name}: {len(rows)} at {run.period}",
                  f"{kpi.definition}. Most overdue first.", run)
    write_list_table(sheet, list_table(kpi, rows, team_names, worker_names))


def publish_exception_csv(records: pd.DataFrame, kpis: list[Kpi], path: Path) -> Path:
    """Every listed row of the run, one line each: for loading into other tools."""
    frames = [exception_rows(records, k.id) for k in kpis]
    rows = pd.concat(frames, ignore_index=True) if frames else records.head(0)
    columns = ["kpi_id", "person_id", "record_id", "team_id", "worker_id", "measure"]
    return write_csv(rows[columns], path, numeric_columns=("measure",))
