"""A short reply gets a quick response: Smart Turn's verdict on it is taken early in the silence, and only a
verdict about the silence the candidate is in, and only a sure one, is ever used.

The script: the agent asked a question, the candidate says something short ("Seven of clubs.") and stops;
the session's tap hears it. The audio model here is a stand-in that says what the test tells it and notes
how much audio it was given, so the test can tell which verdict the detector used.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import llm

from agent._io import PushAudioInput
from agent._smart_turn import SmartTurn, SmartTurnModel, TurnAudioTap

pytestmark = pytest.mark.unit

RATE = 16000
EARLY_S = 0.3


class ScriptedModel(SmartTurnModel):
    """Says ``early`` about audio shorter than ``until`` seconds and ``late`` about longer audio, so a test
    can tell which moment's verdict was used; ``heard`` lists the audio lengths (s) it was given."""

    def __init__(self, early: float, late: float | None = None, *, until: float = 99.0) -> None:
        self._early, self._late, self._until = early, early if late is None else late, until
        self._lock = threading.Lock()  # (no ONNX file: nothing of the real model is loaded)
        self.heard: list[float] = []

    def probability(self, audio: np.ndarray) -> float:
        with self._lock:
            self.heard.append(audio.size / RATE)
        return self._early if audio.size / RATE < self._until else self._late


def _sound(*parts: tuple[str, float]) -> np.ndarray:
    """("voice", s): a loud tone, ("pause", s): silence; 16 kHz int16."""
    out = []
    for what, seconds in parts:
        n = round(seconds * RATE)
        tone = (np.sin(2 * np.pi * 200 * np.arange(n) / RATE) * 8000).astype(np.int16)
        out.append(tone if what == "voice" else np.zeros(n, dtype=np.int16))
    return np.concatenate(out)


async def _hear(src: PushAudioInput, tap: TurnAudioTap, pcm: np.ndarray) -> None:
    step = RATE // 50
    for i in range(0, pcm.size - step + 1, step):
        src.push_frame(rtc.AudioFrame(pcm[i : i + step].tobytes(), RATE, 1, step))
    for _ in range(pcm.size // step):
        await tap.__anext__()


def _listening(model: ScriptedModel) -> tuple[PushAudioInput, TurnAudioTap, object]:
    src = PushAudioInput(max_buffer_s=60)
    tap, detector = SmartTurn(model, early_s=EARLY_S).listen(src)
    return src, tap, detector


def _after_a_question(reply: str) -> llm.ChatContext:
    ctx = llm.ChatContext()
    ctx.add_message(role="assistant", content="Which card did you draw?")
    ctx.add_message(role="user", content=reply)
    return ctx


async def test_a_short_reply_is_answered_on_the_verdict_heard_early_in_the_silence() -> None:
    model = ScriptedModel(0.97)
    src, tap, detector = _listening(model)
    await _hear(src, tap, _sound(("voice", 1.2), ("pause", 0.7)))  # the VAD's end of speech: 0.6 s
    # the quick response: the turn ends at once (0.9 = likely; the answer wait would sleep seconds first)
    assert await detector.predict_end_of_turn(_after_a_question("Seven of clubs.")) == 0.9  # type: ignore[attr-defined]
    assert len(model.heard) == 1  # asked once, early: the end of speech did not wait for the model
    assert model.heard[0] < 1.2 + 0.7  # what it heard stopped early in the silence


async def test_a_verdict_about_a_pause_the_candidate_went_on_from_is_never_used() -> None:
    # "finished" about the first pause; the candidate goes on (a long stretch, not asked early), then stops
    model = ScriptedModel(0.97, 0.1, until=2.0)
    src, tap, detector = _listening(model)
    await _hear(src, tap, _sound(("voice", 1.0), ("pause", 0.45), ("voice", 3.5), ("pause", 0.7)))
    assert await detector.finished_probability() == 0.1  # type: ignore[attr-defined]
    assert model.heard[-1] > 5.0  # the verdict used heard them go on


async def test_an_unsure_early_verdict_is_asked_again_at_the_end_of_speech() -> None:
    model = ScriptedModel(0.6, 0.3, until=1.6)
    src, tap, detector = _listening(model)
    await _hear(src, tap, _sound(("voice", 1.0), ("pause", 0.7)))
    assert await detector.finished_probability() == 0.3  # type: ignore[attr-defined]
    assert model.heard[1] > model.heard[0]  # the second one heard more of the silence


async def test_an_answer_in_progress_is_not_asked_early() -> None:
    model = ScriptedModel(0.97)
    src, tap, _detector = _listening(model)
    await _hear(src, tap, _sound(("voice", 5.0), ("pause", 0.7)))
    assert model.heard == []


async def test_with_early_listening_off_the_model_is_asked_at_the_end_of_speech_only() -> None:
    model = ScriptedModel(0.97)
    src = PushAudioInput(max_buffer_s=60)
    tap, detector = SmartTurn(model).listen(src)
    await _hear(src, tap, _sound(("voice", 1.2), ("pause", 0.7)))
    assert model.heard == []
    assert await detector.finished_probability() == 0.97  # type: ignore[attr-defined]
