"""Scoring results: plain dataclasses shared by the offline scorer, the LLM judge and the store."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CompetencyResult", "Evidence", "QuestionResult", "ScoreResult"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A quote from one transcript turn: ``quote == turn.text[start:end]``."""

    turn_id: int
    start: int
    end: int
    quote: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class QuestionResult:
    question_id: str
    competency: str
    score: int  # 1..5
    rationale: str
    evidence: list[Evidence] = field(default_factory=list)
    improved_answer: str | None = None
    strengths: list[str] = field(default_factory=list)
    weaknesses: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    confidence: float | None = None  # 0..1: how sure the scorer is of this score
    status: str = "answered"  # answered | request (asked to stop, repeat, ...) | no_answer
    agreement: float | None = None  # LLM judge: 1 when every sample gave the same score, 0 at a 1-vs-5 split
    flagged: str | None = None  # why a human should look at this answer, if they should
    key_points: list[dict[str, object]] = field(default_factory=list)  # [{key_point, covered, quote}]


@dataclass(slots=True)
class CompetencyResult:
    competency: str
    score: float
    weight: float
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(slots=True)
class ScoreResult:
    scorer: str  # offline | llm:<model>
    overall: float
    # strong_yes | yes | lean_no | no | needs_review (recruiter mode); None in practice mode
    recommendation: str | None
    questions: list[QuestionResult]
    competencies: list[CompetencyResult]
    report: dict[str, Any]  # summary, strengths, weaknesses, improvements, not_assessed, fingerprint, notes
    speech_metrics: dict[str, Any]
