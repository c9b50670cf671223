"""The Media Streams bridge over a real socket: uvicorn on 127.0.0.1, streamdouble as Twilio.

The interview side is a scripted runtime double implementing the documented ``start_interview`` API (it
speaks tones through the real ``TwilioAudioOutput`` and listens through the real ``PushAudioInput``), so
these tests are about the transport: marks, clear on barge-in, hang-ups, bad input, isolation between calls.
The same flows with the real ``AgentRuntime`` live in ``test_telephony_e2e.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
import websockets
from livekit import rtc
from streamdouble.protocol import MediaStreamEncoder, StreamIdentity
from streamdouble.scenario import parse as parse_scenario
from streamdouble.session import Session, SessionConfig
from twilio.request_validator import RequestValidator

from agent import PushAudioInput
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan
from telephony import TelephonySettings, TwilioAudioOutput
from telephony._state import telephony_state
from telephony.codec import FRAME_BYTES, ulaw_to_pcm16

pytestmark = pytest.mark.phone

TOKEN = "bridge-test-auth-token"
SECRET = "bridge-test-secret-key"
TONE_HZ = 440
SPEECH_RMS = 800  # the double's "VAD": a frame louder than this is candidate speech


# --------------------------------------------------------------------------------- the runtime double


@dataclass
class Utterance:
    name: str
    seconds: float
    interrupted: bool | None = None
    position: float | None = None
    marks_echoed_when_finished: int = 0


@dataclass
class ScriptedHandle:
    """Greets, waits for an answer, replies at length (interruptible), waits again, closes."""

    interview_id: str
    audio_in: PushAudioInput
    audio_out: TwilioAudioOutput
    said: list[Utterance] = field(default_factory=list)
    barge_ins: int = 0
    closed_with: str | None = None
    frames_heard: int = 0

    def __post_init__(self) -> None:
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._speaking = False
        self._turn_ended = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(), name="double-listen"),
            asyncio.create_task(self._script(), name="double-script"),
        ]

    async def _say(self, name: str, seconds: float) -> Utterance:
        utterance = Utterance(name=name, seconds=seconds)
        rate, chunk = 24000, 2400  # 100 ms TTS chunks at 24 kHz: the output resamples to 8 kHz
        t = np.arange(int(rate * seconds)) / rate
        pcm = (6000 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
        self._speaking = True
        for i in range(0, pcm.size, chunk):
            part = pcm[i : i + chunk]
            await self.audio_out.capture_frame(rtc.AudioFrame(part.tobytes(), rate, 1, part.size))
        self.audio_out.flush()
        event = await self.audio_out.wait_for_playout()
        self._speaking = False
        utterance.interrupted = event.interrupted
        utterance.position = event.playback_position
        utterance.marks_echoed_when_finished = self.audio_out.marks_echoed
        self.said.append(utterance)
        return utterance

    async def _listen(self) -> None:
        voiced = silent = 0
        async for frame in self.audio_in:
            self.frames_heard += 1
            rms = float(np.sqrt(np.mean(np.frombuffer(frame.data, dtype=np.int16).astype(np.float64) ** 2)))
            if rms > SPEECH_RMS:
                voiced, silent = voiced + 1, 0
                if self._speaking and voiced == 5:  # 100 ms of speech over the agent: barge-in
                    self.barge_ins += 1
                    self.audio_out.clear_buffer()
            else:
                silent += 1
                if voiced >= 5 and silent == 15:  # speech, then 300 ms of silence: end of turn
                    voiced = 0
                    self._turn_ended.set()

    async def _await_answer(self) -> None:
        self._turn_ended.clear()
        await self._turn_ended.wait()

    async def _script(self) -> None:
        await self._say("greeting", 1.0)
        await self._await_answer()
        await self._say("question", 3.0)
        await self._await_answer()  # after a barge-in, the interrupting speech is the answer
        await self._say("closing", 0.6)
        if not self._done.done():
            self._done.set_result("completed")

    async def wait(self) -> str:
        return await asyncio.shield(self._done)

    async def aclose(self, reason: str = "hangup") -> str:
        if self.closed_with is None:
            self.closed_with = reason
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._done.done():
            self._done.set_result(reason)
        return self._done.result()


class ScriptedRuntime:
    def __init__(self) -> None:
        self.handles: list[ScriptedHandle] = []
        self.started = asyncio.Event()

    async def start_interview(self, *, interview_id: str, audio_input: Any, audio_output: Any, **kw: Any):
        assert kw.get("telephony") is True
        handle = ScriptedHandle(interview_id=interview_id, audio_in=audio_input, audio_out=audio_output)
        self.handles.append(handle)
        self.started.set()
        return handle

    @property
    def live_interview_ids(self) -> set[str]:
        return {h.interview_id for h in self.handles}

    async def aclose(self) -> None:
        """The runtime contract: the web process ends every running interview at shutdown."""
        for h in self.handles:
            await h.aclose("dropped")


# ------------------------------------------------------------------------------------------ harness


def _tone_wav(path: Path, seconds: float, amplitude: int = 8000) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (amplitude * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    return path


@dataclass
class Harness:
    app: Any
    url: str
    runtime: ScriptedRuntime
    db: Any

    def new_interview(self) -> str:
        with self.db.session() as s:
            plan = InterviewPlan(title="Support", role="customer_support")
            s.add(plan)
            s.flush()
            interview = Interview(plan_id=plan.id, candidate_name="Ada")
            s.add(interview)
            s.flush()
            return interview.id

    def params(self, interview_id: str, call_sid: str) -> dict[str, str]:
        token = telephony_state(self.app).tokens.issue(interview_id=interview_id, call_sid=call_sid)
        return {"interview_id": interview_id, "token": token}

    async def call(self, steps: list[Any], *, tmp: Path, interview_id: str | None = None, **config: Any):
        interview_id = interview_id or self.new_interview()
        identity = StreamIdentity()
        scenario = parse_scenario({"name": "call", "steps": steps}, base_dir=tmp)
        cfg = SessionConfig(
            custom_parameters=self.params(interview_id, identity.call_sid),
            response_timeout_s=20,
            quiet_period_s=1.0,
            **config,
        )
        result = await Session(self.url, scenario=scenario, config=cfg, identity=identity).run()
        return interview_id, result


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue here until uvicorn accepts: no need to poll for readiness
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def harness(sqlite_db, tmp_path) -> AsyncIterator[Harness]:
    runtime = ScriptedRuntime()
    app = create_app(
        AppSettings(public_url="https://phone.example.com", secret_key=SECRET),
        telephony=TelephonySettings(
            auth_token=TOKEN, scheduler_interval_s=0, start_timeout_s=1.0, mark_timeout_s=10.0
        ),
        runtime=runtime,
    )
    async with serve(app) as host:
        yield Harness(app=app, url=f"ws://{host}/twilio/stream", runtime=runtime, db=sqlite_db)


def _dominant_hz(ulaw: bytes) -> float:
    pcm = ulaw_to_pcm16(ulaw).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm))
    return float(np.fft.rfftfreq(pcm.size, 1 / 8000)[np.argmax(spectrum)])


# ------------------------------------------------------------------------------------------- tests


async def test_full_call_plays_every_utterance_and_waits_for_marks(harness, tmp_path):
    answer = _tone_wav(tmp_path / "answer.wav", 1.0)
    _, result = await harness.call(
        [
            {"wait_for": {"event": "mark", "timeout": 15}},
            {"say": str(answer)},
            {"wait": 6.0},
            {"say": str(answer)},
            {"wait": 4.0},
        ],
        tmp=tmp_path,
    )
    (handle,) = harness.runtime.handles
    assert [u.name for u in handle.said] == ["greeting", "question", "closing"]
    assert not any(u.interrupted for u in handle.said)
    # playback_finished came only after Twilio echoed that segment's mark: "finished" means "heard"
    assert [u.marks_echoed_when_finished for u in handle.said] == [1, 2, 3]
    assert result.violations == [] and result.clears_received == 0
    assert result.marks_received == result.marks_echoed == ["seg-1", "seg-2", "seg-3"]
    # every 20 ms of agent speech arrived, as 160-byte μ-law frames, and it is still the agent's tone
    total_s = sum(u.seconds for u in handle.said)
    assert abs(len(result.audio_received) - total_s * 8000) <= 3 * FRAME_BYTES
    assert result.media_frames_received == pytest.approx(total_s * 50, abs=3)
    assert abs(_dominant_hz(result.audio_received) - TONE_HZ) < 10
    assert result.closed_by == "agent" and result.closed_before_audio is False  # we hung up after closing
    assert handle.frames_heard >= 100  # the caller's audio reached the session as frames


async def test_barge_in_sends_clear_and_cuts_the_reply(harness, tmp_path):
    answer = _tone_wav(tmp_path / "answer.wav", 1.0)
    interrupt = _tone_wav(tmp_path / "interrupt.wav", 1.0)
    _, result = await harness.call(
        [
            {"wait_for": {"event": "mark", "timeout": 15}},
            {"say": str(answer)},
            {"wait": 1.5},  # end of turn after 300 ms, then the 3 s reply starts
            {"say": str(interrupt)},
            {"expect": "clear"},
            {"wait": 3.0},
        ],
        tmp=tmp_path,
    )
    (handle,) = harness.runtime.handles
    assert handle.barge_ins == 1
    question = next(u for u in handle.said if u.name == "question")
    assert question.interrupted is True and question.position < question.seconds
    assert result.clears_received == 1
    assert result.failed_expectations == []
    assert result.violations == []
    # the interrupted reply never asked for a mark: only the greeting and the closing were heard in full
    assert [u.name for u in handle.said] == ["greeting", "question", "closing"]
    assert result.marks_received == ["seg-1", "seg-2"]
    assert handle.said[-1].interrupted is False


async def test_caller_hanging_up_mid_answer_closes_the_interview_as_hangup(harness, tmp_path):
    answer = _tone_wav(tmp_path / "answer.wav", 1.0)
    _, result = await harness.call(
        [{"wait_for": {"event": "mark", "timeout": 15}}, {"say": str(answer)}, "hangup"], tmp=tmp_path
    )
    (handle,) = harness.runtime.handles
    await asyncio.wait_for(handle.wait(), timeout=10)
    assert handle.closed_with == "hangup"
    assert result.closed_by == "caller"
    assert len(telephony_state(harness.app).live_calls) == 0


async def test_polite_stop_ends_the_interview_as_hangup(harness, tmp_path):
    _, result = await harness.call([{"wait_for": {"event": "mark", "timeout": 15}}], tmp=tmp_path)
    (handle,) = harness.runtime.handles
    await asyncio.wait_for(handle.wait(), timeout=10)
    assert handle.closed_with == "hangup"  # streamdouble ended the call with 'stop'
    assert result.violations == []


async def _raw_start(url: str, params: dict[str, str], identity: StreamIdentity, **connect: Any):
    ws = await websockets.connect(url, **connect)
    enc = MediaStreamEncoder(identity)
    await ws.send(json.dumps(enc.connected()))
    await ws.send(json.dumps(enc.start(custom_parameters=params)))
    return ws, enc


async def _closed_code(ws: Any) -> int:
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout=20)
    return ws.close_code


@pytest.mark.parametrize(
    "bad",
    [
        "this is not json",
        json.dumps({"event": "teleport", "streamSid": "x"}),
        "x" * 100_000,
    ],
    ids=["malformed", "unknown-event", "oversized"],
)
async def test_bad_input_ends_only_that_call(harness, tmp_path, bad, caplog):
    answer = _tone_wav(tmp_path / "answer.wav", 1.0)
    good = asyncio.create_task(
        harness.call(
            [{"wait_for": {"event": "mark", "timeout": 20}}, {"say": str(answer)}, {"wait": 2.0}],
            tmp=tmp_path,
        )
    )
    await asyncio.wait_for(harness.runtime.started.wait(), timeout=20)

    identity = StreamIdentity()
    interview_id = harness.new_interview()
    ws, enc = await _raw_start(harness.url, harness.params(interview_id, identity.call_sid), identity)
    await ws.send(json.dumps(enc.media(b"\xff" * FRAME_BYTES)))
    await ws.send(bad)
    assert await _closed_code(ws) == 1008
    bad_handle = next(h for h in harness.runtime.handles if h.interview_id == interview_id)
    await asyncio.wait_for(bad_handle.wait(), timeout=10)
    assert bad_handle.closed_with == "error"

    _, result = await asyncio.wait_for(good, timeout=60)
    good_handle = next(h for h in harness.runtime.handles if h.interview_id != interview_id)
    assert good_handle.closed_with == "hangup" and result.violations == []
    assert [u.name for u in good_handle.said][:1] == ["greeting"]
    assert "this is not json" not in caplog.text


async def test_out_of_order_media_ends_the_call(harness):
    identity = StreamIdentity()
    interview_id = harness.new_interview()
    ws, enc = await _raw_start(harness.url, harness.params(interview_id, identity.call_sid), identity)
    first = enc.media(b"\xff" * FRAME_BYTES)
    await ws.send(json.dumps(first))
    await ws.send(json.dumps(enc.media(b"\xff" * FRAME_BYTES)))
    await ws.send(json.dumps(first))  # replayed
    assert await _closed_code(ws) == 1008
    (handle,) = harness.runtime.handles
    assert handle.closed_with == "error"


async def test_stream_without_start_is_closed(harness):
    ws = await websockets.connect(harness.url)
    await ws.send(json.dumps(MediaStreamEncoder().connected()))
    assert await _closed_code(ws) == 1008  # start_timeout_s elapsed
    assert harness.runtime.handles == []


async def test_streams_we_did_not_start_are_refused(harness):
    identity = StreamIdentity()
    interview_id = harness.new_interview()
    forged = {"interview_id": interview_id, "token": "forged.token.value"}
    ws, _ = await _raw_start(harness.url, forged, identity)
    assert await _closed_code(ws) == 1008
    other_call = harness.params(interview_id, "CA" + "9" * 32)  # a real token, for another call
    ws, _ = await _raw_start(harness.url, other_call, identity)
    assert await _closed_code(ws) == 1008
    assert harness.runtime.handles == []


async def test_upgrade_signature_is_checked_when_present(harness):
    identity = StreamIdentity()
    interview_id = harness.new_interview()
    params = harness.params(interview_id, identity.call_sid)
    with pytest.raises(websockets.InvalidStatus) as e:
        await websockets.connect(harness.url, additional_headers={"X-Twilio-Signature": "bogus"})
    assert e.value.response.status_code == 403
    good = RequestValidator(TOKEN).compute_signature("wss://phone.example.com/twilio/stream", {})
    ws, _ = await _raw_start(harness.url, params, identity, additional_headers={"X-Twilio-Signature": good})
    await asyncio.wait_for(harness.runtime.started.wait(), timeout=20)
    await ws.close()
    (handle,) = harness.runtime.handles
    await asyncio.wait_for(handle.wait(), timeout=10)
    assert handle.closed_with == "hangup"


async def test_one_live_stream_per_interview(harness):
    interview_id = harness.new_interview()
    first_id, second_id = StreamIdentity(), StreamIdentity()
    first, _ = await _raw_start(harness.url, harness.params(interview_id, first_id.call_sid), first_id)
    await asyncio.wait_for(harness.runtime.started.wait(), timeout=20)
    second, _ = await _raw_start(harness.url, harness.params(interview_id, second_id.call_sid), second_id)
    assert await _closed_code(second) == 1008
    assert len(harness.runtime.handles) == 1
    await first.close()
