"""A phone caller that reacts to what it hears (no tests here).

streamdouble plays a scenario written in advance: it can wait for the agent's *first* audio, mark or
clear, not for the start of a later reply. Talking over a particular reply (the closing, a question's
lead-in) needs a caller that listens: this one speaks Twilio Media Streams with streamdouble's own wire
encoder and μ-law frames, over a real WebSocket, the way Twilio does:

- the microphone streams a 20 ms frame on an absolute clock for the whole call (silence between what the
  caller says), so the agent's endpointing sees a live line;
- the agent's audio is played on a playout clock (20 ms a frame, from when it arrives), each ``mark`` is
  echoed when the audio before it has played, and a ``clear`` drops what was buffered and echoes the
  pending marks at once;
- a test waits on what a caller notices: the agent starting to speak, a reply played to its end, the
  line going dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import websockets
from streamdouble.audio import silence_frame, wav_to_ulaw_frames
from streamdouble.protocol import (
    InboundClear,
    InboundMark,
    InboundMedia,
    MediaStreamEncoder,
    StreamIdentity,
    parse_outbound,
)

__all__ = ["LiveCaller"]

FRAME_S = 0.02


class LiveCaller:
    """``async with LiveCaller(url, params) as caller:`` one call; leaving the block hangs up."""

    def __init__(self, url: str, params: dict[str, str], *, identity: StreamIdentity | None = None) -> None:
        self._url = url
        self.params = params  # the stream's custom parameters (our TwiML's ``<Parameter>``s)
        self._enc = MediaStreamEncoder(identity or StreamIdentity())
        self.call_sid = self._enc.identity.call_sid
        self._ws: Any = None
        self._send_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._speech: Iterator[bytes] | None = None
        self._said: asyncio.Future[None] | None = None
        self._playout_end = 0.0  # loop time at which the agent audio received so far has played
        self._pending_marks: list[tuple[float, str]] = []
        self._speaking = asyncio.Event()  # agent audio arrived since the last ``listen()``
        self._mark_echoed = asyncio.Event()  # a mark echoed since the last ``listen()``
        self.hung_up = asyncio.Event()  # the agent closed the line
        self.clears = 0
        self.marks_echoed = 0

    async def __aenter__(self) -> LiveCaller:
        self._ws = await websockets.connect(self._url)
        await self._send(self._enc.connected())
        await self._send(self._enc.start(custom_parameters=self.params))
        self._tasks = [
            asyncio.create_task(self._microphone(), name="caller-microphone"),
            asyncio.create_task(self._ear(), name="caller-ear"),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._ws.close()

    # -- what the test does -------------------------------------------------------------------------

    def listen(self) -> None:
        """From now on, notice the agent's next words and the end of its next reply."""
        self._speaking.clear()
        self._mark_echoed.clear()

    async def agent_speaks(self, within_s: float = 90) -> None:
        """Until agent audio arrives (after the last ``listen()``)."""
        await asyncio.wait_for(self._speaking.wait(), within_s)

    async def reply_played(self, within_s: float = 90) -> None:
        """Until a reply was played to its end (its mark echoed, after the last ``listen()``)."""
        await asyncio.wait_for(self._mark_echoed.wait(), within_s)

    async def say(self, wav: Path) -> None:
        """Speak ``wav`` into the call in real time; returns when its last frame was sent."""
        assert self._said is None, "one thing at a time"
        self._said = asyncio.get_running_loop().create_future()
        self._speech = iter(wav_to_ulaw_frames(wav))
        try:
            await self._said
        finally:
            self._said = None

    async def line_dead(self, within_s: float = 90) -> None:
        """Until the agent hangs up."""
        await asyncio.wait_for(self.hung_up.wait(), within_s)

    # -- the two directions -------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._ws.send(json.dumps(frame))

    async def _microphone(self) -> None:
        loop = asyncio.get_running_loop()
        silence = silence_frame()
        start = loop.time()
        n = 0
        try:
            while True:
                frame = next(self._speech, None) if self._speech is not None else None
                if frame is None and self._speech is not None:
                    self._speech = None
                    if self._said is not None and not self._said.done():
                        self._said.set_result(None)
                await self._send(self._enc.media(frame or silence))
                await self._echo_due_marks(loop.time())
                n += 1
                await asyncio.sleep(max(0.0, start + n * FRAME_S - loop.time()))
        except websockets.ConnectionClosed:
            self.hung_up.set()
            if self._said is not None and not self._said.done():
                self._said.set_result(None)

    async def _ear(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for message in self._ws:
                now = loop.time()
                frame = parse_outbound(message)
                if isinstance(frame, InboundMedia):
                    self._playout_end = max(self._playout_end, now) + FRAME_S * len(frame.payload) / 160
                    self._speaking.set()
                elif isinstance(frame, InboundMark):
                    self._pending_marks.append((self._playout_end, frame.name))
                elif isinstance(frame, InboundClear):
                    self.clears += 1
                    self._playout_end = now
                    await self._echo_due_marks(float("inf"), played=False)
        except websockets.ConnectionClosed:
            pass
        self.hung_up.set()

    async def _echo_due_marks(self, now: float, *, played: bool = True) -> None:
        while self._pending_marks and self._pending_marks[0][0] <= now:
            _, name = self._pending_marks.pop(0)
            await self._send(self._enc.mark(name))
            self.marks_echoed += 1
            if played:  # not a reply cut off by ``clear``
                self._mark_echoed.set()
