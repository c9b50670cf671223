"""When does a candidate's silence end their turn? The context rule of ``agent/_turns.py``, pause by pause.

Each case is a moment in an interview: what the interviewer last said, what the candidate has said so far
in this turn (as whisper writes it), and the wait the rule picks: ``quick`` (reply promptly), ``answer``
(a sentence inside an answer: wait out an ordinary pause between sentences) or ``hold`` (the candidate
trails off: wait out a thinking pause).
"""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import llm

from agent._turns import (
    TextTurnDetector,
    answer_wait,
    decide,
    expects_long_answer,
    needs_audio,
    trails_off,
    turn_handling,
)
from agent.settings import AgentSettings, TurnTuning

pytestmark = pytest.mark.unit

OPEN = "Walk me through a production incident you helped resolve. How did you find the cause?"
CHECK_IN = "Just checking in. Would it help if I repeated the question?"


def test_a_finished_sentence_ending_on_was_is_finished_with_its_full_stop() -> None:
    assert not trails_off("He might have been made still more respectable than he was.")
    assert trails_off("He might have been made still more respectable than he was")
    assert not trails_off("That is what it is.")
    assert trails_off("The reason we did it is")


def test_whisper_s_full_stop_after_a_conjunction_article_or_filler_changes_nothing() -> None:
    assert trails_off("So the first thing, um.")
    assert trails_off("Uh.")
    assert trails_off("We moved the queue to the.")
    assert trails_off("And then we rolled back and.")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (OPEN, True),
        ("Tell me about a mistake you made at work and how you handled it.", True),
        ("Could you give me a specific example from your own experience?", True),
        ("Can you walk me through a concrete example of that?", True),
        (CHECK_IN, False),
        ("Are you still there? Take your time, and tell me if you'd like me to repeat the question.", False),
        ("", True),
    ],
)
def test_open_questions_expect_an_account_and_yes_no_questions_a_short_reply(
    question: str, expected: bool
) -> None:
    assert expects_long_answer(question) is expected


@pytest.mark.parametrize(
    ("question", "answer", "wait"),
    [
        # mid-answer: a complete sentence in a long answer keeps the floor through a sentence pause
        (
            OPEN,
            "We had an outage on the checkout service last spring and I was on call that night.",
            "answer",
        ),
        (
            OPEN,
            "Had he married a more amiable woman, he might have been made more respectable than he was.",
            "answer",
        ),
        # trailing off: a thinking pause
        (OPEN, "So the first thing I looked at was the", "hold"),
        (OPEN, "We rolled back the deploy, and", "hold"),
        (OPEN, "Let me think...", "hold"),
        (OPEN, "Yeah,", "hold"),
        # short replies get a quick response
        (OPEN, "Could you repeat that?", "quick"),
        (OPEN, "Sorry, could you repeat the question please?", "quick"),
        (OPEN, "I don't know.", "quick"),
        (OPEN, "Honestly, I'm not sure.", "quick"),
        (OPEN, "Can we skip this one?", "quick"),
        (CHECK_IN, "Yes, please.", "quick"),
        (CHECK_IN, "No, I'm fine, thanks, just thinking.", "quick"),
        (OPEN, "Ten of clubs.", "quick"),
        (OPEN, "No, never.", "quick"),
        (OPEN, "", "quick"),
        # ...but a short turn that opens like an account is the start of the answer
        (OPEN, "And so, my fellow Americans.", "answer"),
        (OPEN, "Well, at my last job.", "answer"),
        (OPEN, "Okay.", "answer"),
        (CHECK_IN, "Okay.", "quick"),
        (OPEN, "So, I don't know.", "quick"),
    ],
)
def test_the_wait_after_a_pause_follows_the_conversation(question: str, answer: str, wait: str) -> None:
    assert decide(question=question, answer=answer).wait == wait


def test_an_audio_model_that_hears_an_unfinished_short_reply_keeps_the_floor() -> None:
    assert decide(question=OPEN, answer="I worked at a bank.", finished=0.9).wait == "quick"
    assert decide(question=OPEN, answer="I worked at a bank.", finished=0.2).wait == "answer"
    # it never shortens a long answer's wait, nor a trailing one
    assert decide(question=OPEN, answer="So I worked at a bank and", finished=0.99).wait == "hold"
    long = "I led the migration of our billing system to the new platform."
    assert decide(question=OPEN, answer=long, finished=0.99).wait == "answer"
    # a finished long sentence that happens to sound unfinished is not held the long delay either
    assert decide(question=OPEN, answer=long, finished=0.01).wait == "answer"
    # so the model is only asked about short complete turns
    assert needs_audio("I worked at a bank.") and not needs_audio(long)
    assert not needs_audio("So I worked at a bank and") and not needs_audio("")


def test_the_three_waits_are_ordered_on_both_transports() -> None:
    s = AgentSettings()
    for t in (s.web, s.phone):
        assert t.min_endpointing_delay < 1.0 < 1.5 < t.answer_pause_delay < t.max_endpointing_delay
        assert t.max_endpointing_delay >= 4.0  # a 4 s thinking pause after a trailing word keeps the floor


