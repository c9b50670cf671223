"""Turning off livekit's speaking-rate estimator in a ``TranscriptSynchronizer``.

Its STFT over every agent audio chunk was the largest single CPU cost of the event loop at 10+ sessions
(BENCHMARKS.md, "Where the time goes"); the stored transcript needs only the played position.
"""

from __future__ import annotations

import asyncio
from typing import Any

from livekit import rtc

__all__ = ["without_speaking_rate"]


class _NoSpeakingRate:
    """Stands in for livekit's ``SpeakingRateDetector``: no events, so the synchronizer paces words at the
    segment's average rate (text length / audio length) instead of an STFT over every agent audio chunk."""

    def stream(self) -> _NoSpeakingRateStream:
        return _NoSpeakingRateStream()


class _NoSpeakingRateStream:
    def push_frame(self, frame: rtc.AudioFrame) -> None:
        pass

    def flush(self) -> None:
        pass

    def end_input(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def __aiter__(self) -> _NoSpeakingRateStream:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


def without_speaking_rate(sync: Any) -> bool:
    """Turn off the speaking-rate estimator of a livekit ``TranscriptSynchronizer`` (1.8.x internals; a no-op
    returning False if they changed). Word timing then follows the average rate of each segment, and the
    interrupted text still follows the played position, which is what the stored transcript needs."""
    opts = getattr(sync, "_opts", None)
    impl = getattr(sync, "_impl", None)
    audio: Any = getattr(impl, "_audio_data", None)
    if opts is None or not hasattr(opts, "speaking_rate_detector") or not hasattr(audio, "sr_stream"):
        return False
    opts.speaking_rate_detector = _NoSpeakingRate()
    old = audio.sr_stream
    audio.sr_stream = _NoSpeakingRateStream()  # the first segment's impl was built before the swap
    closing = asyncio.get_running_loop().create_task(old.aclose(), name="speaking-rate-close")
    closing.add_done_callback(lambda t: t.cancelled() or t.exception())
    return True
