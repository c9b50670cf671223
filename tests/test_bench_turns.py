"""``python -m bench turns`` arithmetic on synthetic timelines: a cut-off is agent audio starting inside an
answer's pause, the response time is counted only for answers that were not cut, and a question heard only
in part is one stored interrupted before its question mark."""

from __future__ import annotations

import numpy as np
import pytest

from bench._script import Said, Timeline
from bench._turns import analyse, bucket, partly_heard_questions
from tests.audio.corpus import Answer, Pause

pytestmark = pytest.mark.unit

RATE = 16_000


def frames(start: float, end: float) -> list[float]:
    n = round((end - start) / 0.02)
    return [round(start + i * 0.02, 4) for i in range(n)]


def two_sentences(name: str, pause_s: float) -> Answer:
    """1 s of "speech", a pause, 1 s of "speech" (a tone stands in for the voice)."""
    t = np.arange(RATE) / RATE
    voice = (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)
    pcm = np.concatenate([voice, np.zeros(round(pause_s * RATE), dtype=np.int16), voice])
    return Answer(name, "long", pcm, RATE, "", (Pause(1.0, pause_s, "sentence"),))


def test_agent_audio_starting_in_a_pause_is_a_cut_off_and_that_answer_has_no_response_time():
    cut, kept = two_sentences("cut", 1.2), two_sentences("kept", 1.0)
    tl = Timeline(
        said=[Said("answer:long:cut", 10.0, 13.2), Said("answer:long:kept", 30.0, 33.0)],
        # the agent starts 0.8 s into the first answer's pause, then replies 2.5 s after the second
        voiced=[*frames(11.8, 12.4), *frames(35.5, 38.0)],
    )
    cuts, long_ms, short_ms = analyse(tl, [cut, kept], "phone")
    assert cuts == {"0.8-1.6 s (sentence)": (1, 2)}
    assert long_ms == pytest.approx([2500.0]) and short_ms == []


def test_agent_audio_that_starts_just_after_the_candidate_resumed_was_still_decided_in_the_pause():
    a = two_sentences("late", 1.0)
    tl = Timeline(said=[Said("answer:long:late", 10.0, 13.0)], voiced=frames(12.3, 13.0))
    cuts, _, _ = analyse(tl, [a], "phone")
    assert cuts == {"0.8-1.6 s (sentence)": (1, 1)}


def test_pause_buckets():
    # by the whole silence the corpus labels: a nominal 1.5 s pause measures 1.57 s, a 4 s one 4.09 s
    assert [bucket(x) for x in (0.5, 1.57, 2.54, 4.09, 6.63)] == [
        "0.3-0.8 s (speaker's own)",
        "0.8-1.6 s (sentence)",
        "2-2.6 s (thinking)",
        "3-4.1 s (thinking)",
        "5-6.6 s (thinking)",
    ]


def test_a_question_cut_before_its_question_mark_was_heard_only_in_part():
    turns = [
        {"speaker": "agent", "kind": "greet", "interrupted": True, "text": "Hi, thanks for joining."},
        {"speaker": "candidate", "kind": "answer", "interrupted": False, "text": "Sorry?"},
        {"speaker": "agent", "kind": "ask", "interrupted": True, "text": "Tell me about a time you led?"},
        {"speaker": "agent", "kind": "ask", "interrupted": False, "text": "Tell me about a project."},
        {"speaker": "agent", "kind": "close", "interrupted": True, "text": "Thank you"},
    ]
    assert partly_heard_questions(turns) == 1


def test_a_barge_in_stops_the_agent_at_its_last_frame_before_real_quiet_not_at_a_comma():
    from bench._turns import barge_ins

    # the agent speaks 0-1 s, pauses 0.3 s between sentences, speaks again; the caller barges in at
    # 1.6 s and the agent's audio ends at 1.9 s for good
    tl = Timeline(said=[Said("barge:a", 1.6, 3.0)], voiced=[*frames(0.0, 1.0), *frames(1.3, 1.9), 4.5])
    got = barge_ins(tl, {})
    assert got.stops == pytest.approx([300.0]) and got.clears == [] and got.skipped == 0
    # an agent caught between two words that never went on stopped at once
    tl = Timeline(said=[Said("barge:a", 1.1, 3.0)], voiced=[*frames(0.0, 1.0), 4.5])
    assert barge_ins(tl, {}).stops == [0.0]
    # nobody was speaking: not a barge-in
    tl = Timeline(said=[Said("barge:a", 5.0, 6.0)], voiced=frames(0.0, 1.0))
    got = barge_ins(tl, {})
    assert (got.stops, got.clears, got.skipped) == ([], [], 1)


