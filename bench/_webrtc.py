"""A browser caller: a real aiortc peer (Opus, ICE/DTLS/SRTP on 127.0.0.1) doing what the join page does.

It posts an offer to ``/rtc/offer`` with the invitation token, sends its microphone track (silence, and
the clips of a bench script at real-time pace), opens the "events" data channel, and stamps each voiced
agent frame as aiortc hands it over decoded, and each time the channel says the agent is back to
``listening`` (the end of its turn). ``{"type": "end"}`` hangs up like the page's Leave button; an
``ended`` event (the interview closed) stops the script.

Like the page, it tells the server it mutes on a "hold" (``honour_hold``) and then does: frames decoded
while held are not heard (left out of ``Timeline.voiced``, kept in ``Timeline.voiced_wire``), and the
server replays what it muted when the reply resumes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fractions
import json
import time
from collections.abc import Sequence

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ._script import AwaitAudio, AwaitReply, AwaitTurn, Pause, Said, Say, Step, Timeline, reply_finished

__all__ = ["RATE", "BrowserCaller"]

RATE = 48000
_SAMPLES = RATE // 50
_VOICED_RMS = 300.0


class _Microphone(MediaStreamTrack):
    """20 ms mono frames at wall-clock pace: queued clip audio, else silence."""

    kind = "audio"

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self._timeline = timeline
        self._queue: collections.deque[tuple[np.ndarray, str, int, asyncio.Event | None]] = (
            collections.deque()
        )
        self._n = 0
        self._start: float | None = None
        self._silence = np.zeros(_SAMPLES, dtype=np.int16)
        self._open: dict[str, float] = {}

    def say(self, say: Say) -> asyncio.Event:
        pcm = np.asarray(say.clip.samples, dtype=np.int16)
        start_s, end_s = say.clip.voiced_bounds()
        first, last = int(start_s / 0.02), max(0, int(np.ceil(end_s / 0.02)) - 1)
        done = asyncio.Event()
        chunks = [pcm[i : i + _SAMPLES] for i in range(0, pcm.size, _SAMPLES)]
        for i, chunk in enumerate(chunks):
            if chunk.size < _SAMPLES:
                chunk = np.pad(chunk, (0, _SAMPLES - chunk.size))
            mark = 1 if i == first else 2 if i == last else 0
            self._queue.append((chunk, say.tag, mark, done if i == len(chunks) - 1 else None))
        return done

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.perf_counter()
        if self._start is None:
            self._start = now
        else:
            wait = self._start + self._n * 0.02 - now
            if wait > 0:
                await asyncio.sleep(wait)  # a microphone delivers in real time
        pcm, tag, mark, done = self._queue.popleft() if self._queue else (self._silence, "", 0, None)
        now = time.perf_counter()
        if mark == 1:
            self._open[tag] = now - 0.02
        if mark == 2 and tag in self._open:
            self._timeline.said.append(Said(tag, start=self._open.pop(tag), end=now))
        if done is not None:
            done.set()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._n * _SAMPLES, fractions.Fraction(1, RATE)
        self._n += 1
        return frame


class BrowserCaller:
    def __init__(self, base_url: str, token: str, *, honour_hold: bool = True) -> None:
        self.honour_hold = honour_hold
        self._held = False
        self.base_url, self.token = base_url, token
        self.timeline = Timeline()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = _Microphone(self.timeline)
        self.channel = None
        self._heard = asyncio.Event()  # agent audio or an event arrived
        self._ended = asyncio.Event()
        self._agent_state: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.frames_heard = 0
        self._arrivals: dict[int, float] = {}  # RTP timestamp → perf_counter when the packet arrived
        self._rtp_origin: int | None = None

    async def connect(self) -> None:
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", self._on_event)
        self.channel.on("open", self._on_open)

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            self._stamp_packets(track)
            self._tasks.append(asyncio.create_task(self._listen(track), name="bench-listen"))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        body = {"token": self.token, "sdp": self.pc.localDescription.sdp, "type": "offer"}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as http:
            res = await http.post("/rtc/offer", json=body)
        if res.status_code != 200:
            raise RuntimeError(f"/rtc/offer refused the call: {res.status_code} {res.text[:200]}")
        answer = res.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

    def _on_open(self) -> None:
        assert self.channel is not None
        self.channel.send(json.dumps({"type": "listener", "mutes_on_hold": self.honour_hold}))

    def _on_event(self, raw: str | bytes) -> None:
        now = time.perf_counter()
        try:
            msg = json.loads(raw)
        except ValueError:
            return
        kind = msg.get("type")
        if kind == "state" and msg.get("agent") != self._agent_state:
            self._agent_state = msg.get("agent")
            self.timeline.notes.append((now, f"state {self._agent_state}"))
            if self._agent_state == "listening":
                self.timeline.ends.append(now)
        elif kind == "caption" and msg.get("final"):
            self.timeline.notes.append((now, f"caption {msg.get('speaker')}: {msg.get('text')}"))
        elif kind == "hold":
            held = msg.get("held") is True
            self.timeline.holds.append((now, held))
            self._held = held and self.honour_hold
        elif kind == "ended":
            self.timeline.ended = now
            self._ended.set()
        self._heard.set()

    def _stamp_packets(self, track: MediaStreamTrack) -> None:
        """Note when each RTP packet of ``track`` arrives, ahead of aiortc's jitter buffer, by its RTP
        timestamp from the stream's first (aiortc gives the decoded frame that as its ``pts``). Bench-only:
        wraps the receiver's private packet handler (aiortc pinned in pyproject); without it the caller
        just has no arrival stamps."""
        receiver = next((r for r in self.pc.getReceivers() if r.track is track), None)
        handle = getattr(receiver, "_handle_rtp_packet", None)
        if handle is None:
            return

        async def stamped(packet: object, arrival_time_ms: int) -> None:
            ts = getattr(packet, "timestamp", None)
            if ts is not None and len(self._arrivals) < 200_000:
                if self._rtp_origin is None:
                    self._rtp_origin = ts
                self._arrivals.setdefault((ts - self._rtp_origin) % (1 << 32), time.perf_counter())
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = stamped  # type: ignore[union-attr]

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.perf_counter()
            self.frames_heard += 1
            pcm = frame.to_ndarray().astype(np.float64)
            if pcm.size and float(np.sqrt(np.mean(pcm**2))) > _VOICED_RMS:
                self.timeline.voiced_wire.append(now)
                if not self._held:  # the page has muted it
                    self.timeline.voiced.append(now)
                arrived = self._arrivals.get(frame.pts) if frame.pts is not None else None
                if arrived is not None:
                    self.timeline.packet_arrival[now] = arrived
                self._heard.set()

    async def run(self, steps: Sequence[Step], *, deadline_s: float = 600.0) -> Timeline:
        """Run the script; at ``deadline_s`` the caller simply stops (the call's time is up)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline_s):
                for step in steps:
                    if self._ended.is_set():
                        break  # the interview is over: the rest of the script has no one to talk to
                    if isinstance(step, Say):
                        await self.mic.say(step).wait()
                    elif isinstance(step, Pause):
                        await asyncio.sleep(step.seconds)  # the caller stays quiet (the mic sends silence)
                    elif isinstance(step, AwaitTurn):
                        await self._await_turn(step)
                    else:
                        await self._await(step)
        return self.timeline

    async def _await(self, step: AwaitAudio | AwaitReply) -> None:
        began = time.perf_counter()
        try:
            async with asyncio.timeout(step.timeout_s):
                while not self._ended.is_set():
                    last = self.timeline.last_voiced()
                    if last is not None and last > began:
                        if isinstance(step, AwaitAudio):
                            return
                        quiet_for = time.perf_counter() - last
                        if quiet_for >= step.quiet_s:
                            return
                        self._heard.clear()
                        with contextlib.suppress(TimeoutError):  # woken by audio or by quiet_s passing
                            await asyncio.wait_for(self._heard.wait(), step.quiet_s - quiet_for)
                        continue
                    self._heard.clear()
                    await self._heard.wait()
        except TimeoutError:
            self.timeline.timeout(type(step).__name__)

    async def _await_turn(self, step: AwaitTurn) -> None:
        since = self.timeline.since_said()
        try:
            async with asyncio.timeout(step.timeout_s):
                while not self._ended.is_set():
                    now = time.perf_counter()
                    if reply_finished(self.timeline, since=since, now=now, settle_s=step.settle_s):
                        return
                    self._heard.clear()
                    with contextlib.suppress(TimeoutError):  # woken by audio, an event, or time passing
                        await asyncio.wait_for(self._heard.wait(), 0.1)
        except TimeoutError:
            self.timeline.timeout(type(step).__name__)

    async def hang_up(self) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps({"type": "end"}))

    async def close(self) -> None:
        await self.pc.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
