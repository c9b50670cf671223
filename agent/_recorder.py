"""``CallRecorder``: both sides of a call into one stereo Ogg/Opus file, written as the call happens.

Left channel: the candidate, as the transport received them. Right channel: the interviewer, as the
transport played it out. Each side's audio is placed on one wall-clock timeline whose zero is ``t0``, so a
moment of the call (a transcript turn's timestamp) is the same second on both channels; silence is what
nothing was placed over. A side's frames continue its current *run* while they arrive within
``resync_s`` of where the run ends (network jitter), otherwise a new run starts where they arrived.

Writing: one thread owns the encoder. Every ``flush_every_s`` it encodes the timeline up to
``hold_s`` before now (later audio may still arrive for that stretch) and writes the Ogg pages to the file
at once, so a process killed mid-call leaves a file playable up to its last second or two.

Thread-safety: ``frame()`` and ``cut()`` may be called from any thread (they only queue).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from livekit import rtc

__all__ = ["CANDIDATE", "INTERVIEWER", "CallRecorder", "RecorderTap"]

logger = logging.getLogger("mockline.agent")

CANDIDATE, INTERVIEWER = 0, 1


@dataclass(frozen=True)
class _Frame:
    side: int
    at: float
    frame: rtc.AudioFrame


@dataclass(frozen=True)
class _Cut:
    side: int
    at: float


_STOP = object()


class _Side:
    """One channel: runs of mono float32 audio placed at sample positions of the timeline."""

    def __init__(self, *, rate: int, t0: float, resync_s: float) -> None:
        self._rate, self._t0 = rate, t0
        self._tolerance = round(resync_s * rate)
        self._placed: list[tuple[int, np.ndarray]] = []
        self._run_end: int | None = None
        self._resampler: rtc.AudioResampler | None = None
        self._source_rate = 0
        self.late_samples = 0

    def place(self, at: float, frame: rtc.AudioFrame) -> None:
        pos = round((at - self._t0) * self._rate)
        if self._run_end is None or abs(pos - self._run_end) > self._tolerance:
            self._run_end = pos
        data = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            data = data.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        mono = rtc.AudioFrame(data.tobytes(), frame.sample_rate, 1, len(data))
        if frame.sample_rate != self._rate:
            if self._resampler is None or self._source_rate != frame.sample_rate:
                self._source_rate = frame.sample_rate
                self._resampler = rtc.AudioResampler(
                    input_rate=frame.sample_rate,
                    output_rate=self._rate,
                    quality=rtc.AudioResamplerQuality.MEDIUM,
                )
            chunks = self._resampler.push(mono)
        else:
            chunks = [mono]
        for chunk in chunks:
            samples = np.frombuffer(chunk.data, dtype=np.int16).astype(np.float32) / 32768.0
            if len(samples):
                self._placed.append((self._run_end, samples))
                self._run_end += len(samples)

    def cut(self, at: float) -> None:
        """Forget audio placed from ``at`` on (it was queued for playout but never played)."""
        pos = round((at - self._t0) * self._rate)
        kept: list[tuple[int, np.ndarray]] = []
        for start, samples in self._placed:
            if start >= pos:
                continue
            kept.append((start, samples[: max(0, pos - start)]))
        self._placed = kept
        self._run_end = None

    def take(self, start: int, end: int) -> np.ndarray:
        """The channel over samples ``[start, end)``; what was placed before ``start`` is counted late."""
        block = np.zeros(end - start, dtype=np.float32)
        kept: list[tuple[int, np.ndarray]] = []
        for pos, samples in self._placed:
            stop = pos + len(samples)
            if pos < start:
                self.late_samples += min(stop, start) - pos
            if stop <= start:
                continue
            if pos >= end:
                kept.append((pos, samples))
                continue
            lo, hi = max(pos, start), min(stop, end)
            block[lo - start : hi - start] += samples[lo - pos : hi - pos]
            if stop > end:
                kept.append((end, samples[end - pos :]))
        self._placed = kept
        return block

    @property
    def placed_until(self) -> int:
        return max((pos + len(s) for pos, s in self._placed), default=0)


class RecorderTap:
    """What a transport holds to feed one side of a :class:`CallRecorder`."""

    def __init__(self, recorder: CallRecorder, side: int) -> None:
        self._recorder, self._side = recorder, side

    def frame(self, frame: rtc.AudioFrame, *, at: float | None = None) -> None:
        """``frame`` started (or will start) playing at wall time ``at`` (default: it just arrived)."""
        self._recorder.frame(self._side, frame, at=at)

    def cut(self, *, at: float | None = None) -> None:
        """Audio of this side queued from ``at`` (default now) on was dropped before anyone heard it."""
        self._recorder.cut(self._side, at=at)

    def now(self) -> float:
        """The recorder's wall clock (what ``at`` is measured on)."""
        return self._recorder.now()


