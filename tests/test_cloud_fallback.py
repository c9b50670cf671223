"""Cloud providers failing mid-interview, at the session level: the interview goes on.

A whole AgentRuntime interview with the cloud stack (Cartesia TTS with piper behind it, the OpenAI brain
with the offline brain behind it), both real clients talking to local fakes that break mid-stream on the
greeting. The candidate side is the scripted fake speech of tests/fakes/speech.py (no cloud STT exists in
this project, so there is no STT fallback to exercise: speech recognition is always the local whisper).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent import AgentRuntime, PushAudioInput
from agent.brain import BrainSettings, build_brain
from agent.plans import PlanSpec
from agent.providers import PiperTTS, SpeechSettings
from agent.providers.cartesia_tts import PROVIDER_FALLBACKS, CartesiaSettings, build_cartesia_tts
from storage import Database
from tests.fakes.cartesia_server import CHUNK_SECONDS, CartesiaScript, FakeCartesiaServer
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.fakes.speech import EnergyVAD, Microphone, ScriptSTT, Timeline
from tests.test_runtime import SCRIPT, Ear, eventually, fast_settings, make_interview, turns

pytestmark = pytest.mark.integration

GREETING = "Hello and welcome to this interview. Let's begin: when would you add a cache to a service?"
FOLLOW_UP = "Thanks for that answer. Could you walk me through a concrete example from your work?"


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS.load(SpeechSettings())


def mid_reply_fallbacks() -> float:
    return PROVIDER_FALLBACKS.labels(kind="tts", provider="cartesia", stage="mid_reply")._value.get()


async def test_cartesia_and_llm_break_mid_greeting_and_the_interview_goes_on(
    piper: PiperTTS, sqlite_db: Database
) -> None:
    timeline = Timeline(utterances=list(SCRIPT), ms_per_word=40)
    before = mid_reply_fallbacks()
    cartesia_script = CartesiaScript(error_after_chunks=10, fail_contexts=1)  # only the first reply breaks
    async with FakeCartesiaServer(script=cartesia_script) as cartesia, FakeOpenAIServer() as openai:
        openai.script(Reply(text=GREETING), Reply(text=FOLLOW_UP, close_after=3))
        brain_settings = BrainSettings(
            brain="llm", openai_base_url=openai.base_url, openai_api_key="test", llm_timeout=10
        )

        def brain_factory(*, interview: Any) -> Any:
            plan = PlanSpec.from_json(interview.plan_spec)
            return build_brain(plan=plan, settings=brain_settings, state=interview.state or None)

        voice = build_cartesia_tts(
            fallback=piper, settings=CartesiaSettings(api_key="test-key", base_url=cartesia.base_url)
        )
        runtime = AgentRuntime(
            vad=EnergyVAD(),
            stt=ScriptSTT(timeline),
            tts=voice,
            settings=fast_settings(),
            database=sqlite_db,
            brain_factory=brain_factory,
        )
        iv = make_interview(sqlite_db)
        audio_in, ear = PushAudioInput(label="test"), Ear()
        mic = Microphone(audio_in)
        mic.start()
        handle = None
        try:
            handle = await runtime.start_interview(interview_id=iv, audio_input=audio_in, audio_output=ear)
            await ear.agent_finished(1)
            greeting_seconds = ear.frames * 0.02
            await mic.say(timeline.audio(0))
            rows = await eventually(
                lambda: asyncio.to_thread(lambda: len(turns(sqlite_db, iv)) >= 3 and turns(sqlite_db, iv)),
                "the candidate's answer and the interviewer's next reply",
                within_s=90,
            )
            await ear.agent_finished(2)
            assert not handle._done.done()  # the interview is still running
        finally:
            await mic.aclose()
            if handle is not None:
                await handle.aclose("hangup")
            await runtime.aclose()
            await voice.aclose()
    assert cartesia.errors_sent == 1
    assert mid_reply_fallbacks() == before + 1
    # the greeting was finished by piper: far more audio than the 10 chunks Cartesia sent before failing
    assert greeting_seconds > 10 * CHUNK_SECONDS + 1.0
    assert [r.speaker for r in rows[:3]] == ["agent", "candidate", "agent"]
    assert rows[0].text == GREETING and not rows[0].interrupted
    assert rows[1].text == SCRIPT[0]
    assert rows[2].text.strip()  # the follow-up broke mid-stream at the LLM; the offline brain finished it
    assert len(openai.requests) >= 2
    assert cartesia.contexts_done >= 1  # after the failed greeting, Cartesia spoke again
