"""Whisper writes a comma after a short reply that is finished ("Seven of clubs,"), more often on browser
audio than on the phone. Read as trailing off, it made the candidate wait the 4.5 s hold after a short
reply over WebRTC. A short turn whose only sign of trailing off is that comma is asked about the audio:
a reply that sounds finished gets the quick response; one that does not, or with no audio model, is held
as before. Words that trail off ("...and the,", "um,") are held whatever the audio says."""

from __future__ import annotations

import pytest

from agent._turns import decide, needs_audio, only_a_comma

pytestmark = pytest.mark.unit

SAY_MORE = "Can you say more about how that would work in practice?"


def test_a_short_reply_with_whispers_comma_that_sounds_finished_gets_a_quick_response():
    assert needs_audio("7 of clubs,")
    verdict = decide(question=SAY_MORE, answer="7 of clubs,", finished=0.93)
    assert verdict.wait == "quick"


def test_the_same_reply_that_does_not_sound_finished_or_without_an_audio_model_is_held():
    assert decide(question=SAY_MORE, answer="Go forward 10 meters,", finished=0.1).wait == "hold"
    assert decide(question=SAY_MORE, answer="Go forward 10 meters,", finished=None).wait == "hold"


def test_a_comma_after_words_that_trail_off_is_held_whatever_the_audio_says():
    for said in ("So the first thing, um,", "We moved it to the,", "And,"):
        assert not only_a_comma(said)
        assert decide(question=SAY_MORE, answer=said, finished=0.99).wait == "hold"


def test_a_long_turn_ending_in_a_comma_is_still_held():
    long = "We had a queue in front of the database and the workers were falling behind,"
    assert not needs_audio(long)
    assert decide(question=SAY_MORE, answer=long, finished=0.99).wait == "hold"


def test_a_short_reply_to_an_open_question_that_sounds_finished_but_opens_an_account_waits_for_it():
    # the comma is forgiven, the preface rule still applies: "Well, at my last job," is a start
    assert decide(question=SAY_MORE, answer="Well, at my last job,", finished=0.9).wait == "answer"
