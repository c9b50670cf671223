"""PacedAudioOutput and PushAudioInput: the audio I/O pair every transport builds on.

Pacing is checked against a fake monotonic clock (positions and order, never wall time).
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from livekit import rtc

from agent import PacedAudioOutput, PushAudioInput

pytestmark = pytest.mark.unit


class FakeClock:
    """A monotonic clock that only moves when the output sleeps (plus an optional oversleep)."""

    def __init__(self, *, oversleep: float = 0.0) -> None:
        self.now = 1000.0
        self.oversleep = oversleep

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.oversleep
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingOutput(PacedAudioOutput):
    def __init__(self, *, clock: FakeClock, sample_rate: int = 24000, **kw: object) -> None:
        super().__init__(label="test", sample_rate=sample_rate, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]
        self.clock = clock
        self.sent: list[tuple[float, rtc.AudioFrame]] = []
        self.clears = 0
        self.events: list[tuple[str, object]] = []
        self.gate_at: int | None = None
        self.reached = asyncio.Event()
        self.gate = asyncio.Event()
        self.on("playback_started", lambda ev: self.events.append(("started", ev)))
        self.on("playback_finished", lambda ev: self.events.append(("finished", ev)))

    async def send_frame(self, frame: rtc.AudioFrame) -> None:
        self.sent.append((self.clock(), frame))
        if self.gate_at is not None and len(self.sent) == self.gate_at:
            self.reached.set()
            await self.gate.wait()

    def on_clear(self) -> None:
        self.clears += 1

    def finished(self) -> list[object]:
        return [ev for kind, ev in self.events if kind == "finished"]


def tone(ms: int, sample_rate: int = 24000, value: int = 1000) -> rtc.AudioFrame:
    n = sample_rate * ms // 1000
    data = np.full(n, value, dtype=np.int16)
    return rtc.AudioFrame(data.tobytes(), sample_rate, 1, n)


async def play(out: PacedAudioOutput, *frames: rtc.AudioFrame) -> object:
    for f in frames:
        await out.capture_frame(f)
    out.flush()
    return await asyncio.wait_for(out.wait_for_playout(), 10)


async def test_splits_tts_frames_into_20ms_frames_and_pads_the_tail() -> None:
    out = RecordingOutput(clock=FakeClock())
    try:
        ev = await play(out, tone(200), tone(200), tone(130))
        sizes = [f.samples_per_channel for _, f in out.sent]
        assert sizes == [480] * 27  # 530 ms → 26 full frames + one padded 10 ms tail
        tail = np.frombuffer(out.sent[-1][1].data, dtype=np.int16)
        assert (tail[:240] == 1000).all() and (tail[240:] == 0).all()
        assert ev.interrupted is False  # type: ignore[attr-defined]
        assert ev.playback_position == pytest.approx(0.53)  # type: ignore[attr-defined]
    finally:
        await out.aclose()


async def test_resamples_to_the_sink_rate() -> None:
    out = RecordingOutput(clock=FakeClock(), sample_rate=8000)
    try:
        await play(out, tone(200, sample_rate=22050), tone(200, sample_rate=22050))
        assert {f.sample_rate for _, f in out.sent} == {8000}
        assert {f.samples_per_channel for _, f in out.sent} == {160}
        assert 19 <= len(out.sent) <= 21  # ~400 ms of audio, resampler latency aside
    finally:
        await out.aclose()


async def test_paces_by_absolute_deadlines_without_drift() -> None:
    clock = FakeClock(oversleep=0.004)  # every sleep overshoots by 4 ms, like a loaded event loop
    out = RecordingOutput(clock=clock)
    try:
        await play(out, *[tone(200) for _ in range(50)])  # 10 s of speech, 500 frames
        times = [t for t, _ in out.sent]
        assert len(times) == 500
        t0 = times[0]
        # each frame leaves at its slot; overshoot never accumulates (per-frame sleep(0.02) would be 2 s late)
        lateness = [t - (t0 + i * 0.02) for i, t in enumerate(times)]
        assert max(lateness) <= 0.0041
        assert min(lateness) >= -1e-9
        assert out.stats.underruns == 0
    finally:
        await out.aclose()


async def test_counts_an_underrun_when_the_tts_falls_behind() -> None:
    clock = FakeClock()
    out = RecordingOutput(clock=clock)
    out.gate_at = 5
    try:
        await out.capture_frame(tone(100))
        await asyncio.wait_for(out.reached.wait(), 10)
        clock.advance(0.25)  # the TTS stalls for 250 ms mid-segment
        await out.capture_frame(tone(100))
        out.gate.set()
        out.flush()
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert out.stats.underruns == 1
        assert ev.playback_position == pytest.approx(0.2)
        # after the stall the schedule restarts from now: no burst of catch-up frames
        gaps = [b[0] - a[0] for a, b in zip(out.sent[5:], out.sent[6:], strict=False)]
        assert all(g == pytest.approx(0.02) for g in gaps)
    finally:
        await out.aclose()


async def test_clear_buffer_interrupts_with_the_played_position_exactly_once() -> None:
    out = RecordingOutput(clock=FakeClock())
    out.gate_at = 10
    try:
        for _ in range(5):
            await out.capture_frame(tone(200))  # 1 s queued
        await asyncio.wait_for(out.reached.wait(), 10)
        out.clear_buffer()
        out.gate.set()
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is True
        assert ev.playback_position == pytest.approx(10 * 0.02)
        assert out.clears == 1
        # the session still flushes and clears again after cancelling its forwarding task: no duplicates
        out.flush()
        out.clear_buffer()
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(out.finished()) == 1
        assert out.clears == 1
        assert len(out.sent) == 10  # nothing after the clear left the output
        assert [k for k, _ in out.events] == ["started", "finished"]
    finally:
        await out.aclose()


async def test_frames_captured_after_a_clear_are_dropped_until_the_next_segment() -> None:
    out = RecordingOutput(clock=FakeClock())
    out.gate_at = 3
    try:
        await out.capture_frame(tone(200))
        await asyncio.wait_for(out.reached.wait(), 10)
        out.clear_buffer()
        out.gate.set()
        await out.capture_frame(tone(200))  # late frame of the interrupted segment
        out.flush()
        first = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert first.interrupted is True
        sent_before = len(out.sent)
        second = await play(out, tone(100))
        assert second.interrupted is False
        assert second.playback_position == pytest.approx(0.1)
        assert len(out.sent) - sent_before == 5
        assert [k for k, _ in out.events] == ["started", "finished", "started", "finished"]
    finally:
        await out.aclose()


async def test_waits_for_remote_playout_before_finishing() -> None:
    remote_done = asyncio.Event()
    asked = asyncio.Event()

    class MarkOutput(RecordingOutput):
        async def wait_remote_playout(self) -> None:
            asked.set()
            await remote_done.wait()

    out = MarkOutput(clock=FakeClock())
    try:
        await out.capture_frame(tone(100))
        out.flush()
        await asyncio.wait_for(asked.wait(), 10)
        assert out.finished() == []  # all frames sent, but the remote has not played them yet
        remote_done.set()
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.1)
    finally:
        await out.aclose()


async def test_send_errors_do_not_stop_playback_and_close_finishes_open_segments() -> None:
    class Flaky(RecordingOutput):
        async def send_frame(self, frame: rtc.AudioFrame) -> None:
            await super().send_frame(frame)
            if len(self.sent) == 2:
                raise ConnectionError("socket hiccup")

    out = Flaky(clock=FakeClock())
    ev = await play(out, tone(100))
    assert ev.interrupted is False and len(out.sent) == 5
    await out.capture_frame(tone(200))  # a segment still open when the transport goes away
    await out.aclose()
    assert out.finished()[-1].interrupted is True  # type: ignore[attr-defined]
    sent = len(out.sent)
    await out.capture_frame(tone(100))  # after close: ignored, nothing restarts
    out.flush()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(out.sent) == sent and len(out.pacer) == 0


async def test_push_input_delivers_frames_from_another_thread_in_order_and_ends_on_close() -> None:
    inp = PushAudioInput(label="t")
    closed = asyncio.Event()
    inp.add_close_callback(closed.set)

    def producer() -> None:
        for i in range(50):
            inp.push_frame(tone(20, 16000, value=i))
        inp.close()
        inp.push_frame(tone(20, 16000, value=99))  # after close: ignored

    got: list[int] = []

    async def consume() -> None:
        async for frame in inp:
            got.append(int(np.frombuffer(frame.data, dtype=np.int16)[0]))

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    thread = threading.Thread(target=producer)
    thread.start()
    await asyncio.wait_for(consumer, 10)
    thread.join()
    assert got == list(range(50))
    await asyncio.wait_for(closed.wait(), 10)


async def test_push_input_is_bounded_and_drops_the_oldest_audio() -> None:
    inp = PushAudioInput(label="t", max_buffer_s=0.2)
    for i in range(30):  # 600 ms pushed while nobody reads
        inp.push_frame(tone(20, 16000, value=i))
    inp.close()
    got = [int(np.frombuffer(f.data, dtype=np.int16)[0]) async for f in inp]
    assert got == list(range(20, 30))  # the newest 200 ms survive
    assert inp.dropped_frames == 20


async def test_pause_holds_audio_and_resume_continues_where_it_stopped() -> None:
    out = RecordingOutput(clock=FakeClock())
    out.gate_at = 4
    try:
        await out.capture_frame(tone(200))
        await asyncio.wait_for(out.reached.wait(), 10)
        out.pause()  # the candidate started talking: hold the rest
        out.gate.set()
        out.flush()
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(out.sent) == 4 and out.finished() == []
        out.resume()  # it was only a cough
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.2)
        assert len(out.sent) == 10 and out.stats.underruns == 0
    finally:
        await out.aclose()
