"""The cadences declared in deployments/schedules.yml (the only place they are declared),
turned into Prefect deployments.

    qaloop serve [--source DIR_OR_URL] [--out DIR] [--config FILE]
    qaloop prefect-yaml [--check]

`serve` serves every enabled cadence from one process (Prefect `serve`); `qaloop status`
uses `next_runs` for the next scheduled time of each; `prefect-yaml` writes
deployments/prefect.yaml (the work-pool set-up) from the same declarations, and `--check`
fails when the committed file is out of date. The parameters every deployment shares
(source, out, config) are `SharedParameters`: from --source/--out/--config, else their
environment variables.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from tasks.core.paths import DEPLOYMENTS_DIR
from tasks.core.settings import refuse_password_in

SCHEDULES_FILE = DEPLOYMENTS_DIR / "schedules.yml"
PREFECT_YAML = DEPLOYMENTS_DIR / "prefect.yaml"


class SharedParameters(BaseModel):
    """The parameters of every deployment. Prefect stores and shows them, so the source
    must carry no password (its password is read by the run: QALOOP_SOURCE_PASSWORD or a
    Secret block)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # parameter -> the environment variable it is read from when no option gives it
    ENVIRONMENT: ClassVar[dict[str, str]] = {"source": "QALOOP_SOURCE", "out": "QALOOP_PUBLISH_DIR",
                                             "config": "QALOOP_CONFIG"}
    OPTIONS: ClassVar[dict[str, str]] = {"source": "--source", "out": "--out", "config": "--config"}

    source: str                 # drop folder or SQLAlchemy URL of the case system (no password)
    out: str                    # folder the performance team reads outputs from
    config: str | None = None   # TOML settings (targets, warehouse, notifications)

    @field_validator("source")
    @classmethod
    def _no_password(cls, value: str) -> str:
        refuse_password_in(value)
        return value

    @classmethod
    def resolve(cls, overrides: dict | None = None) -> "SharedParameters":
        """From the options given (`overrides`), else the environment; a clear error naming
        the option and the variable for a required one missing."""
        values = {name: os.environ.get(variable) or None for name, variable in cls.ENVIRONMENT.items()}
        values.update({k: v for k, v in (overrides or {}).items() if v})
        missing = [name for name in ("source", "out") if not values.get(name)]
        if missing:
            raise ValueError("set " + ", ".join(f"{cls.OPTIONS[m]} (or {cls.ENVIRONMENT[m]})" for m in missing)
                             + " for the scheduled runs")
        refuse_password_in(values["source"])  # before validation: PasswordInParameter, not wrapped
        return cls(**{k: v for k, v in values.items() if v is not None})

    def as_parameters(self) -> dict:
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class Cadence:
    name: str
    flow: str                 # "module:function"
    cron: str
    timezone: str
    day_or: bool = True
    enabled: bool = True
    description: str = ""
    note: str = ""
    parameters: dict = field(default_factory=dict)

    @property
    def flow_name(self) -> str:
        return self.flow.split(":")[1]


def load_cadences(path: Path = SCHEDULES_FILE) -> list[Cadence]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [Cadence(name=entry["name"], flow=entry["flow"], cron=entry["cron"],
                    timezone=entry.get("timezone", raw["timezone"]),
                    day_or=entry.get("day_or", True), enabled=entry.get("enabled", True),
                    description=entry.get("description", ""), note=entry.get("note", ""),
                    parameters=dict(entry.get("parameters") or {}))
            for entry in raw["deployments"]]


def resolve_parameters(parameters: dict, overrides: dict | None = None) -> dict:
    """A deployment's parameters: the shared ones (`SharedParameters`: options, else the
    environment), then the cadence's own."""
    return {**SharedParameters.resolve(overrides).as_parameters(), **parameters}


def schedule_of(cadence: Cadence):
    from prefect.schedules import Cron
    return Cron(cadence.cron, timezone=cadence.timezone, day_or=cadence.day_or)


def next_runs(cadence: Cadence, after: datetime, count: int = 1) -> list[datetime]:
    """The next `count` scheduled times after `after`, by Prefect's own schedule maths."""
    from prefect.server.schemas.schedules import CronSchedule
    schedule = CronSchedule(cron=cadence.cron, timezone=cadence.timezone, day_or=cadence.day_or)
    return list(asyncio.run(schedule.get_dates(n=count, start=after)))


def load_flow(cadence: Cadence):
    """The Prefect flow of a cadence, or None when its module does not exist yet."""
    module_name, function = cadence.flow.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return None
    return getattr(module, function)


