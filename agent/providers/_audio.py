"""Small PCM helpers shared by the providers: frames in, float32 mono at the model's rate out."""

from __future__ import annotations

import numpy as np
from livekit import rtc
from livekit.agents.utils import AudioBuffer

__all__ = ["WHISPER_RATE", "buffer_to_float32", "int16_to_float32", "resample_int16"]

WHISPER_RATE = 16000


def int16_to_float32(pcm: np.ndarray | bytes) -> np.ndarray:
    data = np.frombuffer(pcm, dtype=np.int16) if isinstance(pcm, bytes | bytearray) else pcm
    return data.astype(np.float32) / 32768.0


def resample_int16(samples: np.ndarray, *, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono int16 samples (libwebrtc's high-quality resampler)."""
    if from_rate == to_rate or samples.size == 0:
        return samples.astype(np.int16, copy=False)
    resampler = rtc.AudioResampler(from_rate, to_rate, quality=rtc.AudioResamplerQuality.HIGH)
    frame = rtc.AudioFrame(
        data=samples.astype(np.int16).tobytes(),
        sample_rate=from_rate,
        num_channels=1,
        samples_per_channel=samples.size,
    )
    out = [*resampler.push(frame), *resampler.flush()]
    if not out:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out])


def buffer_to_float32(buffer: AudioBuffer, *, rate: int = WHISPER_RATE) -> np.ndarray:
    """Merge frames (any rate, any channel count) into float32 mono samples at ``rate``."""
    frames = buffer if isinstance(buffer, list) else [buffer]
    frames = [f for f in frames if f.samples_per_channel > 0]
    if not frames:
        return np.zeros(0, dtype=np.float32)
    merged = rtc.combine_audio_frames(frames)
    samples = np.frombuffer(merged.data, dtype=np.int16)
    if merged.num_channels > 1:
        samples = samples.reshape(-1, merged.num_channels).mean(axis=1).astype(np.int16)
    samples = resample_int16(samples, from_rate=merged.sample_rate, to_rate=rate)
    return int16_to_float32(samples)
