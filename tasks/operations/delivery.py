"""Delivery of the published outputs to their audiences, each seeing only what it may.

Audiences are configuration (`[delivery.audiences.<name>]`, tasks.core.settings.Audience):
recipients, outputs by name, cadence, channel, the most detailed level it may receive
(`aggregate` < `staff` < `child`) and its scope (`la`, `service_area:<name>`,
`team:<id>`, or `team`: one delivery per team, each with its own rows).

The outputs are catalogued here, once (`CATALOGUE`): the file each publisher writes,
the detail it carries and whether it is split by team or service area (each unit's file
holding only its rows). An output's level is the publisher's (what its sheets show)
raised to the registry's `detail` of the KPIs whose rows it lists (`output_level`), and
every file is opened before it is sent: its level read from its own headers
(`content_level`: a "Child" or "Person ID" column is child-level, "Worker"/"Auditor"
columns name staff), a PDF's from the stamp write_pdf put there from the HTML it was
rendered from (tasks/publish/detail.py), and a scoped file's rows checked against the
scope's teams (`rows_outside`). A delivery that would send more detail than its audience
may receive, or rows outside its scope, is **refused before anything is sent**, recorded
in the `deliveries` ledger with an error naming the audience and the output, and alerted
through `[notifications]` once per audience, scope, period and reason; no configuration
can change that.

Leadership and board deliveries wait for approval (`approval = true`, the default):
`approve` records who and when for the period's current version. A delivery already
sent for the period is not sent again unless asked (`force`). Email goes through the
alerts' SMTP path (tasks.operations.notify.smtp_send), a folder drop through
`notify.folder_drop`; both are retried with back-off (`notify.retried`) and a failure
is recorded and alerted. Logs and the ledger carry file names, checksums and
addresses, never child-level data.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.core.settings import DELIVERY_LEVELS, HEAD_OF_SERVICE, Audience, Notifications, Settings
from tasks.kpis.registry import Kpi, shown_in
from tasks.operations import notify
from tasks.publish import detail
from tasks.publish.exceptions import file_part
from tasks.warehouse import database as warehouse

SENT, REFUSED, FAILED, AWAITING, NOTHING = "sent", "refused", "failed", "awaiting approval", "nothing to send"
PARTLY_PUBLISHED = "Partly published: data quality"
SUBJECT_PREFIX = "[qaloop]"
# the registry's `detail` -> the delivery level
REGISTRY_LEVELS = {"aggregate": "aggregate", "named_staff": "staff", "child_level": "child"}
# an audience's cadence -> the flows whose outputs it may receive: a quarterly audience
# the quarterly flow's reports and the quarter-end months' monthly outputs, a six-monthly
# one the half-year-end months' monthly outputs
CADENCE_FLOWS = {"daily": ("daily",), "weekly": ("weekly",), "monthly": ("monthly",),
                 "quarterly": ("monthly", "quarterly"), "six-monthly": ("monthly",)}
# the months (period's month number) in which a quarterly or six-monthly audience receives
# its monthly outputs: the quarters and half-years of the financial year
CADENCE_MONTHS = {"quarterly": (3, 6, 9, 12), "six-monthly": (3, 9)}


def rank(level: str) -> int:
    return DELIVERY_LEVELS.index(level)


def most_detailed(*levels: str) -> str:
    return max(levels, key=rank)


@dataclass(frozen=True)
class OutputSpec:
    """One published output a delivery may carry, by name."""

    name: str
    flow: str  # the flow that publishes it: monthly, quarterly, daily, weekly
    pattern: str  # the file name, with {period} and (split outputs) {unit}: the team or service area
    level: str  # what the publisher writes at its most detailed
    description: str
    split_by: str | None = None  # "team" or "service_area": one file per unit, each with only its rows
    # the registry's KPIs whose rows (or named staff) the output lists: their `detail`
    # raises the level (("scorecard", "drift_delay") or ("shown_in", "weekly"))
    lists: tuple[str, str] | None = None

    def file_name(self, period: str, unit: str | None = None) -> str:
        return self.pattern.format(period=period, unit=unit or "")


CATALOGUE: dict[str, OutputSpec] = {spec.name: spec for spec in (
    OutputSpec("directorate_scorecard", "monthly", "directorate_scorecard_{period}.xlsx", "aggregate",
               "Directorate Scorecard (Excel): headline KPIs, small numbers suppressed"),
    OutputSpec("directorate_scorecard_pdf", "monthly", "directorate_scorecard_{period}.pdf", "aggregate",
               "Directorate Scorecard (PDF, for board packs)"),
    OutputSpec("qa_monthly_report", "monthly", "qa_monthly_report_{period}.pdf", "aggregate",
               "monthly QA report (PDF), small numbers suppressed"),
    OutputSpec("qa_monthly_report_html", "monthly", "qa_monthly_report_{period}.html", "aggregate",
               "monthly QA report (HTML)"),
    OutputSpec("qa_on_a_page", "monthly", "qa_on_a_page_{period}.pdf", "aggregate",
               "QA on a page (PDF)"),
    OutputSpec("complaints_participation", "monthly", "complaints_participation_{period}.xlsx", "aggregate",
               "Complaints, compliments and participation workbook (CMP, IRO, SUR), small numbers suppressed"),
    OutputSpec("safety_scorecard", "monthly", "safety_scorecard_{period}.xlsx", "staff",
               "Safety scorecard (Teams and Workers sheets name staff)"),
    OutputSpec("drift_delay_scorecard", "monthly", "drift_delay_scorecard_{period}.xlsx", "child",
               "Drift and Delay scorecard (child-level exception lists)",
               lists=("scorecard", "drift_delay")),
    OutputSpec("drift_delay_area_lists", "monthly", "drift_delay_lists_{unit}_{period}.xlsx", "child",
               "Drift and Delay exception lists (one service area's rows)", split_by="service_area",
               lists=("scorecard", "drift_delay")),
    OutputSpec("qa_activity", "monthly", "qa_activity_{period}.xlsx", "child",
               "QA workbook (compliance by auditor, audits awaiting re-audit, the audit allocation)"),
    OutputSpec("kpi_values", "monthly", "kpi_values.csv", "staff",
               "kpi_values.csv (figures by team and worker)"),
    OutputSpec("revisions", "monthly", "revisions_{period}.csv", "staff",
               "revisions report (figures by team and worker)"),
    OutputSpec("run_metadata", "monthly", "run_metadata.json", "aggregate", "run_metadata.json"),
    OutputSpec("complaints_compliments_report", "quarterly", "complaints_compliments_{period}.pdf", "aggregate",
               "complaints and compliments report (PDF), small numbers suppressed"),
    OutputSpec("drp_iro_report", "quarterly", "drp_iro_{period}.pdf", "aggregate",
               "DRP and IRO report (PDF), small numbers suppressed"),
    OutputSpec("participation_surveys_report", "quarterly", "participation_surveys_{period}.pdf", "aggregate",
               "participation and surveys report (PDF), small numbers suppressed"),
    OutputSpec("qa_quarterly_report", "quarterly", "qa_quarterly_report_{period}.pdf", "aggregate",
               "quarterly QA report (PDF) for the leadership team and boards, small numbers suppressed"),
    OutputSpec("qa_quarterly_report_html", "quarterly", "qa_quarterly_report_{period}.html", "aggregate",
               "quarterly QA report (HTML)"),
    OutputSpec("qa_six_monthly_report", "six-monthly", "qa_six_monthly_report_{period}.pdf", "aggregate",
               "six-monthly QA report (PDF) with the proposed audit themes, small numbers suppressed"),
    OutputSpec("quarterly_kpi_values", "quarterly", "kpi_values.csv", "staff",
               "the quarter's kpi_values.csv (figures by team and worker)"),
    OutputSpec("daily_exceptions", "daily", "daily_exceptions_{period}.xlsx", "child",
               "daily exception lists (every team)", lists=("shown_in", "daily")),
    OutputSpec("daily_exceptions_csv", "daily", "daily_exceptions_{period}.csv", "child",
               "daily exception lists (CSV, every team)", lists=("shown_in", "daily")),
    OutputSpec("daily_team_list", "daily", "daily_team_list_{unit}_{period}.xlsx", "child",
               "daily exception lists (one team's rows)", split_by="team", lists=("shown_in", "daily")),
    OutputSpec("daily_area_list", "daily", "daily_area_list_{unit}_{period}.xlsx", "child",
               "daily exception lists (one service area's rows)", split_by="service_area",
               lists=("shown_in", "daily")),
    OutputSpec("inadequate_escalation", "daily", "inadequate_escalation_{unit}_{period}.xlsx", "child",
               "audits graded Inadequate (one service area's), for its Head of Service", split_by="service_area"),
    OutputSpec("team_pack", "weekly", "team_pack_{unit}_{period}.xlsx", "child",
               "weekly team pack (one team's rows)", split_by="team", lists=("shown_in", "weekly")),
    OutputSpec("area_pack", "weekly", "area_pack_{unit}_{period}.xlsx", "child",
               "weekly area pack (one service area's rows)", split_by="service_area",
               lists=("shown_in", "weekly")),
)}


class DeliveryRefused(ValueError):
    """A delivery that would send more than its audience may receive: nothing was sent."""


def output_level(spec: OutputSpec, kpis: list[Kpi] | None = None) -> str:
    """The publisher's level raised to the registry's `detail` of the KPIs the output lists."""
    level = spec.level
    if spec.lists and kpis:
        kind, value = spec.lists
        listed = [k for k in kpis if k.scorecard == value] if kind == "scorecard" else shown_in(kpis, value)
        level = most_detailed(level, *(REGISTRY_LEVELS.get(k.detail, "child") for k in listed))
    return level


def content_level(path: Path) -> str:
    """The level a file shows by its own column headers (workbooks and CSVs; HTML by its
    cells); a PDF the level of the HTML it was rendered from, stamped by write_pdf, and a
    PDF without that stamp (not rendered by qaloop) child-level: nothing is taken on trust."""
    path = Path(path)
    headers: set[str] = set()
    if path.suffix == ".pdf":
        return detail.pdf_level(path) or "child"
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook
        workbook = load_workbook(path, read_only=True)
        try:
            for sheet in workbook.worksheets:
                for row in sheet.iter_rows(max_row=12, values_only=True):
                    headers |= {str(v).strip().lower() for v in row if isinstance(v, str)}
        finally:
            workbook.close()
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            headers |= {h.strip().lower() for h in header}
            if "level" in headers and "worker" in {row[header.index("level")] for row in reader
                                                   if len(row) > header.index("level")}:
                headers.add("worker")
    elif path.suffix == ".html":
        return detail.html_level(path.read_text(encoding="utf-8", errors="replace"))
    return detail.level_of_headers(headers)


# --- what is planned -------------------------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    output: str
    path: Path
    sha256: str
    size: int
    level: str

    def ledger(self, sent_as: str = "attachment") -> dict:
        return {"output": self.output, "file": self.path.name, "sha256": self.sha256,
                "bytes": self.size, "level": self.level, "sent_as": sent_as}


@dataclass
class Planned:
    """One delivery: an audience (and, for split audiences, one scope of it)."""

    audience: str
    scope: str
    flow: str
    period: str
    run_id: str | None
    channel: str
    recipients: tuple[str, ...]
    attachments: list[Attachment] = field(default_factory=list)
    refusal: str | None = None
    subject: str = ""
    body: str = ""
    approval: bool = False
    folder: Path | None = None
    links: dict = field(default_factory=dict)  # file name -> link (over the size limit)

    @property
    def key(self) -> str:
        return f"{self.audience} [{self.scope}]"


def audience_flows(audience: Audience) -> tuple[str, ...]:
    return CADENCE_FLOWS[audience.cadence]


def period_flow(period: str, flows: tuple[str, ...]) -> str:
    """Which of an audience's flows publishes a period of this form (2024-Q1: quarterly)."""
    if "-Q" in period and "quarterly" in flows:
        return "quarterly"
    return next(flow for flow in flows if flow != "quarterly")