def build_deployments(overrides: dict | None = None, cadences: list[Cadence] | None = None):
    """RunnerDeployments of every enabled cadence whose flow exists, and one note per
    cadence left out (and why)."""
    deployments, notes = [], []
    for cadence in cadences or load_cadences():
        flow = load_flow(cadence) if cadence.enabled else None
        if flow is None:
            why = cadence.note or ("disabled" if not cadence.enabled else f"{cadence.flow} not found")
            notes.append(f"{cadence.name}: not served ({why})")
            continue
        deployments.append(flow.to_deployment(
            name=cadence.name, schedules=[schedule_of(cadence)],
            parameters=resolve_parameters(cadence.parameters, overrides),
            description=cadence.description, tags=["qaloop", cadence.flow_name]))
    return deployments, notes


def serve_all(overrides: dict | None = None) -> None:
    from prefect import serve
    deployments, notes = build_deployments(overrides)
    for note in notes:
        print(note)
    serve(*deployments)


# --- deployments/prefect.yaml, generated ----------------------------------------------------

PREFECT_YAML_HEADER = """\
# GENERATED from deployments/schedules.yml by `qaloop prefect-yaml`: do not edit; change
# schedules.yml and run it again (`qaloop prefect-yaml --check`, run by the tests, fails
# when this file is out of date).
#
# Production set-up: a PostgreSQL-backed Prefect server, a process work pool and a
# worker on the server that can read the case-system source and write the outputs.
# From the repository root:
#
#   prefect work-pool create qaloop --type process
#   prefect deploy --prefect-file deployments/prefect.yaml --all
#   prefect worker start --pool qaloop
#
# Environment of `prefect deploy` (templated below): QALOOP_HOME (the installed
# checkout), {variables}. These are stored with the deployments and shown in the UI:
# QALOOP_SOURCE is a folder or a database URL WITHOUT its password (the run reads
# QALOOP_SOURCE_PASSWORD or a Secret block, see [secrets] in qaloop.example.toml); no
# other secret is a parameter.
#
# The server requires authentication (deployments/README.md, "Security of the Prefect
# server"): PREFECT_SERVER_API_AUTH_STRING="user:password" where `prefect server start`
# runs, and the same PREFECT_API_AUTH_STRING for `prefect deploy` and the worker.
"""


def prefect_yaml_text(cadences: list[Cadence] | None = None) -> str:
    """deployments/prefect.yaml for `prefect deploy`: every enabled cadence, its schedule
    and the shared parameters templated from their environment variables."""
    cadences = load_cadences() if cadences is None else cadences
    variables = ", ".join(SharedParameters.ENVIRONMENT.values())
    lines = [PREFECT_YAML_HEADER.format(variables=variables).rstrip("\n"),
             "name: qaloop", f"prefect-version: {version('prefect')}", "",
             "pull:", "  - prefect.deployments.steps.set_working_directory:",
             '      directory: "{{ $QALOOP_HOME }}"', "",
             "definitions:", "  parameters: &shared"]
    lines += [f'    {name}: "{{{{ ${variable} }}}}"' for name, variable in SharedParameters.ENVIRONMENT.items()]
    lines += ["  work_pool: &pool", "    name: qaloop", "    work_queue_name: default", "", "deployments:"]
    for cadence in cadences:
        if not cadence.enabled:
            continue
        module, function = cadence.flow.split(":")
        lines += [f"  - name: {cadence.name}",
                  f"    entrypoint: {module.replace('.', '/')}.py:{function}",
                  f"    description: {json.dumps(' '.join(cadence.description.split()))}",
                  f"    tags: [qaloop, {cadence.flow_name}]"]
        if cadence.parameters:
            lines += ["    parameters:", "      <<: *shared"]
            lines += [f"      {key}: {json.dumps(value)}" for key, value in cadence.parameters.items()]
        else:
            lines.append("    parameters: *shared")
        lines += ["    schedules:", f"      - cron: {json.dumps(cadence.cron)}",
                  f"        timezone: {cadence.timezone}", f"        day_or: {json.dumps(cadence.day_or)}",
                  "    work_pool: *pool", ""]
    left_out = [c.name for c in cadences if not c.enabled]
    if left_out:
        lines.append(f"  # not deployed until their flows exist (schedules.yml: enabled: false): "
                     f"{', '.join(left_out)}")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_prefect_yaml(path: Path | None = None, check: bool = False) -> bool:
    """Write prefect.yaml from schedules.yml; with `check`, only say whether it is up to date."""
    path = path or PREFECT_YAML
    text = prefect_yaml_text()
    current = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
    if check:
        return current == text
    if current != text:
        Path(path).write_text(text, encoding="utf-8")
    return True
