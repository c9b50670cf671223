"""When the report recommends, when it asks a human to review, and whose word is final."""

from __future__ import annotations

import pytest

from scoring import NEEDS_REVIEW, QuestionResult, decide, effective_recommendation, score_offline
from tests.test_scoring_offline import _snapshot
from tests.test_scoring_support import PLAN_SPEC, STRONG_CONFLICT, STRONG_IDEM, Line

pytestmark = pytest.mark.unit


def _r(qid: str, score: int, confidence: float, **kw: object) -> QuestionResult:
    return QuestionResult(qid, "c", score, "", confidence=confidence, **kw)  # type: ignore[arg-type]


def test_sure_scores_away_from_the_line_get_a_recommendation() -> None:
    d = decide([_r("a", 5, 0.9), _r("b", 4, 0.85), _r("c", 4, 0.8)], overall=4.33)
    assert d.recommendation == "strong_yes" and d.reasons == [] and d.review_first == []


def test_unsure_scores_near_the_line_need_a_human_and_say_where_to_look() -> None:
    d = decide([_r("a", 4, 0.9), _r("b", 2, 0.45), _r("c", 3, 0.55)], overall=3.0)
    assert d.recommendation == NEEDS_REVIEW
    assert any("hire / no-hire line" in r for r in d.reasons)
    assert any("unsure" in r for r in d.reasons)
    assert [x["question_id"] for x in d.review_first] == ["b", "c"]  # least sure first
    assert "low confidence (0.45)" in str(d.review_first[0]["why"])


def test_a_flagged_answer_or_too_few_answers_block_a_recommendation() -> None:
    flagged = decide(
        [_r("a", 5, 0.9), _r("b", 5, 0.3, flagged="judge samples disagreed: [2, 5, 5]")], overall=5.0
    )
    assert flagged.recommendation == NEEDS_REVIEW
    assert flagged.review_first[0] == {
        "question_id": "b",
        "score": 5,
        "why": "judge samples disagreed: [2, 5, 5]",
    }
    thin = decide([_r("a", 5, 0.95), _r("b", 1, 0.9, status="request")], overall=5.0)
    assert thin.recommendation == NEEDS_REVIEW and "only 1 answer(s) could be graded" in thin.reasons


def test_all_ones_is_a_clear_no_even_with_middling_confidence() -> None:
    assert decide([_r("a", 1, 0.6), _r("b", 1, 0.6)], overall=1.0).recommendation == "no"


def test_the_recruiters_overall_score_decides_the_recommendation_shown() -> None:
    assert effective_recommendation("needs_review", None) == "needs_review"
    assert effective_recommendation("needs_review", 4.5) == "strong_yes"
    assert effective_recommendation("yes", 2.0) == "no"
    assert effective_recommendation(None, 4.5) is None  # practice reports have no recommendation


def test_a_request_to_stop_is_listed_but_not_averaged() -> None:
    qs = PLAN_SPEC["questions"]
    lines = [
        Line("agent", qs[0]["text"], 0.0, 3.0, "be-idem", kind="question"),
        Line("candidate", STRONG_IDEM, 4.0, 30.0, "be-idem"),
        Line("agent", qs[1]["text"], 31.0, 34.0, "bh-conflict", kind="question"),
        Line("candidate", "Can we stop the interview now please", 35.0, 37.0, "bh-conflict"),
    ]
    result = score_offline(_snapshot(lines))
    stop = next(q for q in result.questions if q.question_id == "bh-conflict")
    assert stop.status == "request" and "not graded as an answer" in stop.rationale
    assert [c.competency for c in result.competencies] == ["api_design"]  # the request is in no average
    assert result.overall >= 4
    assert result.recommendation == NEEDS_REVIEW  # one answer is not enough to recommend on
    assert result.report["answers"]["bh-conflict"]["status"] == "request"
    assert result.report["review_first"][0]["question_id"] == "bh-conflict"
    both = score_offline(
        _snapshot([*lines[:3], Line("candidate", STRONG_CONFLICT, 35.0, 60.0, "bh-conflict")])
    )
    assert both.recommendation in {"yes", "strong_yes"} and both.report["confidence"] >= 0.7
