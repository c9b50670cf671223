"""LiveKit room mode, worker side: dispatch metadata, job acceptance and the job entrypoint.

No LiveKit server runs here (tests/test_livekit_real.py has one: the room join, RoomIO's media and
captions, rejoin and draining are proven there). The entrypoint runs inside livekit's own
``fake_job_context`` (a real ``JobContext`` around an unconnected ``rtc.Room``), for what a real server
cannot be made to do on cue: a hang-up, a replaced connection, a grace period running out. To run a whole
interview, the room's audio is replaced by the same push/paced I/O pair the other transports use. Everything
else is real: the AgentRuntime, the livekit-agents session, the offline brain, storage, and the Redis
scoring queue a finished interview is handed to.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import JobExecutorType
from livekit.agents.job import JobAcceptArguments, JobRequest
from livekit.agents.testing import fake_job_context
from livekit.protocol import agent as agent_proto
from livekit.protocol import models
from sqlalchemy import select

from agent import AgentRuntime, PushAudioInput
from livekit_room import (
    DispatchMetadataError,
    LiveKitConfigError,
    LiveKitSettings,
    build_server,
    enqueue_finished,
    entrypoint,
    on_request,
    parse_dispatch_metadata,
    prewarm,
    run_interview_job,
)
from scoring import ScoringSettings
from storage import Database, Interview, OutboxEvent, Recording
from tests.fakes.speech import EnergyVAD, Microphone, ScriptSTT, Timeline, ToneTTS
from tests.test_runtime import SCRIPT, Ear, eventually, fast_settings, make_interview, turns

pytestmark = pytest.mark.integration

SECRET = "lk-secret-0123456789abcdef-0123456789"
REDIS_URL = os.environ.get("MOCKLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.mark.unit
@pytest.mark.parametrize(
    "raw",
    ["", "not json", "[]", '{"interview": "x"}', '{"interview_id": ""}', '{"interview_id": "../x"}', "null"],
)
def test_dispatch_metadata_must_name_an_interview(raw: str) -> None:
    with pytest.raises(DispatchMetadataError, match="interview_id"):
        parse_dispatch_metadata(raw)


@pytest.mark.unit
def test_dispatch_metadata_round_trips() -> None:
    assert parse_dispatch_metadata('{"interview_id": "iv_9", "extra": 1}').interview_id == "iv_9"


def _request(metadata: str, decisions: list[Any]) -> JobRequest:
    job = agent_proto.Job(
        id="AJ_1", room=models.Room(name="interview-x", sid="RM_1"), type=agent_proto.JobType.JT_ROOM,
        metadata=metadata,
    )  # fmt: skip

    async def on_reject(terminate: bool) -> None:
        decisions.append(("reject", terminate))

    async def on_accept(args: JobAcceptArguments) -> None:
        decisions.append(("accept", args.identity, args.name))

    return JobRequest(job=job, on_reject=on_reject, on_accept=on_accept)


async def test_worker_accepts_interview_dispatches_and_rejects_others() -> None:
    decisions: list[Any] = []
    await on_request(_request('{"interview_id": "iv_7"}', decisions))
    await on_request(_request("{}", decisions))
    assert decisions == [("accept", "interviewer-iv_7", "Interviewer"), ("reject", True)]


@pytest.mark.unit
def test_server_registers_for_explicit_dispatch_with_models_loaded_in_prewarm() -> None:
    s = LiveKitSettings(url="ws://127.0.0.1:7880", api_key="k", api_secret=SECRET, executor="thread")
    server = build_server(s)
    assert server._agent_name == "mockline-interviewer"  # explicit dispatch only, never auto-joins rooms
    assert server.setup_fnc is prewarm
    assert server._entrypoint_fnc is entrypoint
    assert server._job_executor_type == JobExecutorType.THREAD
    with pytest.raises(LiveKitConfigError):
        build_server(LiveKitSettings(url="", api_key="k", api_secret=SECRET))


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(utterances=list(SCRIPT), ms_per_word=40)


@pytest.fixture
async def scoring_queue() -> Any:
    """A Redis queue of our own (real Redis); its keys are deleted afterwards."""
    import redis.asyncio as aioredis

    name = f"mockline-test:{uuid.uuid4().hex[:10]}"
    client = aioredis.Redis.from_url(REDIS_URL)
    yield SimpleNamespace(name=name, client=client)
    try:
        job_ids = [m.decode() for m in await client.zrange(name, 0, -1)]
        await client.delete(name, *(f"arq:job:{j}" for j in job_ids))
    finally:
        await client.aclose()


@pytest.fixture
async def runtime(timeline: Timeline, sqlite_db: Database, scoring_queue: Any) -> Any:
    scoring = ScoringSettings(redis_url=REDIS_URL, queue_name=scoring_queue.name)
    rt = AgentRuntime(
        vad=EnergyVAD(),
        stt=ScriptSTT(timeline),
        tts=ToneTTS(ms_per_word=60),
        settings=fast_settings(),
        database=sqlite_db,
        on_finished=functools.partial(enqueue_finished, settings=scoring, db=sqlite_db),
    )
    yield rt
    await rt.aclose()


async def test_dispatched_job_runs_the_interview_and_ends_when_the_candidate_leaves(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database, scoring_queue: Any
) -> None:
    iv = make_interview(sqlite_db)
    audio_in, ear = PushAudioInput(label="room"), Ear()
    mic = Microphone(audio_in)
    linked: list[str] = []

    async def room_audio(room: rtc.Room, identity: str) -> tuple[PushAudioInput, Ear]:
        linked.append(identity)
        return audio_in, ear

    room = rtc.Room()
    with fake_job_context(room=room, job_metadata=json.dumps({"interview_id": iv})) as ctx:
        mic.start()
        job = asyncio.create_task(run_interview_job(ctx, runtime=runtime, room_audio=room_audio))
        try:
            await ear.agent_finished(1)  # the greeting played into the room
            await mic.say(timeline.audio(0))
            await eventually(
                lambda: asyncio.to_thread(lambda: len(turns(sqlite_db, iv)) >= 3), "answer and next question"
            )
            room.emit("participant_disconnected", SimpleNamespace(identity="someone-else"))
            assert not job.done()
            left = SimpleNamespace(identity=iv, disconnect_reason=rtc.DisconnectReason.CLIENT_INITIATED)
            room.emit("participant_disconnected", left)  # the candidate pressed "End call"
            reason = await asyncio.wait_for(job, 60)
        finally:
            await mic.aclose()
            if not job.done():
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
    assert reason == "hangup"
    assert linked == [iv]  # the worker listens to the participant whose identity is the interview id
    assert runtime.active == 0
    rows = turns(sqlite_db, iv)
    assert [r.speaker for r in rows[:3]] == ["agent", "candidate", "agent"]
    assert rows[1].text == SCRIPT[0]
    with sqlite_db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None and row.channel == "livekit" and row.end_reason == "hangup"
        # handed to scoring at once, not left to the outbox sweep
        events = s.query(OutboxEvent).filter_by(interview_id=iv).all()
        assert events and all(e.dispatched_at is not None for e in events)
    queued = [m.decode() for m in await scoring_queue.client.zrange(scoring_queue.name, 0, -1)]
    assert len(queued) == 1 and iv in queued[0]


async def test_job_with_bad_metadata_ends_without_touching_any_interview(
    runtime: AgentRuntime, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    with fake_job_context(job_metadata='{"interview_id": ""}') as ctx:
        ended: list[str] = []
        ctx._on_shutdown = ended.append
        ctx.proc.userdata["runtime"] = runtime
        await entrypoint(ctx)
    assert ended == ["bad dispatch metadata"]
    assert turns(sqlite_db, iv) == []
    assert runtime.active == 0


async def test_a_candidate_who_drops_is_waited_for_and_gone_past_the_grace_period_ends_as_dropped(
    runtime: AgentRuntime, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    room = _SignallingRoom(agent_identity=f"interviewer-{iv}")
    with fake_job_context(room=room, job_metadata=json.dumps({"interview_id": iv})) as ctx:
        grace = LiveKitSettings(resume_grace_seconds=0.2)
        job = asyncio.create_task(run_interview_job(ctx, runtime=runtime, settings=grace))
        try:
            await eventually(lambda: _started(runtime), "the interview session started")
            with sqlite_db.session() as s:  # both sides are being recorded
                rec = s.scalars(select(Recording).where(Recording.interview_id == iv)).one()
                assert (rec.status, rec.channels) == ("recording", 2)
            with sqlite_db.session() as s:
                row = s.get(Interview, iv)
                assert row is not None and row.channel == "livekit" and row.status == "in_progress"
            # the candidate's connection fails and comes back at once: the interview carries on
            dropped = SimpleNamespace(identity=iv, disconnect_reason=rtc.DisconnectReason.SIGNAL_CLOSE)
            room.emit("participant_disconnected", dropped)
            room.emit("participant_connected", SimpleNamespace(identity=iv))
            # the same candidate opened the link in a new tab, which replaced this connection
            replaced = SimpleNamespace(identity=iv, disconnect_reason=rtc.DisconnectReason.DUPLICATE_IDENTITY)
            room.emit("participant_disconnected", replaced)
            assert not job.done() and runtime.active == 1
            # gone and not back within the grace period: "dropped", the interview stays resumable
            room.emit("participant_disconnected", dropped)
            reason = await asyncio.wait_for(job, 60)
        finally:
            if not job.done():
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
    assert reason == "dropped"
    assert runtime.active == 0
    with sqlite_db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None and row.end_reason == "dropped" and row.status == "in_progress"


class _SignallingRoom(rtc.Room):
    """An ``rtc.Room`` still waiting for its connection (as a room is until LiveKit answers), whose local
    participant exists: RoomIO reads the agent's identity when it sets up transcription outputs, which a
    never-connected ``rtc.Room`` refuses. Nothing is published: the room is not connected."""

    def __init__(self, *, agent_identity: str) -> None:
        super().__init__()
        self._agent = SimpleNamespace(identity=agent_identity, attributes={}, track_publications={})

    @property
    def local_participant(self) -> Any:
        return self._agent


async def _started(runtime: AgentRuntime) -> bool:
    return any(h.session is not None and h.session._started for h in runtime._handles)


@pytest.mark.unit
def test_the_worker_imports_no_private_livekit_classes() -> None:
    import inspect

    import agent._runtime
    import livekit_room.worker

    for module in (livekit_room.worker, agent._runtime):
        assert "room_io._" not in inspect.getsource(module)


async def test_start_interview_needs_a_room_or_both_audio_directions(runtime: AgentRuntime) -> None:
    with pytest.raises(ValueError, match="room"):
        await runtime.start_interview(interview_id="iv_x", audio_input=PushAudioInput(label="x"))
    with pytest.raises(ValueError, match="not both"):
        await runtime.start_interview(
            interview_id="iv_x", room=rtc.Room(), audio_input=PushAudioInput(label="x"), audio_output=Ear()
        )
    assert runtime.active == 0


async def test_redis_down_leaves_the_finished_interview_to_the_outbox(sqlite_db: Database) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = ScoringSettings(redis_url=f"redis://127.0.0.1:{port}/0")
    assert await enqueue_finished("iv_nope", settings=down, db=sqlite_db) is False
    assert await enqueue_finished("iv_nope", settings=ScoringSettings(redis_url=None), db=sqlite_db) is False


@pytest.mark.unit
@pytest.mark.parametrize(
    ("reason", "ends_as"),
    [
        (rtc.DisconnectReason.CLIENT_INITIATED, "hangup"),  # "End call" or the tab closed
        (rtc.DisconnectReason.DUPLICATE_IDENTITY, None),  # the same link reopened elsewhere replaced it
        (rtc.DisconnectReason.SIGNAL_CLOSE, "dropped"),
        (rtc.DisconnectReason.CONNECTION_TIMEOUT, "dropped"),
        (rtc.DisconnectReason.UNKNOWN_REASON, "dropped"),
    ],
)
def test_how_the_candidate_leaving_ends_the_interview(reason: int, ends_as: str | None) -> None:
    from livekit_room.worker import _left_reason

    assert _left_reason(reason) == ends_as


async def test_the_agent_tells_the_room_why_the_interview_ended_before_leaving() -> None:
    from livekit_room.worker import END_REASON_ATTRIBUTE, _announce_end

    announced: list[dict[str, str]] = []

    async def set_attributes(attributes: dict[str, str]) -> None:
        announced.append(attributes)

    class ConnectedRoom(rtc.Room):
        local_participant = SimpleNamespace(set_attributes=set_attributes)  # type: ignore[assignment]

        def isconnected(self) -> bool:
            return True

    await _announce_end(ConnectedRoom(), "completed")
    await _announce_end(rtc.Room(), "completed")  # not connected: nothing to tell, no error
    assert announced == [{END_REASON_ATTRIBUTE: "completed"}]


async def test_a_candidate_who_never_joins_the_room_frees_the_worker(
    runtime: AgentRuntime, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    room = _SignallingRoom(agent_identity=f"interviewer-{iv}")
    with fake_job_context(room=room, job_metadata=json.dumps({"interview_id": iv})) as ctx:
        wait = LiveKitSettings(join_timeout_seconds=0.2)
        reason = await asyncio.wait_for(run_interview_job(ctx, runtime=runtime, settings=wait), 60)
    assert reason == "dropped" and runtime.active == 0
    with sqlite_db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None and row.status == "in_progress"  # the link can still start it later


async def test_a_job_for_a_finished_interview_leaves_without_running_it(
    runtime: AgentRuntime, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    with sqlite_db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None
        row.status = "finished"
    with fake_job_context(job_metadata=json.dumps({"interview_id": iv})) as ctx:
        ended: list[str] = []
        ctx._on_shutdown = ended.append
        ctx.proc.userdata["runtime"] = runtime
        await entrypoint(ctx)
    assert ended == ["interview not runnable: InterviewClosed"]
    assert runtime.active == 0 and turns(sqlite_db, iv) == []