def test_a_candidate_who_paused_to_think_and_went_on_gets_room_for_the_next_pause() -> None:
    t = TurnTuning(answer_pause_delay=2.5, max_endpointing_delay=4.5, answer_pause_rhythm=1.5)
    # a fluent answer: sentence pauses of a second or so change nothing
    assert answer_wait(t) == answer_wait(t, resumed=[0.8, 1.2, 1.5]) == 2.5
    # they stopped 2 s and went on: a finished sentence now waits 3 s, after a 3 s pause the hold
    assert answer_wait(t, resumed=[1.0, 2.0]) == pytest.approx(3.0)
    assert answer_wait(t, resumed=[3.0, 1.0]) == 4.5
    assert answer_wait(t, resumed=[9.0]) == 4.5  # never longer than a trailing-off pause is held
    assert answer_wait(t.model_copy(update={"answer_pause_rhythm": 0.0}), resumed=[3.0]) == 2.5


def _ctx(question: str, answer: str) -> llm.ChatContext:
    ctx = llm.ChatContext()
    ctx.add_message(role="assistant", content=question)
    ctx.add_message(role="user", content=answer)
    return ctx


async def test_the_detector_waits_out_a_sentence_pause_until_the_silence_is_long_enough() -> None:
    silence = [0.0]
    tuning = TurnTuning(answer_pause_delay=1.8)
    det = TextTurnDetector(tuning=tuning, silence=lambda: silence[0])
    answer = "We had an outage on the checkout service last spring and I was on call that night."
    # the candidate has already been silent for the whole wait: the turn ends now (likely)
    silence[0] = 1.8
    assert await det.predict_end_of_turn(_ctx(OPEN, answer)) > 0.5
    # silent for only 0.6 s: the detector does not answer yet; a new start of speech cancels it
    silence[0] = 0.6
    task = asyncio.ensure_future(det.predict_end_of_turn(_ctx(OPEN, answer)))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_candidate_heard_again_before_the_vad_says_so_keeps_the_floor() -> None:
    """On a loaded machine the VAD can be behind real time: the audio tap hears the candidate resume
    first, and the detector waits a whole answer wait of silence again (the VAD's start of speech then
    cancels it)."""
    readings = iter([0.1, 0.05, 0.2, 0.2])  # silent 0.1 s at the end of speech; speaking again; silent
    heard: list[float] = []

    def silence() -> float:
        heard.append(next(readings))
        return heard[-1]

    det = TextTurnDetector(tuning=TurnTuning(answer_pause_delay=0.2), silence=silence)
    answer = "We had an outage on the checkout service last spring and I was on call that night."
    assert await det.predict_end_of_turn(_ctx(OPEN, answer)) > 0.5
    assert heard == [0.1, 0.05, 0.2]  # the turn ended only after a full 0.2 s of silence


class _Thinker(TextTurnDetector):
    """A detector whose candidate has already paused 2 s in this turn and gone on."""

    def resumed_pauses(self, chat_ctx: llm.ChatContext) -> tuple[float, ...]:
        return (2.0,)


async def test_after_a_thinking_pause_the_next_sentence_pause_is_waited_out_longer() -> None:
    silence = [2.5]
    tuning = TurnTuning(answer_pause_delay=2.5, answer_pause_rhythm=1.5)
    answer = "We had an outage on the checkout service last spring and I was on call that night."
    # the fluent candidate's 2.5 s of silence ends the turn
    assert (
        await TextTurnDetector(tuning=tuning, silence=lambda: silence[0]).predict_end_of_turn(
            _ctx(OPEN, answer)
        )
        > 0.5
    )
    # the one who has paused 2 s and gone on still has the floor after 2.5 s...
    task = asyncio.ensure_future(
        _Thinker(tuning=tuning, silence=lambda: silence[0]).predict_end_of_turn(_ctx(OPEN, answer))
    )
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # ...and loses it after 3 s
    silence[0] = 3.0
    assert (
        await _Thinker(tuning=tuning, silence=lambda: silence[0]).predict_end_of_turn(_ctx(OPEN, answer))
        > 0.5
    )


async def test_quick_and_hold_answer_at_once() -> None:
    det = TextTurnDetector(silence=lambda: 0.0)
    threshold = await det.unlikely_threshold("en")
    assert await det.predict_end_of_turn(_ctx(OPEN, "Could you repeat that?")) > threshold  # type: ignore[operator]
    assert await det.predict_end_of_turn(_ctx(OPEN, "So the first thing I'd do is")) < threshold  # type: ignore[operator]


def test_each_transport_gets_its_own_answer_wait() -> None:
    s = AgentSettings()
    det = TextTurnDetector()
    web = turn_handling(s, telephony=False, turn_detector=det)["turn_detection"]
    phone = turn_handling(s, telephony=True, turn_detector=det)["turn_detection"]
    assert web._tuning.answer_pause_delay == s.web.answer_pause_delay  # type: ignore[union-attr]
    assert phone._tuning.answer_pause_delay == s.phone.answer_pause_delay  # type: ignore[union-attr]
