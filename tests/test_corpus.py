"""The real-speech corpus labels every pause with the whole silence a listener hears there.

A turn-taking bench counts a cut-off when the agent speaks inside a pause, by the pause's length; a label
shorter than the silence the agent heard makes a 3.5 s silence count as a 2 s thinking pause (the WebRTC
cuts of BENCHMARKS.md "Quiet machine, after the audio tap fix" were exactly that)."""

from __future__ import annotations

import itertools

import pytest

from tests.audio import corpus

pytestmark = pytest.mark.unit


def _answer(name: str) -> corpus.Answer:
    return next(a for a in corpus.answers() if a.name == name)


def _covering(answer: corpus.Answer, at_s: float) -> corpus.Pause:
    return next(p for p in answer.pauses if p.start_s <= at_s <= p.end_s)


def test_a_speakers_silence_with_clicks_and_breaths_in_it_is_one_pause() -> None:
    # meeting_chan3 says nothing from "...make it hard." to "Did it" (whisper and the VAD hear no word);
    # a 30 ms click and 10-40 ms breaths in between split it into 0.62 + 1.47 s and 0.45 + 0.99 + 1.98 s
    answer = _answer("meeting_chan3")
    silence = _covering(answer, 10.0)
    assert silence == _covering(answer, 12.0) == _covering(answer, 13.2) == _covering(answer, 15.0)
    assert silence.start_s == pytest.approx(9.83, abs=0.03)
    assert silence.end_s == pytest.approx(16.46, abs=0.03)
    # JFK: "...ask not" 0.1 s, a 10 ms click, 0.99 s, "what your country": one 1.1 s pause
    assert _covering(_answer("jfk"), 4.35).length_s == pytest.approx(1.1, abs=0.03)


def test_a_stretched_thinking_pause_is_labelled_with_the_whole_silence() -> None:
    plain, stretched = _answer("meeting_chan3"), _answer("meeting_chan3+thinking")
    thinking = [p for p in stretched.pauses if p.kind == "thinking"]
    assert len(thinking) == 1
    # the speaker's own pause before "Morgan wants to make it hard", stretched to 2.5 s of silence
    assert thinking[0].length_s == pytest.approx(2.5, abs=0.01)
    added = stretched.duration_s - plain.duration_s
    assert thinking[0].length_s - _covering(plain, thinking[0].start_s + 0.1).length_s == pytest.approx(added)
    # the pauses after it are the same silences, later by what was added
    after = [p for p in stretched.pauses if p.start_s > thinking[0].start_s]
    before = [p for p in plain.pauses if p.start_s > thinking[0].start_s]
    assert [round(p.start_s - added, 1) for p in after] == [round(p.start_s, 1) for p in before]
    assert [p.length_s for p in after] == pytest.approx([p.length_s for p in before], abs=0.05)


def test_an_inserted_pause_is_labelled_with_the_quiet_word_ends_around_it() -> None:
    # the LibriVox sentences are cut at the alignment's word boundaries, whose ends are quiet: the silence
    # heard is the inserted one and a little more, never less
    answer = _answer("thinking-pauses")
    put = [1.0, 2.0, None, 3.0, 1.2, 4.0, 0.8, 5.0]  # as corpus.long_answers inserts them
    extra = []
    for p, seconds in zip(answer.pauses, put, strict=True):
        if seconds is not None:
            assert seconds <= p.length_s <= seconds + 0.15, (p, seconds)
            extra.append(p.length_s - seconds)
    assert max(extra) >= 0.05  # the "4 s" thinking pause is 4.09 s of silence


@pytest.mark.parametrize("name", ["meeting_chan3", "meeting_chan3+thinking", "jfk", "thinking-pauses"])
def test_the_agents_vad_hears_speech_between_any_two_pauses(name: str) -> None:
    answer = _answer(name)
    window, p_speech = corpus._speech_probability(answer.samples)

    def heard(a: float, b: float) -> float:
        return float(p_speech[int(a / window) : int(b / window) + 1].max(initial=0.0))

    # two pauses are two only if the candidate spoke between them: a click or a breath is not speech
    for p, q in itertools.pairwise(answer.pauses):
        # silero hears a sound up to ~0.1 s late
        assert heard(p.end_s, q.start_s + 0.1) >= 0.5, (p, q)
