"""LiveKit room mode, worker side: dispatch metadata, job acceptance and the job entrypoint.

No LiveKit server runs here. The entrypoint runs inside livekit's own ``fake_job_context`` (a real
``JobContext`` around an unconnected ``rtc.Room``); the only stand-in is the room's audio (the candidate's
track in, the published agent track out), replaced by the same push/paced I/O pair the other transports
use. Everything else is real: the AgentRuntime, the livekit-agents session, the offline brain, storage.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import JobExecutorType
from livekit.agents.job import JobAcceptArguments, JobRequest
from livekit.agents.testing import fake_job_context
from livekit.protocol import agent as agent_proto
from livekit.protocol import models

from agent import AgentRuntime, PushAudioInput
from agent.livekit_worker import (
    DispatchMetadataError,
    LiveKitConfigError,
    LiveKitSettings,
    build_server,
    entrypoint,
    on_request,
    parse_dispatch_metadata,
    prewarm,
    run_interview_job,
)
from storage import Database, Interview
from tests.fakes.speech import EnergyVAD, Microphone, ScriptSTT, Timeline, ToneTTS
from tests.test_runtime import SCRIPT, Ear, eventually, fast_settings, make_interview, turns

pytestmark = pytest.mark.integration

SECRET = "lk-secret-0123456789abcdef-0123456789"


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
async def runtime(timeline: Timeline, sqlite_db: Database) -> Any:
    rt = AgentRuntime(
        vad=EnergyVAD(),
        stt=ScriptSTT(timeline),
        tts=ToneTTS(ms_per_word=60),
        settings=fast_settings(),
        database=sqlite_db,
    )
    yield rt
    await rt.aclose()


async def test_dispatched_job_runs_the_interview_and_ends_when_the_candidate_leaves(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database
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
            room.emit("participant_disconnected", SimpleNamespace(identity=iv))
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
