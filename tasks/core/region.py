"""A region's configuration (region.toml): its member LAs, their sources and output
folders, the region's PostgreSQL warehouse and the Prefect work pool their monthly runs
go to (flows/region.py; deployments/README.md, "A region of LAs").

    name = "North East consortium"
    work_pool = "qaloop-region"
    out = "/srv/qaloop/region"            # the regional benchmarking workbook
    data_dir = "/srv/qaloop/data"         # each LA's archive, Data Docs: <data_dir>/<code>
    warehouse_url = "postgresql+psycopg://qaloop@db:5432/region"   # no password

    [[members]]
    code = "841"
    name = "Darlington"
    source = "/srv/drops/841"             # a drop folder, or ...
    out = "/srv/qaloop/841"

    [[members]]
    code = "840"
    name = "County Durham"
    source_secret = "durham-case-system"  # ... the NAME of a Prefect Secret block holding the URL
    out = "/srv/qaloop/840"

Nothing here is a credential: the warehouse password is the workers' (QALOOP_WAREHOUSE_PASSWORD
or `[secrets] warehouse_password` of a member's `config`), a database source is named by
its Secret block, resolved inside the LA's run (`tasks.core.settings.SECRET_SOURCE_PREFIX`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from tasks.core.settings import SECRET_SOURCE_PREFIX, SettingsError, refuse_password_in, settings_error

MEMBER_DEPLOYMENT = "region-member"  # the monthly flow's deployment the members' runs go to
# The settings a regional run gives each member's monthly run (flows/monthly.py `member`):
# nothing secret, since Prefect stores and shows flow parameters.
MEMBER_SETTINGS = ("la_code", "warehouse_url", "data_dir", "synthetic")


class Member(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str                    # DfE old_la_code: the key of the LA's rows in the warehouse
    name: str
    source: str = ""             # a drop folder (a database: `source_secret`)
    source_secret: str = ""      # the Prefect Secret block holding the source database URL
    out: str                     # the LA's own published folder
    config: str | None = None    # the LA's own settings (targets, mapping, notifications)
    synthetic: bool = False

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value):
        value = str(value).strip()
        if not re.fullmatch(r"[A-Za-z0-9]+", value):
            raise ValueError(f"LA code {value!r}: letters and digits only")
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.source) == bool(self.source_secret):
            raise ValueError(f"LA {self.code}: give either source (a drop folder) or source_secret "
                             "(the name of the Secret block holding the database URL)")
        if "://" in self.source:
            raise ValueError(f"LA {self.code}: a database source is named by its Secret block "
                             "(source_secret), never written in region.toml")
        return self

    @property
    def run_source(self) -> str:
        """The monthly run's `source` parameter: the folder, or the secret's name."""
        return self.source or f"{SECRET_SOURCE_PREFIX}{self.source_secret}"

    @property
    def schema(self) -> str:
        """The LA's own schema of the regional warehouse: its staging, ledger and results."""
        return f"la_{self.code.lower()}"


class RegionConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    work_pool: str = "qaloop-region"
    deployment: str = f"monthly/{MEMBER_DEPLOYMENT}"
    out: str
    data_dir: str
    warehouse_url: str
    wait_hours: float = 6.0      # how long the regional run waits for its members' runs
    members: tuple[Member, ...]

    @field_validator("warehouse_url")
    @classmethod
    def _postgres_without_password(cls, value):
        refuse_password_in(value)
        if make_url(value).get_backend_name() != "postgresql":
            raise ValueError("the region's warehouse is PostgreSQL (one database for every member)")
        return value

    @field_validator("members")
    @classmethod
    def _distinct(cls, members):
        codes = [m.code.lower() for m in members]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if not members or repeated:
            raise ValueError("list each member LA once ([[members]] with distinct codes)"
                             + (f": {', '.join(repeated)} repeated" if repeated else ""))
        return members

    def member_warehouse_url(self, member: Member) -> str:
        """The region's database with the LA's schema first on the search path."""
        url = make_url(self.warehouse_url)
        return url.update_query_dict({"options": f"-csearch_path={member.schema}"}).render_as_string(
            hide_password=False)

    def member_settings(self, member: Member) -> dict:
        """The `member` parameter of the LA's monthly run (MEMBER_SETTINGS)."""
        return {"la_code": member.code, "warehouse_url": self.member_warehouse_url(member),
                "data_dir": str(Path(self.data_dir) / member.code), "synthetic": member.synthetic}


def load_region(path: str | Path) -> RegionConfig:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"region configuration not found: {path}")
    try:
        return RegionConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    except ValidationError as error:
        raise settings_error(error, str(path)) from None


def member_overrides(member: dict | None) -> dict:
    """The settings a regional run gives a member's monthly run, checked: only
    MEMBER_SETTINGS, and no password in the warehouse URL."""
    member = dict(member or {})
    unknown = sorted(set(member) - set(MEMBER_SETTINGS))
    if unknown:
        raise SettingsError(f"member settings: unknown {', '.join(unknown)} (expected {', '.join(MEMBER_SETTINGS)})")
    if member.get("warehouse_url"):
        refuse_password_in(member["warehouse_url"])
    return member
