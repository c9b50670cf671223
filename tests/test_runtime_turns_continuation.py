"""Through the real pipeline: a candidate who goes on with their answer over the start of the agent's reply
is still answering, and the turn detector is asked about the whole answer, not a new short turn.

The runtime, session, interruptions and chat context are real; the voice, recogniser and synthesiser are
the fakes of tests/fakes/speech.py (the synthesiser speaks slowly, so speech as soon as the reply starts
lands in its lead-in "Thank you."). The detector is the product's context rule with a short answer wait
(the fake voice's pauses are not a candidate's); it notes what each end-of-turn decision read.
"""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import llm

from agent import AgentRuntime
from agent._turns import TextTurnDetector, TurnContext, turn_context
from agent.settings import TurnTuning
from storage import Database
from tests.fakes.speech import EnergyVAD, ScriptSTT, Timeline, ToneTTS
from tests.test_runtime import SCRIPT, eventually, fast_settings, make_interview
from tests.test_runtime_heard import Caller, speaks_over_next_reply

pytestmark = pytest.mark.integration

ANSWER = SCRIPT[0]
GOES_ON = "and then we moved the whole queue onto a second database"


class NotingDetector(TextTurnDetector):
    """The context rule, noting the turn each decision read."""

    def __init__(self, seen: list[TurnContext]) -> None:
        super().__init__(tuning=TurnTuning(min_endpointing_delay=0.3, answer_pause_delay=0.3))
        self.seen = seen

    def with_tuning(self, tuning: TurnTuning) -> TextTurnDetector:
        return self  # keep the short answer wait and the notes

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:  # noqa: ASYNC109
        self.seen.append(turn_context(chat_ctx))
        return await super().predict_end_of_turn(chat_ctx, timeout=timeout)


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(utterances=[ANSWER, GOES_ON], ms_per_word=40)


async def test_speaking_on_over_the_replys_lead_in_continues_the_answer(
    timeline: Timeline, sqlite_db: Database
) -> None:
    seen: list[TurnContext] = []
    runtime = AgentRuntime(
        vad=EnergyVAD(), stt=ScriptSTT(timeline), tts=ToneTTS(ms_per_word=150), settings=fast_settings(),
        database=sqlite_db, turn_detector=NotingDetector(seen),
    )  # fmt: skip
    iv = make_interview(sqlite_db)
    c = Caller(runtime, iv, timeline, "web")
    try:
        await c.start()
        await c.answer(0, after_segments=1)
        await speaks_over_next_reply(c, 1)  # over "Thank you. ..." before the next question

        async def decided_on_the_rest() -> Any:
            return [t for t in seen if t.latest.strip().lower().startswith("and then we moved")]

        after_cut = (await eventually(decided_on_the_rest, "a decision on the words after the cut"))[-1]
    finally:
        await c.close()
        await runtime.aclose()
    assert after_cut.continues
    assert after_cut.answer.lower().startswith(ANSWER.lower().rstrip(".")[:30])
    assert "?" in after_cut.question  # judged against the question the answer was to, not the cut reply
