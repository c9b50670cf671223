"""The scoring worker process: an arq worker on the Redis queue, plus the outbox sweep.

Run it as ``mockline worker`` (needs ``REDIS_URL``; ``DATABASE_URL`` must be the web process's database): the
command line sets up logging and builds the worker here, so scoring never imports the app shell. Start as
many as you like, on as many machines: Redis hands each job to one worker at a time. A SIGTERM lets running
jobs go back to the queue; after a SIGKILL (or a lost machine) the job's in-progress mark expires after
``job_timeout_s + 2 + recovery_grace_s`` and another worker runs it.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Retry, Worker, func

from storage import Database

from ._errors import ScoringBusy, ScoringConfigError, ScoringFailed
from ._job import run_scoring
from ._outbox import OutboxSweeper
from ._queue import JOB_NAME, RedisScoringQueue, redis_settings
from ._settings import ScoringSettings, get_scoring_settings

__all__ = ["build_worker", "score_interview"]

logger = logging.getLogger("mockline.scoring")


async def score_interview(ctx: dict[str, Any], interview_id: str, force: bool = False) -> str:
    """The arq job. Retries through arq's ``Retry`` so the job stays in Redis until it is done."""
    settings: ScoringSettings = ctx["settings"]
    try:
        outcome = await run_scoring(interview_id, settings=settings, db=ctx.get("db"), force=force)
    except ScoringBusy as e:  # look again soon: the holder usually finishes well within its lease
        raise Retry(defer=min(e.retry_after, settings.backoff(ctx.get("job_try", 1)))) from e
    except ScoringFailed as e:
        if e.retryable:
            raise Retry(defer=settings.backoff(e.attempt)) from e
        return "failed"
    return outcome.status


def build_worker(
    settings: ScoringSettings | None = None, *, db: Database | None = None, handle_signals: bool = True
) -> Worker:
    settings = settings or get_scoring_settings()
    if not settings.redis_url:
        raise ScoringConfigError(
            "the scoring worker needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0). Without Redis, "
            "`mockline up` scores interviews in-process and no worker is needed."
        )
    sweeper_holder: dict[str, Any] = {}

    async def on_startup(ctx: dict[str, Any]) -> None:
        queue = RedisScoringQueue(settings=settings)
        sweeper = OutboxSweeper(queue=queue, settings=settings, db=db)
        sweeper.start()
        sweeper_holder.update(queue=queue, sweeper=sweeper)
        logger.info("scoring worker ready on queue %s", settings.queue_name)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "sweeper" in sweeper_holder:
            await sweeper_holder.pop("sweeper").aclose()
            await sweeper_holder.pop("queue").aclose()

    worker = Worker(
        functions=[
            func(
                score_interview,
                name=JOB_NAME,
                timeout=settings.lease_s,
                max_tries=2 * settings.max_tries,  # backstop; run_scoring counts real attempts in the DB
                keep_result=0,
            )
        ],
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings.redis_url, retries=5),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handle_signals=handle_signals,
        max_jobs=settings.concurrency,
        job_timeout=settings.lease_s,
        keep_result=0,
        poll_delay=settings.poll_delay_s,
        ctx={"settings": settings, "db": db},
    )
    # arq marks a running job in-progress for (timeout + 10 s); make that our configurable recovery time.
    worker.in_progress_timeout_s = settings.in_progress_s
    return worker
