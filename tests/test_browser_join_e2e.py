"""A whole browser interview: real headless Chromium, the join page, WebRTC on 127.0.0.1, and the real
``AgentRuntime`` (silero VAD, faster-whisper tiny.en, piper, the offline interview brain) on a one-question
practice plan.

The candidate is an espeak-ng voice in the WAV Chromium plays as its microphone: a long silence while the
interviewer greets and asks the question, the answer, a pause for the follow-up, then "can we stop". Slow
by nature (the interviewer speaks in real time): one interview, about a minute and a half.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from agent import AgentRuntime, AgentSettings
from agent.plans import build_plan
from storage import (
    Interview,
    InterviewPlan,
    TranscriptTurn,
    TurnMetric,
    create_invitation,
    get_database,
    get_recording_store,
)

from .audio import words
from .recording_support import check_recording
from .test_browser_join_support import chromium, start_call, write_wav
from .test_signaling_support import ServerThread, make_app, rtc_settings

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(420)]

ANSWER = (
    "At my last job the checkout service was slow, so I profiled it, found repeated database calls, "
    "batched them and added a cache. As a result latency went down by half."
)
STOP = "Can we stop the interview now please."
# words of ANSWER a transcript of it must contain (3 of them): tiny.en on espeak through Chromium's capture
# and Opus mishears some of the rest on a loaded machine ("added a cash", "nato-based coils")
ANSWER_WORDS = {"checkout", "service", "slow", "profiled", "repeated", "database", "calls", "cache",
                "latency", "half"}  # fmt: skip
RATE = 48000
WAIT_MS = 150_000


def _espeak(text: str) -> np.ndarray:
    """espeak-ng speech as 48 kHz mono int16 (sox resamples)."""
    raw = subprocess.run(["espeak-ng", "-s", "160", "--stdout", text], check=True, capture_output=True).stdout
    pcm = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-"],
        input=raw,
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.int16)


def candidate_wav(path: Path) -> Path:
    """The scripted candidate. Chromium starts the file at getUserMedia and loops it."""

    def gap(s: float) -> np.ndarray:
        return np.zeros(int(s * RATE), dtype=np.int16)

    # ~22 s of greeting and question; then the answer; room for a follow-up; the request to stop; and
    # enough silence for the closing before the file would loop.
    return write_wav(path, np.concatenate([gap(30), _espeak(ANSWER), gap(16), _espeak(STOP), gap(60)]), RATE)


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    return AgentRuntime.load(AgentSettings(turn_detector="vad", user_away_timeout=60.0))


def _invitation() -> tuple[str, str]:
    spec = build_plan(
        role="backend engineer", question_count=1, seed=3, time_limit_minutes=10, mode="practice"
    )
    with get_database().session() as s:
        plan = InterviewPlan(title="Backend practice", role=spec.role, question_count=1, spec=spec.to_json())
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name="Ada", mode="practice")
        return new.token, spec.questions[0].text


async def test_a_whole_interview_in_chromium(sqlite_db, runtime, tmp_path, artifacts_dir):
    token, question = _invitation()
    wav = candidate_wav(tmp_path / "candidate.wav")
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", wav) as browser:
            page = await browser.new_page()
            await start_call(page, f"{server.url}/i/{token}", timeout_ms=WAIT_MS)

            # The greeting: captioned in the page and heard (the page's analyser on the remote track).
            await page.wait_for_function(
                "() => window.mocklineJoin.captions.some(c => c.speaker === 'agent')", timeout=WAIT_MS
            )
            await page.wait_for_function("() => window.mocklineJoin.remoteLevelMax > 0.02", timeout=WAIT_MS)
            first = await page.inner_text("#captions .caption.agent .text")
            assert "thanks for joining" in first.lower()

            # The candidate's answer, transcribed by the real STT, shows up as their caption.
            await page.wait_for_function(
                "() => window.mocklineJoin.captions.some(c => c.speaker === 'candidate')", timeout=WAIT_MS
            )
            await page.screenshot(path=str(artifacts_dir / "browser_e2e_call.png"), full_page=True)

            # The interviewer closes the interview; the page says so.
            await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
            probe = await page.evaluate("window.mocklineJoin")
            await page.screenshot(path=str(artifacts_dir / "browser_e2e_done.png"), full_page=True)

    assert probe["ended"] == "completed"
    assert probe["remoteLevelMax"] > 0.02 and probe["micLevelMax"] > 0.02
    said = " ".join(c["text"].lower() for c in probe["captions"] if c["speaker"] == "candidate")
    assert len(ANSWER_WORDS & set(words(said))) >= 3, said

    with get_database().session() as s:
        interview = s.scalars(select(Interview)).one()
        turns = s.scalars(
            select(TranscriptTurn)
            .where(TranscriptTurn.interview_id == interview.id)
            .order_by(TranscriptTurn.seq)
        ).all()
        assert (interview.status, interview.end_reason, interview.channel) == (
            "finished",
            "completed",
            "webrtc",
        )
        assert turns[0].speaker == "agent" and question in turns[0].text
        stored = " ".join(t.text.lower() for t in turns if t.speaker == "candidate")
        assert len(ANSWER_WORDS & set(words(stored))) >= 3, stored
        assert turns[-1].speaker == "agent" and turns[-1].kind == "close"
        # Latency of each agent reply over this path, for the record (benchmarks judge timing, not tests).
        metrics = s.scalars(select(TurnMetric).where(TurnMetric.interview_id == interview.id)).all()
        record = [
            {
                "seq": m.seq,
                "eou_ms": m.eou_delay_ms,
                "stt_ms": m.stt_ms,
                "v2v_ms": m.v2v_ms,
                "tts_ms": m.tts_ttfb_ms,
            }
            for m in metrics
        ]
    (artifacts_dir / "browser_e2e_latency.json").write_text(json.dumps(record, indent=1))
    # both sides were recorded as the call happened: the candidate on the left, the interviewer on the right
    _rec, audio = await check_recording(get_database(), get_recording_store(), interview.id)
    assert audio.duration_s > 30.0
