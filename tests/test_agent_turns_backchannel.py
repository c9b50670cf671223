"""Fast barge-in without false interruptions: the agent pauses at once when the candidate makes a sound,
a backchannel or a noise over it resumes the reply, words interrupt it for good.

Session-level tests run the real livekit-agents pipeline (``AgentSession``, endpointing, interruptions,
false-interruption resume, ``PacedAudioOutput`` pause/resume, persistence) with the scripted speech fakes
of ``tests/fakes/speech.py`` and the real offline brain.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent import AgentRuntime, AgentSettings
from agent._backchannel import is_backchannel
from agent.settings import TurnTuning
from storage import Database
from tests.fakes.speech import EnergyVAD, ScriptSTT, Timeline, ToneTTS, frames_of
from tests.test_runtime import ANSWER, Candidate, eventually, make_interview, scripted_runtime, turns

MMHMM, YEAH, BARGE_IN = 1, 2, 3
SCRIPT = [ANSWER, "Mm-hmm.", "Yeah.", "Sorry, could you repeat the question please"]


@pytest.mark.parametrize(
    "text",
    ["Mm-hmm.", "mhm", "Mmmmm", "mmmm.", "MMs.", "Hmmm...", "Uh-huh.", "Yeah.", "yeah, right", "Okay.",
     "OK, okay.", "Right.", "I see.", "Got it.", "Thank you.", "", "  ", "[cough]", "(door knocks)",
     "*coughs*", "...", "and and and and and", "and m m", "You"],
)  # fmt: skip
def test_acknowledgements_and_noise_are_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text",
    ["Sorry, can I ask something?", "Yeah, but why?", "No.", "Right, so I would use a queue",
     "Could you repeat that", "Okay so the first thing I'd do is", "Wait.", "Hmm, what about my answer?",
     "Um, sorry, could you repeat that?",
     "No, no, no.", "Thank you, but why?", "DNS.", "Me"],
)  # fmt: skip
def test_words_that_take_the_floor_are_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)


def settings(**update: Any) -> AgentSettings:
    base = AgentSettings(
        turn_detector="vad",
        user_away_timeout=60.0,
        aec_warmup_s=None,
        web=TurnTuning(
            min_endpointing_delay=0.3,
            max_endpointing_delay=1.5,
            min_interruption_duration=0.2,
            false_interruption_timeout=1.0,
        ),
    )
    return base.model_copy(update=update)


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(utterances=list(SCRIPT), ms_per_word=40)


@pytest.fixture
async def runtime(timeline: Timeline, sqlite_db: Database) -> Any:
    rt = scripted_runtime(timeline, settings(), sqlite_db)
    yield rt
    await rt.aclose()


async def _stored(db: Database, iv: str, n: int) -> list[Any]:
    return await eventually(
        lambda: asyncio.to_thread(lambda: len(turns(db, iv)) >= n and turns(db, iv)), f"{n} stored turns"
    )


async def _over_the_greeting(
    runtime: AgentRuntime, timeline: Timeline, db: Database, frames: list[Any]
) -> tuple[Candidate, list[Any]]:
    """The candidate makes ``frames`` of sound 1 s into the greeting, then answers question 1 once the
    agent has finished speaking; returns the stored turns up to the agent's reply to that answer."""
    iv = make_interview(db)
    c = Candidate(runtime, iv, timeline)
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)  # the greeting (~50 words, ~3 s) is playing
        await c.mic.say(frames_of(1000))
        await c.mic.say(frames)
        await c.answer(0, after_segments=1)
        rows = await _stored(db, iv, 3)
    finally:
        await c.close()
    return c, rows


async def test_mm_hmm_over_the_agent_is_not_a_turn_and_the_agent_finishes_its_sentence(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database
) -> None:
    c, rows = await _over_the_greeting(runtime, timeline, sqlite_db, timeline.audio(MMHMM))
    greeting, answer, reply = rows[:3]
    assert greeting.speaker == "agent" and greeting.interrupted is False
    assert greeting.text.endswith("?")  # heard to the end (its closing question) after the pause
    assert answer.speaker == "candidate" and answer.text == ANSWER  # "Mm-hmm." is in no turn
    assert reply.speaker == "agent" and reply.kind == "ask"
    assert "Mm-hmm." in timeline.recognised  # it was heard and transcribed, then withheld
    assert c.handle.agent.backchannels.dropped == 1
    assert not any(speaker == "candidate" and "Mm-hmm" in text for speaker, text, _ in c.captions)


