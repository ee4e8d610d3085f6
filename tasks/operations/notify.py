"""Send a run notification through the configured channels, the ones the data-quality
alerts use (tasks/operations/alerts.py): email over SMTP and/or a webhook given as an apprise URL
(json://, slack://, msteams://, ...), both from settings `[notifications]`. A channel
that fails is reported in the return value and never hides the run's own failure.

Every delivery is tried again twice, after 2 and then 10 seconds (`retried`), before
it is reported as not sent. SMTP may use STARTTLS and a login (`smtp_starttls`,
`smtp_username`, and the password from QALOOP_SMTP_PASSWORD)."""

from __future__ import annotations

import json
import mimetypes
import shutil
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tasks.core.settings import Notifications

SMTP_TIMEOUT_SECONDS = 20
RETRY_DELAYS_SECONDS = (2.0, 10.0)


def retried(send_one: Callable[[], object], delays: tuple[float, ...] | None = None):
    """Call `send_one`; on an error wait and try again, once per delay; the last error is
    raised. `delays` defaults to RETRY_DELAYS_SECONDS (read at call time)."""
    for delay in (*(RETRY_DELAYS_SECONDS if delays is None else delays), None):
        try:
            return send_one()
        except Exception:
            if delay is None:
                raise
            time.sleep(delay)


@dataclass(frozen=True)
class Outgoing:
    """One email: to its own recipients (empty: `[notifications] smtp_to`), with files
    attached (deliveries, tasks/operations/delivery.py)."""

    subject: str
    body: str
    to: tuple[str, ...] = ()
    attachments: tuple[Path, ...] = ()
    sender: str = ""


def smtp_send(notifications: Notifications, messages: list[tuple[str, str] | Outgoing]) -> None:
    """Send messages over one connection: (subject, body) pairs to the configured
    recipients (alerts), or `Outgoing` messages to their own recipients with attachments
    (deliveries). The one SMTP code path: STARTTLS and login as configured."""
    with smtplib.SMTP(notifications.smtp_host, notifications.smtp_port,
                      timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if notifications.smtp_starttls:
            smtp.starttls()
        if notifications.smtp_username:
            smtp.login(notifications.smtp_username, notifications.smtp_password.get_secret_value())
        for item in messages:
            outgoing = item if isinstance(item, Outgoing) else Outgoing(*item)
            message = EmailMessage()
            message["Subject"] = outgoing.subject
            message["From"] = outgoing.sender or notifications.smtp_from
            message["To"] = ", ".join(outgoing.to or notifications.smtp_to)
            message.set_content(outgoing.body)
            for path in outgoing.attachments:
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                maintype, _, subtype = kind.partition("/")
                message.add_attachment(Path(path).read_bytes(), maintype=maintype, subtype=subtype,
                                       filename=Path(path).name)
            smtp.send_message(message)


def folder_drop(folder: Path, files: list[Path], manifest: dict) -> Path:
    """The folder channel: copy `files` into `folder` (a mapped shared drive or a
    SharePoint-synced folder) and write `manifest.json` beside them last, so that a reader
    who sees the manifest sees every file. Returns the manifest's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        temporary = folder / f".{Path(path).name}.part"
        shutil.copyfile(path, temporary)
        temporary.replace(folder / Path(path).name)
    target = folder / "manifest.json"
    temporary = folder / ".manifest.json.part"
    temporary.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    temporary.replace(target)
    return target


def send(notifications: Notifications, subject: str, body: str, severity: str = "failure") -> list[str]:
    """Send to every configured channel; returns one line per channel (sent or why not).
    `severity` (failure, warning, info) is carried by the webhook."""
    outcomes = []
    if notifications.smtp_host and notifications.smtp_to:
        outcomes.append(_attempt("email", lambda: send_email(notifications, subject, body)))
    webhook_url = notifications.webhook_url.get_secret_value()
    if webhook_url:
        outcomes.append(_attempt("webhook", lambda: post_webhook(webhook_url,
                                                                 subject, body, severity)))
    return outcomes or ["no notification channel configured"]


def _attempt(channel: str, send_one) -> str:
    try:
        retried(send_one)
        return f"{channel}: sent"
    except Exception as error:  # a broken channel must not mask the run's failure
        return f"{channel}: not sent ({type(error).__name__}: {error})"


def send_email(notifications: Notifications, subject: str, body: str) -> None:
    smtp_send(notifications, [(subject, body)])


# severity -> apprise's notification type (carried as "type" by json://, as a colour or
# icon by Slack and Teams); a run failure is a failure.
WEBHOOK_TYPES = {"critical": "failure", "failure": "failure", "warning": "warning", "info": "info"}


def post_webhook(url: str, subject: str, body: str, severity: str = "failure") -> None:
    import apprise  # installed with Prefect
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("webhook URL not understood by apprise (check its scheme)")
    notify_type = apprise.NotifyType(WEBHOOK_TYPES.get(severity.lower(), "info"))
    if not notifier.notify(title=subject, body=body, notify_type=notify_type):
        raise RuntimeError("webhook delivery failed")


def prefect_run_url(flow_run_id) -> str | None:
    """The Prefect UI page of a flow run: from PREFECT_UI_URL, else derived from
    PREFECT_API_URL (http://host:4200/api -> http://host:4200); None without a server
    (a temporary local server's UI is gone when the run ends)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL
    ui = PREFECT_UI_URL.value() or ""
    if not ui:
        api = (PREFECT_API_URL.value() or "").rstrip("/")
        ui = api[: -len("/api")] if api.endswith("/api") else ""
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui and flow_run_id else None


def published_link(path: str | Path, out: str | Path, published_url: str = "") -> str:
    """A link readers can open away from the server's disk: `published_url` + the path
    relative to the published folder OUT when configured, else the file URI."""
    path = Path(path).resolve()
    try:
        relative = path.relative_to(Path(out).resolve())
    except ValueError:
        relative = None
    if published_url and relative is not None:
        return f"{published_url.rstrip('/')}/{relative.as_posix()}"
    return path.as_uri()
