"""The join page in LiveKit room mode, in real headless Chromium with the vendored livekit-client, against
a LiveKit that misbehaves on cue.

A real server's room, media, captions and end screen are in tests/test_livekit_real.py. Here the "LiveKit
server" is tests/fakes/livekit_twirp.py on loopback, because a real one does not fail a dispatch or close a
signalling socket at once on cue: the real ``livekit-api`` client dispatches the interviewer through its
Twirp API, and the browser's livekit-client opens its signalling websocket to it, which the fake records and
refuses or closes. So this covers admission, dispatch, the token the browser presents to the server, what the
candidate sees when the room refuses or goes away, and earlier turns shown on resume.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from livekit import api

from agent import SharedRuntime
from livekit_room import LiveKitSettings, parse_dispatch_metadata
from signaling import SignalingServices, install_signaling, signaling_of
from signaling._livekit import open_livekit_interview
from storage import Interview, Invitation, TranscriptTurn, get_database
from tests.fakes.livekit_twirp import FakeLiveKitAPI

from .test_browser_join_support import chromium, warble_wav
from .test_signaling_support import ScriptedRuntime, ServerThread, new_invitation, rtc_settings

WAIT_MS = 60_000
VENDOR = Path(__file__).resolve().parents[1] / "signaling" / "static" / "vendor"


def lk_app(fake: FakeLiveKitAPI | None) -> FastAPI:
    livekit = LiveKitSettings(
        url=fake.url if fake else "",
        api_key=fake.api_key if fake else "",
        api_secret=fake.api_secret if fake else "",
    )
    app = FastAPI()
    # The runtime must stay unused in LiveKit mode: workers run the interview.
    runtime = SharedRuntime(loaded=ScriptedRuntime())  # type: ignore[arg-type]
    install_signaling(app, SignalingServices.build(settings=rtc_settings(), livekit=livekit, runtime=runtime))
    return app


async def _start_call(page: Any, url: str) -> None:
    await page.goto(url)
    await page.check("#consent")
    await page.click("#consent-continue")
    await page.wait_for_function("() => window.mocklineJoin.micLevelMax > 0.05", timeout=WAIT_MS)
    await page.click("#start")


@pytest.mark.browser
@pytest.mark.timeout(180)
async def test_the_page_joins_the_interview_room_with_a_token_for_exactly_this_candidate(
    sqlite_db: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    token = new_invitation(mode="practice", name="Ada")
    async with FakeLiveKitAPI() as fake:
        app = lk_app(fake)
        with ServerThread(app) as server:
            async with chromium(tmp_path / "profile", warble_wav(tmp_path / "mic.wav")) as browser:
                page = await browser.new_page()
                cdn: list[str] = []
                page.on("request", lambda r: cdn.append(r.url) if "127.0.0.1" not in r.url else None)
                await _start_call(page, f"{server.url}/i/{token}")
                # the room refuses (401): a clear message, no endless retrying
                await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
                await page.screenshot(path=str(artifacts_dir / "browser_livekit_refused.png"), full_page=True)
                done = await page.inner_text("#step-done")
                probe = await page.evaluate("window.mocklineJoin")
    assert "did not accept this link" in done
    assert probe["error"] == "room:ConnectionError:0:401"  # NotAllowed, told by LiveKit's validate answer
    assert probe["reconnects"] == 0 and len(fake.rtc_requests) == 1
    assert cdn == []  # livekit-client is served by us, nothing comes from a CDN

    # the web process admitted the candidate to a new LiveKit interview and dispatched the interviewer
    [dispatch] = fake.dispatches
    interview_id = parse_dispatch_metadata(dispatch.metadata).interview_id
    with get_database().session() as s:
        interview = s.get(Interview, interview_id)
        assert interview is not None and interview.channel == "livekit" and interview.candidate_name == "Ada"
        inv = s.get(Invitation, interview.invitation_id)
        assert inv is not None and inv.used_at is not None  # the link now counts as opened
    assert dispatch.room == f"interview-{interview_id}" == probe["room"]
    assert signaling_of(app).runtime.loaded.handles == []  # nothing ran in the web process

    # livekit-client opened LiveKit's signalling websocket with our token
    first = fake.rtc_requests[0]
    assert re.fullmatch(r"/rtc(/v1)?", first["path"])
    grant = api.TokenVerifier(fake.api_key, fake.api_secret).verify(first["access_token"])
    assert grant.identity == interview_id  # the participant the worker listens to
    assert grant.video is not None and grant.video.room == dispatch.room and grant.video.room_join
    assert grant.video.can_publish_sources == ["microphone"]


@pytest.mark.browser
@pytest.mark.timeout(180)
async def test_a_dropped_signalling_connection_is_retried_with_a_fresh_token_and_the_same_interviewer(
    sqlite_db: Any, tmp_path: Path
) -> None:
    token = new_invitation(mode="interview", name="Bo")
    async with FakeLiveKitAPI() as fake:
        fake.refuse_rtc = False  # upgrades, then closes at once: like a server that went away
        with ServerThread(lk_app(fake)) as server:
            async with chromium(tmp_path / "profile", warble_wav(tmp_path / "mic.wav")) as browser:
                page = await browser.new_page()
                await _start_call(page, f"{server.url}/i/{token}")
                await page.wait_for_function("() => window.mocklineJoin.reconnects >= 2", timeout=WAIT_MS)
                status = await page.inner_text("#status")
    assert "Trying again" in status or "Connecting" in status
    assert len({r["access_token"] for r in fake.rtc_requests}) >= 2  # a new token per attempt
    assert len(fake.dispatches) == 1  # the dispatch is reused: never a second interviewer


@pytest.mark.browser
@pytest.mark.timeout(180)
async def test_when_livekit_refuses_the_dispatch_the_candidate_is_told_plainly(
    sqlite_db: Any, tmp_path: Path
) -> None:
    token = new_invitation(mode="interview", name="Cy")
    async with FakeLiveKitAPI() as fake:
        fake.fail_with = 400
        with ServerThread(lk_app(fake)) as server:
            async with chromium(tmp_path / "profile", warble_wav(tmp_path / "mic.wav")) as browser:
                page = await browser.new_page()
                await _start_call(page, f"{server.url}/i/{token}")
                await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
                done = await page.inner_text("#step-done")
                probe = await page.evaluate("window.mocklineJoin")
    assert "could not be prepared" in done
    assert probe["error"] == "http:502:room_unavailable"
    assert fake.rtc_requests == []  # never tried to join a room without an interviewer


FEED = """async ({ me }) => {
  const p = window.mocklineJoin;
  // lk.transcription streams as livekit-client hands them to registerTextStreamHandler callbacks
  const stream = (chunks, attributes) => ({
    info: { topic: "lk.transcription", attributes },
    readAll: async () => chunks.join(""),
    async *[Symbol.asyncIterator]() { for (const c of chunks) yield c; },
  });
  const agent = { identity: "interviewer-x" };
  await p.onTranscription(stream(["Thanks. Tell me ", "about a hard ticket."], {}), agent);
  await p.onTranscription(stream(["I once"], { "lk.transcription_final": "false" }), { identity: me });
  await p.onTranscription(stream(["I once fixed a billing bug"], { "lk.transcription_final": "true" }),
    { identity: me });
  return p.captions;
}"""


@pytest.mark.browser
@pytest.mark.timeout(180)
async def test_a_resumed_room_interview_shows_earlier_turns_and_captions_from_lk_transcription(
    sqlite_db: Any, tmp_path: Path
) -> None:
    token = new_invitation(mode="interview", name="Di")
    admission = open_livekit_interview(get_database(), token)
    with get_database().session() as s:
        interview = s.get(Interview, admission.interview_id)
        assert interview is not None
        interview.status = "in_progress"
        for seq, (speaker, text) in enumerate([("agent", "Welcome, Di."), ("candidate", "Hello there.")], 1):
            s.add(TranscriptTurn(interview_id=interview.id, seq=seq, speaker=speaker, text=text,
                                 started_at=seq, ended_at=seq + 0.5))  # fmt: skip
    async with FakeLiveKitAPI() as fake:
        fake.refuse_rtc = False  # the page stays in the call, retrying, while we feed it transcripts
        with ServerThread(lk_app(fake)) as server:
            async with chromium(tmp_path / "profile", warble_wav(tmp_path / "mic.wav")) as browser:
                page = await browser.new_page()
                await _start_call(page, f"{server.url}/i/{token}")
                await page.wait_for_function("() => window.mocklineJoin.room !== undefined", timeout=WAIT_MS)
                captions = await page.evaluate(FEED, {"me": admission.interview_id})
                shown = await page.inner_text("#captions")
                interim = await page.locator("#captions .caption.interim").count()
    assert parse_dispatch_metadata(fake.dispatches[0].metadata).interview_id == admission.interview_id
    assert captions == [
        {"speaker": "agent", "text": "Welcome, Di."},
        {"speaker": "candidate", "text": "Hello there."},
        {"speaker": "agent", "text": "Thanks. Tell me about a hard ticket."},
        {"speaker": "candidate", "text": "I once fixed a billing bug"},  # the interim was replaced, not added
    ]
    assert shown.count("I once") == 1 and interim == 0
    assert "INTERVIEWER" in shown.upper() and "YOU" in shown.upper()


# -- the page and the endpoint without a browser ------------------------------------------------------------


@pytest.mark.integration
def test_livekit_mode_serves_the_vendored_client_and_aiortc_mode_does_not(sqlite_db: Any) -> None:
    token = new_invitation()
    fake = FakeLiveKitAPI()
    fake.url = "ws://127.0.0.1:9"
    with TestClient(lk_app(fake)) as client:
        page = client.get(f"/i/{token}").text
        assert "livekit-client.umd.js" in page and '"livekitJoinUrl": "/rtc/livekit"' in page
        js = client.get("/rtc/static/livekit-client.umd.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    with TestClient(lk_app(None)) as client:
        page = client.get(f"/i/{token}").text
        assert "livekit-client" not in page and '"livekitJoinUrl": null' in page
        refused = client.post("/rtc/livekit", json={"token": token})
        assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    # the vendored file is the npm build the note names
    note = (VENDOR / "README.md").read_text()
    digest = hashlib.sha256((VENDOR / "livekit-client.umd.js").read_bytes()).hexdigest()
    assert f"File sha256: `{digest}`" in note and "livekit-client 2.23.0" in note
    assert "Apache License" in (VENDOR / "livekit-client.LICENSE").read_text()


@pytest.mark.integration
def test_bad_links_and_bodies_get_clear_answers_before_any_dispatch(sqlite_db: Any) -> None:
    fake = FakeLiveKitAPI()
    fake.url = "ws://127.0.0.1:9"  # nothing listens: a dispatch attempt would fail loudly
    with TestClient(lk_app(fake)) as client:
        unknown = client.post("/rtc/livekit", json={"token": "no-such-link"})
        assert unknown.status_code == 404 and unknown.json()["message"]
        bad = client.post("/rtc/livekit", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
        # LiveKit unreachable: retryable, the candidate is asked to try again
        down = client.post("/rtc/livekit", json={"token": new_invitation()})
        assert down.status_code == 503 and "try again" in down.json()["message"]
