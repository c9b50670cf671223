"""One segment of agent audio on its way out of a ``PacedAudioOutput``, and the output's counters.

A segment is what the session captured between two ``flush()`` calls: TTS frames of any size and rate,
resampled to the transport's rate and split into 20 ms frames (the last one padded with silence). It
keeps what was pushed, what was handed to the transport, and the frames sent ahead of their playout
slot that the listener may not have heard yet, so an interrupted segment reports the position actually
played.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents.utils.audio import AudioByteStream

__all__ = ["OutputStats", "Segment"]


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
class Segment:
    sample_rate: int
    frame_samples: int
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

    def __post_init__(self) -> None:
        self.splitter = AudioByteStream(self.sample_rate, 1, self.frame_samples)

    def capture(self, frame: rtc.AudioFrame) -> None:
        """Queue ``frame`` (any size and rate) as 20 ms frames at the segment's rate."""
        if frame.sample_rate != self.sample_rate:
            if self.resampler is None:
                self.resampler = rtc.AudioResampler(
                    input_rate=frame.sample_rate, output_rate=self.sample_rate
                )
            chunks = self.resampler.push(frame)
        else:
            chunks = [frame]
        for chunk in chunks:
            self._split(chunk.data.tobytes())

    def close(self) -> None:
        """The session flushed: queue what the resampler and splitter still hold, the last frame padded."""
        if not self.finished:
            if self.resampler is not None:
                for chunk in self.resampler.flush():
                    self._split(chunk.data.tobytes())
            assert self.splitter is not None
            for f in self.splitter.flush():
                real_s = f.duration
                self.frames.append((self._pad(f), real_s))
                self.pushed_s += real_s
        self.flushed = True

    def unplayed(self, now: float, frame_s: float) -> list[tuple[rtc.AudioFrame, float, float]]:
        """Frames sent whose playout has not ended by ``now``."""
        return [item for item in self.inflight if item[2] + frame_s > now + 1e-6]

    def heard_position(self, now: float | None) -> float:
        """Seconds played if interrupted at ``now``: handed over, less what was sent ahead of its slot
        (the far end dropped it unheard)."""
        unheard = sum(real_s for _f, real_s, slot in self.inflight if now is not None and slot > now + 1e-6)
        return max(0.0, min(self.played_s - unheard, self.pushed_s))

    def _split(self, data: bytes) -> None:
        assert self.splitter is not None
        for f in self.splitter.push(data):
            self.frames.append((f, f.duration))
            self.pushed_s += f.duration

    def _pad(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        missing = self.frame_samples - frame.samples_per_channel
        if missing <= 0:
            return frame
        data = frame.data.tobytes() + b"\x00\x00" * missing
        return rtc.AudioFrame(data, frame.sample_rate, 1, self.frame_samples)
