"""Which interview a phone call belongs to. Synchronous storage code; callers run it in a thread.

A call reaches an interview in one of three ways: a call we placed (its CallSid is already on the
interview), an inbound call from a candidate's own number with a live invitation for it, or the keypad PIN.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import (
    OPEN_STATUSES,
    Interview,
    InterviewStatus,
    Invitation,
    InvitationError,
    admit_interview,
    resolve_pin,
    utcnow,
)

__all__ = [
    "FAILED_CALL_STATUSES",
    "interview_for_call",
    "interview_for_pin",
    "normalise_number",
    "open_interview",
    "record_call_status",
    "stream_interview",
]

FAILED_CALL_STATUSES = frozenset({"busy", "failed", "no-answer", "canceled"})


def normalise_number(number: str | None) -> str:
    """E.164-ish comparison key: digits only, keeping a leading '+'."""
    if not number:
        return ""
    digits = re.sub(r"\D", "", number)
    return ("+" + digits) if number.strip().startswith("+") else digits


def open_interview(s: Session, inv: Invitation, *, call_sid: str | None, phone: str | None) -> Interview:
    """The invitation's open interview (resumed if a call dropped), or a new one, bound to this call."""
    interview = admit_interview(s, inv, channel="phone")
    interview.channel = "phone"
    if call_sid:
        interview.call_sid = call_sid
    if phone:
        interview.phone_number = phone
    s.flush()
    return interview


def interview_for_pin(s: Session, pin: str, *, call_sid: str, phone: str | None) -> Interview:
    """Resolve a keypad PIN to an interview bound to this call. Raises ``InvitationError``."""
    return open_interview(s, resolve_pin(s, pin), call_sid=call_sid, phone=phone)


def interview_for_call(
    s: Session,
    *,
    call_sid: str,
    direction: str,
    from_number: str | None,
    to_number: str | None,
    match_caller_id: bool,
) -> Interview | None:
    """The interview a call maps to without a PIN, or None (then we ask for the PIN)."""
    placed = s.scalar(
        select(Interview).where(Interview.call_sid == call_sid, Interview.status.in_(OPEN_STATUSES))
    )
    if placed is not None:
        return placed
    outbound = direction.startswith("outbound")
    if not outbound and not match_caller_id:
        return None
    candidate = normalise_number(to_number if outbound else from_number)
    if len(candidate.lstrip("+")) < 6:
        return None
    rows = s.scalars(
        select(Invitation)
        .where(Invitation.candidate_phone.is_not(None), Invitation.revoked.is_(False))
        .where(Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc())
    )
    for inv in rows:
        if normalise_number(inv.candidate_phone) != candidate:
            continue
        try:
            # Through the public PIN check: expired, revoked or finished invitations are skipped.
            usable = inv.pin is not None and resolve_pin(s, inv.pin).id == inv.id
        except InvitationError:
            usable = False
        if not usable:
            continue
        return open_interview(s, inv, call_sid=call_sid, phone=candidate)
    return None


def stream_interview(s: Session, interview_id: str) -> Interview | None:
    """The interview a stream token names, if it can still run."""
    interview = s.get(Interview, interview_id)
    if interview is None or not interview.status.is_open:
        return None
    return interview


def record_call_status(s: Session, *, call_sid: str, status: str, now: datetime | None = None) -> bool:
    """Note a status callback on the call's interview. A call that never connected leaves the interview
    open (it can be retried) with the outcome in ``end_reason``. Returns whether an interview matched."""
    interview = s.scalar(
        select(Interview).where(Interview.call_sid == call_sid).order_by(Interview.created_at.desc())
    )
    if interview is None:
        return False
    interview.last_seen_at = now or utcnow()
    if status in FAILED_CALL_STATUSES and interview.status == InterviewStatus.INVITED:
        interview.end_reason = f"call_{status.replace('-', '_')}"
    return True
