"""Invitations: unguessable, expiring candidate links and phone PINs.

The link token (32 random bytes, URL-safe) is returned once at creation; only its SHA-256 is stored, so a
database leak does not leak working links. PINs are 6 digits, unique among live invitations.

Errors::

    InvitationError          (a candidate-facing refusal; ``code`` is stable, ``message`` is safe to show)
    ├── InvitationNotFound   unknown token or PIN
    ├── InvitationExpired    past ``expires_at``
    ├── InvitationUsed       the interview already finished (or the invitation was revoked)
    └── InvitationBusy       another live session is using it right now
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ._models import OPEN_STATUSES, Interview, Invitation, utcnow


class InvitationError(Exception):
    code = "invitation_error"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvitationNotFound(InvitationError):
    code = "not_found"
    http_status = 404


class InvitationExpired(InvitationError):
    code = "expired"
    http_status = 410


class InvitationUsed(InvitationError):
    code = "used"
    http_status = 410


class InvitationBusy(InvitationError):
    code = "busy"
    http_status = 409


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once; build the link from it


def _new_pin(s: Session) -> str:
    for _ in range(50):
        pin = f"{secrets.randbelow(10**6):06d}"
        taken = s.scalar(
            select(Invitation.id).where(
                Invitation.pin == pin, Invitation.expires_at > utcnow(), Invitation.revoked.is_(False)
            )
        )
        if not taken:
            return pin
    raise RuntimeError("could not allocate a free PIN")


def create_invitation(
    s: Session,
    *,
    plan_id: str,
    org_id: str | None,
    candidate_name: str = "",
    candidate_email: str | None = None,
    candidate_phone: str | None = None,
    mode: str = "recruiter",
    valid_for: timedelta = timedelta(days=7),
    created_by: str | None = None,
    resume_text: str | None = None,
    plan_spec: dict[str, Any] | None = None,
) -> NewInvitation:
    """A new invitation; ``resume_text`` and ``plan_spec`` are this candidate's résumé and the plan snapshot
    it personalised (None: the plan's questions)."""
    token = new_token()
    inv = Invitation(
        plan_id=plan_id,
        org_id=org_id,
        token_hash=hash_token(token),
        pin=_new_pin(s),
        candidate_name=candidate_name,
        candidate_email=candidate_email,
        candidate_phone=candidate_phone,
        mode=mode,
        expires_at=utcnow() + valid_for,
        created_by=created_by,
        resume_text=resume_text,
        plan_spec=plan_spec,
    )
    s.add(inv)
    s.flush()
    return NewInvitation(invitation=inv, token=token)


def rotate_token(s: Session, invitation: Invitation) -> str:
    """Issue a new link for an invitation; the old link stops working."""
    token = new_token()
    invitation.token_hash = hash_token(token)
    s.flush()
    return token


def _aware(dt: datetime) -> datetime:
    # SQLite returns naive datetimes; they were written in UTC.
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def check_usable(s: Session, inv: Invitation | None, *, now: datetime | None = None) -> Invitation:
    """``inv`` if a candidate may still use it, else the :class:`InvitationError` that says why."""
    if inv is None:
        raise InvitationNotFound("This interview link is not valid.")
    now = now or utcnow()
    if inv.revoked:
        raise InvitationUsed("This interview link has been withdrawn.")
    if _aware(inv.expires_at) <= now:
        raise InvitationExpired("This interview link has expired. Please ask for a new one.")
    done = s.scalar(
        select(Interview.id).where(
            Interview.invitation_id == inv.id,
            Interview.status.notin_(OPEN_STATUSES),
        )
    )
    if done:
        raise InvitationUsed("This interview has already been completed.")
    return inv


def resolve_token(s: Session, token: str, *, now: datetime | None = None) -> Invitation:
    """The live invitation behind a link token, or an :class:`InvitationError`."""
    if not token or len(token) > 128:
        raise InvitationNotFound("This interview link is not valid.")
    inv = s.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    return check_usable(s, inv, now=now)


def resolve_pin(s: Session, pin: str, *, now: datetime | None = None) -> Invitation:
    """The live invitation behind a keypad PIN, or an :class:`InvitationError`."""
    pin = "".join(ch for ch in pin if ch.isdigit())
    if len(pin) != 6:
        raise InvitationNotFound("That PIN is not valid.")
    inv = s.scalar(
        select(Invitation)
        .where(Invitation.pin == pin, Invitation.revoked.is_(False))
        .order_by(Invitation.created_at.desc())
    )
    return check_usable(s, inv, now=now)


def current_interview(s: Session, inv: Invitation) -> Interview | None:
    """The invitation's interview that is still open (invited or in progress), if any — for resuming."""
    return s.scalar(
        select(Interview)
        .where(
            Interview.invitation_id == inv.id,
            Interview.status.in_(OPEN_STATUSES),
        )
        .order_by(Interview.created_at.desc())
    )


def admit_interview(s: Session, inv: Invitation, *, channel: str) -> Interview:
    """The invitation's open interview (the candidate resumes it) or a new one on ``channel``; marks the
    invitation used and flushes, so the interview has its id."""
    interview = current_interview(s, inv)
    if interview is None:
        interview = Interview(
            org_id=inv.org_id,
            plan_id=inv.plan_id,
            invitation_id=inv.id,
            mode=inv.mode,
            channel=channel,
            candidate_name=inv.candidate_name,
            plan_spec=inv.plan_spec,  # the candidate's own questions, when their résumé personalised them
        )
        s.add(interview)
    if inv.used_at is None:
        inv.used_at = utcnow()
    s.flush()
    return interview


def revoke_invitation(inv: Invitation) -> None:
    """Withdraw an invitation: its link and PIN stop working at once."""
    inv.revoked = True


def extend_invitation(inv: Invitation, *, by: timedelta, now: datetime | None = None) -> None:
    """Push the deadline out by ``by`` (from now when it has already passed); a reminder may go out again
    before the new deadline."""
    now = now or utcnow()
    inv.expires_at = max(_aware(inv.expires_at), now) + by
    inv.reminder_sent_at = None


def due_for_reminder(
    s: Session, *, within: timedelta, now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Invitations e-mailed to a candidate who has not started, expiring within ``within``, not reminded."""
    now = now or utcnow()
    return list(
        s.scalars(
            select(Invitation.id)
            .where(
                Invitation.revoked.is_(False),
                Invitation.used_at.is_(None),
                Invitation.emailed_at.is_not(None),
                Invitation.candidate_email.is_not(None),
                Invitation.reminder_sent_at.is_(None),
                Invitation.expires_at > now,
                Invitation.expires_at <= now + within,
            )
            .order_by(Invitation.expires_at)
            .limit(limit)
        )
    )


def claim_reminder(s: Session, invitation_id: str, *, now: datetime | None = None) -> bool:
    """Take the reminder of one invitation (a conditional UPDATE): of several sweepers exactly one wins.
    The claim holds the row until the transaction ends, so send inside it and let a failure roll it back."""
    result = s.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.reminder_sent_at.is_(None))
        .values(reminder_sent_at=now or utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
