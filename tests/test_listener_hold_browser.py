"""In real headless Chromium on the join page: a pause of the interviewer silences the page at once, a
resume plays it again, and the reply loses nothing the candidate muted (the server takes back what the
page had buffered). The pause is the server's own ``WebRTCAudioOutput.pause()``, the call the early pause
and livekit make when the candidate starts speaking; here the test makes it, on the server's loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from .test_browser_join_support import chromium, start_call, warble_wav
from .test_signaling_support import (
    GREETING,
    DoubleHandle,
    ScriptedRuntime,
    ServerThread,
    make_app,
    new_invitation,
    rtc_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WAIT_MS = 60_000
GREETING_S = 10.0


class LongGreeting(DoubleHandle):
    async def _script(self) -> None:
        await self._say(GREETING, GREETING_S)
        async for _frame in self._in:  # then listens until hang-up
            pass


@dataclass
class GreetingRuntime(ScriptedRuntime):
    loop: asyncio.AbstractEventLoop | None = None

    async def start_interview(
        self, *, interview_id, audio_input, audio_output, listener=None, telephony=False, channel=None
    ):
        self.loop = asyncio.get_running_loop()
        handle = LongGreeting(self, interview_id, audio_input, audio_output, listener)
        self.handles.append(handle)
        return handle


def on_server(runtime: GreetingRuntime, call) -> None:
    assert runtime.loop is not None
    runtime.loop.call_soon_threadsafe(call)


async def test_the_page_goes_silent_on_a_pause_and_hears_the_whole_reply_after_the_resume(
    sqlite_db, tmp_path
):
    runtime = GreetingRuntime()
    token = new_invitation()
    wav = warble_wav(tmp_path / "mic.wav", silence_s=30.0)  # the candidate stays quiet
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", wav) as browser:
            page = await browser.new_page()
            await start_call(page, f"{server.url}/i/{token}", timeout_ms=WAIT_MS)
            # the interviewer's greeting plays in the page
            await page.wait_for_function("() => window.mocklineJoin.remoteLevel > 0.05", timeout=WAIT_MS)
            out = runtime.handles[0]._out
            assert out.listener_mutes  # the page said it silences the agent on a hold

            on_server(runtime, out.pause)  # the candidate starts speaking over it
            await page.wait_for_function("() => window.mocklineJoin.holds.length === 1", timeout=WAIT_MS)
            assert await page.evaluate("document.querySelector('#remote-audio').muted")
            assert await page.evaluate("window.mocklineJoin.holds") == [True]
            # the server stops sending too: the stream the page receives goes quiet
            await page.wait_for_function("() => window.mocklineJoin.remoteLevel < 0.01", timeout=WAIT_MS)

            on_server(runtime, out.resume)  # a cough, not an interruption: the reply goes on
            await page.wait_for_function("() => window.mocklineJoin.holds.length === 2", timeout=WAIT_MS)
            assert await page.evaluate("window.mocklineJoin.holds") == [True, False]
            assert not await page.evaluate("document.querySelector('#remote-audio').muted")
            await page.wait_for_function("() => window.mocklineJoin.remoteLevel > 0.05", timeout=WAIT_MS)

            # the whole greeting was played: what the page muted was sent again, nothing was cut
            await page.wait_for_function(
                "() => window.mocklineJoin.captions.some(c => c.speaker === 'agent')", timeout=WAIT_MS
            )
            assert out.stats.resent_frames > 0
            assert out.stats.frames_sent == round(GREETING_S / 0.02)
            assert out.stats.interrupted_segments == 0
            assert not await page.evaluate("document.querySelector('#remote-audio').muted")