def outputs_for(audience: Audience, flow: str) -> list[str]:
    """The outputs an audience receives from this flow's run. An output published by none
    of its cadence's flows (or unknown) stays in, to be refused with its reason."""
    flows = audience_flows(audience)
    return [output for output in audience.outputs
            if output not in CATALOGUE or CATALOGUE[output].flow == flow or CATALOGUE[output].flow not in flows]


def due(audience: Audience, flow: str, period: str) -> bool:
    """Whether the audience receives this flow's outputs for this period by its cadence."""
    if flow not in audience_flows(audience) or not outputs_for(audience, flow):
        return False
    months = CADENCE_MONTHS.get(audience.cadence) if flow == "monthly" else None
    return months is None or int(period[5:7]) in months


def plan_period(engine: Engine, settings: Settings, flow: str, period: str, kpis: list[Kpi] | None = None,
                audiences: list[str] | None = None, run_id: str | None = None,
                folder: Path | None = None) -> list[Planned]:
    """Every delivery of one flow's period, each checked (level and scope) or refused.
    `audiences`: these only (whatever their cadence's months), else every audience due.
    `folder`: the run's published folder (default: the current version's)."""
    configured = settings.delivery.audiences
    unknown = [name for name in audiences or [] if name not in configured]
    if unknown:
        raise KeyError(f"no audience {', '.join(unknown)} in [delivery.audiences] "
                       f"(configured: {', '.join(configured) or 'none'})")
    run_id = run_id or warehouse.current_run_id(engine, flow, period)
    if folder is None and run_id:
        folder = run_folder(engine, run_id)
    names = audiences or [n for n, a in configured.items() if due(a, flow, period)]
    units = department_units(engine)
    planned = []
    for name in names:
        audience = configured[name]
        if flow not in audience_flows(audience) or not outputs_for(audience, flow):
            continue
        for scope, recipients in scopes_of(audience, folder, period):
            why = ""
            if not recipients and audience.scope in ("team", "service_area"):
                recipients, why = staff_recipients(engine, settings, scope, period)
            planned.append(plan_one(name, audience, scope, recipients, flow, period, run_id, folder, kpis, units,
                                    no_recipients=why))
    return planned