def test_a_barge_in_is_timed_from_its_first_word_not_a_breath_before_it():
    from bench._turns import barge_ins

    # the caller's clip starts with a breath; its first word comes 0.15 s later; the agent stops 0.3 s
    # after the breath, and Twilio's clear came 0.2 s after it
    tl = Timeline(said=[Said("barge:real:breathy", 1.6, 3.0)], voiced=frames(0.0, 1.9), clears=[1.8])
    got = barge_ins(tl, {"barge:real:breathy": 0.15})
    assert got.stops == pytest.approx([150.0]) and got.stops_sound == pytest.approx([300.0])
    assert got.clears == pytest.approx([50.0])
    assert got.by_clip == {"real:breathy": [150]}


def test_a_question_counts_as_scored_unheard_when_no_turn_of_it_was_heard_through_its_question_mark():
    from bench._turns import unheard_scored

    def agent(qid: str, text: str, interrupted: bool) -> dict:
        return {"speaker": "agent", "question_id": qid, "text": text, "interrupted": interrupted}

    def candidate(text: str) -> dict:
        return {"speaker": "candidate", "question_id": None, "text": text, "interrupted": False}

    turns = [
        agent("q1", "Hi, thanks for", True),  # the greeting and first question, cut at once
        candidate("Sorry, go on."),  # ...and the answer is attached to q1: scored, never heard
        agent("q2", "Thank you. Tell me about a project?", False),
        candidate("I built a queue."),
        agent("q3", "Got", True),
        candidate("One more thing."),
        agent("q3", "How would you scale it?", False),  # asked again, heard this time
    ]
    assert unheard_scored(turns) == (1, 3)


def test_a_short_run_says_each_short_reply_twice_and_never_barges_in():
    from bench._script import Say
    from bench._turns import script

    steps, chosen = script("phone", "short")
    said = [s.tag for s in steps if isinstance(s, Say)]
    assert said and all(t.startswith("answer:short:") for t in said)  # no barge-in, no set-up for one
    assert len(said) == 2 * len({t for t in said}) == len(chosen)


def test_a_short_replys_stages_line_up_with_the_servers_turn_that_began_with_it():
    from bench._turns import short_stages

    reply = Answer("cards_001", "short", np.zeros(RATE, dtype=np.int16), RATE, "ten of clubs")
    # the caller's clock: an answer at 100 s, the short reply at 120-121 s, the agent heard 0.8 s later
    tl = Timeline(
        said=[Said("answer:long:first", 100.0, 110.0), Said("answer:short:cards_001", 120.0, 121.0)],
        voiced=[*frames(113.0, 118.0), *frames(121.8, 124.0)],
    )
    # the server's clock (seconds from the interview's start): the same turns, 95 s earlier
    server = {
        "turns": [
            {"speaker": "agent", "started_at": 0.2},
            {"speaker": "candidate", "started_at": 5.0},
            {"speaker": "agent", "started_at": 18.0},
            {"speaker": "candidate", "started_at": 25.0},
            {"speaker": "agent", "started_at": 26.7},
        ],
        "metrics": [
            {"seq": 3, "eou_delay_ms": 3800.0, "v2v_ms": 3900.0},
            {"seq": 5, "eou_delay_ms": 610.0, "v2v_ms": 700.0, "stt_ms": 520.0, "tts_ttfb_ms": 90.0},
        ],
    }
    (row,) = short_stages(tl, server, [reply], "webrtc")
    assert row["name"] == "cards_001"
    assert row["caller_ms"] == pytest.approx(800.0)
    assert row["eou_delay_ms"] == 610.0 and row["v2v_ms"] == 700.0  # the reply to it, not the answer's
    assert row["after_vad_ms"] == pytest.approx(10.0)  # after the VAD's 0.6 s window
    assert row["transport_ms"] == pytest.approx(100.0)
