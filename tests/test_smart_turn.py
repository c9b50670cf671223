"""The Smart Turn audio end-of-turn detector (``MOCKLINE_AGENT_TURN_DETECTOR=smart``) on real human speech."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import llm

from agent._io import PushAudioInput
from agent._smart_turn import SmartTurn, SmartTurnModel, TurnAudioTap, build_turn_detector
from agent._turns import decide, end_of_turn_probability
from agent.settings import AgentSettings
from telephony.codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

CLIPS = sorted((Path(__file__).parent / "data" / "librivox").glob("*.wav"))


@pytest.fixture(scope="module")
def model() -> SmartTurnModel:
    return SmartTurnModel()


def _speech(path: Path) -> np.ndarray:
    """The clip as int16 at 16 kHz, trailing silence trimmed (the VAD has already cut it there)."""
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(pcm) > 650)
    return pcm[: loud[-1] + 1600]


def _phone(pcm: np.ndarray) -> np.ndarray:
    """What reaches us from a phone call: 8 kHz μ-law."""
    return ulaw_to_pcm16(pcm16_to_ulaw(resample_pcm16(pcm, from_rate=16000, to_rate=8000)))


async def _session_hears(model: SmartTurnModel, pcm: np.ndarray, rate: int) -> Any:
    """A session's detector after the candidate's audio has flowed through its input (20 ms frames)."""
    src = PushAudioInput(max_buffer_s=60)
    tap, detector = SmartTurn(model).listen(src)
    step = rate // 50
    for i in range(0, pcm.size - step + 1, step):
        src.push_frame(rtc.AudioFrame(pcm[i : i + step].tobytes(), rate, 1, step))
    src.close()
    async for _ in tap:
        pass
    return detector


def _ctx(text: str) -> llm.ChatContext:
    ctx = llm.ChatContext()
    ctx.add_message(role="assistant", content="Tell me about the book.")
    ctx.add_message(role="user", content=text)
    return ctx


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem[-4:])
def test_a_finished_sentence_sounds_finished_and_the_same_sentence_cut_short_does_not(
    model: SmartTurnModel, clip: Path
) -> None:
    pcm = _speech(clip).astype(np.float32) / 32768.0
    assert model.probability(pcm) > 0.5
    assert model.probability(pcm[: int(pcm.size * 0.6)]) < 0.5


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem[-4:])
async def test_phone_audio_through_a_session_tap_gets_the_same_judgement(
    model: SmartTurnModel, clip: Path
) -> None:
    pcm = _phone(_speech(clip))
    finished = await _session_hears(model, pcm, 8000)
    assert await finished.finished_probability() > 0.5  # type: ignore[operator]
    cut = await _session_hears(model, pcm[: int(pcm.size * 0.6)], 8000)
    assert await cut.finished_probability() < 0.5  # type: ignore[operator]
    # what it changes: a short reply that does not sound finished keeps the floor (the answer wait)
    assert decide(question="Tell me about it.", answer="He was not.", finished=0.1).wait == "answer"


async def test_a_transcript_that_trails_off_waits_however_finished_it_sounds(model: SmartTurnModel) -> None:
    detector = await _session_hears(model, _speech(CLIPS[0]), 16000)
    text = "and he had then leisure to consider how much there might be, and"
    assert await detector.predict_end_of_turn(_ctx(text)) == end_of_turn_probability(text) < 0.5


async def test_the_tap_passes_every_frame_through_and_keeps_only_the_last_8_seconds() -> None:
    pcm = (np.arange(16000 * 12) % 3000).astype(np.int16)  # 12 s
    src = PushAudioInput(max_buffer_s=60)
    tap = TurnAudioTap(src)
    for i in range(0, pcm.size, 320):
        src.push_frame(rtc.AudioFrame(pcm[i : i + 320].tobytes(), 16000, 1, 320))
    src.close()
    got = [np.frombuffer(f.data, dtype=np.int16) async for f in tap]
    assert np.array_equal(np.concatenate(got), pcm)
    kept = tap.recent()
    assert kept.size == 16000 * 8
    assert np.allclose(kept, pcm[-16000 * 8 :].astype(np.float32) / 32768.0)


def _voice_and_pauses(*parts: tuple[str, float]) -> np.ndarray:
    """("voice", s) stretches of a loud tone and ("pause", s) stretches of silence, 16 kHz."""
    out = []
    for what, seconds in parts:
        n = round(seconds * 16000)
        tone = (np.sin(2 * np.pi * 200 * np.arange(n) / 16000) * 8000).astype(np.int16)
        out.append(tone if what == "voice" else np.zeros(n, dtype=np.int16))
    return np.concatenate(out)


async def _hear(src: PushAudioInput, tap: TurnAudioTap, pcm: np.ndarray, rate: int = 16000) -> None:
    step = rate // 50
    for i in range(0, pcm.size - step + 1, step):
        src.push_frame(rtc.AudioFrame(pcm[i : i + step].tobytes(), rate, 1, step))
    for _ in range(pcm.size // step):
        await tap.__anext__()


async def test_the_tap_notes_the_pauses_the_candidate_came_back_from() -> None:
    src = PushAudioInput(max_buffer_s=60)
    tap = TurnAudioTap(src)
    pcm = _voice_and_pauses(("voice", 1), ("pause", 2.0), ("voice", 1), ("pause", 0.3), ("voice", 1))
    await _hear(src, tap, pcm)
    assert tap.pauses_since(0.0) == pytest.approx((2.0,), abs=0.03)  # a breath of 0.3 s is no pause
    # on the phone too (8 kHz frames), and the silence at the end is not one: they have not come back
    src8 = PushAudioInput(max_buffer_s=60)
    tap8 = TurnAudioTap(src8)
    narrow = resample_pcm16(
        _voice_and_pauses(("voice", 1), ("pause", 1.2), ("voice", 1), ("pause", 3)),
        from_rate=16000,
        to_rate=8000,
    )
    await _hear(src8, tap8, narrow, 8000)
    assert tap8.pauses_since(0.0) == pytest.approx((1.2,), abs=0.03)


@pytest.mark.parametrize("band", ["wideband", "phone"])
async def test_a_real_speakers_soft_word_between_two_pauses_is_heard_as_voice(band: str) -> None:
    # meeting speech (tests/audio/corpus): "...hard." 0.56 s, a soft 0.24 s word, 0.90 s, "I didn't even
    # check..." — the tap must not take the soft word for silence and note one long pause, which would set
    # a longer rhythm wait, and whose silence would run on while the candidate is still talking.
    from tests.audio import corpus

    answer = next(a for a in corpus.medium_answers() if a.name == "meeting_chan3")
    if band == "phone":
        answer = corpus.phone(answer)
    src = PushAudioInput(max_buffer_s=60)
    tap = TurnAudioTap(src)
    await _hear(src, tap, answer.samples[: int(9.0 * answer.rate)], answer.rate)
    longest_silence = max(p.length_s for p in answer.pauses if p.end_s < 9.0)  # 1.29 s
    noted = tap.pauses_since(0.0)
    assert noted and max(noted) <= longest_silence + 0.1, noted


async def test_a_session_counts_only_the_pauses_of_the_turn_in_progress() -> None:
    src = PushAudioInput(max_buffer_s=60)
    tap, detector = SmartTurn(model=None).listen(src)
    question = llm.ChatContext()
    question.add_message(role="assistant", content="Tell me about the book.")
    question.add_message(role="user", content="It is about two sisters.")
    # a previous turn's pause
    await _hear(src, tap, _voice_and_pauses(("voice", 1), ("pause", 3.0), ("voice", 1)))
    assert detector.resumed_pauses(question) == ()  # the first end of speech of this turn: none yet
    await _hear(src, tap, _voice_and_pauses(("pause", 2.0), ("voice", 1)))
    assert detector.resumed_pauses(question) == pytest.approx((2.0,), abs=0.03)
    # the agent speaks: a new turn starts from nothing
    question.add_message(role="assistant", content="And which of them do you like best?")
    assert detector.resumed_pauses(question) == ()


async def test_without_its_audio_the_detector_is_the_transcript_rule(model: SmartTurnModel) -> None:
    """In a LiveKit room the audio does not pass through our input, so the shared detector reads text only."""
    det = SmartTurn(model)
    assert await det.predict_end_of_turn(_ctx("so the first thing I would do is")) < 0.5
    assert await det.predict_end_of_turn(_ctx("That is how we shipped it.")) > 0.5


def test_the_setting_selects_it() -> None:
    assert isinstance(build_turn_detector(AgentSettings(turn_detector="smart")), SmartTurn)
