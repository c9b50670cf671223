"""Audio I/O pairs that transports plug into an ``AgentSession``.

``PushAudioInput``: the transport pushes candidate audio in (from any thread); the session iterates it.
``PacedAudioOutput``: the session captures agent audio (TTS frames of up to ~200 ms, faster than real time);
the base class splits them into 20 ms frames, paces them against a monotonic clock by absolute deadlines and
hands each one to the transport's ``send_frame``. Subclasses override ``send_frame`` and optionally
``on_clear`` and ``wait_remote_playout``.

Segment protocol (livekit ``voice/io.py``): a segment opens with the first ``capture_frame`` and closes with
``flush()``; ``clear_buffer()`` interrupts it. ``on_playback_started`` fires when the first 20 ms frame
leaves, ``on_playback_finished`` exactly once per segment with the position actually played.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents.utils.audio import AudioByteStream
from livekit.agents.voice import io

__all__ = ["OutputStats", "PacedAudioOutput", "PushAudioInput"]

logger = logging.getLogger("mockline.agent")

_CLOSED = object()


class PushAudioInput(io.AudioInput):
    """Candidate audio pushed by a transport, iterated by the session.

    ``push_frame`` is safe from any thread. The buffer holds at most ``max_buffer_s`` of audio; beyond that
    the oldest frames are dropped and counted in ``dropped_frames`` (the session reads in real time, so the
    buffer only fills when the event loop is starved). ``close()`` ends the stream.
    """

    def __init__(self, *, label: str = "push", max_buffer_s: float = 3.0) -> None:
        super().__init__(label=label)
        self._max_buffer_s = max_buffer_s
        self._frames: collections.deque[rtc.AudioFrame] = collections.deque()
        self._buffered_s = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._close_callbacks: list[Callable[[], None]] = []
        self.dropped_frames = 0
        self.pushed_frames = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue one frame (mono int16, any sample rate). Frames pushed after ``close()`` are ignored."""
        if self._closed:
            return
        dropped = 0
        with self._lock:
            self._frames.append(frame)
            self._buffered_s += frame.duration
            self.pushed_frames += 1
            while self._buffered_s > self._max_buffer_s and len(self._frames) > 1:
                old = self._frames.popleft()
                self._buffered_s -= old.duration
                dropped += 1
            self.dropped_frames += dropped
        if dropped and (self.dropped_frames == dropped or self.dropped_frames % 100 < dropped):
            logger.warning(
                "audio input buffer full, dropped oldest frames",
                extra={"label": self.label, "dropped_total": self.dropped_frames},
            )
        self._wake()

    def close(self) -> None:
        """End the stream (hang-up). Idempotent; safe from any thread."""
        if self._closed:
            return
        self._closed = True
        self._wake()
        for cb in self._close_callbacks:
            self._call_on_loop(cb)

    def add_close_callback(self, cb: Callable[[], None]) -> None:
        """Run ``cb`` on the consumer's event loop when the stream is closed."""
        if self._loop is None:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()
        self._close_callbacks.append(cb)

    def _call_on_loop(self, cb: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(cb)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(cb)

    def _wake(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wakeup.set()
        else:
            with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
                loop.call_soon_threadsafe(self._wakeup.set)

    async def __anext__(self) -> rtc.AudioFrame:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._frames:
                    frame = self._frames.popleft()
                    self._buffered_s = max(0.0, self._buffered_s - frame.duration)
                    return frame
                if self._closed:
                    raise StopAsyncIteration
                self._wakeup.clear()
            await self._wakeup.wait()


@dataclass
class OutputStats:
    """Counters a ``PacedAudioOutput`` keeps for benchmarks and metrics."""

    segments: int = 0
    frames_sent: int = 0
    underruns: int = 0  # gaps > max_gap_s between frames while a segment was playing
    interrupted_segments: int = 0
    first_frame_times: list[float] = field(default_factory=list)  # wall clock, one per segment


@dataclass
class _Segment:
    pushed_s: float = 0.0
    played_s: float = 0.0
    started: bool = False
    flushed: bool = False
    finished: bool = False
    frames: collections.deque[tuple[rtc.AudioFrame, float]] = field(default_factory=collections.deque)
    splitter: AudioByteStream | None = None
    resampler: rtc.AudioResampler | None = None


class PacedAudioOutput(io.AudioOutput):
    """Base class for transport audio sinks: split, pace, send, report playback."""

    def __init__(
        self,
        *,
        label: str,
        sample_rate: int,
        frame_ms: int = 20,
        max_gap_s: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            label=label,
            capabilities=io.AudioOutputCapabilities(pause=True),
            next_in_chain=None,
            sample_rate=sample_rate,
        )
        self._frame_samples = sample_rate * frame_ms // 1000
        self._frame_s = self._frame_samples / sample_rate
        self._max_gap_s = max_gap_s
        self._clock = clock
        self._sleep = sleep
        self._segments: collections.deque[_Segment] = collections.deque()
        self._capturing: _Segment | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._paused = False
        self.stats = OutputStats()

    # -- transport hooks ---------------------------------------------------------------------------

    async def send_frame(self, frame: rtc.AudioFrame) -> None:
        """Send one 20 ms frame to the remote side. Called at real-time pace."""
        raise NotImplementedError

    def on_clear(self) -> None:
        """Queued audio was dropped (barge-in): tell the remote side to drop what it buffered."""

    async def wait_remote_playout(self) -> None:
        """Awaited after a segment's last frame was sent, before it is reported finished."""

    # -- session side (io.AudioOutput) -------------------------------------------------------------

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._closed:
            return
        await super().capture_frame(frame)
        seg = self._capturing
        if seg is None:
            seg = _Segment(
                splitter=AudioByteStream(self.sample_rate or frame.sample_rate, 1, self._frame_samples)
            )
            self._capturing = seg
            self._segments.append(seg)
            self.stats.segments += 1
        if seg.finished:  # cleared while the session was still capturing: drop the rest
            return
        if frame.sample_rate != self.sample_rate:
            if seg.resampler is None:
                seg.resampler = rtc.AudioResampler(
                    input_rate=frame.sample_rate, output_rate=self.sample_rate or frame.sample_rate
                )
            chunks = seg.resampler.push(frame)
        else:
            chunks = [frame]
        for chunk in chunks:
            self._split(seg, chunk.data.tobytes())
        self._ensure_task()
        self._wakeup.set()

    def _split(self, seg: _Segment, data: bytes) -> None:
        assert seg.splitter is not None
        for f in seg.splitter.push(data):
            seg.frames.append((f, f.duration))
            seg.pushed_s += f.duration

    def flush(self) -> None:
        super().flush()
        seg, self._capturing = self._capturing, None
        if seg is None:
            return
        if not seg.finished:
            if seg.resampler is not None:
                for chunk in seg.resampler.flush():
                    self._split(seg, chunk.data.tobytes())
            assert seg.splitter is not None
            for f in seg.splitter.flush():
                real_s = f.duration
                seg.frames.append((self._pad(f), real_s))
                seg.pushed_s += real_s
        seg.flushed = True
        self._wakeup.set()

    def clear_buffer(self) -> None:
        active = [s for s in self._segments if not s.finished]
        if not active:
            return
        for seg in active:
            seg.frames.clear()
        with contextlib.suppress(Exception):
            self.on_clear()
        for seg in active:
            self._finish(seg, interrupted=True)
        self._wakeup.set()

    def pause(self) -> None:
        """Hold playback (the candidate may be interrupting); queued audio stays for ``resume()``."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wakeup.set()

    async def aclose(self) -> None:
        """Stop the pacing task; unfinished segments finish as interrupted. Idempotent."""
        self._closed = True
        self.clear_buffer()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- pacing ------------------------------------------------------------------------------------

    def _pad(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        missing = self._frame_samples - frame.samples_per_channel
        if missing <= 0:
            return frame
        data = frame.data.tobytes() + b"\x00\x00" * missing
        return rtc.AudioFrame(data, frame.sample_rate, 1, self._frame_samples)

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._playout(), name=f"paced-output-{self.label}")

    def _finish(self, seg: _Segment, *, interrupted: bool) -> None:
        if seg.finished:
            return
        seg.finished = True
        if self._segments and self._segments[0] is seg:
            self._segments.popleft()
        else:
            with contextlib.suppress(ValueError):
                self._segments.remove(seg)
        if interrupted:
            self.stats.interrupted_segments += 1
        self.on_playback_finished(
            playback_position=min(seg.played_s, seg.pushed_s) if interrupted else seg.pushed_s,
            interrupted=interrupted,
        )

    async def _playout(self) -> None:
        deadline: float | None = None
        last_sent: float | None = None
        while True:
            seg = self._segments[0] if self._segments else None
            paused = self._paused and seg is not None and bool(seg.frames)
            if seg is None or (not seg.frames and not seg.flushed) or paused:
                self._wakeup.clear()
                await self._wakeup.wait()
                if paused:  # a pause is not an underrun: restart the schedule after it
                    deadline = last_sent = None
                continue
            if not seg.frames:  # flushed and fully sent
                with contextlib.suppress(Exception):
                    await self.wait_remote_playout()
                self._finish(seg, interrupted=False)
                deadline = last_sent = None
                continue
            frame, real_s = seg.frames.popleft()
            now = self._clock()
            if deadline is None or now > deadline + self._frame_s:
                deadline = now  # starting, or the TTS fell behind: restart the schedule, never burst
            elif deadline > now:
                await self._sleep(deadline - now)
                now = self._clock()
            if seg.finished:  # cleared while we waited
                continue
            if last_sent is not None and now - last_sent > self._max_gap_s:
                self.stats.underruns += 1
            if not seg.started:
                seg.started = True
                self.stats.first_frame_times.append(time.time())
                self.on_playback_started(created_at=time.time())
            seg.played_s += real_s  # handed to the transport: the candidate hears it
            self.stats.frames_sent += 1
            try:
                await self.send_frame(frame)
            except Exception:
                logger.exception("send_frame failed", extra={"label": self.label})
            last_sent = now
            deadline += self._frame_s
