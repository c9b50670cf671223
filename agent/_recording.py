"""``InterviewRecording``: one session's :class:`CallRecorder`, its ``Recording`` row and its store.

Opened when the session starts: the row is written first (status "recording", the store key and where the
file's second 0 sits on the transcript's clock), so a worker killed mid-call leaves a row pointing at a file
playable up to its last seconds. Closed when the session ends: the file is finished, committed to the
store (uploaded, for S3) and the row gets its duration, size and status "complete".

Feeding it: our own transports (``PushAudioInput`` / ``PacedAudioOutput``) take a ``RecorderTap`` each and
feed it where candidate frames arrive and where interviewer frames leave on their playout slot. A LiveKit
room's I/O belongs to livekit's ``RoomIO``, so :meth:`attach_session` wraps the session's audio input and
output instead: the interviewer side is placed on a playout clock that advances in real time from each
captured frame (the room's audio source plays what it is given at that rate) and is cut on interruption.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from livekit import rtc
from livekit.agents.voice import io

from storage import (
    Database,
    Recording,
    RecordingSettings,
    RecordingStore,
    RecordingStoreError,
    get_recording_settings,
    get_recording_store,
    recording_key,
)

from ._io import PacedAudioOutput, PushAudioInput
from ._recorder import CANDIDATE, INTERVIEWER, CallRecorder, RecorderTap

__all__ = ["InterviewRecording", "RecordingResult"]

logger = logging.getLogger("mockline.agent")


@dataclass(frozen=True)
class RecordingResult:
    recording_id: int
    key: str
    duration_s: float
    size_bytes: int


class InterviewRecording:
    def __init__(
        self, *, db: Database, store: RecordingStore, recording_id: int, key: str, recorder: CallRecorder
    ) -> None:
        self._db, self._store = db, store
        self.recording_id, self.key = recording_id, key
        self.recorder = recorder
        self._result: RecordingResult | None = None

    @classmethod
    async def open(
        cls,
        *,
        db: Database,
        interview_id: str,
        interview_started_at: datetime,
        store: RecordingStore | None = None,
        settings: RecordingSettings | None = None,
    ) -> InterviewRecording | None:
        """Start recording now; None when recordings are disabled or the store cannot take it."""
        settings = settings or get_recording_settings()
        if not settings.enabled:
            return None
        try:
            store = store or get_recording_store()
            started = datetime.now(UTC)
            key = recording_key(interview_id, started)
            path = await asyncio.to_thread(store.spool_path, key)
        except (RecordingStoreError, OSError):
            logger.exception("recording store unavailable; interview not recorded")
            return None
        t0 = started.timestamp()
        offset = max(0.0, t0 - interview_started_at.timestamp())
        recorder = CallRecorder(path, sample_rate=settings.sample_rate, bitrate=settings.bitrate, t0=t0)

        def insert() -> int:
            with db.session() as s:
                row = Recording(
                    interview_id=interview_id,
                    path=key,
                    mime="audio/ogg",
                    sample_rate=settings.sample_rate,
                    channels=2,
                    offset_s=round(offset, 3),
                    status="recording",
                )
                s.add(row)
                s.flush()
                return row.id

        recording_id = await asyncio.to_thread(insert)
        recorder.start()
        return cls(db=db, store=store, recording_id=recording_id, key=key, recorder=recorder)

    # -- feeding -----------------------------------------------------------------------------------

    def attach(self, audio_input: Any, audio_output: Any) -> None:
        """Our own transports: tap where frames arrive and where they are played out."""
        if isinstance(audio_input, PushAudioInput):
            audio_input.recorder_tap = self.recorder.tap(CANDIDATE)
        if isinstance(audio_output, PacedAudioOutput):
            audio_output.recorder_tap = self.recorder.tap(INTERVIEWER)

    def attach_session(self, session: Any) -> None:
        """A session whose I/O is not ours (LiveKit ``RoomIO``): wrap its audio input and output."""
        if session.input.audio is not None:
            session.input.audio = _TappedInput(session.input.audio, self.recorder.tap(CANDIDATE))
        if session.output.audio is not None:
            session.output.audio = _TappedOutput(session.output.audio, self.recorder.tap(INTERVIEWER))

    # -- end -----------------------------------------------------------------------------------------

    async def aclose(self) -> RecordingResult | None:
        """Finish the file, commit it to the store, complete the row. Idempotent; never raises."""
        if self._result is not None:
            return self._result
        duration = await asyncio.to_thread(self.recorder.close)
        try:
            size = await asyncio.to_thread(self._store.commit, self.key)
        except (RecordingStoreError, OSError):
            logger.exception("could not store the recording", extra={"recording_id": self.recording_id})
            size = 0

        def complete() -> None:
            with self._db.session() as s:
                row = s.get(Recording, self.recording_id)
                if row is not None:
                    row.duration_s = round(duration, 3)
                    row.size_bytes = size
                    row.status = "complete"

        try:
            await asyncio.to_thread(complete)
        except Exception:
            logger.exception(
                "could not complete the recording row", extra={"recording_id": self.recording_id}
            )
        self._result = RecordingResult(self.recording_id, self.key, duration, size)
        return self._result


class _TappedInput(io.AudioInput):
    """Candidate frames from a source we do not own, recorded as the session reads them."""

    def __init__(self, source: io.AudioInput, tap: RecorderTap) -> None:
        super().__init__(label="recorded", source=source)
        self._tap = tap

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await super().__anext__()
        self._tap.frame(frame)
        return frame


class _TappedOutput(io.AudioOutput):
    """Interviewer frames to a sink we do not own, placed on a real-time playout clock."""

    def __init__(self, sink: io.AudioOutput, tap: RecorderTap) -> None:
        super().__init__(
            label="recorded",
            next_in_chain=sink,
            sample_rate=sink.sample_rate,
            capabilities=io.AudioOutputCapabilities(pause=sink.can_pause),
        )
        self._tap = tap
        self._playhead = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        at = max(self._tap.now(), self._playhead)
        self._tap.frame(frame, at=at)
        self._playhead = at + frame.duration
        assert self.next_in_chain is not None
        await self.next_in_chain.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        assert self.next_in_chain is not None
        self.next_in_chain.flush()

    def clear_buffer(self) -> None:
        self._tap.cut()
        self._playhead = 0.0
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()

    def pause(self) -> None:
        assert self.next_in_chain is not None
        self.next_in_chain.pause()

    def resume(self) -> None:
        assert self.next_in_chain is not None
        self.next_in_chain.resume()
