"""Offline speech providers: faster-whisper STT, piper and espeak-ng TTS, silero VAD settings.

Everything loads from PyPI packages or Debian binaries; nothing downloads at run time. Load once per
process (``build_stt`` / ``build_tts`` / ``load_vad`` block) and share across sessions.
"""

from ._errors import InferenceError, ProviderConfigError, ProviderError, ProviderUnavailableError
from ._espeak import EspeakTTS
from ._factory import STT_BACKENDS, TTS_BACKENDS, build_stt, build_tts
from ._piper import PiperTTS
from ._settings import SpeechSettings, get_speech_settings
from ._vad import load_vad
from ._whisper import WhisperSTT
from ._whisper_engine import Transcript, WhisperEngine
from ._whisper_stream import StreamTuning, WhisperSpeechStream

__all__ = [
    "STT_BACKENDS",
    "TTS_BACKENDS",
    "EspeakTTS",
    "InferenceError",
    "PiperTTS",
    "ProviderConfigError",
    "ProviderError",
    "ProviderUnavailableError",
    "SpeechSettings",
    "StreamTuning",
    "Transcript",
    "WhisperEngine",
    "WhisperSTT",
    "WhisperSpeechStream",
    "build_stt",
    "build_tts",
    "get_speech_settings",
    "load_vad",
]
