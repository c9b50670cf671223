"""The Redis job queue with real worker processes: enqueue on interview end, a worker SIGKILLed mid-job,
and Redis unreachable when an interview ends. Runs on SQLite and PostgreSQL (the workers share the test's
DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from scoring import RedisScoringQueue, ScoringSettings, enqueue_scoring, sweep_once
from storage import Database, Interview, OutboxEvent, ScoreReport
from tests.test_scoring_support import finish_interview, make_interview, wait_for

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("MOCKLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
JOB_TIMEOUT_S = 6.0  # a killed worker's job runs again ~JOB_TIMEOUT_S + 2 + GRACE later
GRACE_S = 1.0


@pytest.fixture
async def queue_name() -> AsyncIterator[str]:
    """A queue (and test-hook key) of our own; every key this test made is deleted afterwards."""
    name = f"mockline-test:{uuid.uuid4().hex[:10]}"
    yield name
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        job_ids = [m.decode() for m in await client.zrange(name, 0, -1)]
        keys = [name, f"{name}:health-check", f"{name}:hold:started", f"{name}:hold:release"]
        for jid in job_ids:
            keys += [f"arq:job:{jid}", f"arq:in-progress:{jid}", f"arq:retry:{jid}", f"arq:result:{jid}"]
        await client.delete(*keys)
    finally:
        await client.aclose()


def _settings(queue: str, **kw: object) -> ScoringSettings:
    base = {"redis_url": REDIS_URL, "queue_name": queue, "job_timeout_s": JOB_TIMEOUT_S}
    return ScoringSettings(**{**base, **kw})


class Workers:
    """Real ``mockline worker`` processes; logs go to files under the test's tmp dir."""

    def __init__(self, *, db: Database, queue: str, tmp: Path) -> None:
        self.db, self.queue, self.tmp = db, queue, tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *, redis_url: str = REDIS_URL, hold: bool = False) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKLINE_", "OPENAI_"))}
        env.update(
            DATABASE_URL=self.db.url,
            REDIS_URL=redis_url,
            PYTHONPATH=str(ROOT),
            MOCKLINE_SCORER="offline",
            MOCKLINE_SCORING_QUEUE_NAME=self.queue,
            MOCKLINE_SCORING_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S),
            MOCKLINE_SCORING_RECOVERY_GRACE_S=str(GRACE_S),
            MOCKLINE_SCORING_POLL_DELAY_S="0.2",
            MOCKLINE_SCORING_SWEEP_INTERVAL_S="1",
            MOCKLINE_SCORING_STALE_AFTER_S="3600",
        )
        if hold:
            env["MOCKLINE_SCORING_TEST_HOLD_KEY"] = f"{self.queue}:hold"
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockline", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, n: int) -> str:
        return (self.tmp / f"worker-{n}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def workers(db: Database, queue_name: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(db=db, queue=queue_name, tmp=tmp_path)
    try:
        yield w
    finally:
        w.stop_all()


def _status(db: Database, iid: str) -> str:
    with db.session() as s:
        iv = s.get(Interview, iid)
        assert iv is not None
        return iv.status


def _reports(db: Database, iid: str) -> list[ScoreReport]:
    with db.session() as s:
        return list(s.scalars(select(ScoreReport).where(ScoreReport.interview_id == iid)))


def _events(db: Database, iid: str) -> list[OutboxEvent]:
    with db.session() as s:
        return list(
            s.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.interview_id == iid, OutboxEvent.kind == "interview.finished"
                )
            )
        )


async def test_interview_end_enqueues_and_a_worker_scores_it(
    db: Database, workers: Workers, queue_name: str
) -> None:
    workers.start()
    iid = make_interview(db, status="in_progress")
    finish_interview(db, iid)  # the agent runtime's end-of-interview transaction
    queue = RedisScoringQueue(settings=_settings(queue_name))
    try:
        assert await enqueue_scoring(iid, queue=queue, db=db)
    finally:
        await queue.aclose()
    (event,) = _events(db, iid)
    assert event.dispatched_at is not None

    await wait_for(lambda: _status(db, iid) == "scored", within=120, what="the worker to score the interview")
    (report,) = _reports(db, iid)
    assert report.scorer == "offline" and report.version == 1
    with db.session() as s:
        iv = s.get(Interview, iid)
        assert iv is not None and iv.overall_score == report.overall and iv.scoring_attempts == 1


async def test_a_worker_killed_mid_job_loses_nothing(db: Database, workers: Workers, queue_name: str) -> None:
    iid = make_interview(db)
    first = workers.start(hold=True)
    queue = RedisScoringQueue(settings=_settings(queue_name))
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await enqueue_scoring(iid, queue=queue, db=db)
        # The job announces itself once it has claimed the interview, then blocks on the test hook.
        started = await client.blpop([f"{queue_name}:hold:started"], timeout=120)
        assert started is not None and started[1].decode() == iid, workers.log(0)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        assert _status(db, iid) == "scoring" and _reports(db, iid) == []

        workers.start()  # a fresh worker; the job is still in Redis, marked in progress until that expires
        await wait_for(lambda: _status(db, iid) == "scored", within=120, what="the job to run again")
        assert await client.zcard(queue_name) == 0  # done, not left behind
    finally:
        await client.aclose()
        await queue.aclose()
    assert len(_reports(db, iid)) == 1  # scored exactly once
    with db.session() as s:
        iv = s.get(Interview, iid)
        assert iv is not None and iv.scoring_attempts == 2  # the killed run and the recovered one
    assert "try=2" in workers.log(1)  # arq ran the same job again (not a new one from the sweep)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_redis_down_at_interview_end_keeps_it_in_the_outbox(
    db: Database, workers: Workers, queue_name: str
) -> None:
    iid = make_interview(db, status="in_progress")
    finish_interview(db, iid)
    down = _settings(queue_name, redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    queue = RedisScoringQueue(settings=down)
    try:
        assert not await enqueue_scoring(iid, queue=queue, db=db)
        stats = await sweep_once(queue=queue, settings=down, db=db)  # still down: stays pending
    finally:
        await queue.aclose()
    assert stats.pending == 1 and stats.dispatched == 0
    (event,) = _events(db, iid)
    assert event.dispatched_at is None and event.attempts == 2
    assert "cannot reach Redis" in (event.last_error or "")
    assert _status(db, iid) == "finished"

    workers.start()  # Redis is back: the worker's outbox sweep hands the event over
    await wait_for(lambda: _status(db, iid) == "scored", within=120, what="the sweep to get it scored")
    assert len(_reports(db, iid)) == 1
    (event,) = _events(db, iid)
    assert event.dispatched_at is not None


async def test_worker_refuses_to_start_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mockline.cli",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"the scoring worker needs Redis: set REDIS_URL" in err
