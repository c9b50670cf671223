"""A browser interview counts what the candidate heard: real headless Chromium on the join page, WebRTC on
127.0.0.1, and the real ``AgentRuntime`` (silero VAD, faster-whisper tiny.en, piper, the offline brain).

Chromium's fake microphone plays a WAV on a fixed timeline, which cannot talk over a particular reply.
Here the page's microphone is a Web Audio stream the test speaks into when it chooses (an init script
hands ``getUserMedia`` a ``MediaStreamDestination``); everything after it - Chromium's capture, Opus,
WebRTC, the server - is the real path. The test listens the way the candidate does, through the page:
the interviewer's tile shows when it is speaking. The voice is espeak-ng: these are claims about the
interview's accounting, not about turn-taking (measured on real speech by ``python -m bench turns``).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from agent import AgentRuntime, AgentSettings
from agent.plans import build_plan
from storage import Interview, InterviewPlan, TranscriptTurn, create_invitation, get_database

from .audio import words
from .test_browser_join_e2e import ANSWER, STOP, _espeak
from .test_browser_join_support import chromium
from .test_signaling_support import ServerThread, make_app, rtc_settings

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(420)]

INTERJECTION = "Sorry, could you say that again please?"
HEAR_BACK = "Sorry, when will I hear back?"
WAIT_MS = 120_000

# The page's microphone: silence until the test calls ``window.candidate.say(base64 PCM, rate)``.
MICROPHONE = """
(() => {
  const media = navigator.mediaDevices;
  const real = media.getUserMedia.bind(media);
  let ctx = null, dest = null;
  function line() {
    if (!ctx) {
      ctx = new AudioContext({ sampleRate: 48000 });
      dest = ctx.createMediaStreamDestination();
      // a live line, as a real microphone is: a faint hiss (-80 dBFS) between words. A Web Audio track
      // with nothing playing sends no packets at all, and the server would never hear the answer end.
      const hiss = ctx.createBuffer(1, 48000, 48000);
      const h = hiss.getChannelData(0);
      for (let i = 0; i < h.length; i++) h[i] = (Math.random() - 0.5) * 2e-4;
      const bed = ctx.createBufferSource();
      bed.buffer = hiss;
      bed.loop = true;
      bed.connect(dest);
      bed.start();
    }
    return dest;
  }
  const peers = [];
  const RealPC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new RealPC(...args);
    peers.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = RealPC.prototype;
  window.candidate = {
    async sent() {  // what the microphone sent, for a failing test's message
      const out = [];
      for (const pc of peers) for (const [, r] of await pc.getStats()) {
        if (r.type === "media-source" || r.type === "outbound-rtp") {
          out.push([r.type, r.totalAudioEnergy, r.packetsSent]);
        }
      }
      return out;
    },
    say(b64, rate) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const pcm = new Int16Array(bytes.buffer);
      const buf = ctx.createBuffer(1, pcm.length, rate);
      const ch = buf.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(line());
      return new Promise((done) => { src.onended = () => done(true); src.start(); });
    },
  };
  media.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.audio || constraints.video) return real(constraints);
    const track = line().stream.getAudioTracks()[0].clone();
    if (ctx.state === "suspended") await ctx.resume();
    return new MediaStream([track]);
  };
})();
"""


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    return AgentRuntime.load(AgentSettings(turn_detector="vad", user_away_timeout=60.0))


@pytest.fixture(scope="module")
def voice() -> dict[str, str]:
    """espeak-ng speech as base64 48 kHz int16, ready for ``window.candidate.say``."""
    texts = {"answer": ANSWER, "stop": STOP, "interjection": INTERJECTION, "hear_back": HEAR_BACK}
    return {k: base64.b64encode(_espeak(t).tobytes()).decode() for k, t in texts.items()}


def _invitation(questions: int) -> tuple[str, list[str]]:
    spec = build_plan(role="backend engineer", question_count=questions, seed=3, time_limit_minutes=10)
    with get_database().session() as s:
        plan = InterviewPlan(title="Backend", role=spec.role, question_count=questions, spec=spec.to_json())
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name="Ada")
        return new.token, [q.text for q in spec.questions]


def _turns() -> list[TranscriptTurn]:
    with get_database().session() as s:
        interview = s.scalars(select(Interview)).one_or_none()
        if interview is None:
            return []
        query = select(TranscriptTurn).where(TranscriptTurn.interview_id == interview.id)
        return list(s.scalars(query.order_by(TranscriptTurn.seq)))


def _script(turns: list[Any]) -> str:
    """The stored conversation, for a failing assertion's message."""
    return "\n".join(
        f"{t.seq} {t.speaker} {t.kind} q={t.question_id} cut={t.interrupted} "
        f"{t.started_at:.1f}-{t.ended_at:.1f} {t.text!r}"
        for t in turns
    )


