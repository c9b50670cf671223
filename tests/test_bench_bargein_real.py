"""``bench bargein --speech real`` measures a barge-in from the candidate's first word, not from a click or
a breath before it, and splits the WebRTC stop into the server's pause, the packet's arrival and the
caller's playout (``bench/_bargein_real.py``, ``bench/_bargein_clips.py``)."""

from __future__ import annotations

import pytest

from bench._bargein_clips import barge_clips, word_onset_s
from bench._bargein_real import analyse
from bench._script import FRAME_S, Said, Timeline

pytestmark = pytest.mark.unit


def test_the_first_word_of_each_real_clip_is_after_the_click_or_breath_before_it() -> None:
    clips = {c.name: c for c in barge_clips(16000)}
    first_sound = {n: c.voiced_bounds()[0] for n, c in clips.items()}
    word = {n: word_onset_s(c) for n, c in clips.items()}
    # LibriVox's "He was…": pocketsphinx's alignment puts "he" at 0.21 s; the breath at 0.03 s is not speech
    assert word["real:librivox_0880"] == pytest.approx(0.21)
    assert first_sound["real:librivox_0880"] == pytest.approx(0.03)
    # JFK's "And so…" and "ten of clubs" start after a click in the recording's noise
    assert word["real:jfk"] - first_sound["real:jfk"] > 0.1
    assert word["real:cards_001"] - first_sound["real:cards_001"] > 0.05
    # where the first sound is the word ("seven" starts with its "s"), both are the same
    for name in ("real:cards_003", "real:goforward", "real:something", "real:meeting_chan3"):
        assert word[name] == pytest.approx(first_sound[name])
    # the phone band keeps the same word starts
    assert {c.name: word_onset_s(c) for c in barge_clips(8000)} == pytest.approx(word)


def test_a_barge_in_is_timed_from_the_first_word_and_split_at_the_server_pause_and_the_packet() -> None:
    """Seven barge-ins (one per clip, in the script's order), each over an agent that is speaking: the
    server pauses 100 ms after the caller's first voiced frame, the last agent packet arrives 120 ms after
    it and is played (decoded) 90 ms later."""
    names = [c.name for c in barge_clips(16000)]
    tl, pauses = Timeline(), []
    for k in range(len(names)):
        start = 10.0 * (k + 1)
        agent = [start - 1.0 + i * FRAME_S for i in range(60)]  # speaking from 1 s before, until +0.2 s
        last = agent[-1]
        tl.voiced += agent
        tl.packet_arrival[last] = last - 0.09
        tl.said.append(Said("barge", start=start, end=start + 1.0))
        pauses.append(start + 0.1)
    result = analyse(tl, pauses, "webrtc", min_interruption_s=0.15)
    rows = {r["clip"]: r for r in result.rows}
    stop_ms = (0.18 + FRAME_S) * 1000.0  # the last frame ends 200 ms after the first voiced frame left
    librivox = rows["real:librivox_0880"]
    assert librivox["stop_ms"] == pytest.approx(stop_ms)
    # the bench stamps the start of the 20 ms frame holding the breath (0.02 s); the word is at 0.21 s
    assert librivox["stop_word_ms"] == pytest.approx(stop_ms - 190.0)
    assert librivox["word_to_pause_ms"] == pytest.approx(100.0 - 190.0)
    assert librivox["stop_word_packet_ms"] == pytest.approx(stop_ms - 190.0 - 90.0)
    assert librivox["after_pause_packet_ms"] == pytest.approx(stop_ms - 100.0 - 90.0)
    assert rows["real:goforward"]["stop_word_ms"] == pytest.approx(stop_ms)  # the first sound is the word
    assert result.stop_word.n == len(names) and result.stop_word_packet.n == len(names)


def test_a_webrtc_caller_that_mutes_on_the_hold_hears_the_agent_stop_when_the_hold_arrives() -> None:
    """The same barge-ins; the hold arrives 30 ms after the server pauses and the caller mutes there, so
    of the agent frames aiortc still decodes after it (its jitter buffer) none are heard."""
    names = [c.name for c in barge_clips(16000)]
    tl, pauses = Timeline(), []
    for k in range(len(names)):
        start = 10.0 * (k + 1)
        pause, hold = start + 0.1, start + 0.13
        agent = [start - 1.0 + i * FRAME_S for i in range(60)]  # decoded until +0.18 s
        tl.voiced_wire += agent
        tl.voiced += [t for t in agent if t < hold]  # muted from the hold on
        tl.holds.append((hold, True))
        tl.said.append(Said("barge", start=start, end=start + 1.0))
        pauses.append(pause)
    result = analyse(tl, pauses, "webrtc", min_interruption_s=0.15)
    goforward = {r["clip"]: r for r in result.rows}["real:goforward"]
    assert goforward["stop_word_ms"] == pytest.approx(140.0)  # the last frame heard began at +0.12 s
    assert goforward["stop_word_wire_ms"] == pytest.approx(200.0)  # what aiortc decoded, hold ignored
    assert goforward["after_pause_hold_ms"] == pytest.approx(30.0)
    assert result.stop_word_wire.n == result.stop_word.n == len(names)


def test_on_a_telephone_band_the_s_of_seven_is_gone_and_its_first_word_starts_later() -> None:
    """What a phone line delivers (300-3400 Hz): "seven"'s "s" is above the band, so the word is heard
    ~100 ms later there; words that start voiced keep their start. Reported beside the wideband word."""
    shift = {c.name: c.band_shift_s for c in barge_clips(8000)}
    assert shift["real:cards_003"] == pytest.approx(0.10, abs=0.02)
    for name in ("real:meeting_chan3", "real:jfk", "real:cards_001", "real:something"):
        assert shift[name] == pytest.approx(0.0)
    assert max(shift.values()) == shift["real:cards_003"]
