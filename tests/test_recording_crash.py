"""The server is SIGKILLed mid-call, on the phone path and on the browser path (WebRTC: an aiortc peer doing
what the join page does): the recording it was writing is playable up to its last seconds, and its row still
points at it (status "recording"), so the dashboard can play it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select
from streamdouble.protocol import StreamIdentity
from streamdouble.scenario import parse as parse_scenario
from streamdouble.session import Session, SessionConfig

from agent.plans import build_plan
from storage import (
    Database,
    Interview,
    InterviewPlan,
    LocalRecordingStore,
    Recording,
    create_invitation,
    upgrade_to_head,
)
from telephony._security import StreamTokens
from tests.recording_crash_server import SECRET
from tests.recording_support import Decoded, decode
from tests.test_signaling_support import Candidate

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[1]
CALL_SID = "CA" + "cc" * 16


def _interview(db: Database) -> str:
    spec = build_plan(role="backend engineer", question_count=1, seed=3, time_limit_minutes=10)
    with db.session() as s:
        plan = InterviewPlan(title="Phone", role=spec.role, question_count=1, spec=spec.to_json())
        s.add(plan)
        s.flush()
        row = Interview(plan_id=plan.id, candidate_name="Ada", channel="phone")
        s.add(row)
        s.flush()
        return row.id


def _invitation(db: Database) -> str:
    spec = build_plan(role="backend engineer", question_count=1, seed=3, time_limit_minutes=10)
    with db.session() as s:
        plan = InterviewPlan(title="Browser", role=spec.role, question_count=1, spec=spec.to_json())
        s.add(plan)
        s.flush()
        return create_invitation(s, plan_id=plan.id, org_id=None, candidate_name="Ada", mode="practice").token


def _recording(db: Database, interview_id: str) -> Recording | None:
    with db.session() as s:
        return s.scalar(select(Recording).where(Recording.interview_id == interview_id))


class _CrashServer:
    """``tests.recording_crash_server`` in its own process, to be SIGKILLed."""

    def __init__(self, db: Database, recordings_dir: Path) -> None:
        self.db, self.dir = db, recordings_dir
        self.env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "MOCKLINE_RECORDINGS_DIR": str(recordings_dir),
            "MOCKLINE_RTC_HOST_ADDRESSES": '["127.0.0.1"]',
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.killed_at = 0.0

    async def __aenter__(self) -> int:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.recording_crash_server",
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        return int(await self.proc.stdout.readline())  # printed once the models are loaded

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def recorded(self, interview_id: str, at_least: int) -> None:
        """Until the recording file holds ``at_least`` bytes (the recorder writes every second)."""
        deadline = time.monotonic() + 120
        while True:
            rec = _recording(self.db, interview_id)
            path = self.dir / rec.path if rec is not None else None
            if path is not None and path.exists() and path.stat().st_size >= at_least:
                return
            assert self.proc is not None and self.proc.returncode is None, "the server died on its own"
            assert time.monotonic() < deadline, "nothing was recorded"
            await asyncio.sleep(0.2)

    def size(self, interview_id: str) -> int:
        rec = _recording(self.db, interview_id)
        path = self.dir / rec.path if rec is not None else None
        return path.stat().st_size if path is not None and path.exists() else 0

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.killed_at = time.time()

    def left_behind(self, interview_id: str) -> Decoded:
        """The recording as the dashboard would serve it after the crash: a playable file, its row intact."""
        rec = _recording(self.db, interview_id)
        assert rec is not None and rec.status == "recording"  # nobody got to finish it
        audio = decode(b"".join(LocalRecordingStore(root=self.dir).read(rec.path)))
        created = rec.created_at
        started = (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
        assert audio.duration_s > 4.0
        assert self.killed_at - started - audio.duration_s < 4.0  # only the last seconds are lost
        assert audio.rms(1, 1.0, audio.duration_s - 0.5) > 0.01  # the interviewer's greeting, on the right
        return audio


@pytest.mark.phone
async def test_sigkill_of_the_phone_server_mid_call_leaves_a_playable_recording(tmp_path, recordings_dir):
    db = Database(url=f"sqlite:///{tmp_path / 'crash.db'}")
    upgrade_to_head(db)
    interview_id = _interview(db)
    server = _CrashServer(db, recordings_dir)
    call: asyncio.Task | None = None
    try:
        async with server as port:
            token = StreamTokens(secret_key=SECRET, ttl_s=600).issue(
                interview_id=interview_id, call_sid=CALL_SID
            )
            scenario = parse_scenario(
                {
                    "name": "crash",
                    "steps": [{"wait_for": {"event": "audio", "timeout": 120}}, {"wait": 120.0}],
                }
            )
            config = SessionConfig(
                custom_parameters={"interview_id": interview_id, "token": token},
                response_timeout_s=120,
                quiet_period_s=2.0,
                max_drain_s=5,
                max_call_s=240,
            )
            session = Session(
                f"ws://127.0.0.1:{port}/twilio/stream",
                scenario=scenario,
                config=config,
                identity=StreamIdentity(call_sid=CALL_SID),
            )
            call = asyncio.create_task(session.run())
            # the interviewer is greeting the caller; wait until several seconds of the call are on disk
            await server.recorded(interview_id, at_least=24_000)
            await server.kill()
    finally:
        if call is not None:
            await asyncio.gather(call, return_exceptions=True)
    server.left_behind(interview_id)
    db.dispose()


async def test_sigkill_of_the_server_mid_webrtc_call_leaves_a_playable_recording(tmp_path, recordings_dir):
    db = Database(url=f"sqlite:///{tmp_path / 'crash.db'}")
    upgrade_to_head(db)
    token = _invitation(db)
    server = _CrashServer(db, recordings_dir)
    async with server as port:
        cand = Candidate(f"http://127.0.0.1:{port}", token)
        try:
            res = await cand.connect()
            assert res.status_code == 200, res.text
            await cand.wait_for(lambda: "connected" in cand.states, within=60)
            with db.session() as s:
                interview_id = s.scalars(select(Interview.id)).one()
            cand.mic.speak.set()  # a 1 s burst over the greeting
            await cand.wait_for(lambda: cand.mic.bursts_done >= 1, within=60)
            # then a few more seconds, so the burst is surely on disk before the kill
            await server.recorded(interview_id, at_least=max(24_000, server.size(interview_id) + 12_000))
            await server.kill()
        finally:
            await cand.close()
    audio = server.left_behind(interview_id)
    loudest = max(audio.rms(0, k / 4, k / 4 + 0.5) for k in range(int(audio.duration_s * 4)))
    assert loudest > 0.05  # the candidate's burst, on the left
    db.dispose()
