"""Whole phone interviews: streamdouble as Twilio, the app on uvicorn, the real ``AgentRuntime``.

Real offline models (silero VAD, faster-whisper tiny.en, piper) and the real offline interview brain on a
one-question plan; the candidate's voice is espeak-ng speech resampled to 8 kHz with sox. Slow by nature
(the agent speaks in real time), so each test is one short call.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from streamdouble.protocol import StreamIdentity
from streamdouble.scenario import parse as parse_scenario
from streamdouble.session import Session, SessionConfig
from twilio.request_validator import RequestValidator

from agent import AgentRuntime, AgentSettings
from agent.plans import build_plan
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import (
    Interview,
    InterviewPlan,
    Organization,
    TranscriptTurn,
    create_invitation,
    get_recording_store,
)
from telephony import TelephonySettings
from telephony._state import telephony_state
from tests.recording_support import check_recording
from tests.test_telephony_bridge import serve

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.phone,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(420),
]

PUBLIC = "https://phone.example.com"
TOKEN = "e2e-auth-token"
CALL_SID = "CA" + "e2" * 16

ANSWER = (
    "At my last job the checkout service was slow, so I profiled it, found repeated database calls, "
    "batched them and added a cache. As a result latency went down by half."
)
STOP = "Can we stop the interview now please."
INTERRUPT = "Sorry, sorry, could you repeat the question please?"


ANSWER_WORDS = (
    "last",
    "job",
    "checkout",
    "slow",
    "profiled",
    "repeated",
    "database",
    "cache",
    "latency",
    "half",
)


def _heard(transcript: str) -> int:
    """How many distinctive answer words whisper tiny.en recognised in 8 kHz espeak speech (it is not
    word-perfect on synthetic phone audio, so tests ask for several, not all)."""
    words = set(transcript.lower().replace(",", " ").replace(".", " ").split())
    return sum(1 for w in ANSWER_WORDS if w in words or w.rstrip("d") in words)


def _speech(path: Path, text: str, *, trim_s: float | None = None) -> Path:
    """espeak-ng speech at 8 kHz mono 16-bit (optionally cut off after ``trim_s``)."""
    raw = subprocess.run(["espeak-ng", "-s", "165", "--stdout", text], check=True, capture_output=True).stdout
    cmd = ["sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-b", "16", str(path)]
    if trim_s is not None:
        cmd += ["trim", "0", str(trim_s)]
    subprocess.run(cmd, input=raw, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    # Loaded once for the module: models are shared by every interview in a process.
    return AgentRuntime.load(AgentSettings(turn_detector="vad", user_away_timeout=60.0))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "answer": _speech(d / "answer.wav", ANSWER),
        "stop": _speech(d / "stop.wav", STOP),
        "interrupt": _speech(d / "interrupt.wav", INTERRUPT),
        "cut": _speech(d / "cut.wav", ANSWER.replace("checkout", "billing"), trim_s=3.0),
    }


@pytest_asyncio.fixture(loop_scope="module")
async def phone(sqlite_db, runtime) -> AsyncIterator[dict[str, Any]]:
    app = create_app(
        AppSettings(public_url=PUBLIC, secret_key="e2e-secret-key"),
        telephony=TelephonySettings(auth_token=TOKEN, scheduler_interval_s=0),
        runtime=runtime,
    )
    async with serve(app) as host:
        yield {"app": app, "host": host, "db": sqlite_db}


def _invitation(db) -> tuple[str, str, str]:
    spec = build_plan(role="backend engineer", question_count=1, seed=3, time_limit_minutes=10)
    with db.session() as s:
        org = Organization(name="Acme Robotics")  # the greeting names the company and the candidate
        s.add(org)
        s.flush()
        plan = InterviewPlan(
            org_id=org.id, title="Phone screen", role=spec.role, question_count=1, spec=spec.to_json()
        )
        s.add(plan)
        s.flush()
        inv = create_invitation(s, plan_id=plan.id, org_id=org.id, candidate_name="Dana Whitfield").invitation
        return inv.id, inv.pin, spec.questions[0].text


async def _twilio_posts(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> ElementTree.Element:
    """What Twilio does: POST the form, signed with the account's auth token, to the public URL."""
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    response = await client.post(
        path,
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    assert response.status_code == 200, response.text
    return ElementTree.fromstring(response.text)


async def _call(host: str, stream: dict[str, str], steps: list[Any], *, call_sid: str = CALL_SID):
    config = SessionConfig(
        custom_parameters=stream, response_timeout_s=60, quiet_period_s=2.0, max_drain_s=60, max_call_s=240
    )
    scenario = parse_scenario({"name": "phone", "steps": steps})
    identity = StreamIdentity(call_sid=call_sid)
    return await Session(
        f"ws://{host}/twilio/stream", scenario=scenario, config=config, identity=identity
    ).run()


async def _ended(db, interview_id: str) -> Interview:
    """Wait (up to a generous minute) for the runtime to record the end; it writes from a worker thread."""
    deadline = time.monotonic() + 60.0
    while True:
        with db.session() as s:
            interview = s.get(Interview, interview_id)
            if interview.ended_at is not None:
                return interview
        assert time.monotonic() < deadline, "the interview was never marked ended"
        await asyncio.sleep(0.1)


async def _released(app: Any) -> None:
    """Wait (up to a minute) for the bridge to let go of the call: it does so after the interview's end
    is written, so the two are not simultaneous."""
    deadline = time.monotonic() + 60.0
    while len(telephony_state(app).live_calls):
        assert time.monotonic() < deadline, "the call was never released"
        await asyncio.sleep(0.1)


def _turns(db, interview_id: str) -> list[TranscriptTurn]:
    with db.session() as s:
        return list(
            s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == interview_id)
                .order_by(TranscriptTurn.seq)
            )
        )


