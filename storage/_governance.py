"""What is kept, for how long, and erasing a candidate on request.

``purge_expired`` deletes audio older than the retention period (and, when configured, transcripts); the web
process's sweeper runs it. ``erase_candidate`` removes one candidate's recording, transcript, metrics and
report at a recruiter's request. Both write an ``AuditEntry`` in the same transaction as the deletion, with no
candidate content in it. Audio objects are deleted from the store before the rows that point at them: if the
store fails, the rows stay and the next sweep tries again (never a row pointing at nothing it claims exists).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ._db import Database
from ._models import (
    AuditEntry,
    Interview,
    InterviewStatus,
    Recording,
    ScoreReport,
    TranscriptTurn,
    TurnMetric,
    utcnow,
)
from ._recordings import RecordingStore, RecordingStoreError

__all__ = ["PurgeResult", "erase_candidate", "purge_expired"]

logger = logging.getLogger("mockline.storage")


@dataclass
class PurgeResult:
    recordings: list[int] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)  # interview ids whose turns were deleted


def _delete_objects(store: RecordingStore, keys: list[str]) -> bool:
    try:
        for key in keys:
            store.delete(key)
    except RecordingStoreError:
        logger.warning("could not delete recordings from the store; will retry", exc_info=True)
        return False
    return True


def purge_expired(
    db: Database,
    store: RecordingStore,
    *,
    audio_days: int,
    transcript_days: int = 0,
    now: datetime | None = None,
    batch: int = 200,
) -> PurgeResult:
    """Delete recordings older than ``audio_days`` and, when ``transcript_days`` > 0, the turns and
    metrics of interviews that ended longer ago than that. 0 days keeps them forever."""
    now = now or utcnow()
    result = PurgeResult()
    if audio_days > 0:
        cutoff = now - timedelta(days=audio_days)
        with db.session() as s:
            rows = s.execute(
                select(Recording.id, Recording.path, Recording.interview_id, Interview.org_id)
                .join(Interview, Interview.id == Recording.interview_id)
                # any status: one a killed worker left "recording" is as old as its call (no call lasts days)
                .where(Recording.created_at < cutoff)
                .limit(batch)
            ).all()
        if rows and _delete_objects(store, [r.path for r in rows]):
            with db.session() as s:
                s.execute(delete(Recording).where(Recording.id.in_([r.id for r in rows])))
                for r in rows:
                    s.add(
                        AuditEntry(
                            org_id=r.org_id,
                            action="retention_audio",
                            interview_id=r.interview_id,
                            detail={"recording_id": r.id, "days": audio_days},
                        )
                    )
            result.recordings = [r.id for r in rows]
    if transcript_days > 0:
        cutoff = now - timedelta(days=transcript_days)
        with db.session() as s:
            due = s.execute(
                select(Interview.id, Interview.org_id)
                .where(Interview.ended_at < cutoff)
                .where(select(TranscriptTurn.id).where(TranscriptTurn.interview_id == Interview.id).exists())
                .limit(batch)
            ).all()
            ids = [d.id for d in due]
            if ids:
                s.execute(delete(TurnMetric).where(TurnMetric.interview_id.in_(ids)))
                s.execute(delete(TranscriptTurn).where(TranscriptTurn.interview_id.in_(ids)))
                for d in due:
                    s.add(
                        AuditEntry(
                            org_id=d.org_id,
                            action="retention_transcript",
                            interview_id=d.id,
                            detail={"days": transcript_days},
                        )
                    )
        result.transcripts = ids
    if result.recordings or result.transcripts:
        logger.info(
            "retention sweep deleted %d recordings and %d transcripts",
            len(result.recordings),
            len(result.transcripts),
        )
    return result


def erase_candidate(
    db: Database, store: RecordingStore, *, interview_id: str, org_id: str, user_id: str | None
) -> bool:
    """Erase one candidate's audio, transcript, metrics and report from an interview of ``org_id``.

    The interview row stays (anonymised: no name, phone number or brain state) with ``erased_at`` set, so
    the list still counts it and the audit trail has something to point at. False if there is no such
    interview in that organisation, or it is still running."""
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        if iv is None or iv.org_id != org_id or iv.status == InterviewStatus.IN_PROGRESS:
            return False
        keys = list(s.scalars(select(Recording.path).where(Recording.interview_id == interview_id)))
    if not _delete_objects(store, keys):
        raise RecordingStoreError("the recording could not be deleted; nothing was erased")
    with db.session() as s:
        recordings = s.execute(delete(Recording).where(Recording.interview_id == interview_id))
        turns = s.execute(delete(TranscriptTurn).where(TranscriptTurn.interview_id == interview_id))
        counts = {
            "recordings": recordings.rowcount,  # type: ignore[attr-defined]
            "turns": turns.rowcount,  # type: ignore[attr-defined]
        }
        s.execute(delete(TurnMetric).where(TurnMetric.interview_id == interview_id))
        reports = list(s.scalars(select(ScoreReport).where(ScoreReport.interview_id == interview_id)))
        for report in reports:
            s.delete(report)  # its question and competency scores and overrides go with it
        counts["reports"] = len(reports)
        s.execute(
            update(Interview)
            .where(Interview.id == interview_id)
            .values(
                candidate_name="",
                phone_number=None,
                state={},
                overall_score=None,
                scoring_error=None,
                erased_at=utcnow(),
            )
        )
        s.add(
            AuditEntry(
                org_id=org_id,
                user_id=user_id,
                action="erase_candidate",
                interview_id=interview_id,
                detail=counts,
            )
        )
    logger.info("candidate data erased", extra={"interview_id": interview_id, "user_id": user_id})
    return True
