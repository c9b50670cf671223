"""The invitation and reminder e-mails: link, phone PIN, deadline; a plain-text part and an HTML part,
rendered from ``templates/email/invitation.{txt,html}``, or from the organisation's own wording
(``notice.template``, see ``_mail_template.py``) for a first invitation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import jinja2

from ._mail import MailSettings, compose
from ._mail_template import TemplateProblem, render

__all__ = ["InvitationNotice", "format_deadline", "invitation_message", "template_values"]

logger = logging.getLogger("mockline.dashboard.mail")

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
    template: tuple[str, str] | None = None  # the organisation's (subject, body); None: built-in wording


def format_deadline(dt: datetime) -> str:
    """'Monday 14 December 2026, 09:00 UTC' — the candidate's time zone is unknown, so say UTC."""
    dt = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{dt:%A} {dt.day} {dt:%B %Y, %H:%M} UTC"


def template_values(notice: InvitationNotice) -> dict[str, str]:
    """What the placeholders of an organisation's template stand for."""
    return {
        "candidate_name": notice.candidate_name or "there",
        "company": notice.company,
        "role": notice.role_title,
        "link": notice.link,
        "pin": notice.pin,
        "deadline": format_deadline(notice.expires_at),
        "minutes": str(notice.minutes),
    }


def invitation_message(settings: MailSettings, notice: InvitationNotice) -> EmailMessage:
    if notice.template is not None and not notice.reminder:
        try:
            own = render(*notice.template, values=template_values(notice), dial_in=settings.dial_in_number)
        except TemplateProblem as e:  # saved templates are checked; an old one may not be: built-in wording
            logger.warning("the organisation's invitation template is unusable", extra={"field": e.field})
        else:
            return compose(
                settings,
                to=notice.to,
                to_name=notice.candidate_name,
                subject=own.subject,
                text=own.text,
                html=own.html,
            )
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
