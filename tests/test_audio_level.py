"""The RTP audio level (RFC 6465) our WebRTC sender reports, computed without a per-sample Python loop."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
from aiortc import rtp

from signaling._tracks import audio_level_dbov, use_vectorised_audio_level

pytestmark = pytest.mark.unit


def reference(samples: np.ndarray) -> int:
    """RFC 6465 Appendix A, sample by sample."""
    total = sum(int(s) * int(s) for s in samples)
    rms = math.sqrt(total / (len(samples) * 32767 * 32767))
    return -127 if rms == 0 else round(max(-127.0, min(0.0, 20 * math.log10(rms))))


@pytest.mark.parametrize("amplitude", [0, 1, 30, 3000, 40000])
def test_matches_the_rfc_definition(amplitude: int) -> None:
    rng = np.random.default_rng(amplitude)
    samples = (rng.standard_normal(960) * amplitude).clip(-32768, 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    assert audio_level_dbov(frame) == reference(samples)


def test_aiortc_sender_uses_it_once_installed() -> None:
    use_vectorised_audio_level()
    assert rtp.compute_audio_level_dbov is audio_level_dbov