def _stream_params(app: Any, db) -> tuple[str, dict[str, str], str]:
    """An interview and the stream parameters our TwiML would have given Twilio for it."""
    spec = build_plan(role="backend engineer", question_count=1, seed=3, time_limit_minutes=10)
    with db.session() as s:
        plan = InterviewPlan(title="Phone", role=spec.role, question_count=1, spec=spec.to_json())
        s.add(plan)
        s.flush()
        row = Interview(plan_id=plan.id, candidate_name="Ada", channel="phone")
        s.add(row)
        s.flush()
        interview_id = row.id
    token = telephony_state(app).tokens.issue(interview_id=interview_id, call_sid=CALL_SID)
    return interview_id, {"interview_id": interview_id, "token": token}, spec.questions[0].text


async def test_pin_call_runs_a_whole_interview(phone, clips):
    invitation_id, pin, question = _invitation(phone["db"])
    call = {"CallSid": CALL_SID, "From": "+15550001111", "To": "+15559990000", "Direction": "inbound"}
    async with httpx.AsyncClient(base_url=f"http://{phone['host']}") as client:
        asked = await _twilio_posts(client, "/twilio/voice", call)
        assert asked.find("Gather").get("numDigits") == "6"
        retry = await _twilio_posts(client, "/twilio/pin?attempt=1", call | {"Digits": "000000"})
        assert retry.find("Gather").get("action").endswith("attempt=2")
        connect = await _twilio_posts(client, "/twilio/pin?attempt=2", call | {"Digits": pin})
    stream = connect.find("Connect/Stream")
    assert urlsplit(stream.get("url")).path == "/twilio/stream"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}

    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "mark", "timeout": 90}},  # the greeting and question were heard
            {"dtmf": "5"},  # a stray keypress mid-call is harmless
            {"expect": "no_violations"},
            {"say": str(clips["answer"])},
            {"wait": 4.0},
            {"wait_for": {"event": "quiet", "timeout": 60}},
            # if the agent followed up rather than closing, end it here (a request to stop is honoured
            # whether it comes before the reply, over it or after it: no race with the agent's latency)
            {"say": str(clips["stop"])},
            {"wait": 4.0},
            {"wait_for": {"event": "quiet", "timeout": 60}},
            {"wait": 30.0},  # the agent closes and hangs up before this runs out
        ],
    )
    assert result.violations == [] and result.failed_expectations == []
    assert result.closed_by == "agent"  # the interviewer finished and ended the call
    assert result.marks_echoed  # playback was confirmed by mark echoes

    interview = await _ended(phone["db"], params["interview_id"])
    assert (interview.end_reason, interview.status, interview.channel) == ("completed", "finished", "phone")
    assert interview.invitation_id == invitation_id and interview.call_sid == CALL_SID
    turns = _turns(phone["db"], interview.id)
    assert turns[0].speaker == "agent" and question in turns[0].text
    # what the caller heard first: their name and the company, then the question (no page: no progress)
    assert turns[0].text.startswith("Hi Dana, and thanks for joining. I'm the interviewer for the Backend")
    assert "role at Acme Robotics." in turns[0].text
    candidate = " ".join(t.text.lower() for t in turns if t.speaker == "candidate")
    assert _heard(candidate) >= 3  # the caller's words reached the transcript
    assert turns[-1].speaker == "agent" and turns[-1].kind == "close"
    # both sides were recorded as the call happened: the caller on the left, the interviewer on the right
    _rec, audio = await check_recording(phone["db"], get_recording_store(), interview.id)
    assert audio.duration_s > 20.0


