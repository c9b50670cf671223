"""A real speaker opens an answer with "We had a long discussion about", pauses 1.29 s and goes on. On a
phone call the interviewer took the floor in that pause: tiny.en wrote the stretch without punctuation
(over WebRTC "...about." with a full stop), six words to an open question read as a short complete reply,
and Smart Turn, hearing the pause after it, said finished, so the quick wait cut the candidate off
(``python -m bench turns``, BENCHMARKS.md). A short turn to an open question that stops on a preposition
wanting its object is the first stretch of an answer: it gets the answer wait, whatever whisper's
punctuation or the audio model says. Short replies keep their quick response.

The transcripts are tiny.en's, on the corpus's ``meeting_chan3`` speaker (``tests/audio/corpus.py``); the
audio model's numbers are Smart Turn v3.2 on the 8 kHz phone version 0.35 s and 0.6 s into that pause.
"""

from __future__ import annotations

import asyncio

import pytest

from agent._turns import TextTurnDetector, decide, needs_audio, trails_off, wants_object
from agent.settings import TurnTuning
from tests.test_turns_decision import _ctx

pytestmark = pytest.mark.unit

PROBE = "How did it turn out, and how did you know it had worked?"  # asked before the cut, phone run
DID_IT_WORK = "Did the fix hold in the end?"
PHONE = "We had a long discussion about"  # tiny.en, phone band, the stretch before the 1.29 s pause
WITH_STOP = "We had a long discussion about."  # as whisper writes it on browser audio
HEARD_FINISHED = (0.66, 0.98)  # Smart Turn 0.35 s / 0.6 s into the pause (phone)


def test_the_phone_transcript_is_short_and_not_trailing_off_so_the_audio_would_decide() -> None:
    # why the old rule gave the quick wait: "about" can end a sentence, and six words is a short reply
    assert not trails_off(PHONE) and needs_audio(PHONE)
    assert wants_object(PHONE)


@pytest.mark.parametrize("finished", [*HEARD_FINISHED, None, 0.1])
def test_a_short_first_stretch_that_stops_on_about_keeps_the_floor_whatever_the_audio_says(
    finished: float | None,
) -> None:
    verdict = decide(question=PROBE, answer=PHONE, finished=finished)
    assert verdict.wait == "answer"


@pytest.mark.parametrize("finished", [*HEARD_FINISHED, None])
def test_whispers_full_stop_after_the_preposition_changes_nothing(finished: float | None) -> None:
    assert decide(question=PROBE, answer=WITH_STOP, finished=finished).wait == "answer"


def test_whispers_comma_after_it_is_forgiven_only_to_wait_for_the_answer() -> None:
    assert decide(question=PROBE, answer="We had a long discussion about,", finished=0.98).wait == "answer"
    assert decide(question=PROBE, answer="We had a long discussion about,", finished=0.1).wait == "hold"


@pytest.mark.parametrize(
    "said",
    ["It was like.", "We had some trouble with", "I was responsible for.", "We worked closely with."],
)
def test_other_prepositions_wanting_their_object_wait_too(said: str) -> None:
    assert decide(question=PROBE, answer=said, finished=0.95).wait == "answer"


@pytest.mark.parametrize(
    ("question", "said", "finished"),
    [
        (PROBE, "Ten of clubs.", 0.93),
        (PROBE, "Ten of clubs.", None),
        (PROBE, "7 of clubs,", 0.93),
        (PROBE, "Go forward 10 meters.", 0.9),
        (PROBE, "Go somewhere and do something.", 0.9),
        (PROBE, "I don't know.", None),
        (PROBE, "I don't know what you mean by that.", None),
        (PROBE, "Sorry, what should I talk about?", 0.9),  # a question to the interviewer
        (PROBE, "What was it about?", None),
        (DID_IT_WORK, "Yes, it was what we hoped for.", 0.9),  # a yes/no question wants a short reply
        (DID_IT_WORK, "Yes.", None),
    ],
)
def test_short_replies_keep_their_quick_response(question: str, said: str, finished: float | None) -> None:
    assert decide(question=question, answer=said, finished=finished).wait == "quick"


class _HeardFinished(TextTurnDetector):
    """The session's detector as the phone run had it: the audio model says finished."""

    async def finished_probability(self) -> float | None:
        return HEARD_FINISHED[0]


async def test_the_detector_waits_out_the_pause_after_about_and_answers_ten_of_clubs_at_once() -> None:
    silence = [0.3]  # the verdict came 0.2-0.3 s into the 1.29 s pause
    det = _HeardFinished(tuning=TurnTuning(answer_pause_delay=2.8), silence=lambda: silence[0])
    task = asyncio.ensure_future(det.predict_end_of_turn(_ctx(PROBE, PHONE)))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not task.done()  # still listening: the candidate's next words will cancel it
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # a short reply is answered at once (the quick wait is livekit's min delay)
    assert await det.predict_end_of_turn(_ctx(PROBE, "Ten of clubs.")) > 0.5