def scopes_of(audience: Audience, folder: Path | None, period: str) -> list[tuple[str, tuple[str, ...]]]:
    """(scope, recipients) of each delivery of an audience: one, or one per team
    (`scope = "team"`) or service area (`scope = "service_area"`): those configured, and
    those with a split output in the folder (refused when no recipient is configured)."""
    if audience.scope in ("team", "service_area"):
        configured = audience.team_recipients if audience.scope == "team" else audience.service_area_recipients
        units = {file_part(unit): unit for unit in configured}
        for name in audience.outputs:
            spec = CATALOGUE.get(name)
            if spec is not None and spec.split_by == audience.scope and folder is not None:
                for unit in split_files(spec, folder, period):
                    units.setdefault(unit, unit)
        return [(f"{audience.scope}:{unit}", tuple(configured.get(unit, ())))
                for unit in sorted(set(units.values()))]
    kind, _, name = audience.scope.partition(":")
    by_scope = audience.team_recipients if kind == "team" else audience.service_area_recipients
    return [(audience.scope, tuple(audience.recipients) or tuple(by_scope.get(name, ())))]


# the role (qa_staff.role, ssd_professionals' job title) that receives a team's (a service
# area's) deliveries when the audience names no address for it
UNIT_ROLES = {"team": "Team Manager", "service_area": HEAD_OF_SERVICE}


