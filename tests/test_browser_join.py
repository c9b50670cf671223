"""The join page in real headless Chromium, against the app on uvicorn and the runtime double.

The browser's fake microphone plays a WAV; WebRTC runs over 127.0.0.1 between Chromium and aiortc. These
tests are about the page: consent gating, the mic check, captions, who is speaking, mute, hang-up, and the
messages a candidate sees when something is wrong. (The whole interview with the real agent runtime is in
``test_browser_join_e2e``.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import Interview, InterviewStatus, get_database

from .test_browser_join_support import chromium, warble_wav
from .test_signaling_support import (
    GREETING,
    ScriptedRuntime,
    ServerThread,
    make_app,
    new_invitation,
    rtc_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WAIT_MS = 60_000


async def test_candidate_consents_checks_the_mic_talks_mutes_and_hangs_up(sqlite_db, tmp_path, artifacts_dir):
    runtime = ScriptedRuntime()
    token = new_invitation(mode="practice", name="Ada")
    wav = warble_wav(tmp_path / "mic.wav")
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", wav) as browser:
            page = await browser.new_page()
            await page.goto(f"{server.url}/i/{token}")
            assert await page.is_disabled("#consent-continue")  # no consent, no microphone
            await page.check("#consent")
            await page.click("#consent-continue")

            # The mic check: the meter moves with the fake microphone's warble.
            await page.wait_for_function("() => window.mocklineJoin.micLevelMax > 0.05", timeout=WAIT_MS)
            assert await page.is_enabled("#start")

            # The optional camera preview shows the candidate to themselves only.
            assert await page.is_hidden("#preview")
            await page.check("#camera-toggle")
            await page.wait_for_function(
                "() => document.querySelector('#preview').videoWidth > 0", timeout=WAIT_MS
            )
            await page.click("#start")
            await page.wait_for_function("() => window.mocklineJoin.sentKinds !== undefined", timeout=WAIT_MS)
            assert await page.evaluate("window.mocklineJoin.sentKinds") == ["audio"]  # no video is sent
            assert await page.is_visible("#preview-call")

            # The greeting: heard (WebAudio analyser on the remote track) and captioned.
            await page.wait_for_function(
                "() => window.mocklineJoin.captions.some(c => c.speaker === 'agent')", timeout=WAIT_MS
            )
            await page.wait_for_function("() => window.mocklineJoin.remoteLevelMax > 0.05", timeout=WAIT_MS)
            assert GREETING in await page.inner_text("#captions")
            assert "connected" in await page.evaluate("window.mocklineJoin.connectionStates")

            # The candidate's answer reaches the interviewer, whose caption shows in the page.
            await page.wait_for_function(
                "() => window.mocklineJoin.captions.some(c => c.speaker === 'candidate')", timeout=WAIT_MS
            )
            assert "candidate spoke for" in await page.inner_text("#captions .caption.candidate")

            await page.click("#mute")
            assert await page.get_attribute("#mute", "aria-pressed") == "true"
            assert await page.inner_text("#mute") == "Unmute"
            # The server confirms: from now on it passes silence to the interviewer.
            await page.wait_for_function("() => window.mocklineJoin.serverMuted === true", timeout=WAIT_MS)
            await page.screenshot(path=str(artifacts_dir / "browser_join_call.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})  # the same call on a phone
            await page.screenshot(path=str(artifacts_dir / "browser_join_call_phone.png"), full_page=True)

            await page.click("#end")  # asks first; "Keep going" leaves the call running
            await page.click("#end-cancel")
            assert await page.is_hidden("#end-check") and await page.is_visible("#step-call")
            await page.click("#end")
            await page.click("#end-confirm")
            await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
            assert "You ended the interview" in await page.inner_text("#done-detail")
            assert await page.inner_text("#done-report a") == "See your coaching report"
            assert await page.get_attribute("#done-report a", "href") == f"/practice/report/{token}"
            await page.screenshot(path=str(artifacts_dir / "browser_join_done.png"), full_page=True)
    with get_database().session() as s:
        interview = s.scalars(select(Interview)).one()
        assert interview.status == InterviewStatus.FINISHED.value and interview.end_reason == "hangup"


async def test_denied_microphone_and_bad_links_are_explained(sqlite_db, tmp_path, artifacts_dir):
    token = new_invitation()
    with ServerThread(make_app(rtc_settings(), ScriptedRuntime())) as server:
        async with chromium(tmp_path / "profile", None, grant_mic=False) as browser:
            page = await browser.new_page()
            await page.goto(f"{server.url}/i/{token}")
            await page.check("#consent")
            await page.click("#consent-continue")
            await page.wait_for_selector("#mic-error:not([hidden])", timeout=WAIT_MS)
            assert "blocked" in await page.inner_text("#mic-error")
            assert await page.is_disabled("#start") and await page.is_visible("#mic-retry")

            res = await page.goto(f"{server.url}/i/not-a-real-link")
            assert res is not None and res.status == 404
            assert "not valid" in await page.inner_text("#invalid")
            await page.screenshot(path=str(artifacts_dir / "browser_join_invalid.png"))
