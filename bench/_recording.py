"""Recording: what the two-sided recorder costs (CPU, bytes per minute) and what it adds to a server.

Two parts:

- **The recorder alone** (``agent._recorder.CallRecorder``): ``minutes`` of a scripted conversation fed
  through it as fast as it takes them, on a clock that follows the audio. The candidate is a 48 kHz browser
  track (20 ms frames, resampled to 16 kHz), the interviewer 22.05 kHz TTS (piper's rate); they take turns
  with espeak-ng speech and short pauses. A second run feeds silence on the candidate's side only (a
  muted microphone, nobody speaking). Measured: process CPU seconds per minute of call (placing,
  resampling, Opus encoding, Ogg writing, all threads) and the file's size per minute.
- **Capacity with and without recording**: the capacity step (fixed-latency fakes, phone transport) run
  on fresh servers with ``MOCKLINE_RECORDINGS_ENABLED`` true and false (``rounds`` pairs, alternating which
  goes first): the server's CPU per wall second and peak RSS per session, and server p95 voice-to-voice.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RecorderResult", "RecordingCapacity", "run_recorder_bench", "run_recording_capacity"]

FRAME_S = 0.02
_LINES = (
    "Tell me about a system you designed from scratch and the trade-offs you made.",
    "I built the billing pipeline at my last job. We chose an event log over a shared database because "
    "several teams needed the same facts, and replaying the log made audits simple.",
    "How did you handle failures in that pipeline?",
    "Every consumer was idempotent, so a retry never charged anyone twice, and we alerted on lag rather "
    "than on individual errors, which cut the noise a lot.",
)


@dataclass
class RecorderResult:
    scenario: str
    call_s: float
    bytes: int
    kib_per_min: float
    cpu_s_per_call_min: float  # process CPU seconds per minute of recorded call
    core_share_per_call: float  # the fraction of one core a live call's recorder keeps busy
    wall_s: float
    late_s: float  # audio the recorder dropped as late (both sides)


def _frames(samples: np.ndarray, rate: int) -> list[bytes]:
    n = int(rate * FRAME_S)
    whole = samples[: len(samples) // n * n]
    return [whole[i : i + n].tobytes() for i in range(0, len(whole), n)]


def _conversation(minutes: float) -> list[tuple[int, float, bytes, int]]:
    """(side, at, pcm, rate) for ``minutes`` of turn-taking, interviewer first."""
    from agent._recorder import CANDIDATE, INTERVIEWER
    from tests.audio import speak

    clips = [
        (INTERVIEWER if i % 2 == 0 else CANDIDATE, speak(text, sample_rate=22050 if i % 2 == 0 else 48000))
        for i, text in enumerate(_LINES)
    ]
    events: list[tuple[int, float, bytes, int]] = []
    t, k, total = 0.0, 0, minutes * 60.0
    mic_silence = np.zeros(int(48000 * FRAME_S), dtype=np.int16).tobytes()
    mic_until = 0.0
    while t < total:
        side, samples = clips[k % len(clips)]
        rate = 22050 if side == INTERVIEWER else 48000
        for j, pcm in enumerate(_frames(samples, rate)):
            events.append((side, t + j * FRAME_S, pcm, rate))
        length = len(samples) / rate
        if side == INTERVIEWER:  # the browser's microphone keeps sending (quiet) frames meanwhile
            while mic_until < t + length:
                events.append((CANDIDATE, mic_until, mic_silence, 48000))
                mic_until += FRAME_S
        else:
            mic_until = t + length
        t += length + 0.7
        k += 1
    events.sort(key=lambda e: e[1])
    return events


def _silence(minutes: float) -> list[tuple[int, float, bytes, int]]:
    from agent._recorder import CANDIDATE

    pcm = np.zeros(int(48000 * FRAME_S), dtype=np.int16).tobytes()
    return [(CANDIDATE, i * FRAME_S, pcm, 48000) for i in range(int(minutes * 60 / FRAME_S))]


def _record(scenario: str, events: list[tuple[int, float, bytes, int]], out: Path) -> RecorderResult:
    from livekit import rtc

    from agent._recorder import CallRecorder

    t0 = 1_000_000.0
    now = [t0]
    rec = CallRecorder(out, t0=t0, clock=lambda: now[0])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rec.start()
    for side, at, pcm, rate in events:
        now[0] = t0 + at + FRAME_S  # the recorder's clock follows the audio: each frame arrives once captured
        rec.frame(side, rtc.AudioFrame(pcm, rate, 1, len(pcm) // 2), at=t0 + at)
    now[0] = t0 + events[-1][1] + FRAME_S
    duration = rec.close(timeout=600)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if rec.error is not None:
        raise RuntimeError(f"the recorder failed: {rec.error}")
    size = out.stat().st_size
    minutes = duration / 60.0
    return RecorderResult(
        scenario=scenario,
        call_s=round(duration, 1),
        bytes=size,
        kib_per_min=round(size / 1024 / minutes, 1),
        cpu_s_per_call_min=round(cpu / minutes, 3),
        core_share_per_call=round(cpu / duration, 4),
        wall_s=round(wall, 1),
        late_s=round(rec.late_s, 3),
    )


def run_recorder_bench(*, minutes: float = 3.0) -> list[RecorderResult]:
    with tempfile.TemporaryDirectory() as d:
        return [
            _record("conversation (speech both sides)", _conversation(minutes), Path(d) / "talk.ogg"),
            _record("silence (muted microphone)", _silence(minutes), Path(d) / "quiet.ogg"),
        ]


@dataclass
class RecordingCapacity:
    recording: bool
    sessions: int
    completed: int
    server_cpu: float  # CPU seconds per wall second
    cpu_per_session: float
    rss_mb_per_session: float
    v2v_p95_ms: float | None
    underruns: int


async def run_recording_capacity(
    *, sessions: int = 10, call_s: float = 30.0, rounds: int = 1
) -> list[RecordingCapacity]:
    """``rounds`` pairs of runs, alternating which goes first (on a shared machine the order matters)."""
    from ._capacity import run_capacity

    out: list[RecordingCapacity] = []
    saved = {k: os.environ.get(k) for k in ("MOCKLINE_RECORDINGS_ENABLED", "MOCKLINE_RECORDINGS_DIR")}
    try:
        with tempfile.TemporaryDirectory() as d:
            os.environ["MOCKLINE_RECORDINGS_DIR"] = d
            order = [(True, False) if r % 2 == 0 else (False, True) for r in range(rounds)]
            for enabled in (e for pair in order for e in pair):
                os.environ["MOCKLINE_RECORDINGS_ENABLED"] = "true" if enabled else "false"
                steps = await run_capacity(
                    transport="phone", steps=(sessions,), ramp_s=5.0, call_s=call_s, keep_going=True
                )
                step = steps[-1]
                out.append(
                    RecordingCapacity(
                        recording=enabled,
                        sessions=step.sessions,
                        completed=step.completed,
                        server_cpu=step.server_cpu,
                        cpu_per_session=round(step.server_cpu / step.sessions, 4),
                        rss_mb_per_session=step.rss_mb_per_session,
                        v2v_p95_ms=step.v2v.p95,
                        underruns=step.underruns,
                    )
                )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out