def staff_recipients(engine: Engine, settings: Settings, scope: str, period: str) -> tuple[tuple[str, ...], str]:
    """(addresses, why none) for a team's (service area's) delivery whose audience names no
    address: its Team Manager (Head of Service) in post at the period's end in qa_staff, or
    by job title in the professionals extract (ssd_professionals, in the team's department),
    at their address in `[delivery] staff_addresses` (by staff id; neither extract carries
    one). No address is ever guessed: with none, the reason says who was found."""
    kind, _, unit = scope.partition(":")
    role = UNIT_ROLES.get(kind)
    if role is None:
        return (), f"no recipients configured for {scope}"
    found = managers_in_qa_staff(engine, kind, unit, period) | managers_in_professionals(engine, role, unit)
    addresses = settings.delivery.staff_addresses
    chosen = tuple(sorted({addresses[i] for i in found if i in addresses}))
    if chosen:
        return chosen, ""
    who = (f"{role} {', '.join(sorted(found))} found in qa_staff / ssd_professionals but with no address "
           "in [delivery] staff_addresses") if found else f"no {role} in post in qa_staff or ssd_professionals"
    return (), f"no recipients: none configured for {unit} in the audience, and {who}"


def managers_in_qa_staff(engine: Engine, kind: str, unit: str, period: str) -> set[str]:
    """The staff ids of the unit's Team Manager (Head of Service: by service_area, or by a
    team_id that is the service area's department) in post at the period's end."""
    day = date.fromisoformat(period) if len(period) == 10 else _period_end(period)
    try:
        staff = warehouse.read_sql(engine, "select staff_id, team_id, service_area from qa_staff where role = :role "
                                           "and start_date <= :day and (end_date is null or end_date >= :day)",
                                   {"role": UNIT_ROLES[kind], "day": day})
    except sa.exc.SQLAlchemyError:  # qa_staff never supplied
        return set()
    # the scope holds the unit as written in file names ("Social Care" -> Social_Care)
    matches = staff["team_id"].astype(str).map(file_part) == file_part(unit)
    if kind == "service_area":
        names = _department_names(engine)
        matches = (staff["service_area"].astype(str).map(file_part) == file_part(unit)) | \
            staff["team_id"].astype(str).map(lambda team: file_part(names.get(team, team)) == file_part(unit))
    return set(staff.loc[matches, "staff_id"].astype(str))


def managers_in_professionals(engine: Engine, role: str, unit: str) -> set[str]:
    """The staff ids (and professional ids) in the professionals extract with the role as
    job title whose department is the unit (its id, or its name in ssd_department)."""
    try:
        staff = warehouse.read_sql(engine, "select prof_professional_id, prof_staff_id, prof_professional_department "
                                           "from ssd_professionals where lower(prof_professional_job_title) = :role",
                                   {"role": role.lower()})
    except sa.exc.SQLAlchemyError:
        return set()
    names = _department_names(engine)
    departments = {file_part(unit), file_part(names.get(unit, unit))}
    mine = staff[staff["prof_professional_department"].astype(str).map(file_part).isin(departments)]
    return {str(v) for column in ("prof_staff_id", "prof_professional_id") for v in mine[column].dropna()}


def _department_names(engine: Engine) -> dict[str, str]:
    try:
        departments = warehouse.read_sql(engine, "select dept_team_id, dept_team_name from ssd_department")
    except sa.exc.SQLAlchemyError:
        return {}
    return dict(zip(departments["dept_team_id"].astype(str), departments["dept_team_name"].astype(str)))


def _period_end(period: str) -> date:
    """The last day of a month, quarter or half-year id."""
    from tasks.core.periods import Period
    return Period.parse(period).end


def split_files(spec: OutputSpec, folder: Path, period: str) -> dict[str, Path]:
    """{team or service area as in the file name: file} of a split output in a run's folder."""
    prefix, _, suffix = spec.file_name(period, "\0").partition("\0")
    found = {}
    for path in sorted(Path(folder).glob(f"{prefix}*{suffix}")):
        team = path.name[len(prefix):len(path.name) - len(suffix)]
        if team:
            found[team] = path
    return found


def plan_one(name: str, audience: Audience, scope: str, recipients: tuple[str, ...], flow: str,
             period: str, run_id: str | None, folder: Path | None, kpis: list[Kpi] | None,
             units: dict[str, set[str]] | None = None, no_recipients: str = "") -> Planned:
    planned = Planned(name, scope, flow, period, run_id, audience.channel, recipients,
                      approval=audience.approval, folder=audience.folder)
    try:
        if folder is None or not Path(folder).is_dir():
            raise DeliveryRefused(f"audience {name}: no published {flow} version of {period} to deliver")
        if audience.channel == "email" and not recipients:
            raise DeliveryRefused(f"audience {name} [{scope}]: {no_recipients or 'no recipients configured'}: "
                                  "refused, nothing sent")
        for output in outputs_for(audience, flow):
            planned.attachments += attachments_for(name, audience, scope, output, flow, period, Path(folder), kpis,
                                                   units)
    except DeliveryRefused as refusal:
        planned.refusal, planned.attachments = str(refusal), []
    return planned


