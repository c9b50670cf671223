"""Outgoing e-mail over SMTP (stdlib ``smtplib``, run in a worker thread by async callers).

Off unless ``MOCKLINE_SMTP_HOST`` is set: without it the dashboard shows links to copy by hand and the
reminder sweep does nothing. One connection carries a whole batch (a bulk invitation sends many messages).

Errors::

    MailError        the server refused us or could not be reached; ``message`` is safe to show
    └── MailNotConfigured   no SMTP host is set
"""

from __future__ import annotations

import functools
import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MailError", "MailNotConfigured", "MailSettings", "Mailer", "get_mail_settings"]

logger = logging.getLogger("mockline.dashboard.mail")


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_SMTP_", extra="ignore")

    host: str = ""  # empty: e-mail is off
    port: int = Field(default=587, ge=1, le=65535)
    username: str = ""
    password: str = ""
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a relay on localhost only).
    security: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    from_address: str = "interviews@localhost"
    from_name: str = "mockline"
    timeout_s: float = Field(default=20.0, gt=0)
    # The phone number candidates dial to interview with their PIN (shown in the e-mail when set).
    dial_in_number: str = ""
    # Send the reminder this many hours before an unused invitation expires (0: no reminders).
    reminder_hours_before: float = Field(default=48.0, ge=0)
    # How often the reminder sweep looks for invitations due one.
    reminder_sweep_s: float = Field(default=300.0, gt=0)
    # E-mail the recruiter who made an invitation when its interview is scored (swept as often).
    score_notices: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@functools.lru_cache(maxsize=1)
def get_mail_settings() -> MailSettings:
    return MailSettings()


class MailError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MailNotConfigured(MailError):
    def __init__(self) -> None:
        super().__init__("E-mail is not set up on this server (MOCKLINE_SMTP_HOST).")


def compose(
    settings: MailSettings, *, to: str, to_name: str, subject: str, text: str, html: str
) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part second."""
    msg = EmailMessage()
    msg["From"] = formataddr((settings.from_name, settings.from_address))
    msg["To"] = formataddr((to_name, to)) if to_name else to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or "localhost")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


class Mailer:
    """Sends messages through the configured SMTP server. Blocking: call from a thread."""

    def __init__(self, settings: MailSettings | None = None) -> None:
        self.settings = settings or get_mail_settings()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def _connect(self) -> smtplib.SMTP:
        st = self.settings
        if st.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                st.host, st.port, timeout=st.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(st.host, st.port, timeout=st.timeout_s)
            if st.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if st.username:
            smtp.login(st.username, st.password)
        return smtp

    def send(self, messages: Sequence[EmailMessage]) -> list[str | None]:
        """Send ``messages`` over one connection. Returns one entry per message: None when the server
        accepted it, else the reason it refused that recipient. Raises :class:`MailError` when the server
        cannot be reached or refuses the session (nothing was sent)."""
        if not self.enabled:
            raise MailNotConfigured()
        if not messages:
            return []
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as e:
            logger.warning("SMTP server unreachable or refused the session", extra={"error": str(e)})
            raise MailError("The mail server could not be reached; nothing was sent.") from e
        results: list[str | None] = []
        try:
            for msg in messages:
                try:
                    smtp.send_message(msg)
                    results.append(None)
                except smtplib.SMTPRecipientsRefused:
                    results.append("The mail server refused this address.")
                except (smtplib.SMTPException, OSError) as e:
                    results.append(f"The mail server did not accept the message ({type(e).__name__}).")
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        sent = sum(r is None for r in results)
        logger.info("sent %d of %d e-mail(s)", sent, len(results))
        return results
