"""Database side of a scoring run: load the snapshot, claim the interview, save the report, release.

The claim is the idempotency guard: a conditional UPDATE of ``interviews.status`` to ``scoring`` that only
matches the row exactly as it was read (same status and ``updated_at``); a claim whose worker died may be
taken over once ``updated_at`` (the claim time) is older than the lease. Of concurrent jobs for one interview
exactly one wins. Each claim increments ``scoring_attempts``, and that number is the claim's token: saving
the report re-checks it in the same transaction, so a worker whose claim was taken over cannot write a
second report (the unique ``(interview_id, version)`` backs that up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storage import (
    CompetencyScore,
    Database,
    Interview,
    InterviewStatus,
    OutboxEvent,
    QuestionScore,
    ScoreReport,
    latest_report,
    transcript,
)

from ._errors import InterviewNotFound, ScoringBusy, ScoringInputError
from ._result import ScoreResult
from ._snapshot import InterviewSnapshot, Turn, parse_plan

__all__ = ["Claim", "LeaseLost", "claim", "load_snapshot", "mark_failed", "release", "save_report"]

S = InterviewStatus
_CLAIMABLE = (S.FINISHED, S.FAILED, S.SCORED)


@dataclass(frozen=True)
class Claim:
    snapshot: InterviewSnapshot
    attempt: int  # scoring_attempts after this claim: the claim's token


class LeaseLost(ScoringBusy):
    """Another worker took the interview over while this one was scoring; this run's report is dropped."""


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def load_snapshot(db: Database, interview_id: str) -> tuple[InterviewSnapshot, Interview]:
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise InterviewNotFound(interview_id)
        questions, weights, role = parse_plan(
            iv.spec or None
        )  # the candidate's own snapshot, else the plan's
        rows = transcript(s, interview_id)
        turns = tuple(
            Turn(
                id=r.id,
                seq=r.seq,
                speaker=r.speaker,
                text=r.text or "",
                start=float(r.started_at),
                end=float(r.ended_at),
                interrupted=bool(r.interrupted),
                question_id=r.question_id,
                kind=r.kind,
            )
            for r in rows
        )
        snap = InterviewSnapshot(
            interview_id=iv.id,
            mode=iv.mode,
            candidate_name=iv.candidate_name,
            role=role or (iv.plan.role if iv.plan else ""),
            questions=questions,
            weights=weights,
            turns=turns,
        )
        s.expunge(iv)
        return snap, iv


def _latest_fingerprint(db: Database, interview_id: str) -> str | None:
    with db.session() as s:
        rep = latest_report(s, interview_id)
        return rep.report.get("transcript_sha256") if rep else None


def claim(
    db: Database, interview_id: str, *, lease_s: float, max_attempts: int, force: bool = False
) -> Claim | None:
    """Take the interview for scoring. None: nothing to do (not finished yet, or already scored with this
    exact transcript). Raises ``ScoringBusy`` while another worker's lease runs, ``ScoringInputError`` when
    the stored plan cannot be scored."""
    snap, iv = load_snapshot(db, interview_id)
    if iv.status.is_open:
        if force:
            raise ScoringInputError(f"interview {interview_id} has not finished (status {iv.status})")
        return None
    if not force and _latest_fingerprint(db, interview_id) == snap.fingerprint:
        with db.session() as s:  # a report for this transcript exists: make the status say so
            s.execute(
                update(Interview)
                .where(Interview.id == interview_id, Interview.status.in_((S.FINISHED, S.FAILED)))
                .values(status=S.SCORED, scoring_error=None)
            )
        return None
    if not force and iv.status == S.FAILED and iv.scoring_attempts >= max_attempts:
        return None  # gave up already; `mockline score` re-scores on request
    if not force and iv.scoring_attempts >= 2 * max_attempts:  # e.g. a job that keeps killing its worker
        mark_failed(db, interview_id, f"gave up after {iv.scoring_attempts} scoring attempts")
        return None
    now = datetime.now(UTC)
    if iv.status == S.SCORING:
        _raise_if_held(interview_id, iv.updated_at, lease_s, now)
    elif iv.status not in _CLAIMABLE:
        return None
    with db.session() as s:
        # Optimistic: only if the row is still exactly as we read it (status and updated_at).
        res = s.execute(
            update(Interview)
            .where(
                Interview.id == interview_id,
                Interview.status == iv.status,
                Interview.updated_at == iv.updated_at,
            )
            .values(
                status=S.SCORING,
                scoring_attempts=Interview.scoring_attempts + 1,
                updated_at=now,
            )
        )
        won = res.rowcount == 1  # type: ignore[attr-defined]
        current = s.execute(
            select(Interview.status, Interview.updated_at, Interview.scoring_attempts).where(
                Interview.id == interview_id
            )
        ).one()
    if won:
        return Claim(snapshot=snap, attempt=current.scoring_attempts)
    if current.status == S.SCORING:  # another job claimed it first
        _raise_if_held(interview_id, current.updated_at, lease_s, now)
    return None  # it moved on (scored, or back in progress) between our read and our update


