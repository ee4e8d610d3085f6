"""The cadences declared in deployments/schedules.yml, turned into Prefect deployments.

    qaloop serve [--source DIR_OR_URL] [--out DIR] [--config FILE]

serves every enabled cadence from one process (Prefect `serve`); `qaloop status` uses
`next_runs` for the next scheduled time of each.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from tasks.core.paths import DEPLOYMENTS_DIR
from tasks.core.settings import refuse_password_in

SCHEDULES_FILE = DEPLOYMENTS_DIR / "schedules.yml"
ENV_REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)\}")
REQUIRED_PARAMETERS = ("source", "out")


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
    shared = raw.get("parameters") or {}
    return [Cadence(name=entry["name"], flow=entry["flow"], cron=entry["cron"],
                    timezone=entry.get("timezone", raw["timezone"]),
                    day_or=entry.get("day_or", True), enabled=entry.get("enabled", True),
                    description=entry.get("description", ""), note=entry.get("note", ""),
                    parameters={**shared, **(entry.get("parameters") or {})})
            for entry in raw["deployments"]]


def resolve_parameters(parameters: dict, overrides: dict | None = None) -> dict:
    """Fill ${VAR} from the environment (unset: empty), then apply explicit overrides;
    an empty optional parameter is dropped so the flow's default applies. A deployment's
    parameters are stored by Prefect: a source carrying a password is refused (its
    password belongs in QALOOP_SOURCE_PASSWORD or a Secret block, read by the run)."""
    resolved = {key: ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1), ""), value)
                if isinstance(value, str) else value for key, value in parameters.items()}
    resolved.update({k: v for k, v in (overrides or {}).items() if v})
    refuse_password_in(resolved.get("source"))
    missing = [key for key in REQUIRED_PARAMETERS if not resolved.get(key)]
    if missing:
        raise ValueError(f"set {', '.join(missing)} for the scheduled runs: pass --{' --'.join(missing)} "
                         "or the environment variables named in deployments/schedules.yml")
    return {key: value for key, value in resolved.items() if value not in ("", None)}


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
