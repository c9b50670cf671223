"""Helpers for the signaling tests (no tests here): the app on uvicorn in a thread, an aiortc candidate
client, and a runtime double that implements the documented ``AgentRuntime`` API (docs/agent-runtime.md).

The double is a scripted interviewer: it greets with a tone (through the real ``PacedAudioOutput``
subclass), emits captions and states, listens to the real ``PushAudioInput`` and reports how much voiced
audio it heard as the candidate's caption, stores turns, and marks the interview finished on close.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import httpx
import numpy as np
import uvicorn
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from fastapi import FastAPI
from livekit import rtc
from sqlalchemy import func, select

from agent import SharedRuntime
from signaling import SignalingServices, SignalingSettings, install_signaling
from storage import (
    Interview,
    InterviewPlan,
    InterviewStatus,
    TranscriptTurn,
    create_invitation,
    get_database,
    utcnow,
)

GREETING = "Hello, welcome to your practice interview."
TONE_HZ = 440.0


# -- the runtime double ------------------------------------------------------------------------------------
class DoubleHandle:
    def __init__(
        self, runtime: ScriptedRuntime, interview_id: str, audio_input, audio_output, listener
    ) -> None:
        self.interview_id = interview_id
        self._in = audio_input
        self._out = audio_output
        self._listener = listener
        self._runtime = runtime
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._script())
        self.heard_voiced_s = 0.0

    def _turn(self, speaker: str, text: str) -> None:
        with get_database().session() as s:
            seq = s.scalar(select(func.count()).where(TranscriptTurn.interview_id == self.interview_id)) or 0
            s.add(
                TranscriptTurn(
                    interview_id=self.interview_id,
                    seq=seq,
                    speaker=speaker,
                    text=text,
                    started_at=0.0,
                    ended_at=0.0,
                )
            )

    async def _say(self, text: str, seconds: float) -> None:
        self._listener.on_state(agent="speaking")
        self._listener.on_caption(speaker="agent", text=text.split(",")[0], final=False)
        rate, chunk = 24000, 2400  # TTS-like: 100 ms frames at 24 kHz, faster than real time
        t = np.arange(int(rate * seconds)) / rate
        pcm = (np.sin(2 * np.pi * TONE_HZ * t) * 12000).astype(np.int16)
        for off in range(0, len(pcm), chunk):
            part = pcm[off : off + chunk]
            await self._out.capture_frame(rtc.AudioFrame(part.tobytes(), rate, 1, len(part)))
        self._out.flush()
        await self._out.wait_for_playout()
        self._listener.on_caption(speaker="agent", text=text, final=True)
        self._turn("agent", text)
        self._listener.on_state(agent="listening")

    async def _script(self) -> None:
        with get_database().session() as s:
            iv = s.get(Interview, self.interview_id)
            iv.status, iv.started_at = InterviewStatus.IN_PROGRESS.value, iv.started_at or utcnow()
            resumed = bool(s.scalar(select(func.count()).where(TranscriptTurn.interview_id == iv.id)))
        await self._say("Welcome back, let's continue." if resumed else GREETING, 1.0)
        voiced = silent_after = 0.0
        async for frame in self._in:  # candidate audio until hang-up
            samples = np.frombuffer(frame.data, dtype=np.int16)
            d = frame.samples_per_channel / frame.sample_rate
            if np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 500:
                voiced, silent_after = voiced + d, 0.0
                self._listener.on_state(user="speaking")
            elif voiced > 0:
                silent_after += d
                if silent_after >= 0.3:  # end of an utterance: report what was heard
                    self.heard_voiced_s += voiced
                    text = f"candidate spoke for {voiced:.1f} seconds"
                    self._listener.on_state(user="listening")
                    self._listener.on_caption(speaker="candidate", text=text, final=True)
                    self._turn("candidate", text)
                    voiced = silent_after = 0.0
                    if self._runtime.end_after_answer:
                        await self._say("Thank you, that is all.", 0.3)
                        await self._finish("completed")
                        return

    async def _finish(self, reason: str) -> None:
        if self._done.done():
            return
        with get_database().session() as s:  # like agent.finish_interview: "dropped" stays resumable
            iv = s.get(Interview, self.interview_id)
            iv.end_reason = reason
            if reason in ("completed", "hangup", "timeout"):
                iv.status, iv.ended_at = InterviewStatus.FINISHED.value, utcnow()
        self._listener.on_ended(reason=reason)
        self._done.set_result(reason)

    async def wait(self) -> str:
        return await asyncio.shield(self._done)

    async def aclose(self, reason: str = "hangup") -> None:
        if self._task is not asyncio.current_task():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._finish(reason)
        await self._out.aclose()


@dataclass
class ScriptedRuntime:
    end_after_answer: bool = False
    handles: list[DoubleHandle] = field(default_factory=list)

    async def start_interview(
        self, *, interview_id, audio_input, audio_output, listener=None, telephony=False, channel=None
    ):
        handle = DoubleHandle(self, interview_id, audio_input, audio_output, listener)
        self.handles.append(handle)
        return handle

    @property
    def live_interview_ids(self) -> set[str]:
        return {h.interview_id for h in self.handles}

    async def aclose(self) -> None:
        """The runtime contract: the web process ends every running interview at shutdown."""
        for h in self.handles:
            await h.aclose("dropped")


# -- the server in a thread -------------------------------------------------------------------------------
class ServerThread:
    """The FastAPI app on a real uvicorn server on 127.0.0.1 (an ephemeral port), in its own thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.02)  # waits on the thread itself, not a sleep
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def make_app(settings: SignalingSettings, runtime: Any) -> FastAPI:
    app = FastAPI()
    install_signaling(app, SignalingServices.build(settings=settings, runtime=SharedRuntime(loaded=runtime)))
    return app


