"""Data-quality alerts: one per failed rule, for the performance team.

Each alert says which source, table, column and rule, how many rows, up to 10 example
record ids (ids only: never names, dates of birth or free text) and what to do. It is
rendered as text (email, webhook, log) and markdown (the run's Prefect artifact), and
sent once: the key of an alert is stored in `dq_alerts_sent` when it has been delivered.
- A warning on a table that was read is keyed by the extract's checksum, table, column and
  rule, not the period: a standing warning on an unchanged table is sent once, whichever
  periods and flows read it, and then only in the daily flow's one digest of standing
  warnings (`StandingWarningsDigest`, once per day) while it persists.
- A critical failure (it withholds that period's figures) and a finding on a table that
  could not be read are keyed by the period too: each period is told.
Each alert names the flow, period and run, with links to the Prefect run and the Data
Docs (`RunLinks`); a webhook carries the severity (apprise's failure / warning type).

    alerts = build_alerts(report, "2024-03", {n: e.sha256 for n, e in extracts.items()},
                          RunLinks("monthly", run_id, prefect_run_url(run_id), data_docs_uri))
    outcome = deliver_alerts(engine, alerts, run_id, email=EmailSettings(...),
                             webhook_urls=["json://hooks.example/qaloop"])
"""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasks.core.periods import Period
from tasks.core.settings import Notifications
from tasks.operations import notify
from tasks.core.sources import TABLES
from tasks.validate.validation import CRITICAL, TABLE_RULES, RuleResult, ValidationReport

SUBJECT_PREFIX = "[qaloop data quality]"

WHAT_TO_DO = {
    "file_present": "Check that the export for {table} ran and that {table}.csv (or .xlsx) is "
                    "in the drop folder, then re-run the period.",
    "table_present": "Check that the table or view {table} exists in the reporting database "
                     "(the SSD build) and that the pipeline's login can read it, then re-run.",
    "file_not_empty": "The export wrote an empty file: run the {table} export again and "
                      "replace the file, then re-run the period.",
    "file_complete": "The file was cut short (an interrupted export or copy): export or copy "
                     "{table} again and re-run the period.",
    "file_readable": "Open the file: save it as CSV (UTF-8 or Windows) or XLSX with one header "
                     "row, then re-run the period.",
    "required_columns": "Add the column to the {table} export; if it is there under another "
                        "name, map it in the configuration under [mapping.{table}.columns].",
    "dates_parseable": "Correct the date on the example records in the source system (or the "
                       "export's date format: yyyy-mm-dd or dd/mm/yyyy), then re-extract.",
    "numbers_parseable": "Correct the value on the example records (a number is expected), "
                         "then re-extract.",
    "row_key_not_null": "Every row needs its id: check the export of {table} for rows without "
                        "one (an outer join, a blank line) and re-extract.",
    "row_key_unique": "Each id must appear once: check the export of {table} for duplicated "
                      "rows (a join that fans out, a file appended twice) and re-extract.",
    "not_null": "Record the missing value on the example records in the source system, or "
                "check that the export fills this column, then re-extract.",
    "date_plausible": "Correct the date on the example records (before 1900 or after the "
                      "extract date: usually a typing slip in the year), then re-extract.",
    "planned_date_plausible": "Check the due or target date on the example records: it lies "
                              "implausibly far ahead.",
    "date_order": "The later date comes before the earlier one on the example records: "
                  "correct them in the source system, then re-extract.",
    "date_after_parent": "The example records start before the record they belong to: check "
                         "that they are linked to the right parent record and that both dates "
                         "are right.",
    "in_code_list": "Recode the example records in the source system; if the LA uses its "
                    "own codes, map them in the configuration under "
                    "[mapping.{table}.values.<column>].",
    "references": "The example records point to an id that is not in the parent table: "
                  "check that both tables were extracted together and for the same window, "
                  "and that the records are linked correctly.",
    "row_count_change": "Compare the extract with the previous one: check the export's date "
                        "window and filters. If the change is real, no action is needed.",
    "row_count_shrunk": "The table has far fewer rows than last time: check the export's date "
                        "window and filters and that the file is complete, then re-run.",
    "file_age": "The file is older than expected: check that the export schedule ran and that "
                "the newest file was copied.",
    "freshness": "There are no recent records: the extract may be an old copy, or recording "
                 "has stopped. Check the export ran against the live system.",
    "table_has_rows": "The table has a header but no rows: check the export's filters.",
}


