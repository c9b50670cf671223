"""Which scored interviews still owe their recruiter an e-mail, and claiming one (a conditional UPDATE, so of
several sweepers exactly one sends it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ._models import Interview, InterviewStatus, Invitation, utcnow

__all__ = ["claim_score_notice", "due_score_notices"]


def due_score_notices(
    s: Session, *, recent: timedelta = timedelta(days=2), now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Recruiter interviews scored within ``recent`` (older ones predate the notices: never a flood after an
    upgrade) from an invitation someone made, not yet notified."""
    now = now or utcnow()
    return list(
        s.scalars(
            select(Interview.id)
            .join(Invitation, Invitation.id == Interview.invitation_id)
            .where(
                Interview.status == InterviewStatus.SCORED,
                Interview.mode == "recruiter",
                Interview.score_notice_at.is_(None),
                Interview.scored_at > now - recent,
                Invitation.created_by.is_not(None),
            )
            .order_by(Interview.scored_at)
            .limit(limit)
        )
    )


def claim_score_notice(s: Session, interview_id: str, *, now: datetime | None = None) -> bool:
    """Take the notice of one interview. The claim holds the row until the transaction ends: send inside it
    and let a failure roll it back (the next sweep tries again)."""
    result = s.execute(
        update(Interview)
        .where(Interview.id == interview_id, Interview.score_notice_at.is_(None))
        .values(score_notice_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
