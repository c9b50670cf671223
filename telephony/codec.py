"""G.711 μ-law at 8 kHz, vectorised with numpy (no ``audioop``: deprecated in 3.11, gone in 3.13).

Twilio Media Streams carry mono μ-law at 8000 Hz; one 20 ms frame is 160 samples = 160 bytes.
Encoding goes through a 65,536-entry lookup table built once from the G.711 segment rule
(14-bit magnitude, bias 0x84, 8 segments); decoding through the 256-entry inverse. Both are pure functions.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FRAME_BYTES",
    "FRAME_MS",
    "SAMPLE_RATE",
    "SILENCE_BYTE",
    "pcm16_to_ulaw",
    "resample_pcm16",
    "ulaw_to_pcm16",
]

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160
SILENCE_BYTE = 0xFF  # μ-law code for 0

_BIAS = 0x84
_CLIP14 = 8159  # largest 14-bit magnitude before the top segment saturates
# Upper bound of each of the 8 segments, in the biased 14-bit domain.
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _build_encode_table() -> np.ndarray:
    # G.711 μ-law is a 14-bit format: drop the two low bits (arithmetic shift, so -1 and +1 differ),
    # fold the sign into the final inversion mask, bias, find the segment, keep 4 mantissa bits.
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), _CLIP14) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude, side="left").astype(np.int32)
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (segment << 4) | mantissa) ^ mask  # >= 8: saturate
    return code.astype(np.uint8)


def _build_decode_table() -> np.ndarray:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ENCODE = _build_encode_table()
_DECODE = _build_decode_table()
_ENCODE_U16 = np.roll(_ENCODE, -32768)  # indexed by the int16 sample's raw bits (uint16 view)


def pcm16_to_ulaw(pcm: bytes | np.ndarray) -> bytes:
    """Encode signed 16-bit PCM (native-endian bytes or an int16 array) to μ-law bytes."""
    samples = np.frombuffer(pcm, dtype=np.int16) if isinstance(pcm, bytes | bytearray | memoryview) else pcm
    if samples.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got {samples.dtype}")
    # the table is indexed by the sample + 32768, i.e. its two's-complement bits with the sign bit flipped
    return _ENCODE_U16[samples.view(np.uint16)].tobytes()


def ulaw_to_pcm16(data: bytes) -> np.ndarray:
    """Decode μ-law bytes to an int16 array (one sample per byte)."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def resample_pcm16(samples: np.ndarray, *, from_rate: int, to_rate: int) -> np.ndarray:
    """Linear-interpolation resampler for int16 mono; good enough for test fixtures and prompts."""
    if from_rate == to_rate or samples.size == 0:
        return samples.astype(np.int16, copy=False)
    n_out = round(samples.size * to_rate / from_rate)
    positions = np.arange(n_out, dtype=np.float64) * (from_rate / to_rate)
    out = np.interp(positions, np.arange(samples.size, dtype=np.float64), samples.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)
