"""Benchmarks for the browser audio path: ``python -m signaling.bench [--seconds 10]``.

1. Outbound: an ``AgentAudioTrack`` pulls one continuous TTS-like segment from a real ``WebRTCAudioOutput``
   (the agent's ``PacedAudioOutput``); the track is read as aiortc's sender does. Reports the clock
   drift of the track (pts time vs wall time at the end), the worst lateness of a frame, and the gaps
   (silent frames) inside the segment.
2. Inbound: the cost per 20 ms browser frame (48 kHz stereo) of the two ways to reach 16 kHz mono.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import time

import av
import numpy as np
from livekit import rtc

from ._output import WebRTCAudioOutput
from ._tracks import AgentAudioTrack, InboundConverter


async def outbound(seconds: float) -> dict[str, float]:
    track = AgentAudioTrack(sample_rate=48000)
    out = WebRTCAudioOutput()
    out.attach(track)
    rate, chunk = 22050, 4410  # piper-like: 200 ms chunks at 22.05 kHz, faster than real time
    t = np.arange(int(rate * seconds)) / rate
    pcm = (np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16)

    async def produce() -> None:
        for off in range(0, len(pcm), chunk):
            part = pcm[off : off + chunk]
            await out.capture_frame(rtc.AudioFrame(part.tobytes(), rate, 1, len(part)))
        out.flush()

    producer = asyncio.create_task(produce())
    voiced: list[bool] = []
    lateness = []
    start = time.monotonic()
    frames = int(seconds * 50) + 25
    for _ in range(frames):
        frame = await track.recv()
        due = start + frame.pts / 48000
        lateness.append(time.monotonic() - due)
        voiced.append(bool(np.abs(frame.to_ndarray()).max() > 0))
    elapsed = time.monotonic() - start
    drift_ms = elapsed * 1000 - frame.pts / 48000 * 1000  # the last frame was due at its pts
    await producer
    producer_underruns = out.stats.underruns
    await out.aclose()
    track.stop()
    first = voiced.index(True)
    last = len(voiced) - 1 - voiced[::-1].index(True)
    gaps = sum(1 for v in voiced[first : last + 1] if not v)
    return {
        "frames": frames,
        "drift_ms_at_end": round(drift_ms, 2),
        "max_lateness_ms": round(max(lateness) * 1000, 2),
        "gap_frames_inside_segment": gaps,
        "producer_underruns": producer_underruns,
        "voiced_frames": sum(voiced),
        "first_voiced_after_ms": first * 20,
    }


def inbound(n: int = 5000) -> dict[str, float]:
    t = np.arange(960) / 48000
    mono = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    stereo = np.repeat(mono, 2).reshape(1, -1)

    def frame(i: int) -> av.AudioFrame:
        f = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        f.sample_rate, f.pts, f.time_base = 48000, i * 960, fractions.Fraction(1, 48000)
        return f

    frames = [frame(i) for i in range(100)]
    conv = InboundConverter(sample_rate=16000)
    t0 = time.perf_counter()
    for i in range(n):
        conv.convert(frames[i % 100])
    swr_us = (time.perf_counter() - t0) / n * 1e6

    lk = rtc.AudioResampler(48000, 16000, num_channels=1)
    t0 = time.perf_counter()
    for i in range(n):
        a = frames[i % 100].to_ndarray().reshape(-1, 2).astype(np.int32)
        m = ((a[:, 0] + a[:, 1]) >> 1).astype(np.int16)
        lk.push(rtc.AudioFrame(m.tobytes(), 48000, 1, 960))
    numpy_lk_us = (time.perf_counter() - t0) / n * 1e6
    return {
        "swresample_us_per_frame": round(swr_us, 1),
        "numpy_downmix_plus_livekit_resampler_us_per_frame": round(numpy_lk_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the outbound segment")
    args = parser.parse_args()
    print("outbound:", asyncio.run(outbound(args.seconds)))
    print("inbound: ", inbound())


if __name__ == "__main__":
    main()
