"""One settings module: a TOML file plus environment variables.

Precedence: environment variable > configuration file > default. Every variable is
listed in `.env.example`. Connection strings come from the file or the environment
and are never logged (see `redact_url`).

Secrets (the source's and the warehouse's database passwords, the SMTP password, the
webhook URL, which carries its token) are resolved here, inside the run: from their
environment variable (`SECRET_VARIABLES`) or else from the Prefect Secret block the
`[secrets]` section names. They are never flow parameters, which Prefect stores and
shows (README, "Security"): a flow is given the name or path of its configuration and a
source without credentials (`refuse_password_in`).
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from tasks.core.paths import QALOOP_VERSION as __version__
from tasks.core.paths import PROJECT_ROOT, REFERENCE_DIR

ENV_PREFIX = "QALOOP_"
# secret -> the environment variable it is read from first; `[secrets]` may name a
# Prefect Secret block for each, read when the variable is not set
SECRET_VARIABLES = {"source_password": "QALOOP_SOURCE_PASSWORD",
                    "warehouse_password": "QALOOP_WAREHOUSE_PASSWORD",
                    "smtp_password": "QALOOP_SMTP_PASSWORD",
                    "webhook_url": "QALOOP_WEBHOOK_URL"}


class PasswordInParameter(ValueError):
    """A database URL with its password given where Prefect would record it."""


@dataclass(frozen=True)
class KpiTarget:
    target: float
    tolerance: float | None = None


@dataclass(frozen=True)
class SourceMapping:
    """How one LA's export differs from the contract: renamed columns, recoded values,
    and the order of numeric dates per column (`day_first` or `month_first`) where
    detection cannot tell (tasks.extract.extracts: DATE_ORDERS)."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Notifications:
    """Where failures (and data-quality alerts) are sent: email over SMTP and/or a webhook.
    Empty values switch a channel off. QALOOP_SMTP_* / QALOOP_WEBHOOK_URL override."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "qaloop@localhost"
    smtp_to: tuple[str, ...] = ()
    webhook_url: str = field(default="", repr=False)  # carries its token: a secret
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)  # from QALOOP_SMTP_PASSWORD or a Secret block
    smtp_starttls: bool = False


@dataclass(frozen=True)
class Settings:
    la_code: str = "841"
    data_dir: Path = Path(".qaloop")
    warehouse_url: str = field(default="", repr=False)
    reference_dir: Path = REFERENCE_DIR
    population_0_17: int | None = None
    allocated_worker_role: str = "ALLOCATED CASE WORKER"
    caseload_threshold: int = 20
    trend_months: int = 13
    synthetic: bool = False
    targets: dict[str, KpiTarget] = field(default_factory=dict)
    mappings: dict[str, SourceMapping] = field(default_factory=dict)
    notifications: Notifications = field(default_factory=Notifications)
    qa: dict = field(default_factory=dict)  # the [qa] section: tasks.kpis.qa.schedule_from_settings
    validation: dict = field(default_factory=dict)  # the [validation] section: tasks.validate.validation.settings_from
    freshness: dict = field(default_factory=dict)  # [freshness] working_days_behind: tasks.extract.freshness
    arrival: dict = field(default_factory=dict)  # [arrival] wait_until, poll_seconds: tasks.extract.arrival
    benchmarks: dict = field(default_factory=dict)  # [benchmarks.<KPI id>]: tasks.kpis.benchmarks.configured_kpis
    # where readers reach the published folder (OUT) by web, e.g. https://intranet/qaloop/:
    # links in notifications point there instead of at the server's disk
    published_url: str = ""
    archive_keep_months: int = 24  # [archive] keep_months: archived extracts older than this are deleted
    source_password: str = field(default="", repr=False)
    warehouse_password: str = field(default="", repr=False)

    @property
    def resolved_warehouse_url(self) -> str:
        """With its password (QALOOP_WAREHOUSE_PASSWORD or the Secret block) put back:
        for connecting only, never for recording."""
        if self.warehouse_url:
            return with_password(self.warehouse_url, self.warehouse_password)
        return f"sqlite:///{(self.data_dir / 'warehouse.sqlite').resolve()}"

    def source_to_read(self, source: str) -> str:
        """The source a run reads: a database URL given without its password gets the
        source password (QALOOP_SOURCE_PASSWORD or the Secret block)."""
        refuse_password_in(source)
        return with_password(source, self.source_password)

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    def with_overrides(self, **changes) -> "Settings":
        values = {**self.__dict__, **{k: v for k, v in changes.items() if v is not None}}
        return Settings(**values)


def load_settings(config_file: str | Path | None = None, resolve_secrets: bool = True,
                  **overrides) -> Settings:
    """Read the TOML file (if any), then environment variables, then explicit overrides.
    `resolve_secrets=False`: leave out the secrets that would be read from Prefect Secret
    blocks (for the command line's own set-up, before Prefect is configured)."""
    raw: dict = {}
    config_file = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise FileNotFoundError(f"configuration file not found: {path}")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    base = _settings_from_mapping(raw)
    env = {
        "la_code": os.environ.get(f"{ENV_PREFIX}LA_CODE"),
        "data_dir": _path_or_none(os.environ.get(f"{ENV_PREFIX}DATA_DIR")),
        "warehouse_url": os.environ.get(f"{ENV_PREFIX}WAREHOUSE_URL"),
        "reference_dir": _path_or_none(os.environ.get(f"{ENV_PREFIX}REFERENCE_DIR")),
        "published_url": os.environ.get(f"{ENV_PREFIX}PUBLISHED_URL"),
    }
    base = base.with_overrides(notifications=_notifications_from_env(base.notifications))
    secrets = resolved_secrets(raw.get("secrets", {}), resolve_secrets)
    base = base.with_overrides(
        source_password=secrets["source_password"] or None,
        warehouse_password=secrets["warehouse_password"] or None,
        notifications=replace(base.notifications,
                              smtp_password=secrets["smtp_password"] or base.notifications.smtp_password,
                              webhook_url=secrets["webhook_url"] or base.notifications.webhook_url))
    return base.with_overrides(**env).with_overrides(**overrides)


def resolved_secrets(blocks: dict, from_blocks: bool = True) -> dict[str, str]:
    """Each secret from its environment variable, else from the Prefect Secret block
    named in `[secrets]` (read only when `from_blocks`), else empty."""
    unknown = set(blocks) - set(SECRET_VARIABLES)
    if unknown:
        raise ValueError(f"[secrets]: unknown key(s) {sorted(unknown)}; known: {sorted(SECRET_VARIABLES)}")
    values = {}
    for name, variable in SECRET_VARIABLES.items():
        values[name] = os.environ.get(variable, "")
        if not values[name] and blocks.get(name) and from_blocks:
            values[name] = _secret_block_value(blocks[name])
    return values


def _secret_block_value(block_name: str) -> str:
    from prefect.blocks.system import Secret
    return str(Secret.load(block_name).get())


def with_password(url: str, password: str) -> str:
    """A database URL with `password` set (when it has none); a folder as it is."""
    if not password or "://" not in str(url):
        return url
    parsed = make_url(url)
    return url if parsed.password else parsed.set(password=password).render_as_string(hide_password=False)


def refuse_password_in(source: str) -> None:
    """A source given to a flow (a parameter Prefect stores and shows) must not carry a
    password: it is resolved inside the run instead."""
    if "://" not in str(source or ""):
        return
    try:
        password = make_url(source).password
    except Exception:  # not a URL SQLAlchemy can parse: the extract reports it
        return
    if password:
        raise PasswordInParameter(
            f"the source {redact_url(source)} carries a password. Flow parameters are stored and "
            "shown by Prefect, so give the URL without it and set QALOOP_SOURCE_PASSWORD in the "
            "environment of the run (or name a Prefect Secret block in the configuration: "
            "[secrets] source_password = \"<block name>\")")


def config_text(values: dict) -> str:
    """A TOML configuration of `values` (top-level keys, then one table per dict)."""
    lines, tables = [], []
    for key, value in values.items():
        (tables if isinstance(value, dict) else lines).append((key, value))
    text = "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in lines)
    for key, table in tables:
        text += _toml_table([str(key)], table)
    return text


def _toml_table(path: list[str], table: dict) -> str:
    header = ".".join(json.dumps(p) for p in path)
    text = f"\n[{header}]\n"
    for key, value in table.items():
        if not isinstance(value, dict):
            text += f"{json.dumps(str(key))} = {_toml_value(value)}\n"
    for key, value in table.items():
        if isinstance(value, dict):
            text += _toml_table(path + [str(key)], value)
    return text


def _toml_value(value) -> str:
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value)  # strings, numbers, booleans and lists: JSON is valid TOML here