def _raise_if_held(interview_id: str, claimed_at: datetime, lease_s: float, now: datetime) -> None:
    held_until = _aware(claimed_at) + timedelta(seconds=lease_s)
    if held_until > now:
        raise ScoringBusy(interview_id, retry_after=(held_until - now).total_seconds() + 0.5)


def save_report(db: Database, c: Claim, result: ScoreResult) -> int:
    """Write the report as the next version and mark the interview scored; returns the version."""
    iid = c.snapshot.interview_id
    try:
        with db.session() as s:
            version = (
                s.scalar(select(func.max(ScoreReport.version)).where(ScoreReport.interview_id == iid)) or 0
            ) + 1
            now = datetime.now(UTC)
            res = s.execute(
                update(Interview)
                .where(
                    Interview.id == iid,
                    Interview.status == S.SCORING,
                    Interview.scoring_attempts == c.attempt,
                )
                .values(
                    status=S.SCORED,
                    overall_score=result.overall,
                    scored_at=now,
                    scoring_error=None,
                    updated_at=now,
                )
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(iid, retry_after=0)
            report = ScoreReport(
                interview_id=iid,
                version=version,
                scorer=result.scorer,
                overall=result.overall,
                recommendation=result.recommendation,
                report=result.report,
                speech_metrics=result.speech_metrics,
            )
            report.questions = [
                QuestionScore(
                    question_id=q.question_id,
                    competency=q.competency,
                    score=q.score,
                    rationale=q.rationale,
                    evidence=[e.to_json() for e in q.evidence],
                    improved_answer=q.improved_answer,
                )
                for q in result.questions
            ]
            report.competencies = [
                CompetencyScore(
                    competency=cs.competency,
                    score=cs.score,
                    weight=cs.weight,
                    evidence=[e.to_json() for e in cs.evidence],
                )
                for cs in result.competencies
            ]
            s.add(report)
            # Outgoing webhooks (dashboard/_webhooks.py) announce the report from the outbox; they track
            # their own deliveries, and there is nothing to hand to the scoring queue (dispatched now).
            s.add(OutboxEvent(kind="report.ready", interview_id=iid, dispatched_at=now))
            s.flush()
    except IntegrityError as e:  # the same version was written concurrently
        raise LeaseLost(iid, retry_after=0) from e
    return version


def release(db: Database, c: Claim, *, error: str, final: bool) -> None:
    """Give the claim back after a failed run: ``failed`` when no retry will follow, else ``finished``."""
    with db.session() as s:
        s.execute(
            update(Interview)
            .where(
                Interview.id == c.snapshot.interview_id,
                Interview.status == S.SCORING,
                Interview.scoring_attempts == c.attempt,
            )
            .values(
                status=S.FAILED if final else S.FINISHED,
                scoring_error=error[:2000],
                updated_at=datetime.now(UTC),
            )
        )


def mark_failed(db: Database, interview_id: str, error: str) -> None:
    """Record an interview that cannot be scored as stored (bad plan data): ``failed`` with the reason."""
    with db.session() as s:
        s.execute(
            update(Interview)
            .where(Interview.id == interview_id, Interview.status.in_((S.FINISHED, S.SCORING)))
            .values(status=S.FAILED, scoring_error=error[:2000], updated_at=datetime.now(UTC))
        )