async def _stored(enough: Callable[[list[Any]], bool]) -> list[TranscriptTurn]:
    """Wait (up to a minute) until the stored conversation is ``enough``."""
    deadline = time.monotonic() + 60.0
    while not enough(turns := await asyncio.to_thread(_turns)):
        assert time.monotonic() < deadline, _script(turns)
        await asyncio.sleep(0.2)
    return turns


class Candidate:
    """The candidate at the join page: speaks into the microphone, watches the interviewer's tile."""

    def __init__(self, page: Page, voice: dict[str, str]) -> None:
        self.page = page
        self.voice = voice

    async def join(self, url: str) -> None:
        await self.page.goto(url)
        await self.page.check("#consent")
        await self.page.click("#consent-continue")
        await self.page.wait_for_selector("#start:enabled", timeout=WAIT_MS)
        await self.page.click("#start")

    async def say(self, name: str) -> None:
        """Speak into the microphone; returns when the words have been played into it."""
        await self.page.evaluate(
            "([b64, rate]) => window.candidate.say(b64, rate)", [self.voice[name], 48000]
        )

    async def agent_speaks(self) -> None:
        await self._tile("true")

    async def agent_stops(self) -> None:
        await self._tile("false")

    async def _tile(self, speaking: str) -> None:
        try:
            await self.page.wait_for_selector(f'#agent-tile[data-speaking="{speaking}"]', timeout=WAIT_MS)
        except PlaywrightTimeout:
            probe = await self.page.evaluate("window.mocklineJoin")
            sent = await self.page.evaluate("window.candidate.sent()")
            raise AssertionError(f"{probe}\n{sent}\n{_script(await asyncio.to_thread(_turns))}") from None


async def test_a_reply_spoken_over_in_its_lead_in_asks_nothing_and_its_question_comes_again(
    sqlite_db, runtime, voice, tmp_path
):
    token, questions = _invitation(2)
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", None) as browser:
            page = await browser.new_page()
            await page.add_init_script(MICROPHONE)
            c = Candidate(page, voice)
            await c.join(f"{server.url}/i/{token}")
            await c.agent_speaks()
            await c.agent_stops()  # the greeting and the first question, heard
            await c.say("answer")
            await c.agent_speaks()  # the reply begins ("Thank you. ..." or a follow-up)...
            await c.say("interjection")  # ...and the candidate talks over it at once
            turns = await _stored(lambda ts: sum(t.speaker == "agent" for t in ts) >= 3)
    script = _script(turns)
    agent = [t for t in turns if t.speaker == "agent"]
    greet, cut, again = agent[:3]
    assert greet.kind == "greet" and questions[0] in greet.text and greet.question_id is not None, script
    assert cut.interrupted and cut.kind is None and cut.question_id is None, script  # asked nothing
    assert not any(q in cut.text for q in questions), script  # the candidate never heard a question in it
    said = [t for t in turns if t.speaker == "candidate" and t.seq > cut.seq]
    assert said and {"sorry", "again", "please"} & set(words(said[0].text)), script  # the interjection
    # stored from when it was spoken: while the cut reply played, not at the end of the reply it cut
    assert cut.started_at <= said[0].started_at <= cut.ended_at, script
    assert not again.interrupted and again.kind is not None and again.question_id is not None, script
    for t in agent:  # a question counts (greet, ask) only where the candidate heard it
        assert t.kind not in ("greet", "ask") or any(q in t.text for q in questions), script


async def test_a_closing_spoken_over_is_answered_and_then_the_interview_ends(
    sqlite_db, runtime, voice, tmp_path
):
    token, _ = _invitation(1)
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", None) as browser:
            page = await browser.new_page()
            await page.add_init_script(MICROPHONE)
            c = Candidate(page, voice)
            await c.join(f"{server.url}/i/{token}")
            await c.agent_speaks()
            await c.agent_stops()  # the greeting and the question, heard
            await c.say("stop")  # "Can we stop the interview now please."
            await c.agent_speaks()  # the closing begins...
            await c.say("hear_back")  # ..."Sorry, when will I hear back?"
            await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)  # answered, closed
            ended = await page.evaluate("window.mocklineJoin.ended")
    turns = await asyncio.to_thread(_turns)
    script = _script(turns)
    assert ended == "completed", script
    cut = next(t for t in turns if t.speaker == "agent" and t.interrupted)
    asked = [t for t in turns if t.speaker == "candidate" and t.seq > cut.seq]
    assert cut.kind is None, script  # the closing spoken over did not close the interview...
    heard_back = set(words(" ".join(t.text for t in asked)))  # tiny.en hears espeak's "hear" as "like"
    assert len(heard_back & {"sorry", "when", "hear", "back"}) >= 2, script  # ...the question is stored
    last = turns[-1]
    assert last.speaker == "agent" and last.kind == "close" and not last.interrupted, script  # answered
    assert "next steps" in last.text.lower(), script
