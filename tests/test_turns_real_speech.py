"""A real person's answer keeps the floor through its pauses, over the phone and in the browser.

The candidate is a LibriVox reader (real human speech, ``tests/data``): four sentences of one answer with
the reader's own pause and pauses of 1.0 s and 1.4 s between sentences, the way candidates pause while
answering. Over the whole phone path (streamdouble as Twilio, the app on uvicorn) and the whole browser
path (headless Chromium playing the answer as its microphone, the join page, WebRTC on 127.0.0.1), with
the real offline ``AgentRuntime`` and the product's turn-taking, the interviewer must not take the floor at
any of those pauses: the answer is stored as one candidate turn, and the interviewer replies once, after
it. Slow by nature (everything is spoken in real time): about a minute per path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from sqlalchemy import select

from agent import AgentRuntime, AgentSettings
from agent.plans import build_plan
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan, create_invitation, get_database
from telephony import TelephonySettings
from telephony.codec import resample_pcm16
from tests.audio import corpus, write_wav
from tests.test_browser_join_support import chromium, start_call
from tests.test_signaling_support import ServerThread, make_app, rtc_settings
from tests.test_telephony_bridge import serve
from tests.test_telephony_e2e import PUBLIC, TOKEN, _call, _ended, _stream_params, _turns

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(420)]

FIRST = ("dashwood", "leisure", "prudently")  # words of the first sentence
LAST = ("amiable", "respectable")  # words of the last one


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    # the product's turn-taking (the default detector); only the check-in is pushed out of the way
    return AgentRuntime.load(AgentSettings(user_away_timeout=60.0))


@pytest_asyncio.fixture(loop_scope="module")
async def phone(sqlite_db, runtime) -> AsyncIterator[dict[str, Any]]:
    app = create_app(
        AppSettings(public_url=PUBLIC, secret_key="e2e-secret-key"),
        telephony=TelephonySettings(auth_token=TOKEN, scheduler_interval_s=0),
        runtime=runtime,
    )
    async with serve(app) as host:
        yield {"app": app, "host": host, "db": sqlite_db}


def _phone_wav(path: Path, answer: corpus.Answer) -> Path:
    return write_wav(path, resample_pcm16(answer.samples, from_rate=answer.rate, to_rate=8000), 8000)


def _has(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def _answer() -> corpus.Answer:
    answer = corpus.passage("interview-answer", [None, 1.0, 1.4])
    assert [p.kind for p in answer.pauses] == ["speaker", "sentence", "sentence"]
    return answer


def _answered_once(turns: list[Any]) -> None:
    """After the greeting and question: one candidate turn holding the whole answer, then one reply."""
    # shown when an assertion fails
    script = "\n".join(
        f"{t.speaker} {t.kind} {t.interrupted} {t.started_at}-{t.ended_at}: {t.text}" for t in turns
    )
    assert turns[0].speaker == "agent" and not turns[0].interrupted, script  # the greeting and question
    after_greeting = turns[1:]
    candidate = [t for t in after_greeting if t.speaker == "candidate"]
    agent = [t for t in after_greeting if t.speaker == "agent"]
    # one candidate turn holding the first and the last sentence: no reply was started at a pause
    assert len(candidate) == 1, script
    assert _has(candidate[0].text, FIRST) and _has(candidate[0].text, LAST), script
    # and the interviewer did reply, once the answer was finished, without being talked over
    assert len(agent) == 1 and not agent[0].interrupted, script
    assert agent[0].started_at >= candidate[0].ended_at


@pytest.mark.phone
async def test_a_long_real_answer_with_sentence_pauses_is_one_turn_on_the_phone(phone, tmp_path) -> None:
    answer = _answer()
    wav = _phone_wav(tmp_path / "answer.wav", answer)
    interview_id, params, _ = _stream_params(phone["app"], phone["db"])
    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "mark", "timeout": 90}},  # the greeting and question were heard
            {"say": str(wav)},  # the whole answer, pauses included, in real time
            # the candidate stays silent: the interviewer replies (2.6 s of silence ends an answer, then
            # whisper and the reply, slow on a loaded machine) and the caller waits out its end; streamdouble
            # can only wait for the first audio of a call, so the silence is long enough to be past the start
            {"wait": 20.0},
            {"wait_for": {"event": "quiet", "timeout": 60}},
            "hangup",
        ],
    )
    assert result.violations == []
    await _ended(phone["db"], interview_id)
    _answered_once(_turns(phone["db"], interview_id))


BROWSER_RATE = 48_000
WAIT_MS = 150_000
# the candidate's answer is a turn (its caption is shown), then a reply from the interviewer after it,
# and the interviewer back to listening once it has said the reply (ending the call during it would cut it)
ANSWERED = "() => window.mocklineJoin.captions.some(x => x.speaker === 'candidate')"
REPLY_DONE = """(from) => {
  const s = window.mocklineJoin.agentStates.slice(from);
  return s.includes('speaking') && s[s.length - 1] === 'listening';
}"""
REPLIED = """() => {
  const c = window.mocklineJoin.captions;
  const i = c.findIndex(x => x.speaker === 'candidate');
  return i >= 0 && c.slice(i + 1).some(x => x.speaker === 'agent');
}"""


def _browser_wav(path: Path, answer: corpus.Answer) -> Path:
    """Silence through the greeting and question, the answer, then silence. Chromium starts the file at
    the page's microphone check, before the call, and the greeting and question take ~25 s to say, more on
    a loaded machine: 50 s of silence keep the answer clear of them."""
    pcm = resample_pcm16(answer.samples, from_rate=answer.rate, to_rate=BROWSER_RATE)
    gap = np.zeros(50 * BROWSER_RATE, dtype=np.int16)
    return write_wav(path, np.concatenate([gap, pcm, gap, gap]), BROWSER_RATE)


def _browser_interview() -> str:
    spec = build_plan(role="backend engineer", question_count=1, seed=3, time_limit_minutes=10)
    with get_database().session() as s:
        plan = InterviewPlan(title="Browser", role=spec.role, question_count=1, spec=spec.to_json())
        s.add(plan)
        s.flush()
        return create_invitation(s, plan_id=plan.id, org_id=None, candidate_name="Ada", mode="practice").token


@pytest.mark.browser
async def test_a_long_real_answer_with_sentence_pauses_is_one_turn_in_the_browser(
    sqlite_db, runtime, tmp_path
) -> None:
    token = _browser_interview()
    wav = _browser_wav(tmp_path / "answer.wav", _answer())
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", wav) as browser:
            page = await browser.new_page()
            await start_call(page, f"{server.url}/i/{token}", timeout_ms=WAIT_MS)
            await page.wait_for_function(ANSWERED, timeout=WAIT_MS)
            states = await page.evaluate("window.mocklineJoin.agentStates.length")
            await page.wait_for_function(REPLIED, timeout=WAIT_MS)  # the interviewer's reply...
            await page.wait_for_function(REPLY_DONE, arg=states, timeout=WAIT_MS)  # ...said to its end
            await page.click("#end")  # the page asks first
            await page.click("#end-confirm")
            await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
    with sqlite_db.session() as s:
        interview_id = s.scalars(select(Interview.id).where(Interview.channel == "webrtc")).one()
    await _ended(sqlite_db, interview_id)
    _answered_once(_turns(sqlite_db, interview_id))