def _notifications_from_mapping(raw: dict) -> Notifications:
    recipients = raw.get("smtp_to", ())
    if isinstance(recipients, str):
        recipients = [r.strip() for r in recipients.split(",") if r.strip()]
    return Notifications(smtp_host=str(raw.get("smtp_host", "")), smtp_port=int(raw.get("smtp_port", 25)),
                         smtp_from=str(raw.get("smtp_from", "qaloop@localhost")),
                         smtp_to=tuple(recipients), webhook_url=str(raw.get("webhook_url", "")),
                         smtp_username=str(raw.get("smtp_username", "")),
                         smtp_password=str(raw.get("smtp_password", "")),
                         smtp_starttls=_true(raw.get("smtp_starttls", False)))


def _true(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


def _notifications_from_env(current: Notifications) -> Notifications:
    raw = {"smtp_host": current.smtp_host, "smtp_port": current.smtp_port,
           "smtp_from": current.smtp_from, "smtp_to": list(current.smtp_to),
           "webhook_url": current.webhook_url, "smtp_username": current.smtp_username,
           "smtp_password": current.smtp_password, "smtp_starttls": current.smtp_starttls}
    for key in raw:
        value = os.environ.get(f"{ENV_PREFIX}{key.upper()}")
        if value:
            raw[key] = value
    return _notifications_from_mapping(raw)


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


def _settings_from_mapping(raw: dict) -> Settings:
    targets = {
        kpi_id: KpiTarget(float(spec["target"]), _float_or_none(spec.get("tolerance")))
        for kpi_id, spec in raw.get("targets", {}).items()
    }
    mappings = {
        table: SourceMapping(spec.get("columns", {}), spec.get("values", {}), spec.get("date_formats", {}))
        for table, spec in raw.get("mapping", {}).items()
    }
    simple = {k: raw[k] for k in ("la_code", "warehouse_url", "allocated_worker_role",
                                  "caseload_threshold", "trend_months", "synthetic",
                                  "population_0_17", "published_url") if k in raw}
    if "la_code" in simple:
        simple["la_code"] = str(simple["la_code"])
    for key in ("data_dir", "reference_dir"):
        if key in raw:
            simple[key] = Path(raw[key])
    notifications = _notifications_from_mapping(raw.get("notifications", {}))
    archive = raw.get("archive", {})
    return Settings(targets=targets, mappings=mappings, notifications=notifications,
                    qa=dict(raw.get("qa", {})), validation=dict(raw.get("validation", {})),
                    freshness=dict(raw.get("freshness", {})), arrival=dict(raw.get("arrival", {})),
                    benchmarks=dict(raw.get("benchmarks", {})),
                    archive_keep_months=int(archive.get("keep_months", 24)), **simple)


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


def redact_url(url: str) -> str:
    """A database URL safe to print: the password is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: a folder path
        return url


def code_version() -> str:
    """The package version plus the git commit when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()
        return f"{__version__}+g{commit}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__
