"""The LLM judge against a fake OpenAI-compatible server (real HTTP, the real ``openai`` client)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from scoring import LlmJudge, ScoringSettings, parse_plan, report_json, run_scoring, verify_quote
from scoring._snapshot import Turn
from storage import Database, QuestionScore, ScoreReport
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.test_scoring_support import PLAN_SPEC, STRONG_IDEM, Line, make_interview

pytestmark = pytest.mark.integration


def _verdict(score: int, quotes: list[tuple[int, str]], rationale: str = "Covers keys.") -> Reply:
    return Reply(
        text=json.dumps(
            {
                "score": score,
                "rationale": rationale,
                "evidence": [{"turn_id": t, "quote": q} for t, q in quotes],
                "strengths": ["names idempotency keys"],
                "weaknesses": ["no key expiry"],
                "improvement": "Say how long keys are kept.",
                "improved_answer": "Clients send an idempotency key; we store the response and expire keys.",
            }
        )
    )


def _settings(server: FakeOpenAIServer, **kw: object) -> ScoringSettings:
    base = {
        "redis_url": None,
        "scorer": "llm",
        "openai_base_url": server.base_url,
        "openai_api_key": "test",
        "llm_model": "judge-model",
        "judge_samples": 3,
    }
    return ScoringSettings(**{**base, **kw})


ANSWER = Turn(id=7, seq=3, speaker="candidate", text=STRONG_IDEM, start=10.0, end=40.0, question_id="be-idem")


async def test_median_of_samples_with_verified_quotes() -> None:
    question = parse_plan(PLAN_SPEC)[0][0]
    real = "we return the stored response instead of charging twice"
    async with FakeOpenAIServer() as server:
        server.script(
            Reply(text='{"score": 5, "rationale": "trunc'),  # malformed: retried
            _verdict(2, [(7, real)]),
            _verdict(4, [(7, real.upper()), (7, "I invented this quote"), (3, "We expire  old keys")]),
            _verdict(5, [(7, real)]),
        )
        judge = LlmJudge(settings=_settings(server))
        try:
            result = await judge.judge(question, [ANSWER])
        finally:
            await judge.aclose()
        sent = server.requests[0]
    assert len(server.requests) == 4
    assert sent["model"] == "judge-model"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"]["required"]
    assert STRONG_IDEM in sent["messages"][1]["content"]
    assert result.score == 4  # median of 2, 4, 5
    assert "[2, 4, 5]" in result.rationale
    assert "1 quote(s) not found in the transcript were dropped" in result.rationale
    # Kept quotes are exact spans of the turn, with offsets repaired (case, spacing, wrong turn id).
    assert [ev.quote for ev in result.evidence] == [real, "We expire old keys"]
    for ev in result.evidence:
        assert ev.turn_id == 7 and STRONG_IDEM[ev.start : ev.end] == ev.quote
    assert result.improved_answer is None  # only for weak answers (score <= 3)


def test_quotes_not_in_the_transcript_are_rejected() -> None:
    assert verify_quote(7, "charging three times", [ANSWER]) is None
    ev = verify_quote(99, "expire old keys", [ANSWER])
    assert ev is not None and ev.turn_id == 7 and STRONG_IDEM[ev.start : ev.end] == "expire old keys"


async def test_llm_scoring_run_stores_the_judges_report(db: Database) -> None:
    one_question = {**PLAN_SPEC, "questions": PLAN_SPEC["questions"][:1], "weights": {"api_design": 1.0}}
    script = [
        Line("agent", PLAN_SPEC["questions"][0]["text"], 0.0, 3.0, "be-idem"),
        Line("candidate", STRONG_IDEM, 4.0, 30.0, "be-idem"),
    ]
    iid = make_interview(db, spec=one_question, script=script)
    async with FakeOpenAIServer() as server:
        with db.session() as s:
            from storage import TranscriptTurn

            turn_id = s.scalars(
                select(TranscriptTurn.id).where(
                    TranscriptTurn.interview_id == iid, TranscriptTurn.speaker == "candidate"
                )
            ).one()
        quote = "We expire old keys after 24 hours"
        server.script(*(_verdict(3, [(turn_id, quote)]) for _ in range(3)))
        outcome = await run_scoring(iid, settings=_settings(server), db=db)
    assert outcome.status == "scored"
    with db.session() as s:
        rep = s.scalars(select(ScoreReport).where(ScoreReport.interview_id == iid)).one()
        q = s.scalars(select(QuestionScore).where(QuestionScore.report_id == rep.id)).one()
    assert rep.scorer == "llm:judge-model"
    assert (q.score, rep.overall) == (3, 3.0)
    assert q.evidence == [
        {
            "turn_id": turn_id,
            "start": STRONG_IDEM.index(quote),
            "end": STRONG_IDEM.index(quote) + len(quote),
            "quote": quote,
        }
    ]
    assert q.improved_answer and "idempotency key" in q.improved_answer
    assert "Say how long keys are kept." in rep.report["improvements"]


async def test_provider_failure_falls_back_to_the_offline_scorer(db: Database) -> None:
    iid = make_interview(db)
    async with FakeOpenAIServer(default=Reply(status=500)) as server:
        outcome = await run_scoring(iid, settings=_settings(server), db=db)
        assert server.requests  # the judge was really tried
    assert outcome.status == "scored"
    with db.session() as s:
        rep = s.scalars(select(ScoreReport).where(ScoreReport.interview_id == iid)).one()
    assert rep.scorer == "offline"
    assert any("LLM judge unavailable" in n for n in rep.report["notes"])


async def test_output_that_stays_malformed_falls_back_to_offline(db: Database) -> None:
    iid = make_interview(db)
    async with FakeOpenAIServer(default=Reply(text='{"score": 9}')) as server:
        outcome = await run_scoring(iid, settings=_settings(server, judge_samples=1, judge_attempts=2), db=db)
        assert len(server.requests) >= 2
    assert outcome.status == "scored"
    with db.session() as s:
        rep = s.scalars(select(ScoreReport).where(ScoreReport.interview_id == iid)).one()
    assert rep.scorer == "offline" and "malformed" in rep.report["notes"][0]


async def test_transcripts_never_reach_our_log_messages(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    iid = make_interview(db)
    caplog.set_level(logging.DEBUG, logger="mockline")
    async with FakeOpenAIServer(default=Reply(text="not json at all")) as server:
        await run_scoring(iid, settings=_settings(server, judge_samples=1, judge_attempts=2), db=db)
    await run_scoring(iid, settings=ScoringSettings(redis_url=None), db=db, force=True)
    ours = [r for r in caplog.records if r.name.startswith("mockline")]
    assert any("judge output did not match" in r.getMessage() for r in ours)  # the run was logged
    fragments = ["idempotency key", "colleague", "Um, I think"]
    for record in ours:
        assert not any(f.lower() in record.getMessage().lower() for f in fragments), record.getMessage()


def _kp_verdict(score: int, covered: dict[str, str]) -> Reply:
    """A verdict that judges each key point: ``covered`` maps a key point to the quote the judge gave."""
    kps = parse_plan(PLAN_SPEC)[0][0].key_points
    body = json.loads(_verdict(score, [(7, q) for q in covered.values()]).text)
    body["key_points"] = [
        {"key_point": kp, "covered": kp in covered, "quote": covered.get(kp, "")} for kp in kps
    ]
    return Reply(text=json.dumps(body))


async def test_key_points_need_a_real_quote_and_samples_that_disagree_are_flagged() -> None:
    question = parse_plan(PLAN_SPEC)[0][0]
    kps = question.key_points
    real = "we return the stored response instead of charging twice"
    made_up = "we expire keys every night with a cron job"
    async with FakeOpenAIServer() as server:
        server.script(
            _kp_verdict(5, {kps[2]: real, kps[3]: made_up}),
            _kp_verdict(2, {kps[2]: real}),
            _kp_verdict(4, {kps[2]: real, kps[3]: made_up}),
        )
        judge = LlmJudge(settings=_settings(server))
        try:
            result = await judge.judge(question, [ANSWER])
        finally:
            await judge.aclose()
        prompts = [r["messages"][1]["content"] for r in server.requests]
    covered = {k["key_point"]: k for k in result.key_points}
    assert covered[kps[2]]["covered"] and covered[kps[2]]["quote"] == real
    assert not covered[kps[3]]["covered"]  # the judge said so, but its quote is not in the transcript
    assert not covered[kps[0]]["covered"]
    # Scores 2, 4 and 5: the median stands, the spread is recorded and sends the answer to a human.
    assert result.score == 4 and result.agreement == 0.25
    assert result.flagged == "judge samples disagreed: [2, 4, 5]"
    assert result.confidence is not None and result.confidence < 0.5
    # Position-bias control: each sample saw the key points in a different order, the anchors both ways.
    firsts = [p.split("Key points (judge each one):\n- ")[1].split("\n")[0] for p in prompts]
    assert sorted(firsts) == sorted(kps[:3])
    assert {p.index("1: ") < p.index("5: ") for p in prompts} == {True, False}
    assert "not better for being long" in server.requests[0]["messages"][0]["content"]


async def test_a_disputed_judge_score_puts_the_interview_up_for_review(db: Database) -> None:
    one_question = {**PLAN_SPEC, "questions": PLAN_SPEC["questions"][:1], "weights": {"api_design": 1.0}}
    script = [
        Line("agent", PLAN_SPEC["questions"][0]["text"], 0.0, 3.0, "be-idem"),
        Line("candidate", STRONG_IDEM, 4.0, 30.0, "be-idem"),
    ]
    iid = make_interview(db, spec=one_question, script=script)
    async with FakeOpenAIServer() as server:
        server.script(*[_verdict(s, [(1, "We expire old keys after 24 hours")]) for s in (5, 2, 4)])
        outcome = await run_scoring(iid, settings=_settings(server), db=db)
    assert outcome.status == "scored"
    report = report_json(iid, db=db)
    assert report["recommendation"] == "needs_review"
    assert "1 answer(s) flagged for review" in report["review_reasons"]
    assert report["review_first"] == [
        {"question_id": "be-idem", "score": 4, "why": "judge samples disagreed: [2, 4, 5]"}
    ]
    (q,) = report["questions"]
    assert (q["flagged"], q["agreement"]) == ("judge samples disagreed: [2, 4, 5]", 0.25)


async def test_a_request_never_reaches_the_judge(db: Database) -> None:
    script = [
        Line("agent", PLAN_SPEC["questions"][0]["text"], 0.0, 3.0, "be-idem"),
        Line("candidate", STRONG_IDEM, 4.0, 30.0, "be-idem"),
        Line("agent", PLAN_SPEC["questions"][1]["text"], 31.0, 34.0, "bh-conflict"),
        Line("candidate", "Can we stop the interview now please", 35.0, 37.0, "bh-conflict"),
    ]
    iid = make_interview(db, script=script)
    async with FakeOpenAIServer() as server:
        server.script(*[_verdict(4, [(1, "We expire old keys after 24 hours")]) for _ in range(3)])
        await run_scoring(iid, settings=_settings(server), db=db)
        assert len(server.requests) == 3  # three samples for the answer, none for the request
        assert all(STRONG_IDEM in r["messages"][1]["content"] for r in server.requests)
    report = report_json(iid, db=db)
    stop = next(q for q in report["questions"] if q["question_id"] == "bh-conflict")
    assert stop["status"] == "request" and "not graded as an answer" in stop["rationale"]
    assert [c["competency"] for c in report["competencies"]] == ["api_design"]
