"""Scoring runs against the real databases (SQLite and PostgreSQL): reports, idempotency, failures."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from scoring import (
    InProcessScoringQueue,
    ScoringBusy,
    ScoringRuntime,
    ScoringSettings,
    report_json,
    run_scoring,
    score_offline,
)
from storage import Database, Interview, OutboxEvent, QuestionScore, ScoreReport, TranscriptTurn
from tests.test_scoring_support import finish_interview, good_script, make_interview, wait_for, weak_script

pytestmark = pytest.mark.integration


def _settings(**kw: object) -> ScoringSettings:
    base = {"redis_url": None, "scorer": "offline", "retry_backoff_s": 0.05, "sweep_interval_s": 3600}
    return ScoringSettings(**{**base, **kw})


def _reports(db: Database, interview_id: str) -> list[ScoreReport]:
    with db.session() as s:
        return list(
            s.scalars(
                select(ScoreReport)
                .where(ScoreReport.interview_id == interview_id)
                .order_by(ScoreReport.version)
            )
        )


def _interview(db: Database, interview_id: str) -> Interview:
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        assert iv is not None
        s.expunge(iv)
        return iv


async def test_scoring_writes_a_report_with_evidence_from_the_transcript(db: Database) -> None:
    iid = make_interview(db)
    outcome = await run_scoring(iid, settings=_settings(), db=db)
    assert (outcome.status, outcome.version) == ("scored", 1)

    iv = _interview(db, iid)
    (rep,) = _reports(db, iid)
    assert iv.status == "scored" and iv.scored_at is not None and iv.scoring_attempts == 1
    assert iv.overall_score == rep.overall and rep.scorer == "offline"
    assert rep.recommendation in {"yes", "strong_yes"}
    with db.session() as s:
        turns = {
            t.id: t.text for t in s.scalars(select(TranscriptTurn).where(TranscriptTurn.interview_id == iid))
        }
        qs = list(s.scalars(select(QuestionScore).where(QuestionScore.report_id == rep.id)))
    assert {q.question_id for q in qs} == {"be-idem", "bh-conflict"}
    for q in qs:
        assert 1 <= q.score <= 5 and q.rationale
        for ev in q.evidence:
            assert turns[ev["turn_id"]][ev["start"] : ev["end"]] == ev["quote"]
    assert rep.speech_metrics["candidate_words"] > 100

    data = report_json(iid, db=db)
    assert data["interview"]["candidate_name"] == "Ada Lovelace"
    assert [c["competency"] for c in data["competencies"]] == ["api_design", "collaboration"]
    assert data["questions"][0]["text"].startswith("How would you make a payment API")


async def test_a_second_job_for_the_same_transcript_does_nothing(db: Database) -> None:
    iid = make_interview(db)
    await run_scoring(iid, settings=_settings(), db=db)
    again = await run_scoring(iid, settings=_settings(), db=db)
    assert again.status == "skipped"
    assert len(_reports(db, iid)) == 1
    assert _interview(db, iid).scoring_attempts == 1


async def test_concurrent_duplicate_jobs_produce_one_report(db: Database) -> None:
    iid = make_interview(db)
    results = await asyncio.gather(
        *(run_scoring(iid, settings=_settings(), db=db) for _ in range(4)), return_exceptions=True
    )
    scored = [r for r in results if not isinstance(r, BaseException) and r.status == "scored"]
    others = [r for r in results if r not in scored]
    assert len(scored) == 1
    # The losers either saw the claim (busy: retry later) or the finished report (nothing to do).
    assert all(isinstance(r, ScoringBusy) or r.status == "skipped" for r in others), others
    assert len(_reports(db, iid)) == 1


async def test_rescoring_on_request_writes_a_new_version(db: Database) -> None:
    iid = make_interview(db)
    await run_scoring(iid, settings=_settings(), db=db)
    forced = await run_scoring(iid, settings=_settings(), db=db, force=True)
    assert forced.version == 2
    assert [r.version for r in _reports(db, iid)] == [1, 2]
    assert report_json(iid, db=db)["versions"] == [1, 2]


async def test_a_changed_transcript_is_scored_again(db: Database) -> None:
    iid = make_interview(db)
    await run_scoring(iid, settings=_settings(), db=db)
    with db.session() as s:  # the interview was resumed and the candidate said more
        iv = s.get(Interview, iid)
        assert iv is not None
        iv.status = "finished"
        s.add(
            TranscriptTurn(
                interview_id=iid,
                seq=99,
                speaker="candidate",
                text="One more thing.",
                started_at=90,
                ended_at=91,
            )
        )
    assert (await run_scoring(iid, settings=_settings(), db=db)).version == 2


async def test_an_interview_that_is_still_running_is_not_scored(db: Database) -> None:
    iid = make_interview(db, status="in_progress")
    assert (await run_scoring(iid, settings=_settings(), db=db)).status == "skipped"
    assert _reports(db, iid) == []


async def test_a_broken_plan_fails_with_a_reason_and_other_interviews_still_score(db: Database) -> None:
    bad = make_interview(db, spec={"role": "x", "questions": [{"id": "q1", "text": "no rubric"}]})
    good = make_interview(db, script=weak_script())
    runtime = ScoringRuntime(settings=_settings(), db=db)
    await runtime.start()
    try:
        assert await runtime.enqueue_scoring(bad)
        assert await runtime.enqueue_scoring(good)
        assert isinstance(runtime.queue, InProcessScoringQueue)
        async with asyncio.timeout(60):
            await runtime.queue.join()
    finally:
        await runtime.aclose()
    bad_iv, good_iv = _interview(db, bad), _interview(db, good)
    assert bad_iv.status == "failed"
    assert "lacks id/competency/text/rubric.key_points" in (bad_iv.scoring_error or "")
    assert _reports(db, bad) == []
    assert good_iv.status == "scored" and len(_reports(db, good)) == 1
    with db.session() as s:  # both outbox events were handed over
        pending = s.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
        )
    assert pending == 0


async def test_in_process_sweep_scores_interviews_nobody_enqueued(db: Database) -> None:
    """The web process died between finishing an interview and enqueueing it: the outbox catches it."""
    iid = make_interview(db, status="in_progress", script=good_script())
    finish_interview(db, iid)
    runtime = ScoringRuntime(settings=_settings(sweep_interval_s=0.2), db=db)
    await runtime.start()
    try:
        await wait_for(
            lambda: _interview(db, iid).status == "scored", within=60, what="the sweep to score it"
        )
    finally:
        await runtime.aclose()
    assert len(_reports(db, iid)) == 1


def test_a_claim_taken_over_after_its_lease_cannot_write_a_second_report(db: Database) -> None:
    from scoring._store import LeaseLost, claim, save_report

    iid = make_interview(db)
    slow = claim(db, iid, lease_s=300, max_attempts=5)
    assert slow is not None
    with pytest.raises(ScoringBusy):  # the lease is still running
        claim(db, iid, lease_s=300, max_attempts=5)
    other = claim(db, iid, lease_s=0, max_attempts=5)  # as if the lease had expired: taken over
    assert other is not None and other.attempt == slow.attempt + 1
    result = score_offline(other.snapshot)
    assert save_report(db, other, result) == 1
    with pytest.raises(LeaseLost):  # the first worker comes back to life: its report is dropped
        save_report(db, slow, result)
    assert [r.version for r in _reports(db, iid)] == [1]
    assert _interview(db, iid).status == "scored"
