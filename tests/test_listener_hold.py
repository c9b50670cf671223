"""The join page silences the interviewer the moment the server pauses it, and hears again what it muted.

A pause (the early pause or livekit's) stops the server's pulls at once, but the browser still holds
~100 ms of the reply in its jitter buffer. The server tells the page to hold ("hold" on the events
channel), and — because the page muted what it had buffered — takes that audio back, so a reply that
resumes after a cough goes on from what the candidate really heard. Unit tests drive the output with a
fake clock (one pull per 20 ms frame, as the track pulls them); the Chromium test is in
``test_listener_hold_browser``.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc

from signaling import EventChannel, parse_client_message
from signaling._events import ListenerMessage
from signaling._output import WebRTCAudioOutput

pytestmark = pytest.mark.unit

FRAME = 960  # 20 ms at 48 kHz


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def numbered_reply(frames: int) -> rtc.AudioFrame:
    """A reply whose 20 ms frame k holds the value k + 1 in every sample: the listener can tell them apart."""
    pcm = np.repeat(np.arange(1, frames + 1, dtype=np.int16), FRAME)
    return rtc.AudioFrame(pcm.tobytes(), 48000, 1, pcm.size)


class Listener:
    """What the page does with holds: its audio is silent while held."""

    def __init__(self, out: WebRTCAudioOutput, clock: Clock) -> None:
        self.out, self.clock = out, clock
        self.holds: list[bool] = []
        self.heard: list[int] = []  # frame numbers pulled (None: silence)
        out.on_hold = self.told

    def told(self, held: bool) -> bool:
        self.holds.append(held)
        return True

    def play(self, n: int) -> list[int | None]:
        got: list[int | None] = []
        for _ in range(n):
            frame = self.out.pull_frame()
            self.clock.t += 0.02
            got.append(None if frame is None else int(np.frombuffer(frame.data, dtype=np.int16)[0]))
        return got


async def started(*, mutes: bool, frames: int = 50) -> tuple[WebRTCAudioOutput, Listener]:
    clock = Clock()
    out = WebRTCAudioOutput(clock=clock)
    out.listener_mutes = mutes
    listener = Listener(out, clock)
    out.start_pulling()  # as when a peer's track is attached
    await out.capture_frame(numbered_reply(frames))
    out.flush()
    return out, listener


async def test_a_resumed_reply_plays_again_what_the_muted_page_had_buffered():
    out, page = await started(mutes=True)
    try:
        assert page.play(10) == list(range(1, 11))
        out.pause()  # the candidate coughs over the reply
        assert page.holds == [True]  # the page goes silent at once
        assert page.play(3) == [None, None, None]
        out.resume()  # it was a cough: the reply goes on
        assert page.holds == [True, False]
        # the frames pulled less than 120 ms before the pause (5) were still in the page's buffer when it
        # muted: they are played again, nothing the candidate missed is lost
        assert page.play(3) == [6, 7, 8]
        rest = page.play(60)
        assert [f for f in rest if f is not None] == list(range(9, 51))
        ev = await asyncio.wait_for(out.wait_for_playout(), 5)
        assert not ev.interrupted and ev.playback_position == pytest.approx(1.0)
        assert out.stats.resent_frames == 5
    finally:
        await out.aclose()


async def test_an_interruption_after_a_hold_reports_only_what_the_candidate_heard():
    out, page = await started(mutes=True)
    try:
        page.play(10)
        out.pause()
        out.clear_buffer()  # words: livekit interrupts the paused reply
        ev = await asyncio.wait_for(out.wait_for_playout(), 5)
        assert ev.interrupted and ev.playback_position == pytest.approx(0.10)  # 10 pulled, 5 muted
    finally:
        await out.aclose()


async def test_a_listener_that_does_not_mute_is_not_replayed_anything():
    out, page = await started(mutes=False)
    try:
        page.play(10)
        out.pause()
        out.resume()
        assert page.play(2) == [11, 12]  # it heard frames 1-10 to the end
        assert out.stats.resent_frames == 0
    finally:
        await out.aclose()


async def test_an_interruption_silences_the_page_until_the_next_reply_plays():
    out, page = await started(mutes=True, frames=20)
    try:
        page.play(5)
        out.clear_buffer()  # livekit interrupts without a pause first
        assert page.holds == [True]
        await out.wait_for_playout()
        await out.capture_frame(numbered_reply(3))  # the next reply
        out.flush()
        assert page.holds == [True]
        # the page hears the new reply: the hold is lifted with its first frame (the track's pull)
        assert out._next_pcm() is not None
        assert page.holds == [True, False]
    finally:
        await out.aclose()


class FakeChannel:
    def __init__(self, state: str = "open") -> None:
        self.readyState = state
        self.sent: list[str] = []

    def send(self, data: str) -> None:
        self.sent.append(data)


def test_a_hold_goes_out_live_or_not_at_all():
    events = EventChannel()
    assert not events.send_live("hold", held=True)  # nobody connected: a stale hold would mute a reply
    channel = FakeChannel()
    events.attach(channel)
    assert channel.sent == []
    assert events.send_live("hold", held=False)
    assert channel.sent == ['{"type":"hold","held":false}']


def test_the_page_says_it_mutes_on_a_hold():
    assert parse_client_message('{"type":"listener","mutes_on_hold":true}') == ListenerMessage(True)
