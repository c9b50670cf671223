"""The outbox sweep: no finished interview stays unscored.

``enqueue_scoring`` hands an interview to the queue at once when it ends and marks its pending
``OutboxEvent`` rows dispatched. Whatever that missed (Redis was down, the process died between commit and
enqueue) the periodic sweep finds:

1. ``interview.finished`` events with ``dispatched_at IS NULL`` → queued, then marked dispatched. While the
   queue is unreachable they stay pending with ``attempts``/``last_error`` updated, and the next sweep tries
   again;
2. interviews still ``finished`` ``stale_after_s`` after their last change (or stuck in ``scoring`` well past
   the lease) → queued again. The claim in the database makes duplicates harmless.

Several sweepers (web process, every worker) may run at once: job keys and the claim deduplicate.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from storage import Database, Interview, InterviewStatus, OutboxEvent, get_database

from ._errors import QueueUnavailable
from ._queue import ScoringQueue
from ._settings import ScoringSettings

__all__ = ["FINISHED_EVENT", "OutboxSweeper", "SweepStats", "enqueue_scoring", "sweep_once"]

logger = logging.getLogger("mockline.scoring")

FINISHED_EVENT = "interview.finished"


@dataclass(slots=True)
class SweepStats:
    dispatched: int = 0
    requeued: int = 0
    pending: int = 0  # events still waiting because the queue was unreachable


def _pending_events(db: Database, interview_id: str | None, limit: int) -> list[tuple[int, str]]:
    with db.session() as s:
        q = select(OutboxEvent.id, OutboxEvent.interview_id).where(
            OutboxEvent.dispatched_at.is_(None), OutboxEvent.kind == FINISHED_EVENT
        )
        if interview_id is not None:
            q = q.where(OutboxEvent.interview_id == interview_id)
        return [(r.id, r.interview_id) for r in s.execute(q.order_by(OutboxEvent.created_at).limit(limit))]


def _mark(db: Database, ids: list[int], *, error: str | None) -> None:
    with db.session() as s:
        stmt = update(OutboxEvent).where(OutboxEvent.id.in_(ids), OutboxEvent.dispatched_at.is_(None))
        if error is None:
            s.execute(stmt.values(dispatched_at=datetime.now(UTC), attempts=OutboxEvent.attempts + 1))
        else:
            s.execute(stmt.values(attempts=OutboxEvent.attempts + 1, last_error=error[:1000]))


def _stale(db: Database, settings: ScoringSettings, limit: int) -> list[tuple[str, int]]:
    now = datetime.now(UTC)
    finished_cutoff = now - timedelta(seconds=settings.stale_after_s)
    scoring_cutoff = now - timedelta(seconds=settings.in_progress_s + settings.stale_after_s)
    with db.session() as s:
        rows = s.execute(
            select(Interview.id, Interview.scoring_attempts)
            .where(
                ((Interview.status == InterviewStatus.FINISHED) & (Interview.updated_at < finished_cutoff))
                | ((Interview.status == InterviewStatus.SCORING) & (Interview.updated_at < scoring_cutoff))
            )
            .limit(limit)
        )
        return [(r.id, r.scoring_attempts) for r in rows]


async def enqueue_scoring(interview_id: str, *, queue: ScoringQueue, db: Database | None = None) -> bool:
    """Hand a finished interview to the scoring queue now. True when queued; False when the queue is
    unreachable — the interview's outbox event then stays pending and the sweep retries it."""
    db = db or get_database()
    events = await asyncio.to_thread(_pending_events, db, interview_id, 100)
    ids = [e for e, _ in events]
    key = f"outbox-{max(ids)}" if ids else None
    try:
        await queue.enqueue(interview_id, key=key)
    except QueueUnavailable as e:
        logger.warning(
            "scoring queue unreachable; the outbox keeps the interview", extra={"interview_id": interview_id}
        )
        if ids:
            await asyncio.to_thread(_mark, db, ids, error=str(e))
        return False
    if ids:
        await asyncio.to_thread(_mark, db, ids, error=None)
    return True


async def sweep_once(
    *, queue: ScoringQueue, settings: ScoringSettings, db: Database | None = None, limit: int = 200
) -> SweepStats:
    db = db or get_database()
    stats = SweepStats()
    events = await asyncio.to_thread(_pending_events, db, None, limit)
    for n, (event_id, interview_id) in enumerate(events):
        try:
            await queue.enqueue(interview_id, key=f"outbox-{event_id}")
        except QueueUnavailable as e:
            rest = [eid for eid, _ in events[n:]]
            await asyncio.to_thread(_mark, db, rest, error=str(e))
            stats.pending = len(rest)
            logger.warning("scoring queue unreachable; %d outbox event(s) stay pending", len(rest))
            return stats
        await asyncio.to_thread(_mark, db, [event_id], error=None)
        stats.dispatched += 1
    for interview_id, attempts in await asyncio.to_thread(_stale, db, settings, limit):
        try:
            await queue.enqueue(interview_id, key=f"stale-{attempts}")
        except QueueUnavailable:
            logger.warning("scoring queue unreachable; stale interviews wait for the next sweep")
            return stats
        stats.requeued += 1
    if stats.dispatched or stats.requeued:
        logger.info(
            "outbox sweep queued %d event(s) and %d stale interview(s)", stats.dispatched, stats.requeued
        )
    return stats


class OutboxSweeper:
    """Runs ``sweep_once`` every ``sweep_interval_s``; owns its task (``start()`` / ``aclose()``)."""

    def __init__(self, *, queue: ScoringQueue, settings: ScoringSettings, db: Database | None = None) -> None:
        self.queue = queue
        self.settings = settings
        self.db = db
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="mockline-outbox-sweep")

    def wake(self) -> None:
        """Sweep now instead of at the next interval."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                await sweep_once(queue=self.queue, settings=self.settings, db=self.db)
            except Exception:
                logger.exception("outbox sweep failed; retrying at the next interval")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.sweep_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