async def test_barge_in_on_the_agent_sends_clear(phone, clips):
    interview_id, params, _ = _stream_params(phone["app"], phone["db"])
    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "audio", "timeout": 60}},
            {"wait": 3.0},  # the greeting runs for well over ten seconds
            {"say": str(clips["interrupt"])},
            {"wait_for": {"event": "clear", "timeout": 20}},
            {"expect": "clear"},
            {"expect": "no_violations"},
            "hangup",
        ],
    )
    assert result.clears_received >= 1 and result.failed_expectations == []
    assert result.violations == []
    await _ended(phone["db"], interview_id)
    first = _turns(phone["db"], interview_id)[0]
    assert first.speaker == "agent" and first.interrupted is True  # stored as what the caller heard


async def test_hang_up_mid_answer_keeps_the_transcript(phone, clips):
    interview_id, params, question = _stream_params(phone["app"], phone["db"])
    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "mark", "timeout": 90}},
            {"say": str(clips["answer"])},
            {"wait": 4.0},
            {"wait_for": {"event": "quiet", "timeout": 60}},
            {"say": str(clips["cut"])},  # talking…
            "hangup",  # …and the line drops
        ],
    )
    assert result.violations == [] and result.closed_by == "caller"
    interview = await _ended(phone["db"], interview_id)
    assert interview.end_reason == "hangup"
    turns = _turns(phone["db"], interview_id)
    assert turns[0].speaker == "agent" and question in turns[0].text
    first_answer = next(t for t in turns if t.speaker == "candidate")
    assert _heard(first_answer.text) >= 3
    await _released(phone["app"])  # the call is let go too


async def test_barge_in_in_the_first_second_of_a_call_stops_the_greeting_and_keeps_the_words(phone, clips):
    # A phone has no browser echo canceller to warm up: barge-in works from the agent's first word.
    interview_id, params, question = _stream_params(phone["app"], phone["db"])
    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "audio", "timeout": 60}},
            {"wait": 0.3},  # the greeting has only just begun
            {"say": str(clips["interrupt"])},  # "Sorry, sorry, could you repeat the question please?"
            {"wait_for": {"event": "clear", "timeout": 20}},
            {"expect": "clear"},
            # the caller listens: the agent answers the interjection, to its end (the first mark: a
            # reply cut off by a barge-in ends with a clear, not a mark)
            {"wait_for": {"event": "mark", "timeout": 90}},
            {"expect": "no_violations"},
            "hangup",
        ],
    )
    assert result.clears_received >= 1 and result.failed_expectations == []
    await _ended(phone["db"], interview_id)
    turns = _turns(phone["db"], interview_id)
    cut, caller = turns[0], turns[1]
    assert cut.speaker == "agent" and cut.interrupted and question not in cut.text
    assert cut.question_id is None  # the question itself was not heard: not asked
    words = set(caller.text.lower().replace(",", " ").replace(".", " ").replace("?", " ").split())
    assert caller.speaker == "candidate" and len(words & {"sorry", "repeat", "question", "please"}) >= 2
    again = [t for t in turns[2:] if t.speaker == "agent"]
    assert again and again[0].kind == "greet" and again[0].question_id is not None  # asked again
