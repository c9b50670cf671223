"""The shared pacing clock: many outputs, one ticker; and the Twilio output's pause (clear, then re-send).

Driven by a fake monotonic clock that only moves when the ticker sleeps: these tests check which frames
leave, in which order, and what the far end is told, never wall time.
"""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest
from livekit import rtc

from agent import PacedAudioOutput, PacingClock
from telephony import TwilioAudioOutput
from telephony._output import Outbox
from telephony.codec import pcm16_to_ulaw

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Ear(PacedAudioOutput):
    """Records the first sample of every frame it sends (each test frame carries its index)."""

    def __init__(self, pacer: PacingClock, label: str) -> None:
        super().__init__(label=label, sample_rate=8000, pacer=pacer)
        self.heard: list[int] = []

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        self.heard.append(int(np.frombuffer(frame.data, dtype=np.int16)[0]))


def numbered(first: int, count: int, *, scale: int = 1) -> rtc.AudioFrame:
    """``count`` 20 ms frames at 8 kHz in one chunk, frame *i* filled with ``(first + i) * scale``."""
    data = np.repeat(np.arange(first, first + count, dtype=np.int16) * scale, 160)
    return rtc.AudioFrame(data.tobytes(), 8000, 1, data.size)


async def speak(out: PacedAudioOutput, frames: int) -> None:
    for start in range(0, frames, 10):  # TTS chunks of 200 ms
        await out.capture_frame(numbered(start + 1, min(10, frames - start)))
    out.flush()


async def test_two_outputs_on_one_clock_each_deliver_every_frame_in_order() -> None:
    clock = FakeClock()
    pacer = PacingClock(clock=clock, sleep=clock.sleep)
    a, b = Ear(pacer, "a"), Ear(pacer, "b")
    try:
        await speak(a, 50)
        await speak(b, 30)
        done = await asyncio.wait_for(asyncio.gather(a.wait_for_playout(), b.wait_for_playout()), 10)
        assert a.heard == list(range(1, 51)) and b.heard == list(range(1, 31))
        assert all(ev.interrupted is False for ev in done)
        assert [ev.playback_position for ev in done] == [pytest.approx(1.0), pytest.approx(0.6)]
        assert a.stats.underruns == b.stats.underruns == 0
        # one ticker for both, not one per output; it stops once nothing is left to send
        assert pacer.ticks <= 50
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(pacer) == 0
    finally:
        await a.aclose()
        await b.aclose()
        await pacer.aclose()


async def test_pausing_one_output_leaves_the_other_playing() -> None:
    clock = FakeClock()
    pacer = PacingClock(clock=clock, sleep=clock.sleep)
    a, b = Ear(pacer, "a"), Ear(pacer, "b")
    try:
        await speak(a, 40)
        await speak(b, 40)
        a.pause()
        held = len(a.heard)
        await asyncio.wait_for(b.wait_for_playout(), 10)  # b plays to the end meanwhile
        assert b.heard == list(range(1, 41))
        assert len(a.heard) == held < 40  # nothing left a while it was paused
        a.resume()
        ev = await asyncio.wait_for(a.wait_for_playout(), 10)
        assert a.heard == list(range(1, 41))  # resumed where it stopped: nothing lost, nothing twice
        assert ev.interrupted is False
        assert a.stats.underruns == 0  # a pause is not an underrun
    finally:
        await a.aclose()
        await b.aclose()
        await pacer.aclose()


async def test_twilio_pause_clears_the_buffered_audio_and_resume_sends_it_again() -> None:
    clock = FakeClock()
    pacer = PacingClock(clock=clock, sleep=clock.sleep)
    wire: list[dict] = []
    sent = asyncio.Event()

    async def send(text: str) -> None:
        wire.append(json.loads(text))
        sent.set()

    outbox = Outbox(send=send)
    outbox.start()
    out = TwilioAudioOutput(outbox=outbox, stream_sid="MZ1", pacer=pacer, lead_s=0.1)
    payload = {pcm16_to_ulaw(np.full(160, v * 100, dtype=np.int16)): v for v in range(1, 21)}
    assert len(payload) == 20  # every frame is recognisable on the wire
    try:
        await out.capture_frame(numbered(1, 20, scale=100))  # 400 ms of agent speech
        out.flush()
        # frame 1 is due now and frames 2..6 fit in the 100 ms lead: Twilio buffers them
        while len(wire) < 6:
            sent.clear()
            await asyncio.wait_for(sent.wait(), 10)
        clock.advance(0.05)  # the caller has heard a few frames
        out.pause()  # the candidate starts talking
        out.resume()  # … it was a backchannel
        while not any(m["event"] == "mark" for m in wire):
            sent.clear()
            await asyncio.wait_for(sent.wait(), 10)
        out.on_mark(next(m["mark"]["name"] for m in wire if m["event"] == "mark"))  # Twilio played it
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)

        heard = [
            "clear" if m["event"] == "clear" else payload[base64.b64decode(m["media"]["payload"])]
            for m in wire
            if m["event"] in ("media", "clear")
        ]
        cut = heard.index("clear")
        before, after = heard[:cut], heard[cut + 1 :]
        n = len(before)
        assert before == list(range(1, n + 1)) and n < 20
        # Twilio dropped the frames it had not played yet; they are sent again, then the rest, each once
        k = after[0]
        assert n - 5 <= k <= n and after == list(range(k, 21))
        assert out.stats.resent_frames >= n - k + 1  # (plus any still queued in the outbox)
        assert ev.interrupted is False and ev.playback_position == pytest.approx(0.4)
        assert out.clears_sent == 1
    finally:
        await out.aclose()
        await outbox.aclose(drain=False)
        await pacer.aclose()


async def test_twilio_interruption_reports_only_the_audio_the_caller_heard() -> None:
    clock = FakeClock()
    pacer = PacingClock(clock=clock, sleep=clock.sleep)
    outbox = Outbox(send=lambda text: asyncio.sleep(0))
    outbox.start()
    out = TwilioAudioOutput(outbox=outbox, stream_sid="MZ1", pacer=pacer, lead_s=0.1)
    try:
        await out.capture_frame(numbered(1, 20))
        clock.advance(0.05)  # six frames sent, two and a half played
        out.clear_buffer()  # a real interruption
        ev = await asyncio.wait_for(out.wait_for_playout(), 10)
        assert ev.interrupted is True
        # frames 1-3 started playing by now (3 partly); 4-6 were still in Twilio's buffer when it was cleared
        assert ev.playback_position == pytest.approx(0.06)
    finally:
        await out.aclose()
        await outbox.aclose(drain=False)
        await pacer.aclose()
