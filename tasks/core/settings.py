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
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url

from tasks.core.paths import QALOOP_VERSION as __version__
from tasks.core.paths import EXPECTATIONS_DIR, PROJECT_ROOT, REFERENCE_DIR, REGISTRY_FILE

ENV_PREFIX = "QALOOP_"
# secret -> the environment variable it is read from first; `[secrets]` may name a
# Prefect Secret block for each, read when the variable is not set
SECRET_VARIABLES = {"source_password": "QALOOP_SOURCE_PASSWORD",
                    "warehouse_password": "QALOOP_WAREHOUSE_PASSWORD",
                    "smtp_password": "QALOOP_SMTP_PASSWORD",
                    "webhook_url": "QALOOP_WEBHOOK_URL"}
# the flat variables of .env.example that set a key of a section
FLAT_SECTION_VARIABLES = {f"{ENV_PREFIX}{key.upper()}": ("notifications", key)
                          for key in ("smtp_host", "smtp_port", "smtp_from", "smtp_to", "smtp_username",
                                      "smtp_password", "smtp_starttls", "webhook_url")}
MASK = "**********"
# a source given as `secret:<block name>`: the Prefect Secret block holding the source
# database's URL with its credentials (a region's member LAs, tasks/core/region.py)
SECRET_SOURCE_PREFIX = "secret:"
ANY_TYPE = "any"  # an audit requirement's audit_types: every audit type counts
HEAD_OF_SERVICE = "Head of Service"


class PasswordInParameter(ValueError):
    """A database URL with its password given where Prefect would record it."""


class SettingsError(ValueError):
    """A configuration value that is not understood: the message names it as
    `[section] key` and says where the settings came from."""


SECTION = ConfigDict(frozen=True, extra="forbid")


# --- small value types (positional construction kept: KpiTarget(90.0, 3.0)) ---------------

@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class KpiTarget:
    target: float
    tolerance: float | None = None


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class SourceMapping:
    """How one LA's export differs from the contract: renamed columns, recoded values,
    and the order of numeric dates per column (`day_first` or `month_first`) where
    detection cannot tell (tasks.extract.extracts: DATE_ORDERS)."""

    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_formats: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class AuditRequirement:
    """What one role must complete (QA02)."""

    audit_types: tuple[str, ...] = ("case_file",)  # "any": every audit type counts
    count: int = 1
    window_months: int = 1  # the calendar months ending with the period month
    other_team_only: bool = False  # only cases whose team_id is not the auditor's team

    @field_validator("audit_types", mode="before")
    @classmethod
    def _one_type(cls, value):
        return [value] if isinstance(value, str) else value

    def counts_type(self, audit_type) -> bool:
        return ANY_TYPE in self.audit_types or audit_type in self.audit_types


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class ObservationRequirement:
    observer_role: str
    observed_role: str
    observation_type: str
    count: int = 1
    window_days: int = 365  # "rolling 12 months" = [period_end - 364, period_end]


# --- the sections ---------------------------------------------------------------------------

