"""The reads every package shares: an interview's transcript and reply metrics in the order they happened,
its newest score report and its newest recording.

Every reader (the agent resuming a conversation, scoring, the dashboard, the join pages showing it again)
reads through these functions, inside the caller's session.
"""

from __future__ import annotations

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from ._models import Recording, ScoreReport, TranscriptTurn, TurnMetric

__all__ = [
    "latest_recording",
    "latest_report",
    "next_turn_seq",
    "transcript",
    "transcript_lines",
    "turn_metrics",
]


def transcript(s: Session, interview_id: str) -> list[TranscriptTurn]:
    """The interview's turns in the order they were spoken (by ``seq``)."""
    return list(
        s.scalars(
            select(TranscriptTurn)
            .where(TranscriptTurn.interview_id == interview_id)
            .order_by(TranscriptTurn.seq)
        )
    )


def transcript_lines(s: Session, interview_id: str) -> list[dict[str, str]]:
    """The turns so far as ``{"speaker", "text"}`` — what a join page shows again when the candidate
    resumes."""
    return [{"speaker": t.speaker, "text": t.text} for t in transcript(s, interview_id)]


def next_turn_seq(s: Session, interview_id: str) -> int:
    """The ``seq`` the interview's next turn takes (1 for the first)."""
    last = s.scalar(select(func.max(TranscriptTurn.seq)).where(TranscriptTurn.interview_id == interview_id))
    return (last or 0) + 1


def turn_metrics(s: Session, interview_id: str) -> list[TurnMetric]:
    """The latency of each agent reply, in the order the replies were made (by ``seq``)."""
    return list(
        s.scalars(select(TurnMetric).where(TurnMetric.interview_id == interview_id).order_by(TurnMetric.seq))
    )


def latest_report(s: Session, interview_id: str) -> ScoreReport | None:
    """The interview's current score report: the newest version (None before it is first scored)."""
    return s.scalar(
        select(ScoreReport)
        .where(ScoreReport.interview_id == interview_id)
        .order_by(desc(ScoreReport.version))
        .limit(1)
    )


def latest_recording(s: Session, interview_id: str) -> Recording | None:
    """The interview's newest recording (a resumed interview has one per session), if any."""
    return s.scalar(
        select(Recording).where(Recording.interview_id == interview_id).order_by(desc(Recording.id)).limit(1)
    )
