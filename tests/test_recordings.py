"""Recordings: the two-sided recorder, the stores (a directory, and a real S3-compatible server on
loopback), Range requests, and a recorder killed mid-call leaving a playable file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import numpy as np
import pytest
from livekit import rtc
from livekit.agents.voice import io

from agent._recorder import CANDIDATE, INTERVIEWER, CallRecorder
from agent._recording import InterviewRecording
from storage import LocalRecordingStore, RecordingNotFound, S3RecordingStore, parse_range
from tests.recording_support import decode
from tests.s3_server import s3_server

FRAME_S = 0.02


def tone(rate: int, hz: float, seconds: float = FRAME_S) -> rtc.AudioFrame:
    n = int(rate * seconds)
    t = np.arange(n) / rate
    pcm = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), rate, 1, n)


# -- the recorder --------------------------------------------------------------------------------------


@pytest.mark.unit
def test_each_voice_lands_on_its_own_side_at_the_second_it_was_heard(tmp_path):
    t0 = 1_000_000.0
    rec = CallRecorder(tmp_path / "call.ogg", t0=t0, clock=lambda: t0 + 10.0)
    rec.start()
    for i in range(100):  # the candidate (a 48 kHz browser track) talks from 1 s to 3 s
        rec.frame(CANDIDATE, tone(48000, 300), at=t0 + 1.0 + i * FRAME_S)
    for i in range(100):  # the interviewer (24 kHz TTS) plays from 5 s to 7 s ...
        rec.frame(INTERVIEWER, tone(24000, 500), at=t0 + 5.0 + i * FRAME_S)
    rec.cut(INTERVIEWER, at=t0 + 6.0)  # ... but is interrupted at 6 s: the rest was never played
    for i in range(50):  # and a phone caller (8 kHz) answers from 8 s
        rec.frame(CANDIDATE, tone(8000, 300), at=t0 + 8.0 + i * FRAME_S)
    duration = rec.close()

    audio = decode((tmp_path / "call.ogg").read_bytes())
    assert audio.duration_s == pytest.approx(duration, abs=0.05)
    assert audio.rms(CANDIDATE, 1.2, 2.8) > 0.2 and audio.rms(INTERVIEWER, 1.2, 2.8) < 0.01
    assert audio.rms(INTERVIEWER, 5.2, 5.8) > 0.2 and audio.rms(CANDIDATE, 5.2, 5.8) < 0.01
    assert audio.rms(INTERVIEWER, 6.2, 7.0) < 0.01  # what was cut is not in the recording
    assert audio.rms(CANDIDATE, 8.2, 8.8) > 0.2
    assert audio.rms(CANDIDATE, 3.5, 4.5) < 0.01  # silence where nobody spoke


@pytest.mark.unit
def test_jittery_arrival_keeps_a_side_contiguous(tmp_path):
    t0 = 2_000_000.0
    rec = CallRecorder(tmp_path / "jitter.ogg", t0=t0, clock=lambda: t0 + 4.0)
    rec.start()
    rng = np.random.default_rng(1)
    for i in range(150):  # network jitter of up to 30 ms around each frame's slot
        rec.frame(CANDIDATE, tone(16000, 300), at=t0 + 0.5 + i * FRAME_S + rng.uniform(-0.03, 0.03))
    rec.close()
    audio = decode((tmp_path / "jitter.ogg").read_bytes())
    # no holes and no doubled-up audio: steady level across the whole utterance
    levels = [audio.rms(CANDIDATE, 0.6 + k * 0.25, 0.85 + k * 0.25) for k in range(10)]
    assert min(levels) > 0.3 and max(levels) < 0.4, levels


@pytest.mark.unit
def test_a_recorder_far_behind_its_feed_loses_nothing(tmp_path):
    # 20 s of microphone frames arrive faster than the encoder takes them (a busy process)
    t0 = 4_000_000.0
    clock = [t0]
    rec = CallRecorder(tmp_path / "behind.ogg", t0=t0, clock=lambda: clock[0], flush_every_s=0.05)
    rec.start()
    quiet, loud = rtc.AudioFrame(bytes(1920), 48000, 1, 960), tone(48000, 300)
    for i in range(1000):
        clock[0] = t0 + (i + 1) * FRAME_S  # each frame arrives once captured
        rec.frame(CANDIDATE, loud if 600 <= i < 800 else quiet, at=t0 + i * FRAME_S)
    duration = rec.close(timeout=120)
    assert duration == pytest.approx(20.0, abs=0.05) and rec.late_s == 0.0
    audio = decode((tmp_path / "behind.ogg").read_bytes())
    assert audio.duration_s == pytest.approx(20.0, abs=0.1)
    assert audio.rms(CANDIDATE, 12.2, 15.8) > 0.2 and audio.rms(CANDIDATE, 16.5, 19.5) < 0.01


class _Microphone(io.AudioInput):
    """A room participant's track as RoomIO hands it over: 48 kHz frames, each read when it has arrived."""

    def __init__(self, clock: list[float], start: float, frames: int) -> None:
        super().__init__(label="room")
        self._clock, self._start, self._left = clock, start, frames
        self.sent = 0

    async def __anext__(self) -> rtc.AudioFrame:
        if self.sent == self._left:
            raise StopAsyncIteration
        self.sent += 1
        self._clock[0] = self._start + self.sent * FRAME_S  # the frame has just arrived
        return tone(48000, 300)