class CallRecorder:
    """A stereo Ogg/Opus recording of one call. ``start()``, feed it, ``close()`` (blocking)."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate: int = 16000,
        bitrate: int = 32000,
        t0: float | None = None,
        flush_every_s: float = 1.0,
        hold_s: float = 0.4,
        resync_s: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.sample_rate = sample_rate
        self.bitrate = bitrate
        self.t0 = clock() if t0 is None else t0
        self._flush_every_s, self._hold_s = flush_every_s, hold_s
        self._page_s = 0.2  # an Ogg page is written once it holds this much: what a kill can lose
        self._tail = round(0.3 * sample_rate)  # at close, audio queued this far past now was already heard
        self._sides = [_Side(rate=sample_rate, t0=self.t0, resync_s=resync_s) for _ in range(2)]
        self._q: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._cursor = 0  # samples written
        self._closed = False
        self.error: BaseException | None = None

    @property
    def duration_s(self) -> float:
        return self._cursor / self.sample_rate

    def now(self) -> float:
        return self._clock()

    @property
    def late_s(self) -> float:
        """Seconds of audio dropped because it arrived after its stretch was written (should stay ~0)."""
        return sum(s.late_samples for s in self._sides) / self.sample_rate

    def tap(self, side: int) -> RecorderTap:
        return RecorderTap(self, side)

    def frame(self, side: int, frame: rtc.AudioFrame, *, at: float | None = None) -> None:
        if not self._closed:
            self._q.put(_Frame(side, self._clock() - frame.duration if at is None else at, frame))

    def cut(self, side: int, *, at: float | None = None) -> None:
        if not self._closed:
            self._q.put(_Cut(side, self._clock() if at is None else at))

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="call-recorder", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> float:
        """Write what is left and end the file; the recording's duration in seconds. Idempotent."""
        if not self._closed:
            self._closed = True
            self._q.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        return self.duration_s

    # -- the encoder thread ------------------------------------------------------------------------

    def _run(self) -> None:
        import av

        try:
            with (
                self.path.open("wb") as f,
                av.open(
                    f, "w", format="ogg", options={"page_duration": str(int(self._page_s * 1e6))}
                ) as container,
            ):
                stream = container.add_stream("libopus", rate=self.sample_rate, layout="stereo")
                stream.codec_context.bit_rate = self.bitrate
                next_flush = time.monotonic() + self._flush_every_s
                stopping = False
                while not stopping:
                    try:
                        item = self._q.get(timeout=max(0.0, next_flush - time.monotonic()))
                    except queue.Empty:
                        item = None
                    stopping = self._apply(item)
                    if stopping or time.monotonic() >= next_flush:
                        # read the clock, then take everything queued by then: frames that waited in the
                        # queue while this thread was busy are not late
                        clock = self._clock()
                        while not stopping:
                            try:
                                stopping = self._apply(self._q.get_nowait())
                            except queue.Empty:
                                break
                        if stopping:  # closed while draining: everything up to the close is written
                            clock = self._clock()
                        now = round((clock - self.t0) * self.sample_rate)
                        until = now if stopping else now - round(self._hold_s * self.sample_rate)
                        if stopping:  # keep audio already played that the last frames reach past now
                            reach = min(max(s.placed_until for s in self._sides), now + self._tail)
                            until = max(until, reach)
                        self._write(container, stream, until)
                        f.flush()
                        next_flush = time.monotonic() + self._flush_every_s
                for packet in stream.encode(None):
                    container.mux(packet)
        except Exception as e:  # the call goes on without its recording
            self.error = e
            logger.exception("call recorder failed", extra={"path": self.path.name})
        late = sum(s.late_samples for s in self._sides)
        if late:
            logger.debug("recorder dropped late audio", extra={"samples": late})

    def _apply(self, item: object) -> bool:
        """Place a queued frame or cut; True for the stop sentinel."""
        if item is _STOP:
            return True
        if isinstance(item, _Frame):
            self._sides[item.side].place(item.at, item.frame)
        elif isinstance(item, _Cut):
            self._sides[item.side].cut(item.at)
        return False

    def _write(self, container: object, stream: object, until: int) -> None:
        import av

        if until <= self._cursor:
            return
        block = np.stack([s.take(self._cursor, until) for s in self._sides])
        np.clip(block, -1.0, 1.0, out=block)
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = self.sample_rate
        frame.pts = self._cursor
        for packet in stream.encode(frame):  # type: ignore[attr-defined]
            container.mux(packet)  # type: ignore[attr-defined]
        self._cursor = until