def attachments_for(name: str, audience: Audience, scope: str, output: str, flow: str, period: str,
                    folder: Path, kpis: list[Kpi] | None,
                    units: dict[str, set[str]] | None = None) -> list[Attachment]:
    """The files of one output for one audience's scope, or DeliveryRefused naming the
    audience and output: more detail than the audience may receive, or rows outside its scope."""
    spec = CATALOGUE.get(output)
    if spec is None:
        raise DeliveryRefused(f"audience {name}: output {output!r} is not a known output "
                              f"(known: {', '.join(CATALOGUE)})")
    if spec.flow != flow:
        raise DeliveryRefused(f"audience {name}: output {output} is published by the {spec.flow} flow, "
                              f"not the {flow} flow its cadence ({audience.cadence}) delivers")
    level = output_level(spec, kpis)
    if rank(level) > rank(audience.level):
        raise DeliveryRefused(f"audience {name} may receive {audience.level} detail only; output {output} "
                              f"carries {level} detail: refused, nothing sent")
    kind, _, unit = scope.partition(":")
    if spec.split_by:
        files = split_files(spec, folder, period)
        if kind == spec.split_by:
            files = {unit: files[file_part(unit)]} if file_part(unit) in files else {}
        elif kind != "la":
            raise DeliveryRefused(f"audience {name} [{scope}]: output {output} is split by {spec.split_by}, "
                                  f"not by {kind}: refused, nothing sent")
        paths = list(files.values())
    else:
        if kind != "la" and level != "aggregate":
            raise DeliveryRefused(f"audience {name} [{scope}]: output {output} carries {level} rows of the "
                                  "whole LA, outside the audience's scope: refused, nothing sent")
        path = folder / spec.file_name(period)
        paths = [path] if path.is_file() else []
    attachments = []
    for path in paths:
        shown = most_detailed(level, content_level(path))
        if rank(shown) > rank(audience.level):
            raise DeliveryRefused(f"audience {name} may receive {audience.level} detail only; output {output} "
                                  f"({path.name}) shows {shown} detail: refused, nothing sent")
        if kind != "la" and shown != "aggregate":
            outside = rows_outside(path, scope, units)
            if outside:
                raise DeliveryRefused(f"audience {name} [{scope}]: output {output} ({path.name}) holds rows of "
                                      f"{outside}, outside the audience's scope: refused, nothing sent")
        attachments.append(Attachment(output, path, sha256(path), path.stat().st_size, shown))
    return attachments


def department_units(engine: Engine) -> dict[str, set[str]] | None:
    """{"team:<id>" or "service_area:<name as in file names>": the ids and names of its
    teams} from ssd_department (the hierarchy the lists are split by), or None when it was
    never loaded (a scoped delivery of listed rows is then refused: its rows cannot be checked)."""
    from tasks.kpis.compute import service_areas
    try:
        departments = warehouse.read_sql(engine, "select dept_team_id, dept_team_name, dept_team_parent_id, "
                                                 "dept_team_parent_name from ssd_department")
    except sa.exc.SQLAlchemyError:
        return None
    teams, areas, parents = service_areas(departments)
    units: dict[str, set[str]] = {}
    for team, team_name in teams.items():
        units[f"team:{file_part(team)}"] = {team, team_name}
        area = parents.get(team)
        if area is not None:
            units.setdefault(f"service_area:{file_part(areas.get(area, area))}", set()).update({team, team_name})
    return units


# the headers whose values say which unit a row belongs to
TEAM_HEADER, AREA_HEADER = "team", "service area"


def rows_outside(path: Path, scope: str, units: dict[str, set[str]] | None) -> str:
    """The teams (service areas) named by a workbook's rows that are outside `scope`, as
    text ("" when none): each sheet's "Service area" column when it has one (escalations,
    by qa_staff's areas), else its "Team" column, against ssd_department's teams of the scope."""
    if Path(path).suffix != ".xlsx":
        return "a file whose rows cannot be read"
    kind, _, unit = scope.partition(":")
    allowed = None if units is None else units.get(f"{kind}:{file_part(unit)}", set())
    outside: set[str] = set()
    for columns in unit_columns(path):
        if AREA_HEADER in columns:
            if kind == "service_area":
                outside |= {v for v in columns[AREA_HEADER] if file_part(v) != file_part(unit)}
                continue
        if TEAM_HEADER in columns:
            if allowed is None:
                return "teams that cannot be checked (ssd_department is not loaded)"
            outside |= columns[TEAM_HEADER] - allowed
    return ", ".join(sorted(outside))


def unit_columns(path: Path) -> list[dict[str, set[str]]]:
    """Per sheet, {header: the text below it} of the Team and Service area columns (the
    header row within the first 12 rows, as the publishers write it)."""
    from openpyxl import load_workbook
    workbook = load_workbook(path, read_only=True)
    found = []
    try:
        for sheet in workbook.worksheets:
            header, columns = None, {}
            for row in sheet.iter_rows(values_only=True):
                if header is None:
                    names = [str(v).strip().lower() if isinstance(v, str) else None for v in row]
                    if TEAM_HEADER in names or AREA_HEADER in names:
                        header = {names.index(h): h for h in (TEAM_HEADER, AREA_HEADER) if h in names}
                        columns = {h: set() for h in header.values()}
                    continue
                for index, name in header.items():
                    if index < len(row) and isinstance(row[index], str) and row[index].strip():
                        columns[name].add(row[index].strip())
            if columns:
                found.append(columns)
    finally:
        workbook.close()
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_folder(engine: Engine, run_id: str) -> Path | None:
    """The run's own published folder (OUT/runs/<flow>/<period>/<run_id>)."""
    with engine.connect() as connection:
        switches = warehouse.table("version_switches", connection)
        target = connection.execute(sa.select(switches.c.target_path).where(
            (switches.c.to_run_id == run_id) & (switches.c.state == "done"))
            .order_by(switches.c.switch_id.desc()).limit(1)).scalar()
    return Path(target) if target else None


