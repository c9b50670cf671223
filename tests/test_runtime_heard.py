"""The interview counts what the candidate heard, through the real pipeline with scripted speech.

The runtime, session, interruptions, transcript synchronizer and persistence are real; the candidate's
voice, the recogniser and the synthesiser are the fakes of tests/fakes/speech.py (accounting claims, not
turn-taking ones: those are measured on real speech). The synthesiser speaks slowly (150 ms a word) so
a barge-in as soon as a reply starts lands in its lead-in. Each script runs as a browser call and as a
phone call (``telephony=True``: the phone VAD slot, phone turn tuning, no echo-canceller warm-up).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from typing import Any

import pytest

from agent import AgentRuntime, AgentSettings
from agent.settings import TurnTuning
from storage import Database, Interview
from tests.fakes.speech import EnergyVAD, ScriptSTT, Timeline, ToneTTS, frames_of
from tests.test_runtime import SCRIPT, Candidate, eventually, fast_settings, make_interview, turns

pytestmark = pytest.mark.integration

INTERJECTION = "Sorry, could you say that again please, the line was really bad just now, I missed it"
HEAR_BACK = "Sorry, before you go, when will I hear back from you about the next steps in the process"
ANSWER, ANSWER_2 = SCRIPT[0], SCRIPT[1]


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(utterances=[ANSWER, ANSWER_2, INTERJECTION, HEAR_BACK], ms_per_word=40)


def slow_runtime(timeline: Timeline, settings: AgentSettings, db: Database) -> AgentRuntime:
    return AgentRuntime(
        vad=EnergyVAD(), stt=ScriptSTT(timeline), tts=ToneTTS(ms_per_word=150), settings=settings, database=db
    )


@pytest.fixture(params=["web", "phone"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db  # about the interview's accounting, not storage: one database is enough


@pytest.fixture
async def runtime(timeline: Timeline, db: Database) -> Any:
    settings = fast_settings()
    settings = settings.model_copy(update={"phone": TurnTuning(**settings.web.model_dump())})
    rt = slow_runtime(timeline, settings, db)
    yield rt
    await rt.aclose()


class Caller(Candidate):
    """The candidate of tests/test_runtime.py, on a browser or a phone call."""

    def __init__(self, runtime: AgentRuntime, interview_id: str, timeline: Timeline, transport: str) -> None:
        super().__init__(runtime, interview_id, timeline)
        self.telephony = transport == "phone"

    async def start(self) -> None:
        self.mic.start()
        self.handle = await self.runtime.start_interview(
            interview_id=self.interview_id, audio_input=self.audio_in, audio_output=self.ear, listener=self,
            telephony=self.telephony,
        )  # fmt: skip


async def speaks_over_next_reply(c: Candidate, index: int) -> None:
    """Wait for the agent's next reply to start playing, then talk over it at once."""
    c.ear.started.clear()
    await asyncio.wait_for(c.ear.started.wait(), 30)
    await c.mic.say(c.timeline.audio(index))


async def test_a_question_cut_off_in_its_lead_in_is_asked_again_and_counted_once(
    runtime: AgentRuntime, timeline: Timeline, db: Database, transport: str
) -> None:
    iv = make_interview(db)
    c = Caller(runtime, iv, timeline, transport)
    try:
        await c.start()
        await c.answer(0, after_segments=1)
        await speaks_over_next_reply(c, 2)  # over "Thank you. ..." before the question
        rows = await eventually(
            lambda: asyncio.to_thread(lambda: (r := turns(db, iv)) and len(r) >= 5 and r),
            "the question to be asked again",
        )
        state = c.handle.agent.brain.conductor.snapshot()
    finally:
        await c.close()
    greet, answer, cut, interjection, again = rows[:5]
    question = runtime.tts.spoken[-1]  # type: ignore[attr-defined]  # the reply's last sentence
    assert (greet.kind, answer.text, interjection.text) == ("greet", ANSWER, INTERJECTION)
    assert cut.speaker == "agent" and cut.interrupted and again.text.startswith(cut.text.rstrip(". "))
    assert question not in cut.text
    assert cut.question_id is None and cut.kind is None  # heard only the lead-in: no question asked
    assert again.speaker == "agent" and again.kind == "ask" and not again.interrupted
    assert again.text.endswith(question) and again.question_id not in (None, greet.question_id)
    asked = [r.question_id for r in rows if r.speaker == "agent" and r.question_id]
    assert asked == [greet.question_id, again.question_id]  # each question counted once, when heard
    assert (state["index"], state["seq"]) == (1, 2)  # the conductor too: greeting, then this question


