"""Where scoring jobs go: arq on Redis (separate worker processes) or an in-process asyncio queue.

Both run the same ``run_scoring`` with the same retry policy: exponential backoff after
``ScoringFailed(retryable)``, and after ``ScoringBusy`` (another job holds the interview) the sooner of the
backoff and the end of the holder's lease. A job key (e.g. ``outbox-42``) deduplicates: the same
key is queued at most once while it is waiting or running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import urlparse

from arq.connections import ArqRedis, RedisSettings
from redis.exceptions import RedisError

from ._errors import QueueUnavailable, ScoringBusy, ScoringConfigError, ScoringFailed
from ._job import ScoringOutcome
from ._settings import ScoringSettings

__all__ = [
    "JOB_NAME",
    "InProcessScoringQueue",
    "RedisScoringQueue",
    "ScoringQueue",
    "job_id",
    "redis_settings",
]

logger = logging.getLogger("mockline.scoring")

JOB_NAME = "score_interview"


def job_id(interview_id: str, key: str | None) -> str | None:
    return f"mockline-score:{interview_id}:{key}" if key else None


class ScoringQueue(Protocol):
    async def enqueue(self, interview_id: str, *, key: str | None = None, force: bool = False) -> bool:
        """Queue a scoring job; False when a job with this key is already waiting or running.
        Raises ``QueueUnavailable`` when the queue cannot be reached."""
        ...

    async def aclose(self) -> None: ...


def redis_settings(url: str, *, retries: int = 0) -> RedisSettings:
    if urlparse(url).scheme not in {"redis", "rediss", "unix"}:
        raise ScoringConfigError(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {url!r})")
    rs = RedisSettings.from_dsn(url)
    rs.conn_retries = retries
    rs.conn_timeout = 2
    return rs


class RedisScoringQueue:
    """Producer side of the arq queue (the web process and the outbox sweep enqueue through this)."""

    def __init__(self, *, settings: ScoringSettings) -> None:
        if not settings.redis_url:
            raise ScoringConfigError("RedisScoringQueue needs REDIS_URL")
        self.settings = settings
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> ArqRedis:
        from arq.connections import create_pool

        async with self._lock:
            if self._pool is None:
                assert self.settings.redis_url
                self._pool = await create_pool(
                    redis_settings(self.settings.redis_url), default_queue_name=self.settings.queue_name
                )
            return self._pool

    async def enqueue(self, interview_id: str, *, key: str | None = None, force: bool = False) -> bool:
        try:
            pool = await self._get_pool()
            job = await pool.enqueue_job(JOB_NAME, interview_id, force, _job_id=job_id(interview_id, key))
        except (RedisError, OSError) as e:
            await self._drop_pool()
            raise QueueUnavailable(
                f"cannot reach Redis at the configured REDIS_URL ({type(e).__name__})"
            ) from e
        return job is not None

    async def _drop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await pool.aclose()
            except (RedisError, OSError):
                pass

    async def aclose(self) -> None:
        await self._drop_pool()


Runner = Callable[[str, bool], Awaitable[ScoringOutcome]]


class InProcessScoringQueue:
    """An asyncio queue with ``concurrency`` consumers, for the embedded default (no Redis).

    Jobs live in memory: if the process dies, the database outbox and the stale-interview sweep queue
    them again on the next start.
    """

    def __init__(self, *, settings: ScoringSettings, run: Runner) -> None:
        self.settings = settings
        self._run = run
        self._queue: asyncio.Queue[tuple[str, str | None, bool, int]] = asyncio.Queue()
        self._keys: set[str] = set()
        self._waiting: set[str] = set()  # interviews with a job queued and not started yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0
        self._closed = False

    def start(self) -> None:
        for n in range(self.settings.concurrency):
            self._own(asyncio.create_task(self._consume(), name=f"mockline-scoring-consumer-{n}"))

    def _own(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def enqueue(self, interview_id: str, *, key: str | None = None, force: bool = False) -> bool:
        if self._closed:
            raise QueueUnavailable("the in-process scoring queue is shut down")
        jid = job_id(interview_id, key)
        if not force and interview_id in self._waiting:
            return False  # the queued job will read the newest transcript when it runs
        if jid is not None:
            if jid in self._keys:
                return False
            self._keys.add(jid)
        self._put(interview_id, jid, force, 1)
        return True

    def _put(self, interview_id: str, jid: str | None, force: bool, attempt: int) -> None:
        self._idle.clear()
        if not force:
            self._waiting.add(interview_id)
        self._queue.put_nowait((interview_id, jid, force, attempt))

    async def _later(self, delay: float, item: tuple[str, str | None, bool, int]) -> None:
        await asyncio.sleep(delay)  # a retry's backoff, not synchronisation
        self._put(*item)
        self._busy -= 1

    async def _consume(self) -> None:
        while True:
            interview_id, jid, force, attempt = await self._queue.get()
            self._waiting.discard(interview_id)
            self._busy += 1
            retry_in: float | None = None
            try:
                await self._run(interview_id, force)
            except ScoringBusy as e:  # look again soon: the holder usually finishes well within its lease
                retry_in = min(e.retry_after, self.settings.backoff(attempt))
            except ScoringFailed as e:
                if e.retryable:
                    retry_in = self.settings.backoff(attempt)
            except Exception:
                logger.exception("scoring job crashed", extra={"interview_id": interview_id})
                if attempt < self.settings.max_tries:
                    retry_in = self.settings.backoff(attempt)
            if retry_in is not None and not self._closed:
                self._own(asyncio.create_task(self._later(retry_in, (interview_id, jid, force, attempt + 1))))
            else:
                self._busy -= 1
                if jid is not None:
                    self._keys.discard(jid)
            if self._busy == 0 and self._queue.empty():
                self._idle.set()

    async def join(self) -> None:
        """Wait until no job is queued, running or waiting for a retry."""
        await self._idle.wait()

    async def aclose(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
