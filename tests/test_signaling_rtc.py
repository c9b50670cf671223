"""A candidate's browser, played by a real aiortc peer on 127.0.0.1, against the app on uvicorn.

The interviewer is the runtime double from ``test_signaling_support`` (the documented ``AgentRuntime`` API);
everything between the two peers is real: HTTP signalling, ICE/DTLS/SRTP/SCTP on loopback, Opus both ways,
the paced output, the push input.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from storage import Interview, InterviewStatus, TranscriptTurn

from .test_signaling_support import (
    GREETING,
    Candidate,
    ScriptedRuntime,
    ServerThread,
    make_app,
    new_invitation,
    test_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def sessions_become(server: ServerThread, count: int, within: float = 30.0) -> None:
    """Wait until the server holds ``count`` sessions (woken by the registry's observer hook)."""
    loop, changed = asyncio.get_running_loop(), asyncio.Event()
    registry = server.app.state.signaling
    observer = lambda: loop.call_soon_threadsafe(changed.set)  # noqa: E731
    registry.observers.append(observer)
    try:
        async with asyncio.timeout(within):
            while len(registry.sessions) != count:
                changed.clear()
                await changed.wait()
    finally:
        registry.observers.remove(observer)


def _interview(token_invitation_id: str | None = None) -> Interview:
    from storage import get_database

    with get_database().session() as s:
        rows = s.scalars(select(Interview)).all()
        assert len(rows) == 1
        return rows[0]


def _turns(interview_id: str) -> list[tuple[str, str]]:
    from storage import get_database

    with get_database().session() as s:
        q = (
            select(TranscriptTurn)
            .where(TranscriptTurn.interview_id == interview_id)
            .order_by(TranscriptTurn.seq)
        )
        return [(t.speaker, t.text) for t in s.scalars(q)]


async def test_candidate_hears_the_greeting_answers_and_hangs_up(sqlite_db):
    runtime = ScriptedRuntime()
    token = new_invitation()
    with ServerThread(make_app(test_settings(), runtime)) as server:
        cand = Candidate(server.url, token)
        try:
            res = await cand.connect()
            assert res.status_code == 200, res.text
            assert res.json()["session_id"]
            await cand.wait_for(lambda: "connected" in cand.states)
            assert cand.states[: cand.states.index("connected") + 1] == ["connecting", "connected"]

            # The greeting: its caption (interim, then final) and its audio, which is not silence.
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
            captions = cand.of_type("caption")
            assert captions[0] == {"type": "caption", "speaker": "agent", "text": "Hello", "final": False}
            assert {"type": "caption", "speaker": "agent", "text": GREETING, "final": True} in captions
            assert max(cand.remote_rms) > 2000  # the 440 Hz greeting tone arrived through Opus
            assert {"type": "state", "agent": "speaking", "user": None} in cand.events

            # The candidate answers; the interviewer hears it through the real input path.
            cand.mic.speak.set()
            await cand.wait_for(lambda: any(c["speaker"] == "candidate" for c in cand.of_type("caption")))
            heard = next(c for c in cand.of_type("caption") if c["speaker"] == "candidate")
            seconds = float(heard["text"].split()[-2])
            assert 0.6 <= seconds <= 1.4  # a 1.0 s burst, give or take endpointing and Opus
            interview = _interview()
            assert interview.channel == "webrtc" and interview.mode == "practice"
            assert [s for s, _ in _turns(interview.id)] == ["agent", "candidate"]

            # Hang up from the page: the handle is closed as "hangup", the session is released.
            cand.send({"type": "end"})
            await sessions_become(server, 0)
            interview = _interview()
            assert interview.status == InterviewStatus.FINISHED.value
            assert interview.end_reason == "hangup"
        finally:
            await cand.close()

        # The link is now used: a replay is refused with a clear message.
        replay = Candidate(server.url, token)
        try:
            res = await replay.connect()
            assert res.status_code == 410
            assert res.json()["error"] == "used" and "already been completed" in res.json()["message"]
        finally:
            await replay.close()


async def test_mute_and_malformed_messages(sqlite_db):
    runtime = ScriptedRuntime()
    with ServerThread(make_app(test_settings(), runtime)) as server:
        cand = Candidate(server.url, new_invitation())
        try:
            assert (await cand.connect()).status_code == 200
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
            for junk in [
                "not json",
                '{"type": "dance"}',
                '{"type": "mute", "muted": "yes"}',
                "[1]",
                "x" * 5000,
            ]:
                cand.send(junk)
            cand.send({"type": "mute", "muted": True})
            await cand.wait_for(lambda: {"type": "muted", "muted": True} in cand.events)
            session = server.app.state.signaling.sessions[0]
            assert session.events.malformed == 5  # counted, ignored, and the call goes on
            assert cand.pc.connectionState == "connected"

            # Speak while muted: the interviewer must not hear it. Then unmute and speak again.
            cand.mic.speak.set()
            await cand.wait_for(lambda: cand.mic.bursts_done == 1)
            cand.send({"type": "mute", "muted": False})
            await cand.wait_for(lambda: {"type": "muted", "muted": False} in cand.events)
            cand.mic.speak.set()
            await cand.wait_for(lambda: cand.mic.bursts_done == 2)
            after_second = len(cand.events)  # the second burst's caption comes after it ended
            await cand.wait_for(
                lambda: any(e.get("speaker") == "candidate" for e in cand.events[after_second:])
            )
            heard = [
                float(c["text"].split()[-2]) for c in cand.of_type("caption") if c["speaker"] == "candidate"
            ]
            assert 0.6 <= sum(heard) <= 1.4  # one 1.0 s burst heard in total: the muted one was not
        finally:
            await cand.close()