class _RoomTrack(io.AudioOutput):
    """The agent's track into the room: takes frames as fast as they come and plays them in real time."""

    def __init__(self) -> None:
        super().__init__(label="room", capabilities=io.AudioOutputCapabilities(pause=True), sample_rate=24000)
        self.frames = 0
        self.cleared = 0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        self.frames += 1

    def flush(self) -> None:
        super().flush()

    def clear_buffer(self) -> None:
        self.cleared += 1


@pytest.mark.unit
async def test_a_livekit_room_session_is_recorded_through_taps_on_its_input_and_output(tmp_path):
    t0 = 3_000_000.0
    clock = [t0]
    rec = CallRecorder(tmp_path / "room.ogg", t0=t0, clock=lambda: clock[0])
    rec.start()
    recording = InterviewRecording(db=None, store=None, recording_id=1, key="k", recorder=rec)  # type: ignore[arg-type]
    mic, track = _Microphone(clock, t0 + 1.0, 100), _RoomTrack()
    session = SimpleNamespace(input=SimpleNamespace(audio=mic), output=SimpleNamespace(audio=track))
    recording.attach_session(session)
    # the candidate talks from 1 s to 3 s; the session reads every frame unchanged
    heard = [frame async for frame in session.input.audio]
    assert len(heard) == 100 and mic.sent == 100
    # at 4 s the interviewer's 2 s reply is handed to the room at once; it plays from 4 s in real time
    clock[0] = t0 + 4.0
    for _ in range(100):
        await session.output.audio.capture_frame(tone(24000, 500))
    assert track.frames == 100
    clock[0] = t0 + 5.0
    session.output.audio.clear_buffer()  # the candidate interrupts at 5 s: the rest is never heard
    assert track.cleared == 1
    clock[0] = t0 + 7.0
    rec.close()

    audio = decode((tmp_path / "room.ogg").read_bytes())
    assert audio.rms(CANDIDATE, 1.2, 2.8) > 0.2 and audio.rms(INTERVIEWER, 1.2, 2.8) < 0.01
    assert audio.rms(INTERVIEWER, 4.2, 4.8) > 0.2 and audio.rms(CANDIDATE, 4.2, 4.8) < 0.01
    assert audio.rms(INTERVIEWER, 5.2, 6.0) < 0.01


# -- Range parsing ---------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
        ("items=0-1", None),
    ],
)
def test_range_header(header, expected):
    rng = parse_range(header, 1000)
    assert (None if rng is None else (rng.start, rng.end)) == expected


@pytest.mark.unit
@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_range(header):
    with pytest.raises(ValueError):
        parse_range(header, 1000)


# -- stores ----------------------------------------------------------------------------------------------


