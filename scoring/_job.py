"""One scoring run, the same in a Redis worker and in the web process: claim, score, save, or release."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from storage import Database, get_database

from ._errors import InterviewNotFound, ScoringFailed, ScoringInputError
from ._llm import LlmJudge
from ._settings import ScoringSettings
from ._store import LeaseLost, claim, mark_failed, release, save_report

__all__ = ["ScoringOutcome", "run_scoring"]

logger = logging.getLogger("mockline.scoring")


@dataclass(frozen=True, slots=True)
class ScoringOutcome:
    interview_id: str
    status: str  # scored | skipped | failed
    version: int | None = None
    detail: str = ""


async def _test_hold(settings: ScoringSettings, interview_id: str) -> None:
    if not settings.test_hold_key or not settings.redis_url:
        return
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        await client.rpush(f"{settings.test_hold_key}:started", interview_id)
        await client.blpop([f"{settings.test_hold_key}:release"], timeout=0)
    finally:
        await client.aclose()


async def run_scoring(
    interview_id: str,
    *,
    settings: ScoringSettings,
    db: Database | None = None,
    force: bool = False,
    judge: LlmJudge | None = None,
) -> ScoringOutcome:
    """Score one interview once. ``force`` writes a new report version even for an unchanged transcript.

    Raises ``ScoringBusy`` (another worker holds the lease: retry after ``retry_after``) and
    ``ScoringFailed`` (the run failed; ``retryable`` says whether a retry is due). Bad stored data marks
    the interview ``failed`` with the reason and returns a ``failed`` outcome: retrying would not help.
    """
    from ._scorer import score_snapshot

    db = db or get_database()
    try:
        c = await asyncio.to_thread(
            claim, db, interview_id, lease_s=settings.lease_s, max_attempts=settings.max_tries, force=force
        )
    except InterviewNotFound as e:
        logger.warning("scoring job for an unknown interview", extra={"interview_id": interview_id})
        return ScoringOutcome(interview_id, "failed", detail=str(e))
    except ScoringInputError as e:
        logger.warning(
            "interview cannot be scored: %s", type(e).__name__, extra={"interview_id": interview_id}
        )
        await asyncio.to_thread(mark_failed, db, interview_id, str(e))
        return ScoringOutcome(interview_id, "failed", detail=str(e))
    if c is None:
        logger.debug("nothing to score", extra={"interview_id": interview_id})
        return ScoringOutcome(interview_id, "skipped", detail="not finished, or already scored")

    logger.info("scoring started (attempt %d)", c.attempt, extra={"interview_id": interview_id})
    try:
        await _test_hold(settings, interview_id)
        async with asyncio.timeout(settings.job_timeout_s):
            result = await score_snapshot(c.snapshot, settings=settings, judge=judge)
            version = await asyncio.to_thread(save_report, db, c, result)
    except LeaseLost:
        logger.warning(
            "scoring lease was taken over; dropping this run", extra={"interview_id": interview_id}
        )
        return ScoringOutcome(interview_id, "skipped", detail="lease taken over by another worker")
    except asyncio.CancelledError:  # worker shutting down: hand the interview back for the retry
        await asyncio.shield(asyncio.to_thread(release, db, c, error="worker stopped mid-run", final=False))
        raise
    except Exception as e:
        final = c.attempt >= settings.max_tries
        reason = "timed out" if isinstance(e, TimeoutError) else f"{type(e).__name__}: {e}"
        logger.exception(
            "scoring run failed (attempt %d, %s)",
            c.attempt,
            "giving up" if final else "will retry",
            extra={"interview_id": interview_id},
        )
        await asyncio.to_thread(release, db, c, error=reason, final=final)
        raise ScoringFailed(reason, retryable=not final, attempt=c.attempt) from e
    logger.info("scored (report v%d, %s)", version, result.scorer, extra={"interview_id": interview_id})
    return ScoringOutcome(interview_id, "scored", version=version, detail=result.scorer)
