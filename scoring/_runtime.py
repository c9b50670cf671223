"""Scoring inside the web process: the in-process queue (no REDIS_URL) or a Redis producer, plus the sweep."""

from __future__ import annotations

import logging

from storage import Database, get_database

from ._job import ScoringOutcome, run_scoring
from ._outbox import OutboxSweeper, enqueue_scoring
from ._queue import InProcessScoringQueue, RedisScoringQueue, ScoringQueue
from ._settings import ScoringSettings, get_scoring_settings

__all__ = ["ScoringRuntime"]

logger = logging.getLogger("mockline.scoring")


class ScoringRuntime:
    """Owns the queue and the outbox sweeper of one process; ``start()`` in the lifespan, ``aclose()`` after.

    Without ``REDIS_URL`` it scores in-process; with it, it only enqueues (``mockline worker`` processes
    score). Hand finished interviews over with ``await runtime.enqueue_scoring(interview_id)``, e.g. as the
    agent runtime's ``on_finished`` callback.
    """

    def __init__(self, *, settings: ScoringSettings | None = None, db: Database | None = None) -> None:
        self.settings = settings or get_scoring_settings()
        self._db = db
        self.queue: ScoringQueue | None = None
        self.sweeper: OutboxSweeper | None = None

    @property
    def db(self) -> Database:
        return self._db or get_database()

    async def _run(self, interview_id: str, force: bool) -> ScoringOutcome:
        return await run_scoring(interview_id, settings=self.settings, db=self.db, force=force)

    async def start(self) -> None:
        if self.settings.redis_url:
            self.queue = RedisScoringQueue(settings=self.settings)
            logger.info("scoring: jobs go to the Redis queue %s", self.settings.queue_name)
        else:
            q = InProcessScoringQueue(settings=self.settings, run=self._run)
            q.start()
            self.queue = q
            logger.info("scoring: no REDIS_URL, scoring in-process")
        self.sweeper = OutboxSweeper(queue=self.queue, settings=self.settings, db=self._db)
        self.sweeper.start()

    async def enqueue_scoring(self, interview_id: str) -> bool:
        if self.queue is None:
            raise RuntimeError("ScoringRuntime.start() has not been called")
        return await enqueue_scoring(interview_id, queue=self.queue, db=self.db)

    async def aclose(self) -> None:
        if self.sweeper is not None:
            await self.sweeper.aclose()
        if self.queue is not None:
            await self.queue.aclose()
        self.sweeper = self.queue = None
