"""The agent runtime with fake speech models (tests/fakes/speech.py) and the real offline brain.

The candidate talks into a ``PushAudioInput`` in real time and listens through a ``PacedAudioOutput``;
everything between (VAD turn detection, endpointing, interruptions, transcript sync, persistence) is the
real livekit-agents pipeline and our runtime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import APIError, llm
from sqlalchemy import select

from agent import AgentRuntime, AgentSettings, InterviewClosed, PacedAudioOutput, PushAudioInput
from agent._runtime import _default_brain_factory
from agent.plans import build_plan
from agent.settings import TurnTuning
from storage import Database, Interview, InterviewPlan, OutboxEvent, TranscriptTurn, TurnMetric
from tests.fakes.speech import EnergyVAD, Microphone, ScriptSTT, Timeline, ToneTTS, frames_of

pytestmark = pytest.mark.integration

ANSWER = (
    "For example at my last job we had a slow checkout service, so I profiled it, found the "
    "database calls that repeated for every item, batched them and added a cache, and in the end the "
    "result was that latency went down by half for our customers"
)
SCRIPT = [
    ANSWER,
    ANSWER.replace("checkout", "billing"),
    "Sorry, could you repeat the question please",
    ANSWER.replace("checkout", "search"),
    ANSWER.replace("checkout", "login"),
    ANSWER.replace("checkout", "upload"),
    ANSWER.replace("checkout", "email"),
]


def fast_settings() -> AgentSettings:
    return AgentSettings(
        turn_detector="vad",
        user_away_timeout=60.0,
        aec_warmup_s=None,
        web=TurnTuning(
            min_endpointing_delay=0.3,
            max_endpointing_delay=1.5,
            min_interruption_duration=0.3,
            false_interruption_timeout=1.0,
        ),
    )


class Ear(PacedAudioOutput):
    """The candidate's loudspeaker: counts what it hears, signals when the agent stops talking."""

    def __init__(self) -> None:
        super().__init__(label="ear", sample_rate=16000)
        self.frames = 0
        self.segments_done = 0
        self.started = asyncio.Event()
        self.changed = asyncio.Event()
        self.on("playback_started", self._started)
        self.on("playback_finished", self._finished)

    def _started(self, _ev: object) -> None:
        self.started.set()

    def _finished(self, _ev: object) -> None:
        self.segments_done += 1
        self.started.clear()
        self.changed.set()

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        self.frames += 1

    async def agent_finished(self, count: int) -> None:
        """Wait until ``count`` agent segments have finished playing."""
        while self.segments_done < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)


def make_interview(db: Database, *, questions: int = 2, seed: int = 3) -> str:
    plan = build_plan(role="backend engineer", question_count=questions, seed=seed, time_limit_minutes=20)
    with db.session() as s:
        row = InterviewPlan(title="t", role=plan.role, question_count=questions, spec=plan.to_json())
        s.add(row)
        s.flush()
        iv = Interview(plan_id=row.id, candidate_name="Ada")
        s.add(iv)
        s.flush()
        return iv.id


def turns(db: Database, interview_id: str) -> list[TranscriptTurn]:
    with db.session() as s:
        return list(
            s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == interview_id)
                .order_by(TranscriptTurn.seq)
            )
        )


async def eventually(check: Callable[[], Awaitable[Any]], what: str, within_s: float = 30.0) -> Any:
    """Wait for a condition (polled; the condition is state in another thread, e.g. the database)."""
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Candidate:
    """Runs one interview from the candidate's side."""

    def __init__(self, runtime: AgentRuntime, interview_id: str, timeline: Timeline) -> None:
        self.runtime = runtime
        self.interview_id = interview_id
        self.timeline = timeline
        self.audio_in = PushAudioInput(label="test")
        self.ear = Ear()
        self.mic = Microphone(self.audio_in)
        self.captions: list[tuple[str, str, bool]] = []
        self.ended: list[str] = []
        self.handle: Any = None

    # InterviewListener
    def on_caption(self, *, speaker: str, text: str, final: bool) -> None:
        self.captions.append((speaker, text, final))

    def on_state(self, *, agent: str | None = None, user: str | None = None) -> None:
        pass

    def on_ended(self, *, reason: str) -> None:
        self.ended.append(reason)

    async def start(self) -> None:
        self.mic.start()
        self.handle = await self.runtime.start_interview(
            interview_id=self.interview_id, audio_input=self.audio_in, audio_output=self.ear, listener=self
        )

    async def answer(self, index: int, *, after_segments: int) -> None:
        await self.ear.agent_finished(after_segments)
        await self.mic.say(self.timeline.audio(index))

    async def close(self) -> None:
        await self.mic.aclose()
        if self.handle is not None:
            await self.handle.aclose("hangup")


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(utterances=list(SCRIPT), ms_per_word=40)


