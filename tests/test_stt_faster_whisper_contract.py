"""The faster-whisper internals the decode engine is built on are still there and still behave as it
expects (agent/providers/_whisper_engine.py). They are not public API: when an upgrade changes them,
this file fails first, naming what changed, instead of a session failing mid-interview."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import pytest

from agent.providers import SpeechSettings, WhisperEngine
from agent.providers._whisper_engine import FASTER_WHISPER_VERSION

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> object:
    return WhisperEngine.load(SpeechSettings())._model


def test_the_installed_faster_whisper_is_the_release_the_engine_was_checked_against() -> None:
    assert version("faster-whisper") == FASTER_WHISPER_VERSION, (
        "faster-whisper was upgraded: re-run this file, check the engine's use of its internals, then bump "
        "FASTER_WHISPER_VERSION and the pin in pyproject.toml"
    )


def test_the_model_exposes_its_tokenizer_features_and_ctranslate2_model(model: object) -> None:
    import ctranslate2

    assert hasattr(model, "hf_tokenizer"), "WhisperModel.hf_tokenizer is gone"
    assert isinstance(model.model, ctranslate2.models.Whisper), "WhisperModel.model is not CTranslate2's"  # type: ignore[attr-defined]
    assert model.model.is_multilingual is False  # type: ignore[attr-defined]  # tiny.en
    one_second = np.zeros(16000, dtype=np.float32)
    features = model.feature_extractor(one_second, chunk_length=30)  # type: ignore[attr-defined]
    assert features.ndim == 2 and features.shape[0] == 80 and 100 <= features.shape[1] <= 101


def test_the_tokenizer_gives_the_prompt_tokens_and_round_trips_text(model: object) -> None:
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    tok = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")  # type: ignore[attr-defined]
    for name in ("sot_prev", "no_timestamps"):
        assert isinstance(getattr(tok, name), int), f"Tokenizer.{name} changed"
    assert isinstance(tok.sot_sequence, (list, tuple)) and all(isinstance(t, int) for t in tok.sot_sequence)
    ids = tok.encode(" Kafka, idempotency key.")
    assert tok.decode(ids).strip() == "Kafka, idempotency key."
    suppressed = get_suppressed_tokens(tok, [-1])
    assert suppressed and all(isinstance(t, int) for t in suppressed)


async def test_a_decode_through_the_internals_reads_speech() -> None:
    from tests.audio import speak, words

    engine = WhisperEngine.load(SpeechSettings())
    audio = speak("We moved the billing events onto Kafka.", voice="piper").astype(np.float32) / 32768
    got = await engine.transcribe(audio, beam_size=1, context="Kafka")
    assert words(got.text)[-2:] == ["onto", "kafka"], got.text