class Notifications(BaseModel):
    """Where failures (and data-quality alerts) are sent: email over SMTP and/or a webhook.
    Empty values switch a channel off. QALOOP_SMTP_* / QALOOP_WEBHOOK_URL override."""

    model_config = SECTION

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "qaloop@localhost"
    smtp_to: tuple[str, ...] = ()
    webhook_url: SecretStr = Field(default=SecretStr(""), exclude=True, repr=False)  # carries its token: a secret
    smtp_username: str = ""
    smtp_password: SecretStr = Field(default=SecretStr(""), exclude=True, repr=False)  # QALOOP_SMTP_PASSWORD or a Secret block
    smtp_starttls: bool = False

    @field_validator("smtp_to", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [r.strip() for r in value.split(",") if r.strip()]
        return value


class QaSettings(BaseModel):
    """The QA framework (../shared/spec/qa-activity.md; tasks.kpis.qa.QaSchedule). The
    defaults below are the only ones. `requirements`, `moderation_targets` and
    `theme_keywords` given in the file are merged onto these (a role's keys replace that
    role's defaults, the other roles keep theirs); `observations` replaces the list."""

    model_config = SECTION

    requirements: dict[str, AuditRequirement] = {
        "Team Manager": AuditRequirement(("case_file",), 1, 1, other_team_only=True),
        "Family Solutions Manager": AuditRequirement(("case_file",), 1, 1),
        "Service Manager": AuditRequirement(("case_file",), 1, 1),
        "Residential Manager": AuditRequirement(("case_file",), 1, 3),
        "IRO Service Manager": AuditRequirement((ANY_TYPE,), 1, 1),
        # Head of Service: measured by QA06, not QA02 (kpis.md), so no requirement here.
        "Assistant Director": AuditRequirement(("re_audit",), 1, 3),
        "DCS": AuditRequirement(("re_audit",), 1, 3),
        "Elected Member": AuditRequirement(("re_audit",), 1, 3),
    }
    moderation_targets: dict[str, float] = {"Social Care": 20.0, "Early Help": 10.0}  # QA04, % per service area
    inadequate_moderation_target: float = 100.0
    follow_up_days: int = 14           # QA07: follow-up within N calendar days
    submission_working_days: int = 5   # QA09: submitted within N working days of due
    observations: tuple[ObservationRequirement, ...] = (
        ObservationRequirement("Team Manager", "Practitioner", "practice"),
        ObservationRequirement("Service Manager", "Team Manager", "welfare_supervision_audit"),
        ObservationRequirement("Service Manager", "Team Manager", "supervision"),
        ObservationRequirement("IRO Service Manager", "IRO", "iro_chairing"),
    )
    themes: dict[str, str] = {}  # month (YYYY-MM) -> audit theme, planned 6 months ahead
    # cohort rules of the themes (case-insensitive substrings of the CP category or CIN/CLA
    # primary need code: SSD CP categories NEG/PHY/EMO/SAB/MUL; CIN need codes N1 abuse
    # or neglect, N2 child's disability; or CIN, CP, CLA: how the case is open; "*": every
    # open case). A planned theme with none is not drawn (tasks.kpis.qa.audit_cohort)
    theme_keywords: dict[str, tuple[str, ...]] = {"Neglect": ("neglect", "NEG", "N1"),
                                                 "Disabled children": ("N2",)}
    audits_per_auditor: int = 1
    allocation_seed: int | None = None  # None: the month as a number (2024-04 -> 202404)

    @model_validator(mode="before")
    @classmethod
    def _onto_defaults(cls, data):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "requirements" in data:
            defaults = cls.model_fields["requirements"].default
            merged = {role: dict(r.__dict__) for role, r in defaults.items()}
            for role, spec in (data["requirements"] or {}).items():
                if role == HEAD_OF_SERVICE:
                    raise ValueError("[qa.requirements] Head of Service: kpis.md measures Heads of Service "
                                     "by the re-audits of Inadequate cases, not by audit compliance")
                spec = spec.__dict__ if isinstance(spec, AuditRequirement) else dict(spec)
                merged[role] = {**merged.get(role, {}), **spec}
            data["requirements"] = merged
        for key in ("moderation_targets", "theme_keywords"):
            if key in data:
                data[key] = {**cls.model_fields[key].default, **(data[key] or {})}
        return data


class ValidationSettings(BaseModel):
    """Limits of the row-count and file-age checks (expectations/defaults.yml declares the
    rules and their severities; the limits are set here only)."""

    model_config = SECTION

    suites_dir: Path = EXPECTATIONS_DIR  # a folder of suites replacing expectations/
    row_change_limit: float = 0.25  # warn when a table's rows move by more than this against the last load
    row_shrink_limit: float = 0.5   # critical when it shrinks by more than this
    max_file_age_days: int = 7      # warn when a file is older than the extract date by more


class FreshnessSettings(BaseModel):
    model_config = SECTION

    # a run is refused when the latest activity is more than this many working days
    # before the period end (monthly) or the as-at day (daily, weekly)
    working_days_behind: int = 3


class ArrivalSettings(BaseModel):
    model_config = SECTION

    wait_until: time = time(12, 0)  # Europe/London, on the run's day
    poll_seconds: float = 300.0


class ArchiveSettings(BaseModel):
    model_config = SECTION

    keep_months: int = 24  # archived extracts older than this are deleted


class KpiSettings(BaseModel):
    model_config = SECTION

    # the KPI registry; the `sql:` of its entries are read relative to its folder first,
    # then sql/ (tasks.kpis.registry)
    registry: Path = REGISTRY_FILE


class SecretBlocks(BaseModel):
    """The Prefect Secret block to read each secret from when its variable is not set."""

    model_config = SECTION

    source_password: str = ""
    warehouse_password: str = ""
    smtp_password: str = ""
    webhook_url: str = ""


# --- delivery: who receives which output (tasks/operations/delivery.py) ------------------------

# The detail an output carries, least first: suppressed figures only; named staff but no
# child; child-level rows. An audience receives nothing more detailed than its `level`.
DELIVERY_LEVELS = ("aggregate", "staff", "child")
CADENCES = ("daily", "weekly", "monthly", "quarterly", "six-monthly")
DELIVERY_CHANNELS = ("email", "folder")


class Audience(BaseModel):
    """One audience of `[delivery.audiences.<name>]`: who, which outputs (by output name,
    tasks.operations.delivery.CATALOGUE), how often, by which channel, the most detailed
    level it may receive and its scope."""

    model_config = SECTION

    description: str = ""
    recipients: tuple[str, ...] = ()
    # scope "team": each team's own recipients (team id -> addresses), e.g. its manager
    team_recipients: dict[str, tuple[str, ...]] = {}
    # scope "service_area": each service area's recipients (its Head of Service)
    service_area_recipients: dict[str, tuple[str, ...]] = {}
    outputs: tuple[str, ...] = ()
    cadence: str = "monthly"
    channel: str = "email"
    level: str = "aggregate"
    # la | service_area:<name> | team:<id> | team (one delivery per team, each its own rows)
    # | service_area (one delivery per service area)
    scope: str = "la"
    approval: bool = True  # wait for `qaloop approve` before sending
    folder: Path | None = None  # channel folder: where the files go (default [delivery] folder/<audience>)

    @field_validator("recipients", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [r.strip() for r in value.split(",") if r.strip()]
        return value

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, value):
        if value not in CADENCES:
            raise ValueError(f"cadence {value!r} is not one of {', '.join(CADENCES)}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value):
        if value not in DELIVERY_CHANNELS:
            raise ValueError(f"channel {value!r} is not one of {', '.join(DELIVERY_CHANNELS)}")
        return value

    @field_validator("level")
    @classmethod
    def _level(cls, value):
        if value not in DELIVERY_LEVELS:
            raise ValueError(f"level {value!r} is not one of {', '.join(DELIVERY_LEVELS)}")
        return value

    @field_validator("scope")
    @classmethod
    def _scope(cls, value):
        kind, _, name = value.partition(":")
        if value in ("la", "team", "service_area") or (kind in ("team", "service_area") and name.strip()):
            return value
        raise ValueError(f"scope {value!r}: expected la, team, team:<id>, service_area or "
                         "service_area:<name>")


class DeliverySettings(BaseModel):
    """Scheduled delivery of the published outputs to their audiences (README, "Delivery").
    Email goes through the `[notifications]` SMTP server (STARTTLS, login, password from
    QALOOP_SMTP_PASSWORD), the same code path as the alerts."""

    model_config = SECTION

    enabled: bool = True  # false: the flows deliver nothing (the commands still preview)
    sender: str = ""  # From: of deliveries (default [notifications] smtp_from)
    max_attachment_bytes: int = 10_000_000  # larger files are linked, not attached
    # a file too large to attach is copied to link_folder/<audience>/<scope>/<period>/ (only
    # what that delivery carries) and linked there: link_url + the path under link_folder
    # (a web share of the folder), else the file's URI (default folder: data_dir/delivery_links)
    link_folder: Path = Path("")
    link_url: str = ""
    folder: Path = Path("")  # channel folder: the root of the folder drop (a mapped or synced drive)
    # qa_staff.staff_id -> email address: a team (or service area) with no address in its
    # audience's team_recipients (service_area_recipients) goes to its Team Manager (Head
    # of Service) in post in qa_staff, at this address; never a guessed one
    staff_addresses: dict[str, str] = {}
    audiences: dict[str, Audience] = {}


# --- the settings ---------------------------------------------------------------------------

_config_file: ContextVar[Path | None] = ContextVar("qaloop_config_file", default=None)


class _TomlFile(PydanticBaseSettingsSource):
    """The configuration file of this load (below the environment)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file.get()
        return tomllib.loads(path.read_text(encoding="utf-8")) if path else {}


class _FlatVariables(PydanticBaseSettingsSource):
    """QALOOP_SMTP_HOST and the other flat variables of .env.example that set a section's
    key (QALOOP_NOTIFICATIONS__SMTP_HOST says the same). Empty values are ignored."""

    def get_field_value(self, field, field_name):  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict] = {}
        for variable, (section, key) in FLAT_SECTION_VARIABLES.items():
            if os.environ.get(variable):
                values.setdefault(section, {})[key] = os.environ[variable]
        return values


class Settings(BaseSettings):
    """Every setting, typed, with its one default. A section is a frozen model that
    forbids unknown keys. Environment: QALOOP_<KEY> for a top-level key,
    QALOOP_<SECTION>__<KEY> for a section's (QALOOP_QA__FOLLOW_UP_DAYS=10)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
                                      frozen=True, case_sensitive=False, env_ignore_empty=True)

    la_code: str = "841"  # DfE old_la_code
    data_dir: Path = Path(".qaloop")
    warehouse_url: str = Field(default="", repr=False, exclude=True)  # may carry a password: never dumped
    reference_dir: Path = REFERENCE_DIR
    population_0_17: int | None = None
    allocated_worker_role: str = "ALLOCATED CASE WORKER"
    caseload_threshold: int = 20
    trend_months: int = 13
    synthetic: bool = False
    # where readers reach the published folder (OUT) by web, e.g. https://intranet/qaloop/:
    # links in notifications point there instead of at the server's disk
    published_url: str = ""
    targets: dict[str, KpiTarget] = {}
    mapping: dict[str, SourceMapping] = {}
    notifications: Notifications = Notifications()
    qa: QaSettings = QaSettings()
    validation: ValidationSettings = ValidationSettings()
    freshness: FreshnessSettings = FreshnessSettings()
    arrival: ArrivalSettings = ArrivalSettings()
    archive: ArchiveSettings = ArchiveSettings()
    kpis: KpiSettings = KpiSettings()
    delivery: DeliverySettings = DeliverySettings()
    # [benchmarks.<KPI id>]: an LA's DfE file per Directorate row, the keys of a registry
    # `benchmark:` block; checked against the reference folder by tasks.kpis.benchmarks.configured_kpis
    benchmarks: dict[str, dict] = {}
    secrets: SecretBlocks = Field(default=SecretBlocks(), repr=False)  # block names, not values
    source_password: SecretStr = Field(default=SecretStr(""), exclude=True, repr=False)
    warehouse_password: SecretStr = Field(default=SecretStr(""), exclude=True, repr=False)

    @field_validator("la_code", mode="before")
    @classmethod
    def _code_as_text(cls, value):
        return str(value)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # explicit override > environment > file > default
        return init_settings, env_settings, _FlatVariables(settings_cls), _TomlFile(settings_cls)

    @property
    def resolved_warehouse_url(self) -> str:
        """With its password (QALOOP_WAREHOUSE_PASSWORD or the Secret block) put back:
        for connecting only, never for recording."""
        if self.warehouse_url:
            return with_password(self.warehouse_url, self.warehouse_password.get_secret_value())
        return f"sqlite:///{(self.data_dir / 'warehouse.sqlite').resolve()}"

    def source_to_read(self, source: str) -> str:
        """The source a run reads: a database URL given without its password gets the
        source password (QALOOP_SOURCE_PASSWORD or the Secret block); `secret:<block>`
        is the URL the Secret block holds."""
        if str(source).startswith(SECRET_SOURCE_PREFIX):
            return _secret_block_value(str(source).removeprefix(SECRET_SOURCE_PREFIX))
        refuse_password_in(source)
        return with_password(source, self.source_password.get_secret_value())

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    def with_overrides(self, **changes) -> "Settings":
        """A copy with `changes` (None: unchanged), validated like the file's values."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        values = {name: getattr(self, name) for name in type(self).model_fields}
        try:
            return type(self).model_validate({**values, **changes})
        except ValidationError as error:
            raise settings_error(error, "an override") from None


def load_settings(config_file: str | Path | None = None, resolve_secrets: bool = True,
                  **overrides) -> Settings:
    """Explicit overrides (None: not given) > environment > the TOML file (if any) >
    default. `resolve_secrets=False`: leave out the secrets that would be read from Prefect
    Secret blocks (for the command line's own set-up, before Prefect is configured)."""
    config_file = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    path = Path(config_file) if config_file else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"configuration file not found: {path}")
    where = f"{path} and the environment" if path else "the environment"
    token = _config_file.set(path)
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise settings_error(error, where) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    finally:
        _config_file.reset(token)
    return with_block_secrets(settings, resolve_secrets)


UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")


def settings_error(error: ValidationError, where: str) -> SettingsError:
    """Every problem of a validation error, each named as `[section] key`."""
    problems = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        section = ".".join(loc[:-1])
        name = f"[{section}] {loc[-1]}" if section else (f"{loc[-1]} (top level)" if loc else "settings")
        message = "unknown key" if problem["type"] in UNKNOWN_KEY else problem["msg"]
        problems.append(f"{name}: {message}")
    return SettingsError(f"settings from {where}: " + "; ".join(problems))


def section(model: type[BaseModel], values, name: str):
    """A section from a mapping (tests and callers holding a plain dict): SettingsError
    naming `[name] key` for what is not understood."""
    if isinstance(values, model):
        return values
    try:
        return model.model_validate(dict(values or {}))
    except ValidationError as error:
        problems = [f"[{'.'.join([name, *map(str, p['loc'][:-1])])}] {p['loc'][-1] if p['loc'] else ''}: "
                    f"{'unknown key' if p['type'] in UNKNOWN_KEY else p['msg']}" for p in error.errors()]
        raise SettingsError("; ".join(problems)) from None


def with_block_secrets(settings: Settings, from_blocks: bool = True) -> Settings:
    """Each secret not set by its environment variable (or the file), read from the Prefect
    Secret block named in `[secrets]` (only when `from_blocks`)."""
    if not from_blocks:
        return settings
    blocks = settings.secrets
    top = {name: SecretStr(_secret_block_value(getattr(blocks, name)))
           for name in ("source_password", "warehouse_password")
           if getattr(blocks, name) and not getattr(settings, name).get_secret_value()}
    notes = {name: SecretStr(_secret_block_value(getattr(blocks, name)))
             for name in ("smtp_password", "webhook_url")
             if getattr(blocks, name) and not getattr(settings.notifications, name).get_secret_value()}
    if notes:
        top["notifications"] = settings.notifications.model_copy(update=notes)
    return settings.model_copy(update=top) if top else settings


def resolved_secrets(blocks: dict | SecretBlocks, from_blocks: bool = True) -> dict[str, str]:
    """Each secret from its environment variable, else from the Prefect Secret block
    named in `[secrets]` (read only when `from_blocks`), else empty."""
    blocks = section(SecretBlocks, blocks, "secrets")
    values = {}
    for name, variable in SECRET_VARIABLES.items():
        values[name] = os.environ.get(variable, "")
        if not values[name] and getattr(blocks, name) and from_blocks:
            values[name] = _secret_block_value(getattr(blocks, name))
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


# --- `qaloop settings`: the effective settings, secrets masked -------------------------------

SECRET_FIELDS = {(): ("source_password", "warehouse_password"), ("notifications",): ("smtp_password", "webhook_url")}


def value_sources(config_file: str | Path | None = None, overrides: dict | None = None) -> dict[tuple, str]:
    """{(section, key) or (key,): where its value came from}: override, environment, file;
    a key not listed has its default."""
    config_file = config_file or os.environ.get(f"{ENV_PREFIX}CONFIG")
    token = _config_file.set(Path(config_file) if config_file else None)
    try:
        layers = [("file", _TomlFile(Settings)()), ("environment", _FlatVariables(Settings)()),
                  ("environment", _environment_values()),
                  ("override", {k: v for k, v in (overrides or {}).items() if v is not None})]
    finally:
        _config_file.reset(token)
    sources: dict[tuple, str] = {}
    for name, values in layers:
        for key, value in values.items():
            if isinstance(value, dict) and key in Settings.model_fields and \
                    isinstance(Settings.model_fields[key].default, BaseModel):
                sources.update({(key, inner): name for inner in value})
            else:
                sources[(key,)] = name
    return sources


def _environment_values() -> dict:
    from pydantic_settings import EnvSettingsSource
    return EnvSettingsSource(Settings, case_sensitive=False, env_prefix=ENV_PREFIX,
                             env_nested_delimiter="__", env_ignore_empty=True)()


def settings_text(settings: Settings, sources: dict[tuple, str] | None = None) -> str:
    """The settings as TOML, each value with its source as a comment; secrets (and the
    warehouse URL's password) shown as **********, never their values."""
    sources = sources or {}
    lines = ["# qaloop effective settings: explicit override > environment > file > default", ""]
    sections = []
    for name, field_info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            sections.append((name, value))
        elif isinstance(value, dict):
            sections.append((name, value))
        else:
            lines.append(_setting_line(name, _shown(name, value, ()), sources.get((name,), "default")))
    for name, value in sections:
        lines += ["", f"[{name}]"]
        items = value.__dict__ if isinstance(value, BaseModel) else value
        for key, inner in items.items():
            shown = _shown(key, inner, (name,))
            origin = sources.get((name, key), sources.get((name,), "default"))
            lines.append(_setting_line(_toml_key(key), shown, origin))
    return "\n".join(lines) + "\n"


def _shown(key: str, value, section: tuple) -> Any:
    if key in SECRET_FIELDS.get(section, ()) or isinstance(value, SecretStr):
        return MASK if (value.get_secret_value() if isinstance(value, SecretStr) else value) else ""
    if key == "warehouse_url" and not section:
        return redact_url(value) if value else ""
    return value


def _setting_line(key: str, value, origin: str) -> str:
    if value is None:
        return f"# {key} = (not set)   # {origin}"
    return f"{key} = {_toml_inline(value)}   # {origin}"


def _toml_key(key) -> str:
    key = str(key)
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _toml_inline(value) -> str:
    """A TOML value on one line (inline tables for mappings and small models)."""
    if hasattr(value, "__dataclass_fields__") or isinstance(value, BaseModel):
        value = dict(value.__dict__)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_inline(v)}" for k, v in value.items()
                                if v is not None) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, time):
        return json.dumps(value.strftime("%H:%M"))
    return _toml_value(value)


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
