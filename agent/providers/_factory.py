"""``build_stt`` / ``build_tts``: pick a backend by name (``MOCKLINE_STT``, ``MOCKLINE_TTS``).

To add a backend (cartesia is next), register a loader in ``TTS_BACKENDS`` / ``STT_BACKENDS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module
from typing import TypeVar

from livekit.agents import stt, tts

from ._errors import ProviderConfigError, ProviderUnavailableError
from ._espeak import EspeakTTS
from ._piper import PiperTTS
from ._settings import SpeechSettings, speech_settings
from ._whisper import WhisperSTT

__all__ = ["STT_BACKENDS", "TTS_BACKENDS", "build_stt", "build_tts"]

logger = logging.getLogger("mockline.agent.providers")
_T = TypeVar("_T")

STT_BACKENDS: dict[str, Callable[[SpeechSettings], stt.STT]] = {"whisper": WhisperSTT.load}
TTS_BACKENDS: dict[str, Callable[[SpeechSettings], tts.TTS]] = {
    "piper": PiperTTS.load,
    "espeak": EspeakTTS.load,
    "cartesia": lambda s: import_module("agent.providers.cartesia_tts").load_cartesia_tts(s),  # extra "cloud"
}


def build_stt(settings: SpeechSettings | None = None) -> stt.STT:
    """The configured speech-to-text (blocking: loads the model)."""
    s = speech_settings(settings)
    return _backend(STT_BACKENDS, s.stt.strip().lower(), "MOCKLINE_STT")(s)


def build_tts(settings: SpeechSettings | None = None) -> tts.TTS:
    """The configured text-to-speech (blocking: loads the voice). Piper falls back to espeak-ng when it
    is not installed, unless ``MOCKLINE_TTS_FALLBACK=false``."""
    s = speech_settings(settings)
    name = s.tts.strip().lower()
    loader = _backend(TTS_BACKENDS, name, "MOCKLINE_TTS")
    try:
        return loader(s)
    except ProviderUnavailableError:
        if name != "piper" or not s.tts_fallback:
            raise
        logger.warning("piper is not available; falling back to espeak-ng", exc_info=True)
        return EspeakTTS.load(s)


def _backend(backends: dict[str, _T], name: str, variable: str) -> _T:
    if name not in backends:
        known = ", ".join(sorted(backends))
        raise ProviderConfigError(f"{variable}={name!r} is not a known backend; choose one of: {known}")
    return backends[name]