# --- the message -----------------------------------------------------------------------------

def compose(engine: Engine, settings: Settings, planned: Planned, la_name: str = "") -> Planned:
    """Subject and body: what is attached (or linked), the period, the run, the
    data-quality position and what changed since this audience's last delivery."""
    state, message = _run_state(engine, planned.run_id)
    folder = run_folder(engine, planned.run_id) if planned.run_id else None
    metadata = _metadata(folder)
    la_name = la_name or metadata.get("la_name", "")
    partly = state == PARTLY_PUBLISHED
    scope = "" if planned.scope == "la" else f" ({planned.scope.partition(':')[2]})"
    planned.subject = (f"{SUBJECT_PREFIX} {la_name + ': ' if la_name else ''}{planned.flow} outputs "
                       f"for {planned.period}{scope}{' - PARTLY PUBLISHED' if partly else ''}")
    limit = settings.delivery.max_attachment_bytes
    lines = [f"Period: {planned.period}", f"Run: {planned.run_id or '-'}", ""]
    if partly:
        lines += ["PARTLY PUBLISHED: some figures failed a data-quality check and are shown as last "
                  f"published. {message or ''}".strip(), ""]
    lines.append("Attached:" if planned.channel == "email" else "Delivered to the folder:")
    for a in planned.attachments:
        described = CATALOGUE[a.output].description
        if planned.channel == "email" and a.size > limit:
            root = link_root(settings)
            link = notify.published_link(audience_folder(root, planned) / a.path.name, root,
                                         settings.delivery.link_url)
            planned.links[a.path.name] = link
            lines.append(f"- {a.path.name}: {described} (too large to attach, {a.size:,} bytes: {link})")
        else:
            lines.append(f"- {a.path.name}: {described}")
    quality = metadata.get("data_quality") or state or "-"
    lines += ["", f"Data quality: {quality}"]
    lines += ["", f"Changed since the last delivery: {changed_since(engine, planned)}"]
    if metadata.get("synthetic"):
        lines += ["", "SYNTHETIC DATA: not real children's records."]
    lines += ["", "Sent by qaloop. Do not forward outside the intended audience: "
                  f"this delivery is cleared for {planned.audience} only."]
    planned.body = "\n".join(lines)
    return planned


def link_root(settings: Settings) -> Path:
    """Where the files too large to attach are copied for their link ([delivery] link_folder)."""
    root = settings.delivery.link_folder
    return Path(root) if str(root) not in ("", ".") else settings.data_dir / "delivery_links"


def audience_folder(root: Path, planned: Planned) -> Path:
    """The audience's own folder under `root`: one subfolder per unit and period, holding
    only what this delivery carries (a link or a folder drop never exposes another's files)."""
    return Path(root) / planned.audience / planned.scope.replace(":", "_") / planned.period


def _run_state(engine: Engine, run_id: str | None) -> tuple[str | None, str | None]:
    if not run_id:
        return None, None
    with engine.connect() as connection:
        runs = warehouse.table("runs", connection)
        row = connection.execute(sa.select(runs.c.state, runs.c.message).where(runs.c.run_id == run_id)).first()
    return (row.state, row.message) if row else (None, None)


def _metadata(folder: Path | None) -> dict:
    path = Path(folder) / "run_metadata.json" if folder else None
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}


# a period as file names carry it: 2024-03, 2024-03-17, 2024-Q1, 2024-25-H1
PERIOD_IN_NAME = re.compile(r"\d{4}-(Q[1-4]|\d{2}-H[12]|\d{2}(-\d{2})?)")


def _same_file(output: str, file_name: str) -> str:
    """An output's file whatever its period: directorate_scorecard/directorate_scorecard_<period>.xlsx."""
    return output + "/" + PERIOD_IN_NAME.sub("<period>", file_name)


def changed_since(engine: Engine, planned: Planned) -> str:
    """Against the audience's (and scope's) last successful delivery in the ledger: which
    files are new, changed (another checksum) or unchanged, and which are no longer sent."""
    last = last_sent(engine, planned.audience, planned.scope)
    if last is None:
        return "first delivery to this audience"
    before = {_same_file(o["output"], o["file"]): o for o in json.loads(last.outputs or "[]")}
    now = {_same_file(a.output, a.path.name): a for a in planned.attachments}
    kinds = {"changed": [], "new": [], "unchanged": []}
    for key, attachment in now.items():
        kind = "new" if key not in before else "unchanged" if before[key]["sha256"] == attachment.sha256 \
            else "changed"
        kinds[kind].append(attachment.path.name)
    kinds["no longer sent"] = [o["file"] for key, o in before.items() if key not in now]
    if last.period == planned.period:
        note = f"a new version of {planned.period} (last sent {last.attempted_at:%Y-%m-%d %H:%M}, run {last.run_id})"
    else:
        note = f"the figures for {planned.period}; last delivery was {last.period} (run {last.run_id})"
    return "; ".join([note] + [f"{kind}: {', '.join(names)}" for kind, names in kinds.items() if names])


# --- the ledger ---------------------------------------------------------------------------------

