"""Agent audio to the caller: a ``PacedAudioOutput`` that speaks Media Streams.

The base class splits and paces TTS audio into 20 ms frames at 8 kHz; here each frame becomes a μ-law
``media`` message, sent up to ``lead_s`` (200 ms) ahead of its playout slot: Twilio buffers it, so a late
tick of the shared pacing clock does not reach the caller's ear. After a segment's last frame we send a
``mark`` and wait for Twilio to echo it, so "playback finished" means the caller has heard it. Barge-in
(``clear_buffer``) sends ``clear`` and releases the mark wait at once. A pause (the candidate may be
interrupting) also sends ``clear`` at once, so the caller stops hearing the agent within a frame; the base
class puts the audio Twilio dropped back in the queue and a resume sends it again.

Outgoing messages go through one :class:`Outbox` so media, marks and clears leave in order from a single
writer task.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable

from livekit import rtc

from agent import PacedAudioOutput, PacingClock

from .codec import SAMPLE_RATE
from .serializer import MediaEncoder, clear_message, mark_message

__all__ = ["Outbox", "TwilioAudioOutput"]

logger = logging.getLogger("mockline.telephony")


class Outbox:
    """An ordered queue of outgoing text messages drained by one owned writer task."""

    def __init__(self, *, send: Callable[[str], Awaitable[None]]) -> None:
        self._send = send
        self._queue: asyncio.Queue[tuple[bool, str] | None] = asyncio.Queue()  # (is_media, text)
        self._task: asyncio.Task[None] | None = None
        self.failed = asyncio.Event()  # the socket refused a send: the call is gone

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="twilio-outbox")

    def put(self, message: str, *, media: bool = False) -> None:
        self._queue.put_nowait((media, message))

    def drop_pending_media(self) -> int:
        """Forget media not yet written (barge-in). Marks and clears stay."""
        kept, dropped = [], 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and item[0]:
                dropped += 1
            else:
                kept.append(item)
        for item in kept:
            self._queue.put_nowait(item)
        return dropped

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self._send(item[1])
            except Exception:
                # The websocket is closed or broken; the bridge notices and ends the call.
                self.failed.set()
                return

    async def aclose(self, *, drain: bool) -> None:
        if self._task is None:
            return
        if drain and not self.failed.is_set():
            self._queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=2.0)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


class TwilioAudioOutput(PacedAudioOutput):
    """Session audio → μ-law ``media`` messages, with mark-gated playout and ``clear`` on barge-in."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        stream_sid: str,
        mark_timeout_s: float = 15.0,
        lead_s: float = 0.2,
        pacer: PacingClock | None = None,  # default: the event loop's shared clock
    ) -> None:
        super().__init__(label="twilio", sample_rate=SAMPLE_RATE, lead_s=lead_s, pacer=pacer)
        self._outbox = outbox
        self._stream_sid = stream_sid
        self._media = MediaEncoder(stream_sid)
        self._mark_timeout_s = mark_timeout_s
        self._names = (f"seg-{n}" for n in itertools.count(1))
        self._pending: dict[str, asyncio.Future[bool]] = {}
        self.marks_sent = 0
        self.marks_echoed = 0
        self.clears_sent = 0

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        self._outbox.put(self._media.encode_pcm16(frame.data), media=True)

    def on_clear(self) -> None:
        self._outbox.drop_pending_media()
        self._outbox.put(clear_message(self._stream_sid))
        self.clears_sent += 1
        self._release_all(heard=False)

    def on_drop_buffered(self) -> bool:
        # Pause: Twilio drops what it buffered; no mark is pending mid-segment (it follows the last frame).
        self._outbox.drop_pending_media()
        self._outbox.put(clear_message(self._stream_sid))
        self.clears_sent += 1
        return True

    async def wait_remote_playout(self) -> None:
        name = next(self._names)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[name] = future
        self._outbox.put(mark_message(self._stream_sid, name))
        self.marks_sent += 1
        try:
            await asyncio.wait_for(future, timeout=self._mark_timeout_s)
        except TimeoutError:
            logger.warning("Twilio did not echo a playback mark in time", extra={"mark": name})
        finally:
            self._pending.pop(name, None)

    def on_mark(self, name: str) -> None:
        """Twilio echoed one of our marks: everything queued before it has played."""
        future = self._pending.pop(name, None)
        if future is None:
            return  # a mark from before a clear, or not ours: harmless
        self.marks_echoed += 1
        if not future.done():
            future.set_result(True)

    def _release_all(self, *, heard: bool) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_result(heard)
        self._pending.clear()

    async def aclose(self) -> None:
        self._release_all(heard=False)
        await super().aclose()
