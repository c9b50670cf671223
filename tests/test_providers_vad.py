"""The session VAD (silero) with the interview tuning, on web (16 kHz) and phone (8 kHz μ-law) audio:
short pauses inside an answer stay one speech segment, real pauses split, line hiss is not speech."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit.agents import vad

from agent.providers import SpeechSettings, load_vad
from tests.audio import concat, silence, speak, telephone, to_frames

pytestmark = pytest.mark.integration

E = vad.VADEventType


@pytest.fixture(scope="module", params=["web", "phone"])
def line(request: pytest.FixtureRequest) -> tuple[str, vad.VAD]:
    return request.param, load_vad(SpeechSettings(), telephony=request.param == "phone")


async def _events(detector: vad.VAD, audio: np.ndarray, kind: str) -> list[vad.VADEvent]:
    samples, rate = (telephone(audio), 8000) if kind == "phone" else (audio, 16000)
    stream = detector.stream()
    try:
        for frame in to_frames(samples, rate):
            stream.push_frame(frame)
        stream.end_input()
        async with asyncio.timeout(60):
            return [ev async for ev in stream]
    finally:
        await stream.aclose()


def _segments(events: list[vad.VADEvent]) -> list[str]:
    return [ev.type.value for ev in events if ev.type != E.INFERENCE_DONE]


async def test_short_pause_inside_an_answer_is_one_segment(line: tuple[str, vad.VAD]) -> None:
    kind, detector = line
    audio = concat(silence(0.5), speak("I think", voice="piper"), silence(0.35),
                   speak("the answer is caching the results", voice="piper"), silence(1.2))  # fmt: skip
    assert _segments(await _events(detector, audio, kind)) == ["start_of_speech", "end_of_speech"]


async def test_a_real_pause_ends_the_speech_segment(line: tuple[str, vad.VAD]) -> None:
    kind, detector = line
    audio = concat(silence(0.5), speak("Yes", voice="piper"), silence(1.5),
                   speak("and one more thing", voice="piper"), silence(1.2))  # fmt: skip
    assert _segments(await _events(detector, audio, kind)) == ["start_of_speech", "end_of_speech"] * 2


async def test_line_hiss_is_not_speech(line: tuple[str, vad.VAD]) -> None:
    kind, detector = line
    hiss = np.random.default_rng(3).normal(0, 300, 16000 * 3).astype(np.int16)
    assert _segments(await _events(detector, hiss, kind)) == []


async def test_phone_variant_runs_silero_at_8_khz() -> None:
    events = await _events(load_vad(SpeechSettings(), telephony=True), silence(2.0), "phone")
    assert events[-1].samples_index == pytest.approx(16000, abs=512)  # 2 s counted at 8 kHz, not 16 kHz