def rtc_settings(**overrides: Any) -> SignalingSettings:
    base: dict[str, Any] = {
        "rtc_host_addresses": ["127.0.0.1"],
        "max_sessions": 4,
        "resume_grace_seconds": 30,
    }
    base.update(overrides)
    return SignalingSettings(**base)


def new_invitation(*, mode: str = "practice", name: str = "Ada") -> str:
    with get_database().session() as s:
        plan = InterviewPlan(title="Support engineer", role="customer_support", question_count=1)
        s.add(plan)
        s.flush()
        return create_invitation(s, plan_id=plan.id, org_id=None, candidate_name=name, mode=mode).token


# -- the candidate: a real aiortc peer -----------------------------------------------------------------------
class SpeechLikeTrack(MediaStreamTrack):
    """48 kHz stereo frames like a browser's decoded mic: silence, and a 'speech' burst (a warble) each
    time :attr:`speak` is set (after ``lead_silence_s``); :attr:`bursts_done` counts finished bursts."""

    kind = "audio"

    def __init__(self, *, lead_silence_s: float = 0.3, speech_s: float = 1.0) -> None:
        super().__init__()
        self._n = 0
        self._lead = int(lead_silence_s * 50)
        self._speech = int(speech_s * 50)
        self._start: float | None = None
        self.speak = asyncio.Event()
        self._burst_at: int | None = None
        self.bursts_done = 0
        self.on_burst_done: Callable[[], None] = lambda: None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._n * 0.02 - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # real-time pacing of a media source, not test synchronisation
        n, self._n = self._n, self._n + 1
        if self.speak.is_set() and self._burst_at is None:
            self._burst_at = n + self._lead
        amp = 0
        if self._burst_at is not None and n >= self._burst_at:
            amp = 9000
            if n >= self._burst_at + self._speech:
                amp, self._burst_at = 0, None
                self.speak.clear()
                self.bursts_done += 1
                self.on_burst_done()
        t = (np.arange(960) + n * 960) / 48000
        mono = (np.sin(2 * np.pi * (300 + 80 * np.sin(2 * np.pi * 3 * t)) * t) * amp).astype(np.int16)
        stereo = np.repeat(mono, 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, fractions.Fraction(1, 48000)
        return frame


class Candidate:
    """An aiortc peer that does what the join page does: mic track + "events" channel + POST /rtc/offer."""

    def __init__(self, base_url: str, token: str, *, track: MediaStreamTrack | None = None) -> None:
        self.base_url, self.token = base_url, token
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = track or SpeechLikeTrack()
        if isinstance(self.mic, SpeechLikeTrack):
            self.mic.on_burst_done = self._notify
        self.states: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.raw_events: list[str] = []
        self._changed = asyncio.Event()
        self.remote_rms: list[float] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.session_id: str | None = None
        self.channel = None

    def _notify(self) -> None:
        self._changed.set()

    async def wait_for(self, predicate, within: float = 30.0) -> None:
        """Wait (event-driven) until ``predicate()`` holds; fail after a generous ``within`` seconds."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def connect(self, *, resume: str | None = None) -> httpx.Response:
        pc = self.pc
        pc.addTrack(self.mic)
        self.channel = pc.createDataChannel("events")
        self.channel.on("message", self._on_message)
        self.channel.on("open", self._notify)

        @pc.on("connectionstatechange")
        def _state() -> None:
            self.states.append(pc.connectionState)
            self._notify()

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.create_task(self._listen(track)))

        await pc.setLocalDescription(await pc.createOffer())
        body = {"token": self.token, "sdp": pc.localDescription.sdp, "type": "offer"}
        if resume:
            body["resume"] = resume
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            res = await http.post("/rtc/offer", json=body)
        if res.status_code == 200:
            answer = res.json()
            self.session_id = answer["session_id"]
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        return res

    def _on_message(self, msg: str) -> None:
        self.raw_events.append(msg)
        self.events.append(json.loads(msg))
        self._notify()

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            pcm = frame.to_ndarray().astype(np.float64)
            self.remote_rms.append(float(np.sqrt(np.mean(pcm**2))))
            self._notify()

    def send(self, obj: Any) -> None:
        self.channel.send(obj if isinstance(obj, str | bytes) else json.dumps(obj))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    async def close(self) -> None:
        await self.pc.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
