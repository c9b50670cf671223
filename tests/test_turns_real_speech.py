"""A real person's answer over the phone keeps the floor through its pauses.

The candidate is a LibriVox reader (real human speech, ``tests/data``): four sentences of one answer with
the reader's own pause and pauses of 1.0 s and 1.4 s between sentences, the way candidates pause while
answering. Over the whole phone path (streamdouble as Twilio, the app on uvicorn, the real offline
``AgentRuntime`` with the product's turn-taking) the interviewer must not take the floor at any of those
pauses: the answer is stored as one candidate turn, and the interviewer replies once, after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agent import AgentRuntime, AgentSettings
from mockline.settings import AppSettings
from mockline.web import create_app
from telephony import TelephonySettings
from telephony.codec import resample_pcm16
from tests.audio import corpus, write_wav
from tests.test_telephony_bridge import serve
from tests.test_telephony_e2e import PUBLIC, TOKEN, _call, _ended, _stream_params, _turns

pytestmark = [pytest.mark.e2e, pytest.mark.phone, pytest.mark.asyncio(loop_scope="module")]

FIRST = ("dashwood", "leisure", "prudently")  # words of the first sentence
LAST = ("amiable", "respectable")  # words of the last one


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    # the product's turn-taking (the default detector); only the check-in is pushed out of the way
    return AgentRuntime.load(AgentSettings(user_away_timeout=60.0))


@pytest_asyncio.fixture(loop_scope="module")
async def phone(sqlite_db, runtime) -> AsyncIterator[dict[str, Any]]:
    app = create_app(AppSettings(public_url=PUBLIC, secret_key="e2e-secret-key"))
    app.state.telephony_settings = TelephonySettings(auth_token=TOKEN, scheduler_interval_s=0)
    app.state.runtime = runtime
    async with serve(app) as host:
        yield {"app": app, "host": host, "db": sqlite_db}


def _phone_wav(path: Path, answer: corpus.Answer) -> Path:
    return write_wav(path, resample_pcm16(answer.samples, from_rate=answer.rate, to_rate=8000), 8000)


def _has(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


async def test_a_long_real_answer_with_sentence_pauses_is_one_turn(phone, tmp_path) -> None:
    answer = corpus.passage("interview-answer", [None, 1.0, 1.4])
    assert [p.kind for p in answer.pauses] == ["speaker", "sentence", "sentence"]
    wav = _phone_wav(tmp_path / "answer.wav", answer)
    interview_id, params, _ = _stream_params(phone["app"], phone["db"])
    result = await _call(
        phone["host"],
        params,
        [
            {"wait_for": {"event": "mark", "timeout": 90}},  # the greeting and question were heard
            {"say": str(wav)},  # the whole answer, pauses included, in real time
            {"wait": 3.0},
            {"wait_for": {"event": "quiet", "timeout": 60}},  # the interviewer's reply
            "hangup",
        ],
    )
    assert result.violations == []
    await _ended(phone["db"], interview_id)
    turns = _turns(phone["db"], interview_id)
    after_greeting = turns[1:]
    candidate = [t for t in after_greeting if t.speaker == "candidate"]
    agent = [t for t in after_greeting if t.speaker == "agent"]
    # one candidate turn holding the first and the last sentence: no reply was started at a pause
    assert len(candidate) == 1, [t.text for t in candidate]
    assert _has(candidate[0].text, FIRST) and _has(candidate[0].text, LAST)
    # and the interviewer did reply, once the answer was finished, without being talked over
    assert len(agent) == 1 and not agent[0].interrupted
    assert agent[0].started_at >= candidate[0].ended_at