async def test_a_closing_spoken_over_is_answered_before_the_interview_ends(
    runtime: AgentRuntime, timeline: Timeline, db: Database, transport: str
) -> None:
    iv = make_interview(db)
    c = Caller(runtime, iv, timeline, transport)
    try:
        await c.start()
        await c.answer(0, after_segments=1)
        await c.answer(1, after_segments=2)
        await speaks_over_next_reply(c, 3)  # "when will I hear back?" over the closing
        reason = await asyncio.wait_for(c.handle.wait(), 60)
    finally:
        await c.close()
    assert reason == "completed"
    rows = turns(db, iv)
    *_, cut, asked, closing = rows
    assert cut.speaker == "agent" and cut.interrupted and cut.kind is None
    assert asked.speaker == "candidate" and asked.text == HEAR_BACK  # stored, and then answered:
    assert closing.speaker == "agent" and closing.kind == "close" and not closing.interrupted
    assert "next steps" in closing.text
    assert [r.kind for r in rows if r.speaker == "agent"] == ["greet", "ask", None, "close"]


async def test_a_caller_speaking_in_the_first_second_stops_the_greeting_and_is_heard(
    timeline: Timeline, db: Database
) -> None:
    settings = fast_settings()  # the browser's echo-canceller warm-up is on (3 s): not for phones
    phone = TurnTuning(**settings.web.model_dump())
    settings = settings.model_copy(update={"aec_warmup_s": 3.0, "phone": phone})
    runtime = slow_runtime(timeline, settings, db)
    iv = make_interview(db)
    c = Caller(runtime, iv, timeline, "phone")
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)  # the greeting's first word
        await c.mic.say(timeline.audio(2))  # the caller talks at once (the browser's warm-up is 3 s)
        rows = await eventually(
            lambda: asyncio.to_thread(lambda: (r := turns(db, iv)) and len(r) >= 3 and r),
            "the greeting to come again",
        )
    finally:
        await c.close()
        await runtime.aclose()
    cut, caller, again = rows[:3]
    assert cut.speaker == "agent" and cut.interrupted and cut.question_id is None
    assert caller.speaker == "candidate" and caller.text == INTERJECTION  # every word kept
    assert again.kind == "greet" and again.question_id is not None and not again.interrupted


async def test_a_turn_starts_when_its_speech_began_not_at_an_earlier_noise(
    runtime: AgentRuntime, timeline: Timeline, db: Database, transport: str
) -> None:
    iv = make_interview(db)
    c = Caller(runtime, iv, timeline, transport)
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)
        await c.mic.say(frames_of(500, 9000))  # a knock over the greeting: voice activity, no words
        await c.ear.agent_finished(1)  # the greeting resumed and finished
        await c.mic.say(frames_of(1500))  # a moment of silence, then the answer
        said_at = time.time()
        await c.mic.say(timeline.audio(0))
        rows = await eventually(
            lambda: asyncio.to_thread(lambda: (r := turns(db, iv)) and len(r) >= 2 and r), "the answer"
        )
    finally:
        await c.close()
    with db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None
        started = row.started_at.replace(tzinfo=row.started_at.tzinfo or UTC).timestamp()
    greeting, answer = rows[:2]
    assert answer.speaker == "candidate" and answer.text == ANSWER
    assert answer.started_at > greeting.ended_at  # not back at the knock, during the greeting
    assert abs(answer.started_at - (said_at - started)) < 0.5  # when the microphone carried the words
