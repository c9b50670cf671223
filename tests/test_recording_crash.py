"""The phone server is SIGKILLed mid-call: the recording it was writing is playable up to its last seconds,
and its row still points at it (status "recording"), so the dashboard can play it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from streamdouble.protocol import StreamIdentity
from streamdouble.scenario import parse as parse_scenario
from streamdouble.session import Session, SessionConfig

from agent.plans import build_plan
from storage import Database, Interview, InterviewPlan, LocalRecordingStore, Recording, upgrade_to_head
from telephony._security import StreamTokens
from tests.recording_crash_server import SECRET
from tests.recording_support import decode

pytestmark = [pytest.mark.e2e, pytest.mark.phone, pytest.mark.timeout(300)]

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


def _recording(db: Database, interview_id: str) -> Recording | None:
    with db.session() as s:
        return s.scalar(select(Recording).where(Recording.interview_id == interview_id))


async def test_sigkill_of_the_server_mid_call_leaves_a_playable_recording(tmp_path, recordings_dir):
    db = Database(url=f"sqlite:///{tmp_path / 'crash.db'}")
    upgrade_to_head(db)
    interview_id = _interview(db)
    env = {**os.environ, "DATABASE_URL": db.url, "MOCKLINE_RECORDINGS_DIR": str(recordings_dir)}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.recording_crash_server",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    call: asyncio.Task | None = None
    try:
        assert server.stdout is not None
        port = int(await server.stdout.readline())  # printed once the models are loaded
        token = StreamTokens(secret_key=SECRET, ttl_s=600).issue(interview_id=interview_id, call_sid=CALL_SID)
        scenario = parse_scenario(
            {"name": "crash", "steps": [{"wait_for": {"event": "audio", "timeout": 120}}, {"wait": 120.0}]}
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
        deadline = time.monotonic() + 120
        while True:
            rec = _recording(db, interview_id)
            path = recordings_dir / rec.path if rec is not None else None
            if path is not None and path.exists() and path.stat().st_size > 24_000:
                break
            assert time.monotonic() < deadline and server.returncode is None, "nothing was recorded"
            await asyncio.sleep(0.2)
        server.send_signal(signal.SIGKILL)
        await server.wait()
        killed_at = time.time()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        if call is not None:
            await asyncio.gather(call, return_exceptions=True)

    rec = _recording(db, interview_id)
    assert rec is not None and rec.status == "recording"  # nobody got to finish it
    audio = decode(b"".join(LocalRecordingStore(root=recordings_dir).read(rec.path)))
    started = (
        rec.created_at.timestamp()
        if rec.created_at.tzinfo
        else rec.created_at.replace(tzinfo=None).timestamp()
    )
    assert audio.duration_s > 4.0
    assert killed_at - started - audio.duration_s < 4.0  # only the last seconds are lost
    assert audio.rms(1, 1.0, audio.duration_s - 0.5) > 0.01  # the interviewer's greeting, on the right
    db.dispose()