async def test_the_reply_resumes_on_the_backchannel_transcript_not_on_the_timeout(
    timeline: Timeline, sqlite_db: Database
) -> None:
    """With livekit's false-interruption timeout far longer than the test waits, only the filter's
    resume (when "Mm-hmm." is transcribed) can let the greeting finish and the interview go on."""
    slow = settings()
    slow = slow.model_copy(update={"web": slow.web.model_copy(update={"false_interruption_timeout": 600.0})})
    rt = AgentRuntime(
        vad=EnergyVAD(),
        stt=ScriptSTT(timeline),
        tts=ToneTTS(ms_per_word=60),
        settings=slow,
        database=sqlite_db,
    )
    try:
        _c, rows = await _over_the_greeting(rt, timeline, sqlite_db, timeline.audio(MMHMM))
    finally:
        await rt.aclose()
    assert rows[0].interrupted is False and rows[0].text.endswith("?")
    assert rows[1].text == ANSWER


async def test_a_cough_over_the_agent_pauses_it_and_the_reply_resumes(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database
) -> None:
    cough = frames_of(400, 9000)  # loud, but no words: the recogniser returns nothing
    _c, rows = await _over_the_greeting(runtime, timeline, sqlite_db, cough)
    greeting, answer = rows[:2]
    assert greeting.interrupted is False and greeting.text.endswith("?")
    assert answer.speaker == "candidate" and answer.text == ANSWER


async def test_a_real_barge_in_still_interrupts_the_agent_and_is_stored(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    c = Candidate(runtime, iv, timeline)
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)
        await c.mic.say(timeline.audio(BARGE_IN))
        rows = await _stored(sqlite_db, iv, 3)
    finally:
        await c.close()
    greeting, barge_in, again = rows[:3]
    assert greeting.interrupted is True
    assert 0 < len(greeting.text) and not greeting.text.endswith("?")
    assert barge_in.speaker == "candidate" and barge_in.text == SCRIPT[BARGE_IN]
    # cut off before its question, the greeting asked nothing: it comes again (tests/test_runtime_heard.py)
    assert greeting.question_id is None and again.kind == "greet" and again.question_id is not None


async def test_yeah_while_the_agent_is_silent_is_an_answer(
    runtime: AgentRuntime, timeline: Timeline, sqlite_db: Database
) -> None:
    iv = make_interview(sqlite_db)
    c = Candidate(runtime, iv, timeline)
    try:
        await c.start()
        await c.answer(YEAH, after_segments=1)  # after the greeting has finished
        rows = await _stored(sqlite_db, iv, 3)
    finally:
        await c.close()
    greeting, answer, reply = rows[:3]
    assert greeting.interrupted is False
    assert answer.speaker == "candidate" and answer.text == "Yeah."
    assert reply.speaker == "agent"


async def test_without_the_filter_mm_hmm_over_the_agent_cuts_it_off(
    timeline: Timeline, sqlite_db: Database
) -> None:
    """The failure the filter fixes (livekit's behaviour): the transcribed backchannel becomes a turn."""
    rt = AgentRuntime(
        vad=EnergyVAD(),
        stt=ScriptSTT(timeline),
        tts=ToneTTS(ms_per_word=60),
        settings=settings(ignore_backchannels=False),
        database=sqlite_db,
    )
    iv = make_interview(sqlite_db)
    c = Candidate(rt, iv, timeline)
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)
        await c.mic.say(frames_of(1000))
        await c.mic.say(timeline.audio(MMHMM))
        rows = await _stored(sqlite_db, iv, 2)
    finally:
        await c.close()
        await rt.aclose()
    assert rows[0].interrupted is True
    assert rows[1].speaker == "candidate" and rows[1].text == "Mm-hmm."
