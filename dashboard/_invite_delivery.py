"""Sending invitation links to candidates by e-mail, and the reminder before an unused one expires.

Links exist in clear only when they are made (the database keeps their SHA-256), so an e-mail goes out at
creation, or with a new link (``rotate_token``) later. The reminder therefore carries a fresh link and says
the earlier one stopped working; rotating, sending and recording the reminder happen in one transaction, so
a failed send leaves the old link working and the reminder due.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from storage import (
    Database,
    Invitation,
    Organization,
    claim_reminder,
    due_for_reminder,
    get_email_template,
    rotate_token,
    utcnow,
)

from ._invitation_mail import InvitationNotice, invitation_message
from ._labels import human
from ._mail import Mailer, MailError

__all__ = ["invitation_link", "send_due_reminders", "send_invitations"]

logger = logging.getLogger("mockline.dashboard.mail")


def invitation_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/i/{token}"


def _notice(s, inv: Invitation, link: str, *, reminder: bool) -> InvitationNotice:  # type: ignore[no-untyped-def]
    org = s.get(Organization, inv.org_id) if inv.org_id else None
    plan = inv.plan
    own = None if reminder else get_email_template(s, org_id=inv.org_id, kind="invitation")
    return InvitationNotice(
        to=inv.candidate_email or "",
        candidate_name=inv.candidate_name,
        company=org.name if org else "mockline",
        role_title=human(plan.role),
        link=link,
        pin=inv.pin or "",
        expires_at=inv.expires_at,
        minutes=plan.time_limit_minutes,
        reminder=reminder,
        template=(own.subject, own.body) if own is not None else None,
    )


def send_invitations(
    db: Database, mailer: Mailer, base_url: str, links: Sequence[tuple[str, str]]
) -> dict[str, str | None]:
    """E-mail each ``(invitation_id, token)``; returns invitation id → None (sent) or why it was not.
    Invitations without an address are skipped with a reason. Raises :class:`MailError` when the server
    cannot be reached (nothing was sent)."""
    outcome: dict[str, str | None] = {}
    with db.session() as s:
        batch: list[tuple[Invitation, object]] = []
        for inv_id, token in links:
            inv = s.get(Invitation, inv_id)
            if inv is None or not inv.candidate_email:
                outcome[inv_id] = "No e-mail address."
                continue
            notice = _notice(s, inv, invitation_link(base_url, token), reminder=False)
            batch.append((inv, invitation_message(mailer.settings, notice)))
        results = mailer.send([m for _, m in batch])  # type: ignore[misc]
        now = utcnow()
        for (inv, _), problem in zip(batch, results, strict=True):
            outcome[inv.id] = problem
            if problem is None:
                inv.emailed_at = now
    return outcome


class _Refused(Exception):
    pass


def send_due_reminders(db: Database, mailer: Mailer, base_url: str, *, limit: int = 100) -> int:
    """Remind candidates whose e-mailed invitation expires within the configured window and who have not
    started. Returns how many reminders were sent. Safe to run from several processes at once."""
    hours = mailer.settings.reminder_hours_before
    if not mailer.enabled or hours <= 0:
        return 0
    with db.session() as s:
        due = due_for_reminder(s, within=timedelta(hours=hours), limit=limit)
    sent = 0
    for inv_id in due:
        try:
            with db.session() as s:
                if not claim_reminder(s, inv_id):
                    continue  # another sweeper has it
                inv = s.get(Invitation, inv_id)
                assert inv is not None
                token = rotate_token(s, inv)
                msg = invitation_message(
                    mailer.settings, _notice(s, inv, invitation_link(base_url, token), reminder=True)
                )
                problem = mailer.send([msg])[0]
                if problem is not None:
                    raise _Refused(problem)
            sent += 1
        except MailError:
            logger.warning("reminder not sent: mail server unreachable; the next sweep tries again")
            return sent
        except _Refused:
            # The address is refused for good: record the reminder as done (the old link keeps working).
            logger.warning("reminder refused by the mail server", extra={"invitation_id": inv_id})
            with db.session() as s:
                claim_reminder(s, inv_id)
    if sent:
        logger.info("sent %d invitation reminder(s)", sent)
    return sent
