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
        self.stopped: asyncio.Event | None = None  # time stands still until this is set

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self.stopped is not None:
            await self.stopped.wait()
            self.stopped = None
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

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        self.sent.append((self.clock(), frame))
        if self.gate_at is not None and len(self.sent) == self.gate_at:
            self.reached.set()
            self.clock.stopped = self.gate  # the next frame waits until the test opens the gate

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
        def send_frame(self, frame: rtc.AudioFrame) -> None:
            super().send_frame(frame)
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


def test_a_transport_whose_send_frame_suspends_is_refused() -> None:
    with pytest.raises(TypeError, match="synchronous"):

        class Blocking(PacedAudioOutput):
            async def send_frame(self, frame: rtc.AudioFrame) -> None:  # type: ignore[override]
                pass


# -- pulled: the transport's own media clock takes each frame when it plays it (WebRTC) ------------------


class Tap:
    """A recorder's interviewer side: what was played, and when (wall time)."""

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.cuts = 0

    def frame(self, frame: rtc.AudioFrame, *, at: float) -> None:
        self.frames.append(int(np.frombuffer(frame.data, dtype=np.int16)[0]))

    def cut(self) -> None:
        self.cuts += 1


def pulled(**kw: object) -> RecordingOutput:
    out = RecordingOutput(clock=FakeClock(), **kw)  # type: ignore[arg-type]
    out.start_pulling()
    return out


def level(frame: rtc.AudioFrame | None) -> int | None:
    return None if frame is None else int(np.frombuffer(frame.data, dtype=np.int16)[0])


async def test_pulled_output_plays_one_frame_per_pull_and_finishes_with_the_last() -> None:
    out = pulled()
    try:
        assert out.pull_frame() is None  # idle: the transport plays silence
        await out.capture_frame(tone(60, value=7))
        await out.capture_frame(tone(50, value=8))  # 110 ms: the tail is padded
        out.flush()
        heard = [level(out.pull_frame()) for _ in range(7)]
        assert heard == [7, 7, 7, 8, 8, 8, None]
        ev = out.finished()[0]
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.11)  # type: ignore[attr-defined]
        assert [k for k, _ in out.events] == ["started", "finished"]
        assert out.sent == [] and len(out.pacer) == 0  # the pacing clock never touched it
        assert out.stats.underruns == 0 and out.stats.frames_sent == 6
    finally:
        await out.aclose()


async def test_pulled_barge_in_is_silent_on_the_next_frame_and_reports_what_was_played() -> None:
    out = pulled()
    tap = out.recorder_tap = Tap()
    try:
        await out.capture_frame(tone(1000))  # one second queued, the TTS still talking
        for _ in range(12):
            assert out.pull_frame() is not None
        out.clear_buffer()  # the candidate interrupted
        assert out.pull_frame() is None
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is True and ev.playback_position == pytest.approx(12 * 0.02)
        assert tap.frames == [1000] * 12 and tap.cuts == 1  # the recording has exactly what was played
        await out.capture_frame(tone(200))  # late TTS audio of the interrupted reply
        assert out.pull_frame() is None
    finally:
        await out.aclose()


async def test_pulled_pause_is_silent_at_once_and_resume_continues_where_it_stopped() -> None:
    out = pulled()
    try:
        await out.capture_frame(tone(100, value=1))
        await out.capture_frame(tone(100, value=2))
        out.flush()
        assert [level(out.pull_frame()) for _ in range(3)] == [1, 1, 1]
        out.pause()  # it might be an interruption
        assert [out.pull_frame() for _ in range(5)] == [None] * 5
        out.resume()  # only a cough
        assert [level(out.pull_frame()) for _ in range(8)] == [1, 1, 2, 2, 2, 2, 2, None]
        ev = out.finished()[0]
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.2)  # type: ignore[attr-defined]
        assert out.stats.underruns == 0
    finally:
        await out.aclose()


async def test_pulled_counts_one_underrun_per_gap_when_the_tts_falls_behind() -> None:
    out = pulled()
    try:
        assert out.pull_frame() is None  # waiting for the first audio is not an underrun
        await out.capture_frame(tone(40))
        assert [out.pull_frame() is not None for _ in range(5)] == [True, True, False, False, False]
        await out.capture_frame(tone(40))  # the TTS caught up after a 60 ms gap
        out.flush()
        assert [out.pull_frame() is not None for _ in range(3)] == [True, True, False]
        assert out.stats.underruns == 1
        assert out.finished()[0].playback_position == pytest.approx(0.08)  # type: ignore[attr-defined]
    finally:
        await out.aclose()


async def test_when_the_puller_goes_away_the_pacing_clock_takes_over_mid_reply() -> None:
    out = pulled()
    try:
        await out.capture_frame(tone(100, value=1))
        await out.capture_frame(tone(100, value=2))
        out.flush()
        assert [level(out.pull_frame()) for _ in range(2)] == [1, 1]
        out.stop_pulling()  # the peer disconnected: the agent keeps talking in real time to nobody
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.2)
        assert [int(np.frombuffer(f.data, dtype=np.int16)[0]) for _, f in out.sent] == [
            1,
            1,
            1,
            2,
            2,
            2,
            2,
            2,
        ]
        out.start_pulling()  # a reconnect: the new track pulls the next reply
        await out.capture_frame(tone(20, value=3))
        out.flush()
        assert level(out.pull_frame()) == 3 and len(out.sent) == 8
    finally:
        await out.aclose()
