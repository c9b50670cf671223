"""``PacedAudioOutput``: the session captures agent audio (TTS frames of up to ~200 ms, faster than real
time); the base class splits them into 20 ms frames and lets exactly one clock decide when each leaves.

Two clocks, one at a time:

- **Pushed** (default; Twilio): the event loop's :class:`PacingClock` hands each due frame to the
  transport's synchronous ``send_frame`` (it must not block: queue the frame and return). Subclasses
  override ``send_frame`` and optionally ``on_clear``, ``on_drop_buffered`` and ``wait_remote_playout``.
- **Pulled** (WebRTC while a peer is attached): the transport has its own media clock and takes frames
  through ``pull_frame``, one per call, at the moment it plays them (``_pulled_output.py``).

Pushed pacing: one :class:`PacingClock` per event loop ticks every 20 ms and sends the due frames of every
active output (one timer for the whole process instead of one sleeping task per session, whose lateness
piled up under load); when each frame is due, and what is an underrun, is ``PushSchedule``'s
(``_push_schedule.py``). What a segment holds (split frames, frames in flight) is ``Segment``'s
(``_output_segment.py``).

Segment protocol (livekit ``voice/io.py``): a segment opens with the first ``capture_frame`` and closes with
``flush()``; ``clear_buffer()`` interrupts it. ``on_playback_started`` fires when the first 20 ms frame
leaves, ``on_playback_finished`` exactly once per segment with the position actually played.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents.voice import io

from ._output_segment import OutputStats, Segment
from ._pacing import PacingClock, shared_pacing_clock
from ._pulled_output import PulledPlayout
from ._push_schedule import PushSchedule

__all__ = ["OutputStats", "PacedAudioOutput"]

logger = logging.getLogger("mockline.agent")


class PacedAudioOutput(PulledPlayout, io.AudioOutput):
    """Base class for transport audio sinks: split, pace, send, report playback.

    By default every output of an event loop shares :func:`shared_pacing_clock` and sends up to ``lead_s``
    (default two frames) ahead of each frame's slot. Passing ``clock``/``sleep`` (tests) or ``pacer`` gives
    the output its own clock; with a private clock ``lead_s`` defaults to 0 (each frame leaves on its slot).
    A transport with its own media clock calls :meth:`start_pulling` and reads :meth:`pull_frame` instead.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.iscoroutinefunction(cls.send_frame):  # its frames would silently never leave
            raise TypeError(f"{cls.__name__}.send_frame must be synchronous: queue the frame and return")

    def __init__(
        self,
        *,
        label: str,
        sample_rate: int,
        frame_ms: int = 20,
        max_gap_s: float = 0.04,
        lead_s: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        pacer: PacingClock | None = None,
    ) -> None:
        super().__init__(
            label=label,
            capabilities=io.AudioOutputCapabilities(pause=True),
            next_in_chain=None,
            sample_rate=sample_rate,
        )
        self._frame_samples = sample_rate * frame_ms // 1000
        self._frame_s = self._frame_samples / sample_rate
        if pacer is None and (clock is not None or sleep is not None):
            pacer = PacingClock(
                frame_s=self._frame_s, clock=clock or time.monotonic, sleep=sleep or asyncio.sleep
            )
            self._own_pacer = True
        else:
            self._own_pacer = False
        self._pacer = pacer
        if lead_s is None:
            lead_s = 0.0 if self._own_pacer else 2 * self._frame_s
        self._schedule = PushSchedule(frame_s=self._frame_s, max_gap_s=max_gap_s, lead_s=lead_s)
        self._segments: collections.deque[Segment] = collections.deque()
        self._capturing: Segment | None = None
        self._pulling = False  # the transport's clock pulls frames (pull_frame); the pacer stays out
        self._finishing: asyncio.Task[None] | None = None  # waiting for the remote playout of a segment
        self._closed = False
        self._paused = False
        # pulled: how much audio the listener still had buffered when it muted on a pause; a pause takes
        # that much back (it is played again on resume). 0: the listener does not mute (nothing is lost)
        self.pull_rewind_s = 0.0
        self.stats = OutputStats()
        # a recorder's interviewer side (``agent._recorder.RecorderTap``): each frame at its playout slot
        self.recorder_tap: Any = None

    # -- transport hooks ---------------------------------------------------------------------------

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        """Pushed: send one 20 ms frame to the remote side. It runs on the shared clock's tick, so it must
        not block: queue the frame (an outbox, a socket buffer) and return. An exception is logged and
        pacing goes on."""
        raise NotImplementedError

    def on_clear(self) -> None:
        """Queued audio was dropped (barge-in): tell the remote side to drop what it buffered."""

    def on_drop_buffered(self) -> bool:
        """Pause: drop the audio the remote side buffered ahead; True if it did (it is re-sent on resume).

        Default: False, the remote plays out the (at most ``lead_s``) audio it already has."""
        return False

    async def wait_remote_playout(self) -> None:
        """Awaited after a segment's last frame was sent, before it is reported finished."""

    # -- session side (io.AudioOutput) -------------------------------------------------------------

    @property
    def pacer(self) -> PacingClock:
        if self._pacer is None:
            self._pacer = shared_pacing_clock()
        return self._pacer

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._closed:
            return
        await super().capture_frame(frame)
        seg = self._capturing
        if seg is None:
            seg = Segment(
                sample_rate=self.sample_rate or frame.sample_rate, frame_samples=self._frame_samples
            )
            self._capturing = seg
            self._segments.append(seg)
            self.stats.segments += 1
        if seg.finished:  # cleared while the session was still capturing: drop the rest
            return
        seg.capture(frame)
        self._kick()

    def flush(self) -> None:
        super().flush()
        seg, self._capturing = self._capturing, None
        if seg is None:
            return
        seg.close()
        self._kick()

    def clear_buffer(self) -> None:
        active = [s for s in self._segments if not s.finished]
        if not active:
            return
        now = self.pacer.clock()
        for seg in active:
            seg.frames.clear()
        if self.recorder_tap is not None:  # frames sent ahead of their slot were dropped unheard
            self.recorder_tap.cut()
        with contextlib.suppress(Exception):
            self.on_clear()
        if self._finishing is not None:
            self._finishing.cancel()
            self._finishing = None
        for seg in active:
            self._finish(seg, interrupted=True, now=now)
        self._schedule.restart()
        self._kick()

    def pause(self) -> None:
        """Hold playback (the candidate may be interrupting); queued audio stays for ``resume()``.

        Audio already sent ahead of its slot is dropped at the far end when the transport can
        (``on_drop_buffered``) and goes back to the queue, so the caller stops at once and a resume
        continues exactly where they stopped hearing."""
        if self._paused:
            return
        self._paused = True
        if len(self.stats.pause_times) < 1000:
            self.stats.pause_times.append(time.perf_counter())
        self.pacer.discard(self)
        seg = self._segments[0] if self._segments else None
        if seg is None or seg.finished or self._finishing is not None:
            return  # (pulled: nothing is ahead of the listener, the next pull is silent)
        now = self.pacer.clock()
        unplayed = seg.unplayed(now, self._frame_s)
        if not unplayed:
            return
        dropped = False
        with contextlib.suppress(Exception):
            dropped = self.on_drop_buffered()
        if not dropped:
            return
        if self.recorder_tap is not None:  # they are recorded again when they are sent again
            if self._pulling:  # recorded when pulled, not at a slot ahead
                self.recorder_tap.cut(at=self.recorder_tap.now() - sum(r for _f, r, _s in unplayed))
            else:
                self.recorder_tap.cut()
        for f, real_s, _slot in reversed(unplayed):
            seg.frames.appendleft((f, real_s))
            seg.played_s -= real_s
            self.stats.frames_sent -= 1
            self.stats.resent_frames += 1
        seg.inflight.clear()

    def resume(self) -> None:
        if not self._paused:
            return
        self._paused = False
        self._schedule.restart()  # a pause is not an underrun: restart the schedule after it
        self._kick()

    async def aclose(self) -> None:
        """Stop pacing; unfinished segments finish as interrupted. Idempotent."""
        self._closed = True
        self.clear_buffer()
        if self._pacer is not None:
            self._pacer.discard(self)
        task, self._finishing = self._finishing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._own_pacer and self._pacer is not None:
            await self._pacer.aclose()

    # -- pacing ------------------------------------------------------------------------------------

    def _kick(self) -> None:
        """Something changed (audio arrived, resume, back to pushing…): send what is due now and stay on
        the clock while more can go out."""
        if self._closed or self._paused or self._pulling or self._finishing is not None:
            return
        self.tick(self.pacer.clock())

    def tick(self, now: float) -> None:
        """Pushed: send the frames due at ``now`` (called by the :class:`PacingClock`)."""
        pacer = self.pacer
        if self._closed or self._paused or self._pulling or self._finishing is not None:
            pacer.discard(self)
            return
        seg = self._current()
        if seg is None:
            pacer.discard(self)
            return
        while seg.inflight and seg.inflight[0][2] + self._frame_s <= now:
            seg.inflight.popleft()  # played by now
        while seg.frames:
            due = self._schedule.due(now)
            if due is None:
                break
            self.stats.underruns += due.underrun
            frame, real_s = self._take(seg, at=time.time() + (due.at - now))
            seg.inflight.append((frame, real_s, due.at))
            self._schedule.sent()
            try:
                self.send_frame(frame)
            except Exception:
                logger.exception("send_frame failed", extra={"label": self.label})
            if seg.finished or self._pulling or self._closed:  # the send cleared or closed us
                pacer.discard(self)
                return
        if seg.frames:
            pacer.add(self)  # more is due on later ticks
            return
        pacer.discard(self)
        if seg.flushed:  # everything sent: wait for the far end, then report it finished
            self._finishing = asyncio.get_running_loop().create_task(
                self._finish_after_playout(seg), name=f"paced-output-finish-{self.label}"
            )
        # else: the TTS is behind; capture_frame kicks us when audio arrives (late frames count)

    # -- shared ------------------------------------------------------------------------------------

    def _current(self) -> Segment | None:
        while self._segments and self._segments[0].finished:
            self._segments.popleft()
        return self._segments[0] if self._segments else None

    def _take(self, seg: Segment, *, at: float) -> tuple[rtc.AudioFrame, float]:
        """Pop the segment's next frame as leaving now, to be played at wall time ``at``."""
        frame, real_s = seg.frames.popleft()
        if not seg.started:
            seg.started = True
            self.stats.first_frame_times.append(time.time())
            self.on_playback_started(created_at=time.time())
        seg.played_s += real_s  # handed to the transport
        self.stats.frames_sent += 1
        if self.recorder_tap is not None:
            self.recorder_tap.frame(frame, at=at)
        return frame, real_s

    async def _finish_after_playout(self, seg: Segment) -> None:
        try:
            with contextlib.suppress(Exception):
                await self.wait_remote_playout()
        finally:
            if self._finishing is asyncio.current_task():
                self._finishing = None
        self._finish(seg, interrupted=False)
        self._schedule.restart()
        self._kick()

    def _finish(self, seg: Segment, *, interrupted: bool, now: float | None = None) -> None:
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
            position = seg.heard_position(now)  # less what was sent ahead and dropped unheard
        else:
            position = seg.pushed_s
        seg.inflight.clear()
        self.on_playback_finished(playback_position=position, interrupted=interrupted)
