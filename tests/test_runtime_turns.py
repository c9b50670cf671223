"""The text end-of-turn detector that keeps thinking pauses inside one answer."""

from __future__ import annotations

import pytest
from livekit.agents import llm

from agent._turns import TextTurnDetector, end_of_turn_probability, turn_handling
from agent.settings import AgentSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "So the first thing I would do is...",
        "I would look at the logs and",
        "We moved the queue to the",
        "Then, um",
        "The main reason was,",
        "and that's because",
    ],
)
def test_an_answer_that_trails_off_is_unlikely_to_be_finished(text: str) -> None:
    assert end_of_turn_probability(text) < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "And in the end the latency went down by half.",
        "That's how I did it",
        "I'm not sure what you mean",
        "I worked on that with",  # prepositions that often end a sentence are deliberately not dangling
        "Yes.",
        "",
    ],
)
def test_a_complete_looking_answer_ends_the_turn_promptly(text: str) -> None:
    assert end_of_turn_probability(text) > 0.5


async def test_detector_reads_the_last_candidate_message() -> None:
    ctx = llm.ChatContext()
    ctx.add_message(role="assistant", content="Tell me about a project.")
    ctx.add_message(role="user", content="Well, the project I'm proudest of is")
    det = TextTurnDetector()
    p = await det.predict_end_of_turn(ctx)
    assert p < (await det.unlikely_threshold("en"))  # type: ignore[operator]
    ctx.add_message(role="user", content="a billing system we rebuilt last year.")
    assert await det.predict_end_of_turn(ctx) > 0.5


def test_phone_turn_taking_waits_longer_than_web() -> None:
    s = AgentSettings()
    web, phone = turn_handling(s, telephony=False), turn_handling(s, telephony=True)
    # a thinking pause is not cut off: a trailing-off transcript gets the long delay, not the short one
    assert s.turn_detector == "auto" and web["endpointing"]["max_delay"] >= 3.0
    assert phone["endpointing"]["min_delay"] > web["endpointing"]["min_delay"]
    # the agent pauses at once for a barge-in; "mm-hmm" resumes it instead of cutting it off
    assert web["interruption"]["min_duration"] <= 0.25 and s.ignore_backchannels
    assert web["interruption"]["min_words"] == 0  # livekit would delay the pause itself by a transcript
    assert web["preemptive_generation"]["enabled"] and web["preemptive_generation"]["preemptive_tts"]
