"""The pulled side of ``PacedAudioOutput`` (``_paced_output.py``): a transport with its own media clock.

WebRTC while a peer is attached: aiortc calls the track's ``recv()`` every 20 ms, so after
:meth:`PulledPlayout.start_pulling` frames leave only through :meth:`PulledPlayout.pull_frame`, one per
call, at the moment the transport plays it; no buffer sits between the two, so a clear or a pause is silent
on the very next frame. A pulled frame is played when it is pulled: playback position, recorder timestamps
and ``on_playback_started`` follow the pull. A pull that finds the current segment's queue empty before its
``flush()`` is an underrun (the TTS fell behind; the listener hears a gap), counted once per dry spell.

A mixin: the state it reads (segments, pause, the pushed schedule) is the output's.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from livekit import rtc

from ._output_segment import OutputStats, Segment
from ._pacing import PacingClock
from ._push_schedule import PushSchedule

__all__ = ["PulledPlayout"]


class PulledPlayout:
    # the output's state (PacedAudioOutput sets all of it)
    _pulling: bool
    _closed: bool
    _paused: bool
    _finishing: asyncio.Task[None] | None
    _pacer: PacingClock | None
    _schedule: PushSchedule
    _frame_s: float
    stats: OutputStats
    pull_rewind_s: float  # a listener that mutes on a pause: how much pulled audio a pause takes back

    if TYPE_CHECKING:

        @property
        def label(self) -> str: ...
        def _kick(self) -> None: ...
        def tick(self, now: float) -> None: ...
        @property
        def pacer(self) -> PacingClock: ...
        def _current(self) -> Segment | None: ...
        def _take(self, seg: Segment, *, at: float) -> tuple[rtc.AudioFrame, float]: ...
        def _finish(self, seg: Segment, *, interrupted: bool, now: float | None = None) -> None: ...

    @property
    def pulling(self) -> bool:
        return self._pulling

    def start_pulling(self) -> None:
        """The transport's own clock takes over: from now on frames leave only through
        :meth:`pull_frame` (the pacing clock lets go of this output)."""
        self._pulling = True
        if self._pacer is not None:
            self._pacer.discard(self)
        self._schedule.restart()

    def stop_pulling(self) -> None:
        """Back to the pacing clock and ``send_frame`` (the transport's reader went away)."""
        if not self._pulling:
            return
        self._pulling = False
        self._schedule.restart()  # restart the schedule: a change of clock is not an underrun
        self._kick()

    def pull_frame(self) -> rtc.AudioFrame | None:
        """Pulled: the frame to play now, or None for silence (idle, paused, or the TTS is behind).

        Call it at the moment the frame is played (once per ``frame_s``); the frame counts as heard."""
        if self._closed or self._paused or not self._pulling or self._finishing is not None:
            return None
        seg = self._current()
        while seg is not None and seg.flushed and not seg.frames:  # its last frame was pulled already
            self._finish(seg, interrupted=False)
            seg = self._current()
        if seg is None:
            return None
        if not seg.frames:
            if seg.started:
                seg.dry = True  # mid-segment: the listener hears a gap
            return None
        if seg.dry:
            seg.dry = False
            self.stats.underruns += 1
        frame, real_s = self._take(seg, at=time.time())
        if self.pull_rewind_s > 0:
            self._keep_for_rewind(seg, frame, real_s)
        if seg.flushed and not seg.frames:  # the last frame is playing: the segment is done
            self._finish(seg, interrupted=False)
        return frame

    def _keep_for_rewind(self, seg: Segment, frame: rtc.AudioFrame, real_s: float) -> None:
        """Pulled, for a listener that mutes on a pause: the last ``pull_rewind_s`` of pulled frames count
        as not played yet, so ``pause`` takes them back like frames a pushed transport sent ahead."""
        now = self.pacer.clock()
        while seg.inflight and seg.inflight[0][2] + self._frame_s <= now:
            seg.inflight.popleft()
        seg.inflight.append((frame, real_s, now + self.pull_rewind_s - self._frame_s))