@dataclass(frozen=True)
class RunLinks:
    """Which run an alert comes from, and where to look."""

    flow: str = ""
    run_id: str = ""
    run_url: str | None = None     # the Prefect UI page of the flow run (tasks.operations.notify.prefect_run_url)
    data_docs: str | None = None   # the run's Great Expectations Data Docs

    def lines(self, period: str) -> list[str]:
        return [f"Run:         {self.flow or '-'} {period}, run {self.run_id or '-'}",
                f"Prefect:     {self.run_url or '(no Prefect UI configured: set PREFECT_UI_URL)'}",
                f"Data Docs:   {self.data_docs or '-'}"]


@dataclass(frozen=True)
class Alert:
    key: str
    period: str
    severity: str
    source: str
    family: str
    table: str
    column: str | None
    rule: str
    rows: int
    checked: int
    example_ids: tuple[str, ...]
    detail: str
    what_to_do: str
    blocks_table: bool  # a table-level failure: the table keeps its last good load
    withholds_readers: bool = False  # critical: what reads the table (or only the column) is withheld
    links: RunLinks = RunLinks()

    @property
    def subject(self) -> str:
        column = f".{self.column}" if self.column else ""
        return (f"{SUBJECT_PREFIX} {self.severity.upper()} {self.period} "
                f"{self.table}{column}: {self.rule}")

    def text(self) -> str:
        column = f".{self.column}" if self.column else ""
        rows = f"{self.rows} of {self.checked}" if self.checked else str(self.rows)
        if not self.rows and not self.checked:
            rows = "the whole table"
        examples = ", ".join(self.example_ids) if self.example_ids else "(none: a table-level rule)"
        effect = (f"{self.table} is blocked for {self.period}: what depends on it is not "
                  f"published, and the outputs already published for {self.period} stay as they were."
                  if self.blocks_table else
                  f"the KPIs reading {self.table}{column} are withheld for {self.period} (shown as "
                  f"last published); everything else is published."
                  if self.withholds_readers else
                  "Publication goes ahead; this warning is reported with the outputs.")
        return "\n".join([
            f"Data-quality {self.severity.upper()} for period {self.period}",
            f"Source:      {self.source} ({self.family})",
            f"Table:       {self.table}",
            f"Column:      {self.column or '-'}",
            f"Rule:        {self.rule}: {self.detail}",
            f"Rows:        {rows}",
            f"Example ids: {examples}",
            f"Effect:      {effect}",
            f"What to do:  {self.what_to_do}",
            *self.links.lines(self.period),
        ])

    def one_line(self) -> str:
        examples = f" e.g. {', '.join(self.example_ids)}" if self.example_ids else ""
        return (f"{self.severity.upper()} {self.source} {self.table}"
                f"{'.' + self.column if self.column else ''} {self.rule}: {self.rows} rows{examples}")


