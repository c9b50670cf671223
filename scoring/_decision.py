"""Whether the evidence supports a hire / no-hire recommendation, and what a human should look at first.

Pure functions over per-answer results:

- ``decide``: a recommendation (``strong_yes`` / ``yes`` / ``lean_no`` / ``no``) only when enough answers were
  graded, with adequate confidence (less is needed the further the overall is from the hire / no-hire line),
  none was flagged, and the overall is not on that line; otherwise
  ``needs_review``, with the reasons and the answers to look at first (least sure first);
- ``effective_recommendation``: a recruiter's override of the overall score is the final word, so the
  recommendation shown next to it follows the recruiter's number, not the scorer's.

Requests ("can we stop", "could you repeat that") are not answers: they are left out of the averages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ._result import QuestionResult

__all__ = [
    "LABELS",
    "NEEDS_REVIEW",
    "Decision",
    "decide",
    "effective_recommendation",
    "graded",
    "recommendation_for",
]

NEEDS_REVIEW = "needs_review"
LABELS = {
    "strong_yes": "Strong yes",
    "yes": "Yes",
    "lean_no": "Lean no",
    "no": "No",
    NEEDS_REVIEW: "Needs human review",
}
MIN_ANSWERS = 2  # fewer graded answers than this is too little to recommend on
MIN_CONFIDENCE = 0.7  # mean per-answer confidence below this: a human should read the answers ...
CLEAR_MARGIN = 1.5  # ... unless the overall is this far from the hire line (all 1s is a clear no)
LOW_ANSWER = 0.6  # an answer scored with less confidence than this is worth a look
HIRE_LINE = 3.0  # between lean_no and yes
LINE_MARGIN = 0.2  # an overall this close to the hire line could go either way


def recommendation_for(overall: float) -> str:
    if overall >= 4.0:
        return "strong_yes"
    if overall >= 3.4:
        return "yes"
    if overall >= 2.6:
        return "lean_no"
    return "no"


@dataclass(frozen=True, slots=True)
class Decision:
    recommendation: str  # one of LABELS
    confidence: float  # 0..1: mean confidence of the graded answers
    reasons: list[str] = field(default_factory=list)  # why a human should review (empty when recommended)
    review_first: list[dict[str, object]] = field(default_factory=list)  # [{question_id, score, why}]


def graded(results: Sequence[QuestionResult]) -> list[QuestionResult]:
    """The results that grade an answer (a refusal is graded: it says the candidate could not answer)."""
    return [r for r in results if r.status != "request"]


def _why(r: QuestionResult) -> str:
    if r.status == "request":
        return "the candidate asked for something instead of answering"
    if r.flagged:
        return r.flagged
    return f"scored with low confidence ({r.confidence:.2f})"


def decide(results: Sequence[QuestionResult], overall: float) -> Decision:
    answers = graded(results)
    confs = [r.confidence for r in answers if r.confidence is not None]
    confidence = round(sum(confs) / len(confs), 2) if confs else 0.0
    reasons: list[str] = []
    if len(answers) < MIN_ANSWERS:
        reasons.append(f"only {len(answers)} answer(s) could be graded")
    if confs and confidence < MIN_CONFIDENCE and abs(overall - HIRE_LINE) < CLEAR_MARGIN:
        reasons.append(f"the scorer is unsure of this interview (confidence {confidence:.2f})")
    flagged = [r for r in answers if r.flagged]
    if flagged:
        reasons.append(f"{len(flagged)} answer(s) flagged for review")
    if abs(overall - HIRE_LINE) < LINE_MARGIN:
        reasons.append(f"the overall {overall:.1f} sits on the hire / no-hire line")
    unsure = [
        r
        for r in results
        if r.status == "request" or r.flagged or (r.confidence is not None and r.confidence < LOW_ANSWER)
    ]
    unsure.sort(key=lambda r: (not r.flagged, r.confidence if r.confidence is not None else 1.0))
    review = [{"question_id": r.question_id, "score": r.score, "why": _why(r)} for r in unsure[:3]]
    return Decision(
        recommendation=NEEDS_REVIEW if reasons else recommendation_for(overall),
        confidence=confidence,
        reasons=reasons,
        review_first=review,
    )


def effective_recommendation(scored: str | None, overridden_overall: float | None) -> str | None:
    """What to show: the scorer's recommendation, unless a recruiter set the overall score (then theirs)."""
    if scored is None or overridden_overall is None:
        return scored  # practice mode has none; without an override the scorer's stands
    return recommendation_for(overridden_overall)
