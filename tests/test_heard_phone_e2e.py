"""A phone interview counts what the caller heard: the app on uvicorn, the real ``AgentRuntime`` (silero
VAD, faster-whisper tiny.en, piper, the offline brain), and a caller that talks over a chosen reply.

The caller (tests/test_phone_caller_support.py) speaks Twilio Media Streams with streamdouble's wire
encoder and reacts to what it hears, so "talk over the closing" happens when the closing starts, whatever
the machine's load. Its voice is espeak-ng at 8 kHz: these are claims about the interview's accounting,
not about turn-taking (which is measured on real speech by ``python -m bench turns``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.plans import build_plan
from storage import Interview, InterviewPlan
from telephony._state import telephony_state
from tests import test_telephony_e2e as phone_e2e
from tests.audio import speak, words, write_wav
from tests.test_phone_caller_support import LiveCaller
from tests.test_telephony_e2e import ANSWER, STOP, _ended, _released, _turns

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.phone,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(420),
]

# the phone e2e fixtures: the app on uvicorn with the real runtime (models loaded once for the module)
phone, runtime = phone_e2e.phone, phone_e2e.runtime

INTERJECTION = "Sorry, could you say that again please?"
HEAR_BACK = "Sorry, when will I hear back?"


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("heard")
    texts = {"answer": ANSWER, "stop": STOP, "interjection": INTERJECTION, "hear_back": HEAR_BACK}
    return {k: write_wav(d / f"{k}.wav", speak(t, voice="piper", sample_rate=8000), 8000)
            for k, t in texts.items()}  # fmt: skip


def _script(turns: list[Any]) -> str:
    """The stored conversation, for a failing assertion's message."""
    return "\n".join(
        f"{t.seq} {t.speaker} {t.kind} q={t.question_id} cut={t.interrupted} "
        f"{t.started_at:.1f}-{t.ended_at:.1f} {t.text!r}"
        for t in turns
    )


async def _stored(db: Any, interview_id: str, enough: Callable[[list[Any]], bool]) -> None:
    """Wait (up to a minute) until the stored conversation is ``enough``: a turn is written just after
    it was played, so a caller that hangs up the moment a reply ends could cut that write short."""
    deadline = time.monotonic() + 60.0
    while not enough(_turns(db, interview_id)):
        assert time.monotonic() < deadline, _script(_turns(db, interview_id))
        await asyncio.sleep(0.1)


def _call(app: Any, db: Any, host: str, *, questions: int) -> tuple[str, LiveCaller, list[str]]:
    """An interview on a ``questions``-question plan, and a caller with the stream parameters our TwiML
    would have given Twilio for it."""
    spec = build_plan(role="backend engineer", question_count=questions, seed=3, time_limit_minutes=10)
    with db.session() as s:
        plan = InterviewPlan(title="Phone", role=spec.role, question_count=questions, spec=spec.to_json())
        s.add(plan)
        s.flush()
        row = Interview(plan_id=plan.id, candidate_name="Ada", channel="phone")
        s.add(row)
        s.flush()
        interview_id = row.id
    caller = LiveCaller(f"ws://{host}/twilio/stream", {})
    token = telephony_state(app).tokens.issue(interview_id=interview_id, call_sid=caller.call_sid)
    caller.params = {"interview_id": interview_id, "token": token}
    return interview_id, caller, [q.text for q in spec.questions]


async def test_a_reply_spoken_over_in_its_lead_in_asks_nothing_and_its_question_comes_again(phone, voice):
    interview_id, caller, questions = _call(phone["app"], phone["db"], phone["host"], questions=2)
    async with caller:
        await caller.reply_played()  # the greeting and the first question
        caller.listen()
        await caller.say(voice["answer"])
        await caller.agent_speaks()  # the reply begins ("Thank you. ..." or a follow-up)...
        await caller.say(voice["interjection"])  # ...and the caller talks over it at once
        caller.listen()
        await caller.reply_played()  # the interjection answered, and that reply heard to its end
        await _stored(phone["db"], interview_id, lambda ts: sum(t.speaker == "agent" for t in ts) >= 3)
    await _ended(phone["db"], interview_id)
    await _released(phone["app"])
    turns = _turns(phone["db"], interview_id)
    agent = [t for t in turns if t.speaker == "agent"]
    script = _script(turns)
    greet, cut, again = agent[:3]
    assert caller.clears >= 1, script
    assert greet.kind == "greet" and questions[0] in greet.text and greet.question_id is not None, script
    assert cut.interrupted and cut.kind is None and cut.question_id is None, script  # asked nothing
    assert not any(q in cut.text for q in questions), script  # the caller never heard a question in it
    said = [t for t in turns if t.speaker == "candidate" and t.seq > cut.seq]
    assert said and {"sorry", "again", "please"} & set(words(said[0].text)), script  # the interjection
    # stored from when it was spoken: while the cut reply played, not at the end of the reply it cut
    assert cut.started_at <= said[0].started_at <= cut.ended_at, script
    assert not again.interrupted and again.kind is not None and again.question_id is not None, script
    # a question counts (greet, ask) only where the caller heard it
    for t in agent:
        assert t.kind not in ("greet", "ask") or any(q in t.text for q in questions), script


async def test_a_closing_spoken_over_is_answered_and_then_the_call_ends(phone, voice):
    interview_id, caller, _ = _call(phone["app"], phone["db"], phone["host"], questions=1)
    async with caller:
        await caller.reply_played()  # the greeting and the question
        caller.listen()
        await caller.say(voice["stop"])  # "Can we stop the interview now please."
        await caller.agent_speaks()  # the closing begins...
        await caller.say(voice["hear_back"])  # ..."Sorry, when will I hear back?"
        await caller.line_dead()  # the agent answers, closes and hangs up
    interview = await _ended(phone["db"], interview_id)
    await _released(phone["app"])
    turns = _turns(phone["db"], interview_id)
    script = _script(turns)
    assert interview.end_reason == "completed", script
    cut = next(t for t in turns if t.speaker == "agent" and t.interrupted)
    asked = [t for t in turns if t.speaker == "candidate" and t.seq > cut.seq]
    assert cut.kind is None, script  # the closing spoken over did not close the interview...
    heard_back = set(words(" ".join(t.text for t in asked)))
    assert len(heard_back & {"sorry", "when", "hear", "back"}) >= 3, script  # ...the question is stored
    last = turns[-1]
    assert last.speaker == "agent" and last.kind == "close" and not last.interrupted, script  # answered
    assert "next steps" in last.text.lower(), script