def record(engine: Engine, planned: Planned, outcome: str, message: str | None = None,
           trigger: str = "flow") -> None:
    recipients = ", ".join(planned.recipients) if planned.channel == "email" else str(planned.folder or "")
    outputs = [a.ledger("link" if a.path.name in planned.links else "attachment") for a in planned.attachments]
    with engine.begin() as connection:
        deliveries = warehouse.table("deliveries", connection)
        connection.execute(deliveries.insert().values(
            flow=planned.flow, period=planned.period, run_id=planned.run_id, audience=planned.audience,
            scope=planned.scope, channel=planned.channel, recipients=recipients,
            outputs=json.dumps(outputs), subject=planned.subject, outcome=outcome,
            message=message or planned.refusal, trigger=trigger, attempted_at=warehouse.utcnow()))


def last_sent(engine: Engine, audience: str, scope: str, period: str | None = None):
    with engine.connect() as connection:
        deliveries = warehouse.table("deliveries", connection)
        query = sa.select(deliveries).where((deliveries.c.audience == audience) & (deliveries.c.scope == scope)
                                            & (deliveries.c.outcome == SENT))
        if period is not None:
            query = query.where(deliveries.c.period == period)
        return connection.execute(query.order_by(deliveries.c.delivery_id.desc()).limit(1)).first()


def ledger(engine: Engine, period: str | None = None, audience: str | None = None, limit: int = 200) -> pd.DataFrame:
    where, params = [], {}
    if period:
        where.append("period = :period")
        params["period"] = period
    if audience:
        where.append("audience = :audience")
        params["audience"] = audience
    sql = ("select delivery_id, attempted_at, flow, period, run_id, audience, scope, channel, recipients, "
           "outputs, outcome, message, trigger from deliveries"
           + (" where " + " and ".join(where) if where else "") + f" order by delivery_id desc limit {int(limit)}")
    return warehouse.read_sql(engine, sql, params)


def ledger_text(engine: Engine, period: str | None = None, audience: str | None = None) -> str:
    rows = ledger(engine, period, audience)
    if rows.empty:
        return f"no deliveries recorded{' for ' + period if period else ''}"
    lines = []
    for row in rows.iloc[::-1].itertuples():
        files = ", ".join(f"{o['file']} ({o['sha256'][:12]})" for o in json.loads(row.outputs or "[]"))
        lines.append(f"{pd.Timestamp(row.attempted_at):%Y-%m-%d %H:%M}  {row.period}  {row.audience} "
                     f"[{row.scope}]  {row.channel} -> {row.recipients or '-'}  {row.outcome.upper()}  "
                     f"run {row.run_id or '-'}\n    {files or '(no files)'}"
                     + (f"\n    {row.message}" if isinstance(row.message, str) and row.message else ""))
    return "\n".join(lines)


def status_lines(engine: Engine, limit: int = 10) -> list[str]:
    """The latest deliveries, for `qaloop status`."""
    rows = ledger(engine, limit=limit)
    if rows.empty:
        return ["Deliveries: none recorded"]
    return ["Deliveries (latest first):"] + [
        f"  {pd.Timestamp(r.attempted_at):%Y-%m-%d %H:%M}  {r.period}  {r.audience} [{r.scope}]  "
        f"{r.outcome}" for r in rows.itertuples()]


# --- approval -------------------------------------------------------------------------------

def approve(engine: Engine, settings: Settings, period: str, audience: str, by: str | None = None,
            note: str | None = None) -> str:
    """Record a named person's approval of the audience's delivery of the period's
    current version; returns the run id approved."""
    if audience not in settings.delivery.audiences:
        raise KeyError(f"no audience {audience} in [delivery.audiences]")
    flow = period_flow(period, audience_flows(settings.delivery.audiences[audience]))
    run_id = warehouse.current_run_id(engine, flow, period)
    if run_id is None:
        raise LookupError(f"no published {flow} version of {period} to approve")
    by = (by or getpass.getuser() or "").strip()
    if not by:
        raise ValueError("an approval needs a name (--by)")
    with engine.begin() as connection:
        approvals = warehouse.table("delivery_approvals", connection)
        connection.execute(approvals.insert().values(period=period, audience=audience, run_id=run_id,
                                                     approved_by=by, approved_at=warehouse.utcnow(), note=note))
    return run_id


def approval_of(engine: Engine, period: str, audience: str, run_id: str | None):
    """The approval of this audience's delivery of this version, or None."""
    with engine.connect() as connection:
        approvals = warehouse.table("delivery_approvals", connection)
        return connection.execute(sa.select(approvals).where(
            (approvals.c.period == period) & (approvals.c.audience == audience)
            & (approvals.c.run_id == run_id)).order_by(approvals.c.approval_id.desc()).limit(1)).first()


# --- sending ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    planned: Planned
    outcome: str
    message: str = ""

    def line(self) -> str:
        files = ", ".join(a.path.name for a in self.planned.attachments) or "(no files)"
        to = ", ".join(self.planned.recipients) if self.planned.channel == "email" else str(self.planned.folder)
        return (f"{self.planned.key}: {self.outcome.upper()} {self.planned.channel} -> {to or '-'}: "
                f"{self.planned.subject or ''} [{files}]" + (f" ({self.message})" if self.message else ""))


