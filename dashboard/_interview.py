"""One interview as the recruiter sees it: transcript, recording, current scores with overrides, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from scoring import effective_recommendation
from storage import (
    CompetencyScore,
    Interview,
    QuestionScore,
    Recording,
    ScoreOverride,
    ScoreReport,
    TurnMetric,
    User,
    latest_recording,
    latest_report,
    transcript,
    turn_metrics,
)

from ._errors import NotFound

__all__ = [
    "Evidence",
    "InterviewView",
    "OverrideView",
    "ScoreLine",
    "TurnView",
    "get_org_interview",
    "load_interview_view",
]


@dataclass(frozen=True, slots=True)
class TurnView:
    id: int
    seq: int
    speaker: str
    text: str
    start: float
    end: float
    interrupted: bool
    kind: str | None


@dataclass(frozen=True, slots=True)
class Evidence:
    turn_id: int | None
    quote: str
    at: float | None  # seconds into the recording where the quote is (interpolated inside its turn)


@dataclass(frozen=True, slots=True)
class OverrideView:
    original: float
    new: float
    reason: str
    by: str
    at: Any


@dataclass(slots=True)
class ScoreLine:
    target: str  # "overall" | "competency:<name>" | "question:<id>"
    label: str
    original: float
    weight: float | None = None
    rationale: str = ""
    question_text: str = ""
    improved_answer: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    overrides: list[OverrideView] = field(default_factory=list)  # newest first
    confidence: float | None = None  # the scorer's, for a question
    status: str = "answered"  # answered | request | no_answer
    flagged: str = ""  # why the scorer asks a human to look
    coaching: list[str] = field(default_factory=list)  # a coach's sentences on this answer
    key_points: list[dict[str, Any]] = field(default_factory=list)  # [{key_point, covered, quote, named?}]

    @property
    def effective(self) -> float:
        return self.overrides[0].new if self.overrides else self.original


@dataclass(slots=True)
class InterviewView:
    interview: Interview
    plan_title: str
    role: str
    turns: list[TurnView]
    metrics: list[TurnMetric]
    recording: Recording | None
    report: ScoreReport | None
    overall: ScoreLine | None
    competencies: list[ScoreLine]
    questions: list[ScoreLine]

    @property
    def duration_s(self) -> float:
        ends = [t.end for t in self.turns]
        if self.recording and self.recording.duration_s:
            ends.append((self.recording.offset_s or 0.0) + self.recording.duration_s)
        return max(ends, default=0.0)

    @property
    def body(self) -> dict[str, Any]:
        return (self.report.report or {}) if self.report else {}

    @property
    def recommendation(self) -> str | None:
        """The scorer's recommendation, or the recruiter's when they set the overall score."""
        if self.report is None:
            return None
        overridden = self.overall.overrides[0].new if self.overall and self.overall.overrides else None
        return effective_recommendation(self.report.recommendation, overridden)

    def targets(self) -> dict[str, ScoreLine]:
        lines = ([self.overall] if self.overall else []) + self.competencies + self.questions
        return {line.target: line for line in lines}


def get_org_interview(s: Session, *, org_id: str, interview_id: str) -> Interview:
    """The interview if it belongs to ``org_id``; otherwise :class:`NotFound` (never says which)."""
    iv = s.get(Interview, interview_id) if len(interview_id) <= 64 else None
    if iv is None or iv.org_id is None or iv.org_id != org_id:
        raise NotFound("No such interview.")
    return iv


def _evidence(items: list[Any], turns: dict[int, TurnView]) -> list[Evidence]:
    out = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        turn_id = item.get("turn_id")
        turn = turns.get(turn_id) if isinstance(turn_id, int) else None
        at = None
        if turn is not None:
            at = turn.start
            start = item.get("start")
            if isinstance(start, int) and turn.text and 0 <= start <= len(turn.text):
                at = turn.start + (turn.end - turn.start) * start / len(turn.text)
        quote = str(item.get("quote") or (turn.text if turn else ""))
        out.append(Evidence(turn_id=turn.id if turn else None, quote=quote, at=at))
    return out


def load_interview_view(s: Session, *, interview: Interview) -> InterviewView:
    turns = [
        TurnView(t.id, t.seq, t.speaker, t.text, t.started_at, t.ended_at, t.interrupted, t.kind)
        for t in transcript(s, interview.id)
    ]
    by_id = {t.id: t for t in turns}
    metrics = turn_metrics(s, interview.id)
    recording = latest_recording(s, interview.id)
    report = latest_report(s, interview.id)
    overall, competencies, questions = None, [], []
    if report is not None:
        asked = interview.snapshot  # the candidate's own questions, else the plan's
        overall = ScoreLine(target="overall", label="Overall", original=report.overall)
        for c in s.scalars(select(CompetencyScore).where(CompetencyScore.report_id == report.id)):
            competencies.append(
                ScoreLine(
                    target=f"competency:{c.competency}",
                    label=c.competency.replace("_", " ").capitalize(),
                    original=c.score,
                    weight=c.weight,
                    evidence=_evidence(c.evidence, by_id),
                )
            )
        qscores = s.scalars(
            select(QuestionScore).where(QuestionScore.report_id == report.id).order_by(QuestionScore.id)
        )
        answers = (report.report or {}).get("answers", {})
        for n, q in enumerate(qscores, start=1):
            meta = answers.get(q.question_id, {})
            questions.append(
                ScoreLine(
                    target=f"question:{q.question_id}",
                    label=f"Question {n}",
                    original=float(q.score),
                    rationale=q.rationale,
                    question_text=asked.question_text(q.question_id),
                    improved_answer=q.improved_answer or "",
                    evidence=_evidence(q.evidence, by_id),
                    confidence=meta.get("confidence"),
                    status=meta.get("status", "answered"),
                    flagged=meta.get("flagged") or "",
                    coaching=list(meta.get("coaching") or []),
                    key_points=[k for k in meta.get("key_points") or [] if isinstance(k, dict)],
                )
            )
        lines = {line.target: line for line in [overall, *competencies, *questions]}
        overrides = s.execute(
            select(ScoreOverride, User.email)
            .outerjoin(User, User.id == ScoreOverride.user_id)
            .where(ScoreOverride.report_id == report.id)
            .order_by(desc(ScoreOverride.id))
        )
        for o, email in overrides:
            line = lines.get(o.target)
            if line is not None:
                line.overrides.append(
                    OverrideView(o.original_score, o.new_score, o.reason, email or "", o.created_at)
                )
    return InterviewView(
        interview=interview,
        plan_title=interview.plan.title,
        role=interview.plan.role,
        turns=turns,
        metrics=metrics,
        recording=recording,
        report=report,
        overall=overall,
        competencies=competencies,
        questions=questions,
    )
