"""The interview's vocabulary reaches the speech recogniser of a live interview.

Through the real runtime (tests/test_runtime.py's scripted candidate): while the candidate answers a
question, the session's recogniser is primed with that question's words, its key points, the role's skills
and the job description's keywords; the next question re-primes it; the STT shared by all sessions is
never primed with one interview's words.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit.agents import NOT_GIVEN, stt
from livekit.agents.types import APIConnectOptions, NotGivenOr
from livekit.agents.utils import AudioBuffer

from agent import AgentRuntime
from agent._vocabulary import interview_vocabulary
from agent.plans import PlanSpec, build_plan
from storage import Database, Interview, InterviewPlan
from tests.fakes.speech import EnergyVAD, ScriptSTT, Timeline, ToneTTS
from tests.test_runtime import SCRIPT, Candidate, fast_settings

pytestmark = pytest.mark.integration

JOB = "Backend engineer for our billing platform: Kafka, Postgres and Redis in production, idempotency."


class PrimedScriptSTT(ScriptSTT):
    """The script recogniser, noting the vocabulary each recognised utterance was decoded with."""

    def __init__(self, timeline: Timeline, heard: list[tuple[str, str]]) -> None:
        super().__init__(timeline)
        self.context = ""
        self.heard = heard  # shared by the session views (shallow copies) of this STT

    def set_context(self, context: str) -> None:
        self.context = context

    async def _recognize_impl(self, buffer: AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions) -> stt.SpeechEvent:  # fmt: skip
        ev = await super()._recognize_impl(buffer, language=language, conn_options=conn_options)
        if ev.alternatives[0].text:
            self.heard.append((ev.alternatives[0].text, self.context))
        return ev


def _interview(db: Database) -> tuple[str, PlanSpec]:
    plan = build_plan(role="backend engineer", question_count=2, seed=3, job_description=JOB)
    with db.session() as s:
        row = InterviewPlan(title="t", role=plan.role, question_count=2, spec=plan.to_json())
        s.add(row)
        s.flush()
        iv = Interview(plan_id=row.id, candidate_name="Ada")
        s.add(iv)
        s.flush()
        return iv.id, plan


async def test_each_answer_is_decoded_with_the_vocabulary_of_its_question(db: Database) -> None:
    timeline = Timeline(utterances=list(SCRIPT), ms_per_word=40)
    heard: list[tuple[str, str]] = []
    shared = PrimedScriptSTT(timeline, heard)
    runtime = AgentRuntime(vad=EnergyVAD(), stt=shared, tts=ToneTTS(ms_per_word=60),
                           settings=fast_settings(), database=db)  # fmt: skip
    interview_id, plan = _interview(db)
    first, second = plan.questions
    c = Candidate(runtime, interview_id, timeline)
    try:
        await c.start()
        await c.answer(0, after_segments=1)  # the greeting asked the first question
        await c.answer(1, after_segments=2)  # the agent's reply asked the second
        assert await asyncio.wait_for(c.handle.wait(), 60) == "completed"
    finally:
        await c.close()
        await runtime.aclose()
    contexts: dict[str, Any] = dict(heard)
    assert set(contexts) == {SCRIPT[0], SCRIPT[1]}
    # the first answer: the first question's key points and tags, the job description's terms
    assert contexts[SCRIPT[0]] == interview_vocabulary(plan, first)
    assert first.tags[0] in contexts[SCRIPT[0]] and "kafka" in contexts[SCRIPT[0]].lower()
    # the second answer: its own question's words come first now
    assert contexts[SCRIPT[1]] == interview_vocabulary(plan, second)
    assert contexts[SCRIPT[1]].startswith(interview_vocabulary(plan, second).split(",")[0])
    assert contexts[SCRIPT[0]] != contexts[SCRIPT[1]]
    assert shared.context == ""  # other interviews' sessions are not primed with this one's words
