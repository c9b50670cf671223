"""The invitation and reminder e-mails: link, phone PIN, deadline; a plain-text part and an HTML part,
rendered from ``templates/email/invitation.{txt,html}``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import jinja2

from ._mail import MailSettings, compose

__all__ = ["InvitationNotice", "format_deadline", "invitation_message"]

_DIR = Path(__file__).parent / "templates" / "email"
_text_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    autoescape=False,  # plain text: nothing is markup
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_html_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class InvitationNotice:
    to: str
    candidate_name: str
    company: str
    role_title: str
    link: str
    pin: str
    expires_at: datetime
    minutes: int
    reminder: bool = False


def format_deadline(dt: datetime) -> str:
    """'Monday 14 December 2026, 09:00 UTC' — the candidate's time zone is unknown, so say UTC."""
    dt = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{dt:%A} {dt.day} {dt:%B %Y, %H:%M} UTC"


def invitation_message(settings: MailSettings, notice: InvitationNotice) -> EmailMessage:
    ctx = {
        "name": notice.candidate_name,
        "company": notice.company,
        "role_title": notice.role_title,
        "link": notice.link,
        "pin": notice.pin,
        "deadline": format_deadline(notice.expires_at),
        "minutes": notice.minutes,
        "reminder": notice.reminder,
        "dial_in": settings.dial_in_number,
    }
    text = _text_env.get_template("invitation.txt").render(ctx)
    html = _html_env.get_template("invitation.html").render(ctx)
    what = "Reminder: your interview" if notice.reminder else "Your interview"
    subject = f"{what} for {notice.role_title} at {notice.company}"
    return compose(
        settings, to=notice.to, to_name=notice.candidate_name, subject=subject, text=text, html=html
    )
