"""``PacedAudioOutput``: the session captures agent audio (TTS frames of up to ~200 ms, faster than real
time); the base class splits them into 20 ms frames and lets exactly one clock decide when each leaves.

Two clocks, one at a time:

- **Pushed** (default; Twilio): the event loop's :class:`PacingClock` hands each due frame to the
  transport's synchronous ``send_frame`` (it must not block: queue the frame and return). Subclasses
  override ``send_frame`` and optionally ``on_clear``, ``on_drop_buffered`` and ``wait_remote_playout``.
- **Pulled** (WebRTC while a peer is attached): the transport has its own media clock (aiortc calls the
  track's ``recv()`` every 20 ms), so after :meth:`PacedAudioOutput.start_pulling` frames leave only
  through :meth:`PacedAudioOutput.pull_frame`, one per call, at the moment the transport plays it; no
  buffer sits between the two, so a clear or a pause is silent on the very next frame.

Pushed pacing: one :class:`PacingClock` per event loop ticks every 20 ms and sends the due frames of every
active output (one timer for the whole process instead of one sleeping task per session, whose lateness
piled up under load). Each segment has its own schedule: frame *k* is due at ``anchor + k·20 ms`` and
leaves up to ``lead_s`` early (the far end buffers it), so a late tick costs nothing as long as it is less
than ``lead_s`` late. A frame that leaves more than ``max_gap_s − 20 ms`` after its slot means the listener's
buffer ran dry mid-segment: an *underrun*; the schedule then restarts from now (no catch-up burst). Pauses
and the gaps between segments restart the schedule without counting.

A pulled frame is played when it is pulled: playback position, recorder timestamps and
``on_playback_started`` follow the pull. A pull that finds the current segment's queue empty before its
``flush()`` is an underrun (the TTS fell behind; the listener hears a gap), counted once per dry spell.

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
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents.utils.audio import AudioByteStream
from livekit.agents.voice import io

from ._pacing import PacingClock, shared_pacing_clock

__all__ = ["OutputStats", "PacedAudioOutput"]

logger = logging.getLogger("mockline.agent")


@dataclass
class OutputStats:
    """Counters a ``PacedAudioOutput`` keeps for benchmarks and metrics."""

    segments: int = 0
    frames_sent: int = 0
    underruns: int = 0  # frames that left > max_gap_s - frame_s after their slot, mid-segment
    interrupted_segments: int = 0
    resent_frames: int = 0  # frames dropped at the far end on pause and sent again on resume
    first_frame_times: list[float] = field(default_factory=list)  # wall clock, one per segment
    pause_times: list[float] = field(default_factory=list)  # time.perf_counter() of each pause (bench)


@dataclass
class _Segment:
    pushed_s: float = 0.0
    played_s: float = 0.0  # handed to the transport
    started: bool = False
    dry: bool = False  # pulled: a pull found no frame before the flush (the TTS is behind)
    flushed: bool = False
    finished: bool = False
    frames: collections.deque[tuple[rtc.AudioFrame, float]] = field(default_factory=collections.deque)
    # sent frames the listener may not have played yet: (frame, real seconds, playout slot)
    inflight: collections.deque[tuple[rtc.AudioFrame, float, float]] = field(
        default_factory=collections.deque
    )
    splitter: AudioByteStream | None = None
    resampler: rtc.AudioResampler | None = None


class PacedAudioOutput(io.AudioOutput):
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
        self._max_gap_s = max_gap_s
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
        self._lead_s = lead_s
        self._segments: collections.deque[_Segment] = collections.deque()
        self._capturing: _Segment | None = None
        self._anchor: float | None = None  # slot of frame 0 of the current schedule
        self._sent_since_anchor = 0
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
        self._kick()

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
        self._anchor = None
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
        unplayed = [item for item in seg.inflight if item[2] + self._frame_s > now + 1e-6]
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
        self._anchor = None  # a pause is not an underrun: restart the schedule after it
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

    def _pad(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        missing = self._frame_samples - frame.samples_per_channel
        if missing <= 0:
            return frame
        data = frame.data.tobytes() + b"\x00\x00" * missing
        return rtc.AudioFrame(data, frame.sample_rate, 1, self._frame_samples)

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
        tolerance = self._max_gap_s - self._frame_s
        while seg.frames:
            if self._anchor is None:
                self._anchor, self._sent_since_anchor = now, 0
            slot = self._anchor + self._sent_since_anchor * self._frame_s
            if slot > now + self._lead_s + 1e-9:
                break
            if now - slot > tolerance + 1e-9:
                if self._sent_since_anchor:  # the listener's buffer ran dry mid-segment
                    self.stats.underruns += 1
                self._anchor, self._sent_since_anchor = now, 0  # restart the schedule, never burst
                slot = now
            frame, real_s = self._take(seg, at=time.time() + (slot - now))
            seg.inflight.append((frame, real_s, slot))
            self._sent_since_anchor += 1
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

    # -- pulled --------------------------------------------------------------------------------------

    @property
    def pulling(self) -> bool:
        return self._pulling

    def start_pulling(self) -> None:
        """The transport's own clock takes over: from now on frames leave only through
        :meth:`pull_frame` (the pacing clock lets go of this output)."""
        self._pulling = True
        if self._pacer is not None:
            self._pacer.discard(self)
        self._anchor = None

    def stop_pulling(self) -> None:
        """Back to the pacing clock and ``send_frame`` (the transport's reader went away)."""
        if not self._pulling:
            return
        self._pulling = False
        self._anchor = None  # restart the schedule: a change of clock is not an underrun
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

    def _keep_for_rewind(self, seg: _Segment, frame: rtc.AudioFrame, real_s: float) -> None:
        """Pulled, for a listener that mutes on a pause: the last ``pull_rewind_s`` of pulled frames count
        as not played yet, so :meth:`pause` takes them back like frames a pushed transport sent ahead."""
        now = self.pacer.clock()
        while seg.inflight and seg.inflight[0][2] + self._frame_s <= now:
            seg.inflight.popleft()
        seg.inflight.append((frame, real_s, now + self.pull_rewind_s - self._frame_s))

    # -- shared ------------------------------------------------------------------------------------

    def _current(self) -> _Segment | None:
        while self._segments and self._segments[0].finished:
            self._segments.popleft()
        return self._segments[0] if self._segments else None

    def _take(self, seg: _Segment, *, at: float) -> tuple[rtc.AudioFrame, float]:
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

    async def _finish_after_playout(self, seg: _Segment) -> None:
        try:
            with contextlib.suppress(Exception):
                await self.wait_remote_playout()
        finally:
            if self._finishing is asyncio.current_task():
                self._finishing = None
        self._finish(seg, interrupted=False)
        self._anchor = None
        self._kick()

    def _finish(self, seg: _Segment, *, interrupted: bool, now: float | None = None) -> None:
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
            # sent but not yet played when the far end dropped it: the candidate never heard it
            unheard = sum(
                real_s for _f, real_s, slot in seg.inflight if now is not None and slot > now + 1e-6
            )
            position = max(0.0, min(seg.played_s - unheard, seg.pushed_s))
        else:
            position = seg.pushed_s
        seg.inflight.clear()
        self.on_playback_finished(playback_position=position, interrupted=interrupted)
