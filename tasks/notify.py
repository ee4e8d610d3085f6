"""Send a run notification through the configured channels, the ones the data-quality
alerts use (tasks/alerts.py): email over SMTP and/or a webhook given as an apprise URL
(json://, slack://, msteams://, ...), both from settings `[notifications]`. A channel
that fails is reported in the return value and never hides the run's own failure.

(tasks/alerts.py sends Alert objects once each; a run failure is a plain message, so the
two sending functions are separate but read the same settings.)"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from qaloop.settings import Notifications

SMTP_TIMEOUT_SECONDS = 20


def send(notifications: Notifications, subject: str, body: str) -> list[str]:
    """Send to every configured channel; returns one line per channel (sent or why not)."""
    outcomes = []
    if notifications.smtp_host and notifications.smtp_to:
        outcomes.append(_attempt("email", lambda: send_email(notifications, subject, body)))
    if notifications.webhook_url:
        outcomes.append(_attempt("webhook", lambda: post_webhook(notifications.webhook_url,
                                                                 subject, body)))
    return outcomes or ["no notification channel configured"]


def _attempt(channel: str, send_one) -> str:
    try:
        send_one()
        return f"{channel}: sent"
    except Exception as error:  # a broken channel must not mask the run's failure
        return f"{channel}: not sent ({type(error).__name__}: {error})"


def send_email(notifications: Notifications, subject: str, body: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = notifications.smtp_from
    message["To"] = ", ".join(notifications.smtp_to)
    message.set_content(body)
    with smtplib.SMTP(notifications.smtp_host, notifications.smtp_port,
                      timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        smtp.send_message(message)


def post_webhook(url: str, subject: str, body: str) -> None:
    import apprise  # installed with Prefect
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("webhook URL not understood by apprise (check its scheme)")
    if not notifier.notify(title=subject, body=body):
        raise RuntimeError("webhook delivery failed")
