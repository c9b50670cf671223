"""The candidate's page during a real interview, on a phone-sized screen: the greeting names them and the
company, and the page shows "Question 1 of 2", then "Question 2 of 2", and the time left.

Real headless Chromium at 390 px on the join page, WebRTC on 127.0.0.1, the real ``AgentRuntime`` (silero
VAD, faster-whisper tiny.en, piper, the offline brain) on a two-question plan of an organisation. The
candidate is an espeak-ng voice: silence through the greeting, then answers with room for the
interviewer's replies (question 1 may get a follow-up first); once question 2 is counted the candidate
ends the call with the page's button. Slow by nature (the interviewer speaks in real time): a minute or two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from axe_playwright_python import __file__ as _axe_package
from sqlalchemy import select

from agent import AgentRuntime, AgentSettings
from agent.plans import build_plan
from storage import Interview, InterviewPlan, Organization, TranscriptTurn, create_invitation, get_database

from .test_browser_join_e2e import RATE, STOP, _espeak
from .test_browser_join_support import chromium, start_call, write_wav
from .test_signaling_support import ServerThread, make_app, rtc_settings

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(540)]

ANSWERS = (
    "At my last job the checkout service was slow, so I profiled it, found repeated database calls, "
    "batched them and added a cache. As a result latency went down by half.",
    "I would look at the error logs and the dashboards first, then check the latest deploy and the "
    "database, and roll back the release if it started with that deploy.",
    "Once I deleted a staging table by mistake. I told my lead at once, restored it from the backup, "
    "and we added a confirmation step so nobody could do it again.",
)
WAIT_MS = 200_000
AXE = Path(_axe_package).parent / "axe.min.js"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
QUESTION = "() => document.getElementById('progress-question').textContent === {!r}"


def candidate_wav(path: Path) -> Path:
    def gap(s: float) -> np.ndarray:
        return np.zeros(int(s * RATE), dtype=np.int16)

    parts = [gap(32)]  # the greeting (now with the candidate's and the company's names) and question 1
    for answer in ANSWERS:
        parts += [_espeak(answer), gap(18)]  # the answer; the interviewer's next question or follow-up
    parts += [_espeak(STOP), gap(60)]
    return write_wav(path, np.concatenate(parts), RATE)


@pytest.fixture(scope="module")
def runtime() -> AgentRuntime:
    return AgentRuntime.load(AgentSettings(turn_detector="vad", user_away_timeout=60.0))


def _invitation() -> str:
    spec = build_plan(role="backend engineer", question_count=2, seed=3, time_limit_minutes=10)
    with get_database().session() as s:
        org = Organization(name="Acme Robotics")
        s.add(org)
        s.flush()
        plan = InterviewPlan(
            org_id=org.id, title="Backend engineer", role=spec.role, question_count=2, spec=spec.to_json()
        )
        s.add(plan)
        s.flush()
        return create_invitation(s, plan_id=plan.id, org_id=org.id, candidate_name="Dana Whitfield").token


async def _serious_accessibility_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        """async () => (await axe.run(document)).violations
             .filter(v => ['serious', 'critical'].includes(v.impact))
             .map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target).join(' '))"""
    )
    return list(found)


async def test_a_phone_sized_page_greets_by_name_and_counts_the_questions_and_the_time(
    sqlite_db, runtime, tmp_path, artifacts_dir
):
    token = _invitation()
    wav = candidate_wav(tmp_path / "candidate.wav")
    with ServerThread(make_app(rtc_settings(), runtime)) as server:
        async with chromium(tmp_path / "profile", wav) as browser:
            page = await browser.new_page()
            await page.set_viewport_size({"width": 390, "height": 844})
            await start_call(page, f"{server.url}/i/{token}", timeout_ms=WAIT_MS)

            # Before anything is asked the page says how long the interview is; the greeting names the
            # candidate and the company, then asks question 1, and the page counts it.
            await page.wait_for_function(QUESTION.format("Question 1 of 2"), timeout=WAIT_MS)
            greeting = await page.inner_text("#captions .caption.agent .text")
            assert greeting.startswith("Hi Dana, and thanks for joining.")
            assert "role at Acme Robotics" in greeting
            time_left = await page.inner_text("#time-left")
            minutes, seconds = (int(x) for x in time_left.split(":"))
            assert 0 < minutes * 60 + seconds <= 600
            assert await page.get_attribute("#progress-bar", "aria-valuetext") == "Question 1 of 2"
            assert await page.evaluate(NO_SIDEWAYS_SCROLL)
            await page.screenshot(path=str(artifacts_dir / "candidate_progress_q1_390.png"), full_page=True)
            problems = await _serious_accessibility_problems(page)
            (artifacts_dir / "candidate-call-axe.txt").write_text("\n".join(problems) or "none serious\n")
            assert not problems, problems

            # The candidate answers (and answers the follow-up): question 2 is counted as it is heard.
            await page.wait_for_function(QUESTION.format("Question 2 of 2"), timeout=WAIT_MS)
            assert await page.evaluate(NO_SIDEWAYS_SCROLL)
            assert await page.is_visible("#end") and await page.is_visible("#mute")
            await page.screenshot(path=str(artifacts_dir / "candidate_progress_q2_390.png"), full_page=True)

            # The count is what this test is about: the candidate ends the call here rather than
            # answering on (a spoken "can we stop" is tests/test_browser_join_e2e.py's).
            await page.click("#end")
            await page.click("#end-confirm")
            await page.wait_for_selector("#step-done:not([hidden])", timeout=WAIT_MS)
            probe = await page.evaluate("window.mocklineJoin")

    assert probe["progress"][:3] == ["2 questions", "Question 1 of 2", "Question 2 of 2"]
    with get_database().session() as s:
        interview = s.scalars(select(Interview)).one()
        first = s.scalars(
            select(TranscriptTurn)
            .where(TranscriptTurn.interview_id == interview.id)
            .order_by(TranscriptTurn.seq)
        ).first()
    assert first is not None and first.text == greeting  # what was shown is what was heard and stored
