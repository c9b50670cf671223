"""LiveKit room mode against a real ``livekit-server`` on loopback, end to end.

The pieces are the production ones: the pinned ``livekit-server`` (tests/_livekit_server.py), the agent
worker as its own process (``mockline agent``, or ``python -m bench livekit-worker`` with the fixed-latency
fakes where the test is about the room, not the speech), the web process's dispatch and candidate token
(``signaling.livekit_token`` through the real ``livekit-api`` client), and a candidate on the real
``livekit`` rtc SDK (``bench._livekit_caller``) that speaks, listens, and reads captions and the agent's
state from the room. Storage is PostgreSQL; scoring goes through the Redis queue.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agent.livekit_worker import LiveKitSettings
from agent.plans import build_plan
from bench._livekit_caller import LiveKitCaller
from scoring import ScoringSettings, report_json
from scoring.worker import build_worker
from signaling._livekit import open_livekit_interview
from signaling.livekit_token import start_livekit_interview
from storage import (
    Database,
    Interview,
    InterviewPlan,
    TranscriptTurn,
    create_invitation,
    reset_database,
    upgrade_to_head,
)

from ._livekit_server import AgentWorker, LiveKitServer, running_livekit, worker_env
from .audio import speak, words

pytestmark = [pytest.mark.livekit, pytest.mark.integration]

REDIS_URL = os.environ.get("MOCKLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ANSWER = (
    "At my last job the checkout service was slow, so I profiled it, found repeated database calls, "
    "batched them and added a cache. As a result latency went down by half."
)
ANSWER_WORDS = {"checkout", "service", "slow", "profiled", "repeated", "database", "calls", "cache",
                "latency", "half"}  # fmt: skip
STOP = "Can we stop the interview now please."
TURN_S = 120.0  # generous: the offline stack shares two loaded cores with Chromium and other tests


@pytest.fixture(scope="module")
def livekit(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[LiveKitServer]:
    with running_livekit(tmp_path_factory.mktemp("livekit"), artifacts_dir / "livekit") as [server]:
        yield server


@pytest.fixture(scope="module")
def lk_db(pg_url: str) -> Iterator[Database]:
    """PostgreSQL, shared by this process (the web side) and the worker processes."""
    db = Database(url=pg_url)
    upgrade_to_head(db)
    reset_database(db)
    yield db
    reset_database(None)
    db.engine.dispose()


@pytest.fixture(scope="module")
def queue_name() -> str:
    return f"mockline-test-lk:{uuid.uuid4().hex[:10]}"


def start_worker(
    server: LiveKitServer, db: Database, queue: str, log: Path, *, stack: str | None, **env: str
) -> AgentWorker:
    """``mockline agent`` (stack None: the shipped offline providers) or the bench worker with a stack."""
    if stack is None:
        command = [sys.executable, "-m", "mockline", "agent"]
    else:
        command = [sys.executable, "-m", "bench", "livekit-worker", "--stack", stack]
    environment = worker_env(
        server,
        DATABASE_URL=str(db.engine.url.render_as_string(hide_password=False)),
        REDIS_URL=REDIS_URL,
        MOCKLINE_SCORING_QUEUE_NAME=queue,
        **env,
    )
    return AgentWorker(command=command, env=environment, log_path=log).start()


def lk_settings(server: LiveKitServer) -> LiveKitSettings:
    return LiveKitSettings(url=server.url, api_key=server.api_key, api_secret=server.api_secret)


def new_link(db: Database, *, name: str = "Ada", questions: int = 1) -> tuple[str, str]:
    """A practice invitation on a real plan; (token, first question)."""
    spec = build_plan(
        role="backend engineer", question_count=questions, seed=3, time_limit_minutes=10, mode="practice"
    )
    with db.session() as s:
        plan = InterviewPlan(title="Backend practice", role=spec.role, question_count=questions,
                             spec=spec.to_json())  # fmt: skip
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name=name, mode="practice")
        return new.token, spec.questions[0].text


async def join_as_candidate(
    db: Database, server: LiveKitServer, token: str
) -> tuple[str, Any, LiveKitCaller]:
    """What the join page does: admission and dispatch by the web process, then the room with its token."""
    admission = await asyncio.to_thread(open_livekit_interview, db, token)
    join = await start_livekit_interview(
        interview_id=admission.interview_id, settings=lk_settings(server), candidate_name="Ada"
    )
    caller = LiveKitCaller()
    await caller.join(join.url, join.token)
    return admission.interview_id, join, caller


async def converse(caller: LiveKitCaller, lines: list[str], *, within: float = TURN_S) -> None:
    """Each time the agent has spoken and listens again, say the next line; until the interview ends."""
    since = 0.0
    for line in lines:
        spoke = await caller.wait_for(
            lambda since=since: (
                caller.end_reason
                or next((at for at, s in caller.states if s == "speaking" and at > since), None)
            ),
            within,
            "the agent speaking",
        )
        if caller.end_reason:
            return
        await caller.state_after("listening", spoke, within)
        if caller.end_reason:
            return
        since = await caller.say(speak(line, sample_rate=16000))
    await caller.wait_for(lambda: caller.end_reason, within, "the end of the interview")


def stored_turns(db: Database, interview_id: str) -> list[TranscriptTurn]:
    with db.session() as s:
        return list(
            s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == interview_id)
                .order_by(TranscriptTurn.seq)
            )
        )


async def score_queued(db: Database, queue: str) -> None:
    """Run the scoring worker (arq on Redis) until the queue is empty."""
    worker = build_worker(ScoringSettings(redis_url=REDIS_URL, queue_name=queue), db=db, handle_signals=False)
    worker.burst = True
    try:
        await worker.main()
    finally:
        await worker.close()


@pytest.mark.e2e
@pytest.mark.timeout(600)
async def test_mockline_agent_interviews_a_candidate_in_a_real_livekit_room(
    livekit: LiveKitServer, lk_db: Database, queue_name: str, artifacts_dir: Path
) -> None:
    worker = start_worker(
        livekit, lk_db, queue_name, artifacts_dir / "livekit" / "agent-offline.log", stack=None,
        MOCKLINE_AGENT_TURN_DETECTOR="vad", MOCKLINE_AGENT_USER_AWAY_TIMEOUT="60",
    )  # fmt: skip
    try:
        token, question = new_link(lk_db)
        interview_id, join, caller = await join_as_candidate(lk_db, livekit, token)
        try:
            # the interviewer joined the room as its own participant and greets: heard on its track
            greeting = await caller.agent_speech_after(0.0, TURN_S)
            assert caller.agent_identity == f"interviewer-{interview_id}"
            await converse(caller, [ANSWER, STOP, STOP])
        finally:
            await caller.aclose()
    finally:
        worker.stop()

    assert caller.end_reason == "completed", caller.summary()
    assert greeting.start > 0
    # the room's lk.agent.state went through the agent's states, and lk.transcription captioned both sides
    seen = {s for _, s in caller.states}
    assert {"listening", "thinking", "speaking"} <= seen, caller.summary()
    agent_said = " ".join(c.text for c in caller.agent_captions() if c.final).lower()
    assert "thanks for joining" in agent_said and question.lower()[:40] in agent_said
    candidate_said = " ".join(c.text.lower() for c in caller.own_captions() if c.final)
    assert len(ANSWER_WORDS & set(words(candidate_said))) >= 3, candidate_said

    # stored turn by turn, finished, handed to the scoring queue, scored
    turns = stored_turns(lk_db, interview_id)
    assert turns[0].speaker == "agent" and question in turns[0].text
    assert "candidate" in {t.speaker for t in turns} and turns[-1].kind == "close"
    with lk_db.session() as s:
        row = s.get(Interview, interview_id)
        assert row is not None
        assert (row.status, row.end_reason, row.channel) == ("finished", "completed", "livekit")
    await score_queued(lk_db, queue_name)
    report = report_json(interview_id, db=lk_db)
    assert report["questions"], report.keys()
    assert join.room == f"interview-{interview_id}"
