"""Finish interviews whose candidate never came back; apply the recordings' retention.

A dropped connection leaves its interview ``in_progress`` so the candidate can resume within the grace period.
If nobody resumes (and no session in this process holds it), the interview is finished as a hang-up after
``MOCKLINE_STALE_INTERVIEW_MINUTES`` without a turn, which writes the outbox event, so it is scored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from agent import finish_interview
from storage import (
    Database,
    Interview,
    InterviewStatus,
    S3RecordingStore,
    get_recording_settings,
    get_recording_store,
    purge_expired,
    utcnow,
)

__all__ = ["finish_stale_interviews", "run_stale_sweeper", "sweep_recordings"]

logger = logging.getLogger("mockline.web")


def finish_stale_interviews(db: Database, *, older_than: timedelta, live: set[str]) -> list[str]:
    """Finish every in-progress interview idle for ``older_than`` that is not in ``live``; their ids."""
    cutoff = utcnow() - older_than
    with db.session() as s:
        ids = s.scalars(
            select(Interview.id).where(
                Interview.status == InterviewStatus.IN_PROGRESS, Interview.last_seen_at < cutoff
            )
        ).all()
    finished = [i for i in ids if i not in live and finish_interview(db, i, reason="hangup")]
    if finished:
        logger.info("finished %d abandoned interviews", len(finished))
    return finished


async def run_stale_sweeper(
    db: Callable[[], Database], *, older_than: timedelta, live: Callable[[], set[str]], every_s: float = 60.0
) -> None:
    """Owned by the web lifespan; cancelled on shutdown."""
    while True:
        try:
            await asyncio.to_thread(finish_stale_interviews, db(), older_than=older_than, live=live())
        except Exception:
            logger.exception("stale interview sweep failed")
        try:
            await asyncio.to_thread(sweep_recordings, db())
        except Exception:
            logger.exception("recording retention sweep failed")
        await asyncio.sleep(every_s)


def sweep_recordings(db: Database) -> None:
    """Retention (``MOCKLINE_RECORDINGS_RETENTION_DAYS`` …), and recordings a killed worker left in the
    S3 store's local spool are uploaded."""
    settings = get_recording_settings()
    store = get_recording_store()
    purge_expired(
        db, store, audio_days=settings.retention_days, transcript_days=settings.transcript_retention_days
    )
    if isinstance(store, S3RecordingStore):
        store.commit_orphans()
