"""A candidate's browser, played by a real aiortc peer on 127.0.0.1, against the app on uvicorn.

The interviewer is the runtime double from ``test_signaling_support`` (the documented ``AgentRuntime`` API);
everything between the two peers is real: HTTP signalling, ICE/DTLS/SRTP/SCTP on loopback, Opus both ways,
the paced output, the push input.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from signaling import signaling_of
from storage import Interview, InterviewPlan, InterviewStatus, TranscriptTurn, create_invitation, get_database

from .test_signaling_support import (
    GREETING,
    Candidate,
    ScriptedRuntime,
    ServerThread,
    make_app,
    new_invitation,
    rtc_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def sessions_become(server: ServerThread, count: int, within: float = 30.0) -> None:
    """Wait until the server holds ``count`` sessions (woken by the registry's observer hook)."""
    loop, changed = asyncio.get_running_loop(), asyncio.Event()
    registry = signaling_of(server.app).running_registry()
    observer = lambda: loop.call_soon_threadsafe(changed.set)  # noqa: E731
    registry.observers.append(observer)
    try:
        async with asyncio.timeout(within):
            while len(registry.sessions) != count:
                changed.clear()
                await changed.wait()
    finally:
        registry.observers.remove(observer)


def _interview() -> Interview:
    with get_database().session() as s:
        rows = s.scalars(select(Interview)).all()
        assert len(rows) == 1
        return rows[0]


def _turns(interview_id: str) -> list[tuple[str, str]]:
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
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
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
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
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
            session = signaling_of(server.app).running_registry().sessions[0]
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


async def test_bad_input_gets_clear_errors_and_other_sessions_keep_running(db):
    runtime = ScriptedRuntime()
    with ServerThread(make_app(rtc_settings(max_message_bytes=16 * 1024), runtime)) as server:
        live = Candidate(server.url, new_invitation())
        try:
            assert (await live.connect()).status_code == 200
            await live.wait_for(lambda: any(c["final"] for c in live.of_type("caption")))

            with get_database().session() as s:
                plan = InterviewPlan(title="Ops", role="sre")
                s.add(plan)
                s.flush()
                expired = create_invitation(s, plan_id=plan.id, org_id=None, valid_for=timedelta(seconds=-1))
            good = new_invitation()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

                def offer(token: str, sdp: str = "v=0") -> bytes:
                    return json.dumps({"token": token, "sdp": sdp, "type": "offer"}).encode()

                cases = [
                    (b"{not json", 400, "bad_request", "not valid JSON"),
                    (b'{"token": "x"}', 400, "bad_request", "sdp"),
                    (b'{"token": "x", "sdp": "v=0", "type": "answer"}', 400, "bad_request", "type"),
                    (b"[]", 400, "bad_request", "body"),
                    (offer("x", "a" * 20000), 413, "too_large", "KB"),
                    (offer("nope"), 404, "not_found", "not valid"),
                    (offer(expired.token), 410, "expired", "expired"),
                    (
                        offer(good, "v=0\r\nm=audio x RTP/AVP 0\r\n"),
                        400,
                        "bad_request",
                        "could not be understood",
                    ),
                    (offer(good, "v=0\r\nthis is not sdp"), 400, "bad_request", "no microphone audio"),
                ]
                for body, status, code, words in cases:
                    res = await http.post(
                        "/rtc/offer", content=body, headers={"content-type": "application/json"}
                    )
                    assert res.status_code == status, (body[:60], res.text)
                    assert res.json()["error"] == code
                    assert words in res.json()["message"]
            # The garbage offer with a good token left nothing behind: the link still works.
            assert len(signaling_of(server.app).running_registry().sessions) == 1
            again = Candidate(server.url, good)
            try:
                assert (await again.connect()).status_code == 200
                await again.wait_for(lambda: "connected" in again.states)
            finally:
                await again.close()

            # The first candidate never noticed: still connected, still hearing audio.
            assert live.pc.connectionState == "connected"
            heard = len(live.remote_rms)
            await live.wait_for(lambda: len(live.remote_rms) > heard + 10)
        finally:
            await live.close()


async def test_capacity_and_one_live_connection_per_link(sqlite_db):
    runtime = ScriptedRuntime()
    with ServerThread(make_app(rtc_settings(max_sessions=1), runtime)) as server:
        first_token = new_invitation()
        first = Candidate(server.url, first_token)
        second_tab = Candidate(server.url, first_token)
        other = Candidate(server.url, new_invitation(name="Grace"))
        try:
            assert (await first.connect()).status_code == 200
            await first.wait_for(lambda: "connected" in first.states)

            res = await second_tab.connect()  # the same link in another tab
            assert res.status_code == 409 and res.json()["error"] == "busy"
            assert "another window" in res.json()["message"]

            res = await other.connect()  # another candidate while the only room is taken
            assert res.status_code == 503 and res.json()["error"] == "busy"
            assert "try again" in res.json()["message"]

            first.send({"type": "end"})
            await sessions_become(server, 0)
            await other.close()
            other = Candidate(server.url, other.token)
            assert (await other.connect()).status_code == 200  # the room is free again
            await other.wait_for(lambda: "connected" in other.states)
        finally:
            for c in (first, second_tab, other):
                await c.close()


async def test_reopening_the_link_resumes_the_same_interview(sqlite_db):
    runtime = ScriptedRuntime()
    token = new_invitation()
    with ServerThread(make_app(rtc_settings(resume_grace_seconds=60), runtime)) as server:
        cand = Candidate(server.url, token)
        try:
            assert (await cand.connect()).status_code == 200
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
            cand.mic.speak.set()
            await cand.wait_for(lambda: any(c["speaker"] == "candidate" for c in cand.of_type("caption")))
            first_session = cand.session_id
        finally:
            await cand.close()  # the tab closes / the network drops

        back = Candidate(server.url, token)
        try:
            # The old peer may not be noticed as gone yet; the page sends its old session id to take over.
            res = await back.connect(resume=first_session)
            assert res.status_code == 200, res.text
            assert res.json()["session_id"] == first_session
            await back.wait_for(lambda: bool(back.of_type("history")))
            history = back.of_type("history")[0]["turns"]
            assert [t["speaker"] for t in history] == ["agent", "candidate"]
            assert history[0]["text"] == GREETING
            assert len(runtime.handles) == 1  # the same running interview, not a new one
            # And it goes on: the interviewer still hears the candidate.
            back.mic.speak.set()
            await back.wait_for(lambda: any(c["speaker"] == "candidate" for c in back.of_type("caption")))
            interview = _interview()
            assert interview.status == InterviewStatus.IN_PROGRESS.value
            assert [s for s, _ in _turns(interview.id)] == ["agent", "candidate", "candidate"]
        finally:
            await back.close()


async def test_a_candidate_who_does_not_come_back_is_hung_up_after_the_grace_period(sqlite_db):
    runtime = ScriptedRuntime()
    token = new_invitation()
    with ServerThread(make_app(rtc_settings(resume_grace_seconds=0.5), runtime)) as server:
        cand = Candidate(server.url, token)
        try:
            assert (await cand.connect()).status_code == 200
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
        finally:
            await cand.close()
        await sessions_become(server, 0)
        interview = _interview()
        assert interview.status == InterviewStatus.FINISHED.value and interview.end_reason == "hangup"
        late = Candidate(server.url, token)
        try:
            res = await late.connect()
            assert res.status_code == 410 and res.json()["error"] == "used"
        finally:
            await late.close()


async def test_the_agent_closing_the_interview_ends_the_call_with_the_report_link(sqlite_db):
    runtime = ScriptedRuntime(end_after_answer=True)
    token = new_invitation(mode="practice")
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        cand = Candidate(server.url, token)
        try:
            assert (await cand.connect()).status_code == 200
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
            cand.mic.speak.set()
            await cand.wait_for(lambda: bool(cand.of_type("ended")))
            ended = cand.of_type("ended")[0]
            assert ended == {
                "type": "ended",
                "reason": "completed",
                "mode": "practice",
                "report_url": f"/practice/report/{token}",
            }
            closing = [c for c in cand.of_type("caption") if c["speaker"] == "agent" and c["final"]][-1]
            assert closing["text"] == "Thank you, that is all."
            await cand.pc.close()  # the page hangs up when it sees "ended"
            await sessions_become(server, 0)
            assert _interview().status == InterviewStatus.FINISHED.value
        finally:
            await cand.close()


async def test_after_a_server_restart_the_link_resumes_the_stored_interview(sqlite_db):
    token = new_invitation()
    first_runtime = ScriptedRuntime()
    with ServerThread(make_app(rtc_settings(), first_runtime)) as server:
        cand = Candidate(server.url, token)
        try:
            assert (await cand.connect()).status_code == 200
            await cand.wait_for(lambda: any(c["final"] for c in cand.of_type("caption")))
        finally:
            await cand.close()
    # The process stopped: the call ended as "dropped", which keeps the interview open.
    interview = _interview()
    assert (interview.status, interview.end_reason) == (InterviewStatus.IN_PROGRESS.value, "dropped")

    second_runtime = ScriptedRuntime()
    with ServerThread(make_app(rtc_settings(), second_runtime)) as server:
        back = Candidate(server.url, token)
        try:
            assert (await back.connect()).status_code == 200
            await back.wait_for(lambda: any(c["final"] for c in back.of_type("caption")))
            assert back.of_type("history")[0]["turns"] == [{"speaker": "agent", "text": GREETING}]
            assert second_runtime.handles[0].interview_id == interview.id  # the same interview row
            finals = [c["text"] for c in back.of_type("caption") if c["final"]]
            assert finals == ["Welcome back, let's continue."]
        finally:
            await back.close()


async def test_an_offer_that_never_connects_is_cleaned_up(sqlite_db):
    runtime = ScriptedRuntime()
    token = new_invitation()
    with ServerThread(make_app(rtc_settings(connect_timeout_seconds=1.0), runtime)) as server:
        ghost = Candidate(server.url, token)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                ghost.pc.addTrack(ghost.mic)
                await ghost.pc.setLocalDescription(await ghost.pc.createOffer())
                offer = {"token": token, "sdp": ghost.pc.localDescription.sdp, "type": "offer"}
                assert (await http.post("/rtc/offer", json=offer)).status_code == 200
                # ...but the browser never applies the answer (it crashed, or lost the network).
                res = await http.post("/rtc/offer", json=offer)
                assert res.status_code == 409  # meanwhile the link is held by the pending connection
            await sessions_become(server, 0)
            assert runtime.handles == []  # no interview was started for a call that never connected
        finally:
            await ghost.close()
        late = Candidate(server.url, token)
        try:
            assert (await late.connect()).status_code == 200  # the link works again
            await late.wait_for(lambda: "connected" in late.states)
        finally:
            await late.close()
