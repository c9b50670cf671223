"""Checks an interview's recording the way a recruiter would notice: it is there, it lasts as long as the
call, and at a candidate turn's timestamp the candidate's side carries their voice."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass

import av
import numpy as np
from sqlalchemy import desc, select

from storage import Database, Interview, Recording, RecordingStore, TranscriptTurn


@dataclass
class Decoded:
    audio: np.ndarray  # (2, samples) float32: candidate left, interviewer right
    rate: int

    @property
    def duration_s(self) -> float:
        return self.audio.shape[1] / self.rate

    def rms(self, side: int, start: float, end: float) -> float:
        seg = self.audio[side, max(0, int(start * self.rate)) : max(0, int(end * self.rate))]
        return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0


def decode(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data)) as c:
        frames = [f.to_ndarray() for f in c.decode(audio=0)]
        rate = c.streams.audio[0].codec_context.sample_rate
    audio = np.concatenate(frames, axis=1).astype(np.float32)
    if audio.shape[0] == 1:  # packed layouts come out as (1, samples * channels)
        audio = audio.reshape(-1, 2).T
    return Decoded(audio=audio, rate=rate)


async def completed_recording(db: Database, interview_id: str, timeout_s: float = 30.0) -> None:
    """The session finishes its recording just after it records the interview's end: wait for it."""
    deadline = time.monotonic() + timeout_s
    while True:
        with db.session() as s:
            status = s.scalar(
                select(Recording.status)
                .where(Recording.interview_id == interview_id)
                .order_by(desc(Recording.id))
            )
        if status == "complete":
            return
        assert time.monotonic() < deadline, f"recording never completed (status {status})"
        await asyncio.sleep(0.1)


async def check_recording(
    db: Database, store: RecordingStore, interview_id: str
) -> tuple[Recording, Decoded]:
    """The interview's recording, complete, as long as the call, both voices on their own side."""
    await completed_recording(db, interview_id)
    with db.session() as s:
        interview = s.get(Interview, interview_id)
        rec = s.scalar(
            select(Recording).where(Recording.interview_id == interview_id).order_by(desc(Recording.id))
        )
        turns = list(
            s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == interview_id)
                .order_by(TranscriptTurn.seq)
            )
        )
    assert rec is not None, "the interview has no recording"
    assert (rec.status, rec.mime, rec.channels) == ("complete", "audio/ogg", 2)
    data = b"".join(store.read(rec.path))
    assert len(data) == rec.size_bytes
    decoded = decode(data)
    assert abs(decoded.duration_s - rec.duration_s) < 0.1
    call_s = (interview.ended_at - interview.started_at).total_seconds()
    # the recording starts when the session does and ends when it has closed: within a couple of seconds
    assert abs((rec.offset_s + rec.duration_s) - call_s) < 3.0, (rec.offset_s, rec.duration_s, call_s)

    def window(t: TranscriptTurn) -> tuple[float, float]:
        start = t.started_at - rec.offset_s + 0.2
        return start, max(start + 0.3, min(t.ended_at - rec.offset_s, start + 1.5))

    # turns with a real span (a turn merged after a barge-in can be stamped at one instant)
    candidate = [t for t in turns if t.speaker == "candidate" and t.ended_at - t.started_at >= 1.0]
    agent = [t for t in turns if t.speaker == "agent" and not t.interrupted]
    assert candidate and agent
    for t in candidate:
        a, b = window(t)
        left, right = decoded.rms(0, a, b), decoded.rms(1, a, b)
        assert left > 0.01 and left > 2 * right, (t.seq, t.started_at, left, right)
    t = agent[0]
    a, b = window(t)
    assert decoded.rms(1, a, b) > 0.01 and decoded.rms(0, a, b) < 0.5 * decoded.rms(1, a, b)
    return rec, decoded
