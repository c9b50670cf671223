"""Audio I/O pairs that transports plug into an ``AgentSession``.

``PushAudioInput`` (here): the transport pushes candidate audio in (from any thread); the session iterates it.
``LateAudioInput`` (here): an input whose source exists only after ``session.start`` (a LiveKit room's), so a
wrapper made before the session (the turn detector's audio tap) can be bound to it afterwards.
``PacedAudioOutput`` (``_paced_output.py``): the session captures agent audio; the base class splits it into
20 ms frames and hands each one to the transport's ``send_frame`` when it is due, on the event loop's shared
``PacingClock`` (``_pacing.py``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents.voice import io

from ._paced_output import OutputStats, PacedAudioOutput
from ._pacing import PacingClock, shared_pacing_clock

__all__ = [
    "LateAudioInput",
    "OutputStats",
    "PacedAudioOutput",
    "PacingClock",
    "PushAudioInput",
    "shared_pacing_clock",
]

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
        # a recorder's candidate side (``agent._recorder.RecorderTap``): every pushed frame, as it arrives
        self.recorder_tap: Any = None

    @property
    def closed(self) -> bool:
        return self._closed

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue one frame (mono int16, any sample rate). Frames pushed after ``close()`` are ignored."""
        if self._closed:
            return
        tap = self.recorder_tap
        if tap is not None:
            tap.frame(frame)
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


class LateAudioInput(io.AudioInput):
    """Frames from a source bound after construction; reading waits until it is bound."""

    def __init__(self, *, label: str = "late") -> None:
        super().__init__(label=label)
        self._late: io.AudioInput | None = None
        self._bound = asyncio.Event()

    @property
    def source(self) -> io.AudioInput | None:
        return self._late

    def bind(self, source: io.AudioInput) -> None:
        self._late = source
        self._bound.set()

    async def __anext__(self) -> rtc.AudioFrame:
        await self._bound.wait()
        assert self._late is not None
        return await self._late.__anext__()
