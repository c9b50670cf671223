"""Audio between aiortc and the agent: the outbound track the browser hears, and the inbound pump.

Outbound: :class:`AgentAudioTrack` is an aiortc ``MediaStreamTrack`` whose ``recv()`` returns one 20 ms
mono frame per call, paced against a monotonic clock anchored at the first frame (pts counts samples, so
there is no drift), silence when the agent is idle. It is the only clock on the way out: at each frame's
slot it pulls that frame from its source (the agent's ``WebRTCAudioOutput.pull_frame``); nothing is
buffered in between, so what the source hands over is what the browser plays next.

Inbound: :class:`InboundConverter` turns the browser's decoded Opus (48 kHz, usually stereo) into mono PCM
at the agent's rate with one libswresample pass (cheaper than a numpy downmix followed by the session's own
resampler; see the report of issue 3), and :func:`pump_inbound` feeds it to a callback.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc import jitterbuffer as aiortc_jitterbuffer
from aiortc import rtp as aiortc_rtp
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc

__all__ = [
    "AgentAudioTrack",
    "InboundConverter",
    "pump_inbound",
    "set_inbound_prefetch",
    "use_vectorised_audio_level",
]

logger = logging.getLogger("mockline.signaling")

FRAME_MS = 20
_LATE_S = 0.02


def audio_level_dbov(frame: av.AudioFrame) -> int:
    """RFC 6465 audio level (−127…0 dBov) of an s16 frame, vectorised.

    aiortc computes this for every outgoing audio frame (the RTP audio-level extension) with a per-sample
    Python loop: ~0.2 ms per 20 ms frame at 48 kHz, 1 % of a core per browser session. Same definition
    and result (every sample of the first plane, RMS over ``frame.samples`` full-scale samples)."""
    samples = np.frombuffer(bytes(frame.planes[0]), dtype=np.int16).astype(np.float64)
    rms = math.sqrt(float(np.dot(samples, samples)) / (frame.samples * 32767 * 32767))
    if rms <= 0:
        return -127
    return round(min(0.0, max(-127.0, 20 * math.log10(rms))))


def set_inbound_prefetch(receiver: object, prefetch: int) -> bool:
    """Give an aiortc audio ``RTCRtpReceiver`` a jitter buffer that releases a frame after ``prefetch``
    complete frames (aiortc fixes 4 for audio: ~60 ms more than 1 on every inbound frame). Frames still
    leave in sequence order, so reordered packets are handled alike.

    aiortc has no public setting for this: the buffer is a name-mangled private attribute. aiortc is pinned
    to the exact version this was written against (pyproject.toml) and ``tests/test_library_contracts.py``
    fails on an upgrade that moves it; at run time a mismatch returns False and changes nothing."""
    name = "_RTCRtpReceiver__jitter_buffer"
    current = getattr(receiver, name, None)
    if not isinstance(current, aiortc_jitterbuffer.JitterBuffer) or current._is_video:
        return False
    setattr(receiver, name, aiortc_jitterbuffer.JitterBuffer(capacity=current.capacity, prefetch=prefetch))
    return True


def use_vectorised_audio_level() -> None:
    """Make aiortc's sender compute the RTP audio level with :func:`audio_level_dbov`. Idempotent.

    aiortc has no public hook for this: its sender calls ``aiortc.rtp.compute_audio_level_dbov`` through
    the module, so the module attribute is replaced. Called when a peer connection is created (not at
    import); pinned and contract-tested like :func:`set_inbound_prefetch`."""
    aiortc_rtp.compute_audio_level_dbov = audio_level_dbov


class AgentAudioTrack(MediaStreamTrack):
    """Agent speech for one peer connection: 20 ms frames, real-time paced, silence when idle.

    ``recv()`` waits for each frame's slot, then asks the source set with :meth:`play_from` for the PCM
    to play (one frame of mono int16 at ``sample_rate``, or None for silence)."""

    kind = "audio"

    def __init__(self, *, sample_rate: int = 48000) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.samples_per_frame = sample_rate * FRAME_MS // 1000
        self._frame_bytes = self.samples_per_frame * 2
        self._source: Callable[[], bytes | None] | None = None
        self._start: float | None = None
        self._pts = 0
        self._silence = bytes(self._frame_bytes)
        self._time_base = fractions.Fraction(1, sample_rate)
        # Counters a test or a metrics endpoint can read.
        self.frames_sent = 0
        self.voiced_frames_sent = 0
        # agent audio frames handed to the encoder more than 20 ms after their slot (the event loop was
        # stalled): the browser's jitter buffer may hide a little of it, so this is the pessimistic count
        self.late_frames = 0

    def play_from(self, source: Callable[[], bytes | None] | None) -> None:
        """Where each frame comes from (None: silence from now on)."""
        self._source = source

    def _next_payload(self) -> bytes | None:
        source = self._source
        if source is None:
            return None
        try:
            payload = source()
        except Exception:  # aiortc's sender loop must not die with the agent's output
            logger.exception("agent audio source failed")
            return None
        if payload is not None and len(payload) != self._frame_bytes:
            logger.warning("agent audio frame of the wrong size dropped", extra={"bytes": len(payload)})
            return None
        return payload

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        late = False
        if self._start is None:
            self._start = now
        else:
            self._pts += self.samples_per_frame
            wait = self._start + self._pts / self.sample_rate - now
            if wait > 0:
                await asyncio.sleep(wait)
            late = wait < -_LATE_S
        payload = self._next_payload()  # pulled at its slot: the frame plays now
        if payload is None:
            payload = self._silence
        else:
            self.voiced_frames_sent += 1
            if late:
                self.late_frames += 1
        frame = av.AudioFrame(format="s16", layout="mono", samples=self.samples_per_frame)
        frame.planes[0].update(payload)
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        frame.time_base = self._time_base
        self.frames_sent += 1
        return frame


class InboundConverter:
    """Browser audio (any layout/rate, s16 or float) → mono int16 ``rtc.AudioFrame`` at ``sample_rate``."""

    def __init__(self, *, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)

    def convert(self, frame: av.AudioFrame) -> list[rtc.AudioFrame]:
        out = []
        for f in self._resampler.resample(frame):
            pcm = f.to_ndarray().astype(np.int16, copy=False)
            out.append(
                rtc.AudioFrame(
                    data=pcm.tobytes(),
                    sample_rate=self.sample_rate,
                    num_channels=1,
                    samples_per_channel=f.samples,
                )
            )
        return out


async def pump_inbound(
    track: MediaStreamTrack,
    converter: InboundConverter,
    push: Callable[[rtc.AudioFrame], None],
) -> None:
    """Read the browser's track until it ends, pushing converted frames; returns when the track ends."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        for out in converter.convert(frame):  # type: ignore[arg-type]
            push(out)