def deliver(engine: Engine, settings: Settings, planned: list[Planned], la_name: str = "",
            dry_run: bool = False, force: bool = False, trigger: str = "flow") -> list[Outcome]:
    """Send each planned delivery that is allowed, approved (or needs no approval) and
    not already sent for the period (unless `force`); record every outcome but
    a dry run's and a skip. Refusals and failures are alerted through [notifications]."""
    outcomes = []
    for item in planned:
        if item.channel == "folder":  # an audience's own folder too: one subfolder per unit and period
            base = item.folder or settings.delivery.folder
            root = Path(base) if str(base) not in ("", ".") else settings.data_dir / "delivered"
            item.folder = (root if item.folder else root / item.audience) / item.scope.replace(":", "_") / item.period
        if item.refusal:
            outcomes.append(Outcome(item, REFUSED, item.refusal))
            if not dry_run:  # alerted once per audience, scope, period and reason; recorded every time
                alerted = _recorded(engine, item, REFUSED, message=item.refusal)
                record(engine, item, REFUSED, trigger=trigger)
                if not alerted:
                    _alert(settings.notifications, f"qaloop: delivery REFUSED: {item.key} {item.period}",
                           item.refusal)
            continue
        compose(engine, settings, item, la_name)
        if not item.attachments:
            outcomes.append(Outcome(item, NOTHING, "no file of its outputs in this version"))
            continue
        if not force and last_sent(engine, item.audience, item.scope, item.period) is not None:
            outcomes.append(Outcome(item, "already sent", "not sent again: `qaloop deliver --period ... --audience ...` re-sends it"))
            continue
        approved = approval_of(engine, item.period, item.audience, item.run_id) if item.approval else None
        if item.approval and approved is None:
            outcomes.append(Outcome(item, AWAITING, f"qaloop approve --period {item.period} --audience {item.audience}"))
            if not dry_run and not _recorded(engine, item, AWAITING, run_id=item.run_id):
                record(engine, item, AWAITING, "waits for approval", trigger=trigger)
            continue
        if dry_run:
            outcomes.append(Outcome(item, "would send", f"approved by {approved.approved_by}" if approved else ""))
            continue
        try:
            notify.retried(lambda: send(settings, item))
        except Exception as error:  # recorded and alerted; the run's outcome stands
            message = f"{type(error).__name__}: {error}"
            outcomes.append(Outcome(item, FAILED, message))
            record(engine, item, FAILED, message, trigger=trigger)
            _alert(settings.notifications, f"qaloop: delivery FAILED: {item.key} {item.period}",
                   f"{item.key} for {item.period} (run {item.run_id}) was not delivered after retries: {message}\n"
                   f"Send it again by hand: qaloop deliver --period {item.period} --audience {item.audience}")
            continue
        note = f"approved by {approved.approved_by} at {approved.approved_at:%Y-%m-%d %H:%M}" if approved else None
        record(engine, item, SENT, note, trigger=trigger)
        outcomes.append(Outcome(item, SENT, note or ""))
    return outcomes


def _recorded(engine: Engine, item: Planned, outcome: str, run_id: str | None = None,
              message: str | None = None) -> bool:
    """Whether the ledger already holds this outcome of the audience's (scope's) delivery of
    the period: of this version (`run_id`), or with this message (a refusal's reason)."""
    with engine.connect() as connection:
        deliveries = warehouse.table("deliveries", connection)
        where = ((deliveries.c.audience == item.audience) & (deliveries.c.scope == item.scope)
                 & (deliveries.c.period == item.period) & (deliveries.c.outcome == outcome))
        if run_id is not None:
            where &= deliveries.c.run_id == run_id
        if message is not None:
            where &= deliveries.c.message == message
        return connection.execute(sa.select(deliveries.c.delivery_id).where(where).limit(1)).first() is not None


def send(settings: Settings, item: Planned) -> None:
    """One delivery through its channel: the alerts' SMTP path, or the folder drop."""
    if item.channel == "email":
        notifications = settings.notifications
        if not notifications.smtp_host:
            raise RuntimeError("no SMTP server configured ([notifications] smtp_host)")
        attached = tuple(a.path for a in item.attachments if a.path.name not in item.links)
        linked = [a for a in item.attachments if a.path.name in item.links]
        if linked:  # copied first to the audience's own link folder: the link shows nothing else
            notify.folder_drop(audience_folder(link_root(settings), item), [a.path for a in linked],
                               manifest(item, linked))
        notify.smtp_send(notifications, [notify.Outgoing(item.subject, item.body, item.recipients, attached,
                                                         settings.delivery.sender)])
        return
    notify.folder_drop(item.folder, [a.path for a in item.attachments], manifest(item, item.attachments))


def manifest(item: Planned, attachments: list[Attachment]) -> dict:
    return {"audience": item.audience, "scope": item.scope, "flow": item.flow, "period": item.period,
            "run_id": item.run_id, "subject": item.subject, "summary": item.body,
            "files": [a.ledger() for a in attachments]}


def _alert(notifications: Notifications, subject: str, body: str) -> list[str]:
    return notify.send(notifications, subject, body, severity="failure")


def deliver_run(engine: Engine, settings: Settings, flow: str, period: str, run_id: str,
                kpis: list[Kpi] | None = None, force: bool = False, trigger: str = "flow") -> list[Outcome]:
    """The flows' delivery step: every audience due for this flow and period receives the
    run's outputs, only when the run is the period's current version and delivery is
    enabled; an audience already sent this period is not sent again unless `force`."""
    if not settings.delivery.enabled or not settings.delivery.audiences:
        return []
    if warehouse.current_run_id(engine, flow, period) != run_id:
        return []
    planned = plan_period(engine, settings, flow, period, kpis, run_id=run_id)
    return deliver(engine, settings, planned, force=force, trigger=trigger)