def alert_key(period: str, result: RuleResult, checksum: str) -> str:
    """Once per extract checksum and rule for a warning on a table that was read; once
    per period as well for a critical failure or a table not read (see the docstring)."""
    standing = result.severity != CRITICAL and bool(checksum)
    parts = ["" if standing else period, result.table, result.column or "", result.rule,
             ",".join(result.example_ids), checksum]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def build_alerts(report: ValidationReport, period: Period,
                 checksums: dict[str, str] | None = None,
                 links: RunLinks | None = None, periods: str | None = None) -> list[Alert]:
    """One alert per failed rule, critical first. `checksums`: sha256 per table;
    `periods`: what the alerts name when they serve several periods (a re-run's months)."""
    checksums = checksums or {}
    named = periods or period.id
    failed = report.failures + report.warnings
    return [Alert(
        key=alert_key(named, r, checksums.get(r.table, "")), period=named, links=links or RunLinks(),
        severity=r.severity, source=r.source, family=TABLES[r.table].family, table=r.table,
        column=r.column, rule=r.rule, rows=r.unexpected, checked=r.checked,
        example_ids=tuple(r.example_ids), detail=r.detail,
        what_to_do=WHAT_TO_DO.get(r.rule, "Check the example records.").format(table=r.table),
        blocks_table=r.severity == CRITICAL and r.rule in TABLE_RULES,
        withholds_readers=r.severity == CRITICAL) for r in failed]


def render_markdown(alerts: list[Alert], data_docs: str | None = None) -> str:
    """The run's data-quality artifact: one row per alert."""
    lines = ["# Data quality", ""]
    if data_docs and data_docs.startswith("file:"):
        lines += [f"Data Docs (Great Expectations), on the server: `{data_docs.removeprefix('file://')}`. "
                  "Set `published_url` in the configuration to link them from here.", ""]
    elif data_docs:
        lines += [f"Data Docs (Great Expectations): [{data_docs}]({data_docs})", ""]
    if not alerts:
        return "\n".join(lines + ["No failures or warnings."])
    lines += ["| severity | source | table | column | rule | rows | example ids | what to do |",
              "|---|---|---|---|---|---|---|---|"]
    for a in alerts:
        cells = [a.severity, a.source, a.table, a.column or "", f"{a.rule}: {a.detail}",
                 str(a.rows), ", ".join(a.example_ids), a.what_to_do]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


# --- channels -----------------------------------------------------------------------

@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_notifications(cls, notifications) -> "EmailSettings | None":
        """From settings `[notifications]` (tasks.core.settings.Notifications); None when off."""
        if not notifications.smtp_host or not notifications.smtp_to:
            return None
        return cls(notifications.smtp_host, int(notifications.smtp_port),
                   notifications.smtp_from, tuple(notifications.smtp_to),
                   notifications.smtp_username or None, notifications.smtp_password.get_secret_value() or None,
                   notifications.smtp_starttls)

    def as_notifications(self) -> Notifications:
        return Notifications(smtp_host=self.host, smtp_port=self.port, smtp_from=self.sender,
                             smtp_to=self.recipients, smtp_username=self.username or "",
                             smtp_password=self.password or "", smtp_starttls=self.starttls)


def send_email(alerts: list[Alert], email: EmailSettings) -> None:
    """One message per alert, over one SMTP connection."""
    notify.smtp_send(email.as_notifications(), [(alert.subject, alert.text()) for alert in alerts])


def send_webhooks(alerts: list[Alert], urls: list[str]) -> None:
    """Through apprise (installed with Prefect): json://, slack://, msteams://, ... URLs,
    each with its severity (critical: apprise's "failure" type, warning: "warning")."""
    for url in urls:
        for alert in alerts:
            try:
                notify.post_webhook(url, alert.subject, alert.text(), alert.severity)
            except RuntimeError:
                raise RuntimeError(f"webhook delivery failed for alert {alert.key[:12]}") from None


# --- the daily digest of standing warnings ---------------------------------------------

