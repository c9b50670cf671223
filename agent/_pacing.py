"""``PacingClock``: one 20 ms ticker per event loop that sends the due frames of every active paced output.

One timer for the whole process instead of one sleeping task per session, whose lateness piled up under
load. What is due is each output's own business: the clock only calls :meth:`Paced.tick` (implemented by
``PacedAudioOutput``, ``_paced_output.py``, which imports this module and not the other way round).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["Paced", "PacingClock", "shared_pacing_clock"]

logger = logging.getLogger("mockline.agent")


class Paced(Protocol):
    """What the clock drives: an output that sends the frames due at ``now`` when it ticks."""

    @property
    def label(self) -> str: ...

    def tick(self, now: float) -> None: ...


class PacingClock:
    """One ticker that, every ``frame_s``, lets each active output send the frames that are due.

    Outputs register while they have frames that can go out (not paused, not waiting on a send or on the
    remote playout); the ticker task ends when none is registered and restarts on the next registration,
    so an idle process has no timer. Ticks follow absolute deadlines; after a stall the ticker resumes from
    now (each output's own schedule decides what is due, so nothing is lost).
    """

    def __init__(
        self,
        *,
        frame_s: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.frame_s = frame_s
        self.clock = clock
        self._sleep = sleep
        self._active: dict[Paced, None] = {}  # insertion-ordered set
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.late_ticks = 0  # ticks that ran more than one frame after their deadline

    def __len__(self) -> int:
        return len(self._active)

    def add(self, out: Paced) -> None:
        self._active[out] = None
        if self._task is None or self._task.done() or self._task.cancelling():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="pacing-clock")

    def discard(self, out: Paced) -> None:
        self._active.pop(out, None)
        task = self._task
        if not self._active and task is not None and task is not asyncio.current_task():
            task.cancel()  # nothing to pace: no timer left behind
            self._task = None

    async def _run(self) -> None:
        next_tick = self.clock() + self.frame_s
        while self._active:
            now = self.clock()
            if next_tick > now:
                await self._sleep(next_tick - now)
                now = self.clock()
            elif now - next_tick > self.frame_s:
                self.late_ticks += 1
                next_tick = now
            self.ticks += 1
            for out in list(self._active):
                try:
                    out.tick(now)
                except Exception:
                    logger.exception("paced output tick failed", extra={"label": out.label})
                    self.discard(out)
            next_tick += self.frame_s

    async def aclose(self) -> None:
        self._active.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PacingClock] = weakref.WeakKeyDictionary()


def shared_pacing_clock() -> PacingClock:
    """The running event loop's pacing clock (created on first use)."""
    loop = asyncio.get_running_loop()
    pacer = _SHARED.get(loop)
    if pacer is None:
        pacer = _SHARED[loop] = PacingClock()
    return pacer