def scripted_runtime(timeline: Timeline, settings: AgentSettings, db: Database) -> AgentRuntime:
    """The real runtime with the energy VAD, the recogniser that reads ``timeline`` and the tone TTS."""
    return AgentRuntime(
        vad=EnergyVAD(), stt=ScriptSTT(timeline), tts=ToneTTS(ms_per_word=60), settings=settings, database=db
    )


@pytest.fixture
async def runtime(timeline: Timeline, db: Database) -> Any:
    rt = scripted_runtime(timeline, fast_settings(), db)
    yield rt
    await rt.aclose()


async def test_scripted_interview_runs_to_the_closing_and_is_stored(
    runtime: AgentRuntime, timeline: Timeline, db: Database
) -> None:
    finished: list[str] = []
    runtime._on_finished = finished.append
    iv = make_interview(db)
    c = Candidate(runtime, iv, timeline)
    try:
        await c.start()
        await c.answer(0, after_segments=1)  # answer question 1 after the greeting has played
        # the answer and the agent's next question are in the database while the interview still runs
        rows = await eventually(
            lambda: asyncio.to_thread(lambda: [t for t in turns(db, iv) if t.seq >= 3] and turns(db, iv)),
            "turns to be persisted mid-interview",
        )
        assert c.handle._done.done() is False
        assert [r.speaker for r in rows[:3]] == ["agent", "candidate", "agent"]
        assert rows[1].text == SCRIPT[0]
        await c.answer(1, after_segments=2)
        reason = await asyncio.wait_for(c.handle.wait(), 60)
    finally:
        await c.close()
    assert reason == "completed"
    assert c.ended == ["completed"]
    assert finished == [iv]
    rows = turns(db, iv)
    assert [r.speaker for r in rows] == ["agent", "candidate", "agent", "candidate", "agent"]
    assert [r.kind for r in rows if r.speaker == "agent"] == ["greet", "ask", "close"]
    assert rows[0].question_id and rows[2].question_id and rows[0].question_id != rows[2].question_id
    assert not any(r.interrupted for r in rows)
    starts = [r.started_at for r in rows]
    assert starts == sorted(starts) and all(r.ended_at >= r.started_at for r in rows)
    with db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None and row.status == "finished" and row.end_reason == "completed"
        assert row.state["phase"] == "closed"
        assert s.scalars(select(OutboxEvent).where(OutboxEvent.interview_id == iv)).all()[0].kind == (
            "interview.finished"
        )
        metrics = s.scalars(
            select(TurnMetric).where(TurnMetric.interview_id == iv).order_by(TurnMetric.seq)
        ).all()
    assert len(metrics) == 3  # one per agent reply
    answered = metrics[1:]
    assert all(m.v2v_ms is not None and m.v2v_ms > 0 for m in answered)
    assert all(m.eou_delay_ms is not None and m.tts_ttfb_ms is not None for m in answered)
    # captions reached the listener for both sides
    assert any(s == "candidate" and final for s, _t, final in c.captions)
    assert any(s == "agent" and final for s, _t, final in c.captions)


async def test_barge_in_stores_what_the_candidate_actually_heard(
    runtime: AgentRuntime, timeline: Timeline, db: Database
) -> None:
    iv = make_interview(db)
    c = Candidate(runtime, iv, timeline)
    try:
        await c.start()
        await asyncio.wait_for(c.ear.started.wait(), 30)  # the greeting (~50 words, ~3 s) is playing
        await c.mic.say(timeline.audio(2))  # "Sorry, could you repeat the question please"
        # the agent stops, then repeats the question; the candidate answers after it finishes
        await c.answer(0, after_segments=2)
        await eventually(
            lambda: asyncio.to_thread(lambda: len(turns(db, iv)) >= 5), "the reply to the answer to be stored"
        )
    finally:
        await c.close()
    rows = turns(db, iv)
    greeting, barge_in, repeat = rows[0], rows[1], rows[2]
    full_greeting = runtime.tts.spoken[0]  # type: ignore[attr-defined]
    assert greeting.interrupted is True
    assert 0 < len(greeting.text) < len(full_greeting)
    assert full_greeting.startswith(greeting.text.rstrip(" .,"))
    assert barge_in.speaker == "candidate" and barge_in.text == SCRIPT[2]
    # cut off before its question, the greeting asked nothing (tests/test_runtime_heard.py): it comes again
    assert greeting.question_id is None
    assert repeat.kind == "greet" and repeat.interrupted is False and repeat.question_id is not None