@dataclass(frozen=True)
class StandingWarningsDigest:
    """One message a day listing the warnings already sent that persist in today's
    extracts; delivered (once per day) like an alert."""

    day: str
    warnings: tuple[Alert, ...]
    first_sent: dict = field(default_factory=dict)  # alert key -> when it was first sent
    links: RunLinks = RunLinks()
    severity: str = "warning"
    table: str = "(standing warnings)"
    rule: str = "standing_warnings_digest"

    @property
    def key(self) -> str:
        return hashlib.sha256(f"digest\x1f{self.day}".encode("utf-8")).hexdigest()

    @property
    def period(self) -> str:
        return self.day

    @property
    def subject(self) -> str:
        count = len(self.warnings)
        return f"{SUBJECT_PREFIX} DIGEST {self.day}: {count} standing warning{'s' if count != 1 else ''}"

    def text(self) -> str:
        lines = [f"Standing data-quality warnings as at {self.day}: each was sent once when it "
                 "first appeared and persists, unchanged, in today's extracts.", ""]
        for alert in self.warnings:
            since = self.first_sent.get(alert.key)
            lines.append(f"- {alert.one_line()}" + (f" (first sent {since:%Y-%m-%d})" if since else ""))
        return "\n".join(lines + ["", *self.links.lines(self.day)])


def standing_warnings_digest(engine: Engine, already_sent: list[Alert], day: Period,
                             links: RunLinks | None = None) -> StandingWarningsDigest | None:
    """The day's digest of the warnings sent before that persist (None when there are none).
    `day`: the daily run's as-at day (a MonthToDate)."""
    standing = tuple(a for a in already_sent if a.severity != CRITICAL)
    if not standing:
        return None
    return StandingWarningsDigest(day.id, standing, _first_sent(engine, [a.key for a in standing]),
                                  links or RunLinks())


def _first_sent(engine: Engine, keys: list[str]) -> dict:
    with engine.connect() as connection:
        sent = sa.Table("dq_alerts_sent", sa.MetaData(), autoload_with=connection)
        return dict(connection.execute(sa.select(sent.c.alert_key, sent.c.sent_at)
                                       .where(sent.c.alert_key.in_(keys))).all())


# --- delivery, once -----------------------------------------------------------------

@dataclass
class Delivery:
    sent: list[Alert] = field(default_factory=list)
    already_sent: list[Alert] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def deliver_alerts(engine: Engine, alerts: list[Alert], run_id: str | None = None,
                   email: EmailSettings | None = None,
                   webhook_urls: list[str] | tuple[str, ...] = ()) -> Delivery:
    """Send the alerts not sent before, on every configured channel; record those sent.
    A channel failing is reported in `errors` (the alerts are then not recorded, so the
    next run tries again); it never raises."""
    delivery = Delivery()
    if email is None and not webhook_urls:
        return delivery  # no channel configured: the artifact and the log carry the alerts
    seen = _sent_keys(engine, [a.key for a in alerts])
    new = []
    for alert in alerts:
        (delivery.already_sent if alert.key in seen else new).append(alert)
        seen.add(alert.key)
    if not new:
        return delivery
    channels = []
    try:
        if email is not None:
            notify.retried(lambda: send_email(new, email))
            channels.append("email")
        if webhook_urls:
            notify.retried(lambda: send_webhooks(new, list(webhook_urls)))
            channels.append("webhook")
    except (OSError, smtplib.SMTPException, RuntimeError, ValueError) as error:
        delivery.errors.append(f"{type(error).__name__}: {error}")
        return delivery
    _record_sent(engine, new, run_id, channels)
    delivery.sent = new
    return delivery


def _sent_keys(engine: Engine, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    with engine.connect() as connection:
        sent = sa.Table("dq_alerts_sent", sa.MetaData(), autoload_with=connection)
        rows = connection.execute(sa.select(sent.c.alert_key).where(sent.c.alert_key.in_(keys)))
        return {row[0] for row in rows}


def _record_sent(engine: Engine, alerts: list[Alert], run_id: str | None,
                 channels: list[str]) -> None:
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        sent = sa.Table("dq_alerts_sent", sa.MetaData(), autoload_with=connection)
        connection.execute(sent.insert(), [{
            "alert_key": a.key, "period": a.period, "table_name": a.table, "rule": a.rule,
            "run_id": run_id, "channels": ",".join(channels) or "none", "sent_at": now,
        } for a in alerts])
