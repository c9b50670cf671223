"""Choosing and configuring speech providers: settings, factories and the errors a misconfigured
deployment sees. Loads only cheap things (espeak-ng, file checks); no speech models."""

from __future__ import annotations

import socket
import struct
import sys

import pytest

from agent.providers import (
    EspeakTTS,
    ProviderConfigError,
    ProviderUnavailableError,
    SpeechSettings,
    WhisperEngine,
    build_stt,
    build_tts,
)
from agent.providers._espeak import parse_wav_header

pytestmark = pytest.mark.unit


def test_settings_come_from_mockline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKLINE_TTS", "espeak")
    monkeypatch.setenv("MOCKLINE_STT_MODEL", "/models/whisper-small")
    monkeypatch.setenv("MOCKLINE_STT_CPU_THREADS", "4")
    monkeypatch.setenv("MOCKLINE_SECRET_KEY", "belongs to another settings class")
    s = SpeechSettings()
    assert (s.tts, s.stt_model, s.stt_cpu_threads) == ("espeak", "/models/whisper-small", 4)
    assert s.stt == "whisper" and s.stt_compute_type == "int8"


def test_settings_refuse_nonsense_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKLINE_STT_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="stt_concurrency"):
        SpeechSettings()


def test_unknown_tts_name_lists_the_known_ones() -> None:
    with pytest.raises(ProviderConfigError) as err:
        build_tts(SpeechSettings(tts="festival"))
    assert "MOCKLINE_TTS='festival'" in str(err.value)
    assert "espeak" in str(err.value) and "piper" in str(err.value)


def test_unknown_stt_name_is_a_clear_error() -> None:
    with pytest.raises(ProviderConfigError, match=r"MOCKLINE_STT='deepgram'.*whisper"):
        build_stt(SpeechSettings(stt="deepgram"))


def test_espeak_backend_by_name() -> None:
    tts = build_tts(SpeechSettings(tts="ESPEAK"))
    assert isinstance(tts, EspeakTTS)
    assert tts.sample_rate == 22050 and tts.num_channels == 1
    assert tts.capabilities.streaming is False  # the session wraps it in a sentence StreamAdapter


def test_missing_piper_falls_back_to_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # as if the GPL extra was not installed
    assert isinstance(build_tts(SpeechSettings(tts="piper")), EspeakTTS)


def test_missing_piper_without_fallback_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(ProviderUnavailableError, match=r"mockline\[piper\].*MOCKLINE_TTS=espeak"):
        build_tts(SpeechSettings(tts="piper", tts_fallback=False))


def test_missing_piper_voice_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ProviderConfigError, match="MOCKLINE_TTS_PIPER_MODEL"):
        build_tts(SpeechSettings(tts="piper", tts_piper_model=str(tmp_path / "nope.onnx")))


def test_missing_espeak_binary_says_how_to_install() -> None:
    with pytest.raises(ProviderUnavailableError, match="apt-get install espeak-ng"):
        EspeakTTS.load(SpeechSettings(tts_espeak_binary="espeak-ng-not-here"))


def test_unknown_espeak_voice_is_caught_at_load() -> None:
    with pytest.raises(ProviderConfigError, match="MOCKLINE_TTS_ESPEAK_VOICE"):
        EspeakTTS.load(SpeechSettings(tts_espeak_voice="xx-nowhere"))


def test_stt_model_directory_must_exist(tmp_path) -> None:
    with pytest.raises(ProviderConfigError, match="no such model directory"):
        WhisperEngine.load(SpeechSettings(stt_model=str(tmp_path / "missing")))


def test_stt_model_directory_must_hold_ctranslate2_weights(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ProviderConfigError, match="not a CTranslate2 whisper model"):
        WhisperEngine.load(SpeechSettings(stt_model=str(tmp_path)))


def test_stt_size_name_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ProviderConfigError, match="not available offline"):
        WhisperEngine.load(SpeechSettings(stt_model="base.en"))
    assert attempts == []  # looked in the local cache only


def _wav_header(rate: int, channels: int = 1, bits: int = 16, fmt: int = 1) -> bytes:
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, rate * channels * bits // 8, channels * 2, bits)
    return b"RIFF\xff\xff\xff\x7fWAVEfmt " + struct.pack("<I", 16) + fmt_chunk + b"data\xff\xff\xff\x7f"


def test_wav_header_parsing_streams() -> None:
    header = _wav_header(22050)
    assert parse_wav_header(header[:20]) is None  # needs more bytes
    assert parse_wav_header(header + b"\x01\x02") == (22050, 1, 44)
    with pytest.raises(ValueError, match="16-bit PCM"):
        parse_wav_header(_wav_header(22050, bits=8))
    with pytest.raises(ValueError, match="not a WAV"):
        parse_wav_header(b"ID3\x04" + bytes(40))