async def test_resume_after_a_dropped_connection_continues_with_the_next_question(
    runtime: AgentRuntime, timeline: Timeline, db: Database
) -> None:
    iv = make_interview(db, questions=3)
    first = Candidate(runtime, iv, timeline)
    try:
        await first.start()
        await first.answer(0, after_segments=1)
        await first.ear.agent_finished(2)  # the second question was heard in full
    finally:
        await first.mic.aclose()
    assert await first.handle.aclose("dropped") == "dropped"
    before = turns(db, iv)
    asked = before[-1]
    assert asked.speaker == "agent" and asked.kind == "ask"
    with db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None and row.status == "in_progress" and row.end_reason == "dropped"

    second = Candidate(runtime, iv, timeline)
    try:
        await second.start()
        await second.answer(1, after_segments=1)
        await eventually(
            lambda: asyncio.to_thread(lambda: len(turns(db, iv)) >= len(before) + 3),
            "the resumed session's turns",
        )
    finally:
        await second.close()
    after = turns(db, iv)
    welcome, answer, nxt = after[len(before)], after[len(before) + 1], after[len(before) + 2]
    assert welcome.seq == asked.seq + 1
    assert welcome.kind == "repeat" and welcome.question_id == asked.question_id  # the pending question again
    assert "welcome back" in welcome.text.lower()
    assert answer.speaker == "candidate" and answer.text == SCRIPT[1]
    assert nxt.speaker == "agent" and nxt.question_id not in (None, asked.question_id)  # moved on


async def test_a_finished_interview_cannot_be_started_again(runtime: AgentRuntime, db: Database) -> None:
    iv = make_interview(db)
    with db.session() as s:
        row = s.get(Interview, iv)
        assert row is not None
        row.status = "finished"
    out = Ear()
    with pytest.raises(InterviewClosed):
        await runtime.start_interview(interview_id=iv, audio_input=PushAudioInput(), audio_output=out)
    assert runtime.active == 0


class BrokenLLM(llm.LLM):
    """A model server that answers every request with a non-retryable error."""

    def chat(
        self, *, chat_ctx: llm.ChatContext, tools: Any = None, conn_options: Any = None, **_: Any
    ) -> Any:
        return _BrokenStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _BrokenStream(llm.LLMStream):
    async def _run(self) -> None:
        raise APIError("model server exploded", retryable=False)


async def test_one_session_failing_does_not_stop_another(
    runtime: AgentRuntime, timeline: Timeline, db: Database
) -> None:
    good, bad = make_interview(db), make_interview(db, seed=5)

    def factory(*, interview: Any) -> Any:
        brain = _default_brain_factory(interview=interview)
        if interview.id == bad:
            brain.llm = BrokenLLM()
        return brain

    runtime._brain_factory = factory
    a, b = Candidate(runtime, good, timeline), Candidate(runtime, bad, timeline)
    try:
        await a.start()
        await b.start()

        async def keep_talking() -> None:  # every turn of the broken session fails its LLM call
            i = 0
            while not b.handle._done.done():
                await b.mic.say(timeline.audio(i % 2))
                await b.mic.say(frames_of(800))
                i += 1

        talker = asyncio.create_task(keep_talking())
        await a.answer(0, after_segments=1)
        await a.answer(1, after_segments=2)
        reason_a = await asyncio.wait_for(a.handle.wait(), 90)
        reason_b = await asyncio.wait_for(b.handle.wait(), 90)
        talker.cancel()
        await asyncio.gather(talker, return_exceptions=True)
    finally:
        await a.close()
        await b.close()
    assert reason_a == "completed"
    assert reason_b == "error"
    with db.session() as s:
        row_a, row_b = s.get(Interview, good), s.get(Interview, bad)
        assert row_a is not None and row_a.status == "finished"
        assert (
            row_b is not None and row_b.status == "in_progress" and row_b.end_reason == "error"
        )  # resumable
    assert [t.speaker for t in turns(db, good)] == ["agent", "candidate", "agent", "candidate", "agent"]
