"""``python -m bench turns`` waits, after each answer, for the agent's reply *to that answer* to finish
before the caller says the next one. "Some agent audio, then 1.5 s of quiet" is not that: piper's reply
can go quiet that long between sentences, and the caller then spoke its next answer over the rest of the
reply, which the bench counted as a cut-off. The end of a reply is the transport's end of the agent's
turn (WebRTC: state back to "listening"; phone: the mark after the reply's last frame) after the last
stretch of its audio, with nothing after it."""

from __future__ import annotations

import pytest

from bench._script import AwaitReply, AwaitTurn, Said, Say, Timeline, reply_finished
from bench._turns import barge_clips, barge_script, script, start_barge_scripts, word_after_sound_s

pytestmark = pytest.mark.unit


def frames(start: float, end: float) -> list[float]:
    n = round((end - start) / 0.02)
    return [round(start + i * 0.02, 4) for i in range(n)]


def answered_at(said_end: float, voiced: list[float], ends: list[float]) -> Timeline:
    return Timeline(said=[Said("answer:long:a", said_end - 20.0, said_end)], voiced=voiced, ends=ends)


def test_a_reply_that_goes_quiet_between_sentences_is_not_over_until_the_agent_ends_its_turn():
    # the reply: 2 s of speech, 1.7 s of quiet (a paced chunk late), 3 s more, then the turn ends
    tl = answered_at(10.0, [*frames(11.0, 13.0), *frames(14.7, 17.7)], ends=[17.8])
    in_the_gap = 14.6  # 1.6 s after the first sentence: the old "quiet for 1.5 s" rule said "replied"
    assert not reply_finished(tl, since=10.0, now=in_the_gap, settle_s=1.5)
    assert not reply_finished(tl, since=10.0, now=18.0, settle_s=1.5)  # just ended: let it settle
    assert reply_finished(tl, since=10.0, now=19.4, settle_s=1.5)


def test_a_turn_end_before_the_last_stretch_of_audio_does_not_count():
    # the agent said something short and ended its turn, then began a second reply that is still going
    tl = answered_at(10.0, [*frames(11.0, 12.0), *frames(13.5, 15.0)], ends=[12.1])
    assert not reply_finished(tl, since=10.0, now=17.0, settle_s=1.5)
    tl.ends.append(15.1)
    assert reply_finished(tl, since=10.0, now=17.0, settle_s=1.5)


def test_audio_that_stopped_without_the_turn_ending_is_still_a_reply_in_progress():
    # a reply the agent paused (it heard something) and has not resumed or ended
    tl = answered_at(10.0, frames(11.0, 12.0), ends=[])
    assert not reply_finished(tl, since=10.0, now=30.0, settle_s=1.5)


def test_nothing_said_after_the_answer_is_no_reply_even_if_a_turn_ended_before_it():
    # a cut-off inside the answer: the agent spoke and stopped while the caller was still talking
    tl = answered_at(10.0, frames(5.0, 6.0), ends=[6.1])
    assert not reply_finished(tl, since=10.0, now=30.0, settle_s=1.5)


def test_a_turn_end_that_arrives_just_before_the_last_frames_still_ends_the_reply():
    # WebRTC: the data channel's "listening" can overtake the last audio frames in the jitter buffer
    tl = answered_at(10.0, frames(11.0, 14.0), ends=[13.9])
    assert not reply_finished(tl, since=10.0, now=15.0, settle_s=1.5)
    assert reply_finished(tl, since=10.0, now=15.6, settle_s=1.5)


@pytest.mark.parametrize("transport", ["phone", "webrtc"])
def test_the_script_waits_for_the_end_of_the_agents_turn_after_every_answer_and_barge_in(transport):
    steps, chosen = script(transport, "cards_001,jfk")
    assert {a.name for a in chosen} == {"jfk", "cards_001"}
    barge_calls = [barge_script(transport), *start_barge_scripts(transport)]
    for call in [steps, *barge_calls]:
        assert not any(isinstance(s, AwaitReply) for s in call)
    said = [
        (s.tag, call[i + 1])
        for call in [steps, *barge_calls]
        for i, s in enumerate(call)
        if isinstance(s, Say)
    ]
    answers = [step for tag, step in said if tag.startswith("answer:") and not tag.endswith("barge-setup")]
    barges = [step for tag, step in said if tag.startswith("barge:")]
    assert len(answers) == 2
    assert all(isinstance(step, AwaitTurn) for step in answers + barges)
    # every real barge-in clip is spoken once mid-call and once over a greeting, each timed from its word
    clips = {c.name for c in barge_clips(8000 if transport == "phone" else 48000)}
    assert len(clips) >= 7 and sorted(tag for tag, _ in said if tag.startswith("barge:")) == sorted(
        [f"barge:{name}" for name in clips] * 2
    )
    assert set(word_after_sound_s(transport)) == {f"barge:{name}" for name in clips}
