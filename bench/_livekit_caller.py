"""A candidate in a LiveKit room without a browser: the real ``livekit`` rtc SDK as the client.

:class:`LiveKitCaller` joins a room with a token, publishes a microphone track and keeps it fed with
20 ms frames (silence unless :meth:`~LiveKitCaller.say` queued speech), subscribes to the interviewer's
track and listens to it (energy per frame: when the agent is audible), reads the standard
``lk.transcription`` text streams of both sides, and follows the agent's ``lk.agent.state`` and
``mockline.end_reason`` attributes. Everything it observes is recorded with ``time.monotonic()`` stamps,
so tests assert what happened and benchmarks measure when.

Timing: the microphone's ``AudioSource`` holds at most ``QUEUE_MS`` of audio, so a frame reaches the wire at
most that long after :meth:`say` handed it over; :meth:`say` returns the moment its last frame left the
queue (the end of the candidate's speech as the server receives it, to within a frame).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc
from livekit.rtc.data_stream import StreamError

__all__ = ["Burst", "Caption", "LiveKitCaller"]

logger = logging.getLogger("mockline.bench.livekit_caller")

SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE // 50  # 20 ms
QUEUE_MS = 60
LOUD_RMS = 300.0  # int16 RMS above which a 20 ms frame of the agent's track counts as speech
QUIET_FRAMES = 15  # 300 ms below it end a burst of agent speech
AGENT_STATE = "lk.agent.state"
END_REASON = "mockline.end_reason"  # livekit_room.END_REASON_ATTRIBUTE
TRANSCRIPTION = "lk.transcription"


@dataclass(frozen=True, slots=True)
class Caption:
    identity: str  # whose words (the candidate's identity for their own transcript)
    text: str
    final: bool
    at: float


@dataclass(slots=True)
class Burst:
    """A stretch of audible agent speech on the subscribed track."""

    start: float
    end: float | None = None  # None while it is still going


@dataclass
class LiveKitCaller:
    identity: str = ""
    room: rtc.Room = field(default_factory=rtc.Room)
    captions: list[Caption] = field(default_factory=list)
    states: list[tuple[float, str]] = field(default_factory=list)  # the agent's lk.agent.state changes
    bursts: list[Burst] = field(default_factory=list)
    loud: list[float] = field(default_factory=list)  # arrival of each loud 20 ms frame of the agent's track
    end_reason: str | None = None
    agent_identity: str | None = None
    agent_frames: int = 0  # 20 ms frames received from the agent's track
    heard_by_agent: bool = False  # the agent subscribed to this microphone (it can hear what we say)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _speech: deque[np.ndarray] = field(default_factory=deque)
    _spoken: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _source: rtc.AudioSource | None = None
    last_frame_sent: float = 0.0
    first_frame_sent: float = 0.0  # when the first frame of the last ``say`` left (its start, monotonic)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def join(self, url: str, token: str) -> None:
        room = self.room
        room.on("track_subscribed", self._on_track)
        room.on("participant_attributes_changed", self._on_attributes)
        room.on("participant_connected", lambda p: self._agent_joined(p))
        room.on("local_track_subscribed", lambda _track: self._on_heard())
        room.register_text_stream_handler(TRANSCRIPTION, self._on_text)
        await room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
        self.identity = room.local_participant.identity
        for p in room.remote_participants.values():
            self._agent_joined(p)
        self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=QUEUE_MS)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await room.local_participant.publish_track(track, options)
        self._own(self._microphone(self._source))

    async def leave(self) -> None:
        """Hang up ("End call"): the agent sees CLIENT_INITIATED."""
        await self.room.disconnect()
        await self.aclose()

    async def drop(self) -> None:
        """The connection fails without a goodbye: the server sees the participant time out or its
        signalling close, not a hang-up (``DisconnectReason`` other than CLIENT_INITIATED)."""
        await self.room.disconnect(reason=rtc.DisconnectReason.SIGNAL_CLOSE)
        await self.aclose()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.room.isconnected():
            await self.room.disconnect()
        if self._source is not None:
            await self._source.aclose()
            self._source = None

    async def __aenter__(self) -> LiveKitCaller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- speaking ----------------------------------------------------------------------------------------

    async def say(self, samples: np.ndarray) -> float:
        """Speak ``samples`` (16 kHz mono int16) in real time; returns when the last frame was sent."""
        self._spoken.clear()
        self.first_frame_sent = 0.0
        self._speech.extend(_frames(samples))
        await self._spoken.wait()
        return self.last_frame_sent

    async def _microphone(self, source: rtc.AudioSource) -> None:
        silence = np.zeros(FRAME, dtype=np.int16)
        while True:
            speaking = bool(self._speech)
            chunk = self._speech.popleft() if speaking else silence
            await source.capture_frame(rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME))
            if speaking and not self._spoken.is_set() and not self.first_frame_sent:
                # queued behind what is already in the source: it leaves once that has
                self.first_frame_sent = time.monotonic() + source.queued_duration - FRAME / SAMPLE_RATE
            if speaking and not self._speech:
                self.last_frame_sent = time.monotonic() + source.queued_duration
                self._spoken.set()

    # -- listening ---------------------------------------------------------------------------------------

    def _agent_joined(self, participant: rtc.RemoteParticipant) -> None:
        if self.agent_identity is None and participant.identity != self.identity:
            self.agent_identity = participant.identity
        self._on_attributes({}, participant)

    def _on_track(self, track: rtc.Track, _pub: Any, participant: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self._agent_joined(participant)
            self._own(self._listen(rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)))

    async def _listen(self, stream: rtc.AudioStream) -> None:
        quiet = 0
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16).astype(np.float32)
                loud = samples.size > 0 and float(np.sqrt(np.mean(samples * samples))) > LOUD_RMS
                self.agent_frames += 1
                now = time.monotonic()
                current = self.bursts[-1] if self.bursts and self.bursts[-1].end is None else None
                if loud:
                    quiet = 0
                    self.loud.append(now)
                    if current is None:
                        self.bursts.append(Burst(start=now))
                    await self._notify()
                elif current is not None:
                    quiet += 1
                    if quiet >= QUIET_FRAMES:
                        current.end = now - QUIET_FRAMES * 0.02
                        await self._notify()
        finally:
            await stream.aclose()

    def _on_heard(self) -> None:
        self.heard_by_agent = True
        self._own(self._notify())

    def _on_attributes(self, _changed: dict[str, str], participant: rtc.Participant) -> None:
        if participant.identity == self.identity:
            return
        attrs = participant.attributes
        state = attrs.get(AGENT_STATE)
        if state and (not self.states or self.states[-1][1] != state):
            self.states.append((time.monotonic(), state))
        if attrs.get(END_REASON):
            self.end_reason = attrs[END_REASON]
        self._own(self._notify())

    def _on_text(self, reader: rtc.TextStreamReader, identity: str) -> None:
        async def read() -> None:
            try:
                text = await reader.read_all()
            except StreamError:  # the room went away mid-caption (we hung up): nothing was said
                return
            final = reader.info.attributes.get("lk.transcription_final", "true") == "true"
            self.captions.append(Caption(identity=identity, text=text, final=final, at=time.monotonic()))
            await self._notify()

        self._own(read())

    # -- waiting -----------------------------------------------------------------------------------------

    async def wait_for(self, check: Callable[[], Any], within: float, what: str) -> Any:
        """Until ``check()`` is truthy (re-checked on every observation); its value."""

        async def until() -> Any:
            async with self._changed:
                while not (value := check()):
                    await self._changed.wait()
                return value

        try:
            return await asyncio.wait_for(until(), within)
        except TimeoutError:
            raise TimeoutError(f"{what}: not within {within:.0f}s; {self.summary()}") from None

    async def agent_speech_after(self, t: float, within: float) -> Burst:
        """The first burst of agent speech starting after ``t``."""
        return await self.wait_for(
            lambda: next((b for b in self.bursts if b.start > t), None), within, "agent speech"
        )

    async def loud_after(self, t: float, within: float) -> float:
        """When the first loud frame of the agent's track after ``t`` arrived: the agent audible then."""

        def first() -> float | None:
            i = bisect.bisect_right(self.loud, t)
            return self.loud[i] if i < len(self.loud) else None

        return await self.wait_for(first, within, "agent audio")

    async def agent_quiet_after(self, t: float, within: float) -> Burst:
        """The first burst after ``t`` that has ended (the agent finished a reply)."""
        return await self.wait_for(
            lambda: next((b for b in self.bursts if b.start > t and b.end is not None), None),
            within,
            "agent speech that ended",
        )

    async def state_after(self, state: str, t: float, within: float) -> float:
        """When the agent's state became ``state`` after ``t``."""
        return await self.wait_for(
            lambda: next((at for at, s in self.states if s == state and at > t), None),
            within,
            f"agent state {state}",
        )

    def agent_captions(self) -> list[Caption]:
        return [c for c in self.captions if c.identity != self.identity]

    def own_captions(self) -> list[Caption]:
        return [c for c in self.captions if c.identity == self.identity]

    def summary(self) -> str:
        return (
            f"agent={self.agent_identity} heard={self.heard_by_agent} frames={self.agent_frames} "
            f"bursts={len(self.bursts)} "
            f"states={[s for _, s in self.states]} captions={len(self.captions)} end={self.end_reason}"
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _own(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _frames(samples: np.ndarray) -> list[np.ndarray]:
    n = -(-len(samples) // FRAME) * FRAME
    padded = np.zeros(n, dtype=np.int16)
    padded[: len(samples)] = samples
    return [padded[i : i + FRAME] for i in range(0, n, FRAME)]


async def _hold(url: str, token: str) -> None:
    """Join, publish the microphone (silence) and stay until killed: a candidate whose tab can crash."""
    caller = LiveKitCaller()
    await caller.join(url, token)
    print("joined", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # python -m bench._livekit_caller URL TOKEN
    import sys

    asyncio.run(_hold(sys.argv[1], sys.argv[2]))