def _exercise(store, key: str) -> None:
    """What the recorder, the player and the eraser do with a store, in that order."""
    data = bytes(range(256)) * 400
    store.spool_path(key).write_bytes(data)
    assert store.size(key) == len(data)  # readable while the call still runs (from the spool)
    assert store.commit(key) == len(data)
    assert store.size(key) == len(data)
    assert b"".join(store.read(key)) == data
    rng = parse_range("bytes=1000-70999", len(data))
    assert b"".join(store.read(key, rng)) == data[1000:71000]
    store.delete(key)
    with pytest.raises(RecordingNotFound):
        store.size(key)
    with pytest.raises(RecordingNotFound):
        b"".join(store.read(key))


@pytest.mark.integration
def test_local_store(tmp_path):
    store = LocalRecordingStore(root=tmp_path / "rec")
    _exercise(store, "iv1/20260101T000000000000Z.ogg")
    for bad in ("../etc/passwd", "/etc/passwd", "iv1/../../x.ogg"):
        with pytest.raises(RecordingNotFound):
            store.size(bad)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("s3")) as server:
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=server.access_key,
            aws_secret_access_key=server.secret_key,
        )
        client.create_bucket(Bucket="interviews")
        yield server, client


def _s3_store(server, spool: Path) -> S3RecordingStore:
    return S3RecordingStore(
        bucket="interviews",
        spool_dir=spool,
        prefix="recordings/",
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )


@pytest.mark.integration
def test_s3_store_against_a_real_server(s3, tmp_path):
    server, client = s3
    store = _s3_store(server, tmp_path / "spool")
    key = "iv2/20260101T000000000000Z.ogg"
    store.spool_path(key).write_bytes(b"OggS" + b"x" * 5000)
    store.commit(key)
    # it is in the bucket (not just on this machine): another machine's store reads it
    listed = client.list_objects_v2(Bucket="interviews", Prefix="recordings/")["Contents"]
    assert [o["Key"] for o in listed] == [f"recordings/{key}"]
    elsewhere = _s3_store(server, tmp_path / "other-machine")
    assert b"".join(elsewhere.read(key, parse_range("bytes=0-3", 5004))) == b"OggS"
    store.delete(key)
    _exercise(store, "iv3/20260101T000000000000Z.ogg")


@pytest.mark.integration
def test_s3_store_uploads_what_a_killed_worker_left(s3, tmp_path):
    server, _client = s3
    store = _s3_store(server, tmp_path / "spool")
    key = "iv4/20260101T000000000000Z.ogg"
    store.spool_path(key).write_bytes(b"OggS" + b"y" * 100)  # a worker died before its commit
    assert store.commit_orphans(idle_s=300) == []  # it may still be recording
    assert store.commit_orphans(idle_s=0) == [key]
    assert b"".join(_s3_store(server, tmp_path / "fresh").read(key)) == b"OggS" + b"y" * 100


# -- a recorder killed mid-call ------------------------------------------------------------------------

_CHILD = """
import sys, time
import numpy as np
from livekit import rtc
from livekit.agents.voice import io
from agent._recorder import CANDIDATE, INTERVIEWER, CallRecorder
from agent._recording import InterviewRecording

rec = CallRecorder(sys.argv[1])
rec.start()
n = 320
pcm = (0.5 * 32767 * np.sin(2 * np.pi * 300 * np.arange(n) / 16000)).astype(np.int16).tobytes()
start = time.time()
k = 0
while True:  # a call in real time: 20 ms frames on both sides, forever
    at = start + k * 0.02
    time.sleep(max(0.0, at - time.time()))
    rec.frame(CANDIDATE, rtc.AudioFrame(pcm, 16000, 1, n), at=at)
    rec.frame(INTERVIEWER, rtc.AudioFrame(pcm, 16000, 1, n), at=at)
    k += 1
    if k % 50 == 0:
        print(rec.duration_s, flush=True)  # seconds already written to the file
"""


@pytest.mark.integration
def test_sigkill_mid_call_leaves_a_playable_file(tmp_path):
    path = tmp_path / "killed.ogg"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:  # the child reports what it has written
            if float(line) >= 4.0:
                break
        written_at = time.time()
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    assert written_at > 0
    audio = decode(path.read_bytes())
    assert audio.duration_s >= 3.5  # everything up to the last flush is there and decodes
    assert audio.rms(CANDIDATE, 0.5, 3.0) > 0.2 and audio.rms(INTERVIEWER, 0.5, 3.0) > 0.2
