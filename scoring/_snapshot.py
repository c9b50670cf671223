"""What a scorer reads: the plan's questions and rubrics plus the timed transcript, detached from storage.

The plan is read from ``InterviewPlan.spec`` as JSON (shape documented in ``agent/plans/_spec.py``); scoring
never imports the agent. Only ``questions[].id/competency/text/rubric{anchors, key_points}`` and ``weights``
are required.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ._errors import ScoringInputError

__all__ = ["InterviewSnapshot", "RubricQuestion", "Turn", "parse_plan"]


@dataclass(frozen=True, slots=True)
class Turn:
    id: int
    seq: int
    speaker: str  # agent | candidate
    text: str
    start: float  # seconds from interview start
    end: float
    interrupted: bool = False
    question_id: str | None = None
    kind: str | None = None

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, slots=True)
class RubricQuestion:
    id: str
    competency: str
    text: str
    anchors: dict[int, str]
    key_points: tuple[str, ...]
    story: bool = False


@dataclass(frozen=True)
class InterviewSnapshot:
    interview_id: str
    mode: str  # recruiter | practice
    candidate_name: str
    role: str
    questions: tuple[RubricQuestion, ...]
    weights: dict[str, float]
    turns: tuple[Turn, ...]
    _answers: dict[str, list[Turn]] = field(default_factory=dict, init=False, repr=False)
    _asked: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        # A candidate turn belongs to its own question_id, else to the last question the agent asked.
        known = {q.id for q in self.questions}
        current: str | None = None
        for turn in self.turns:
            if turn.speaker == "agent":
                if turn.question_id in known:
                    current = turn.question_id
                    self._asked.add(current)
                continue
            qid = turn.question_id if turn.question_id in known else current
            if qid is not None and turn.text.strip():
                self._answers.setdefault(qid, []).append(turn)
                self._asked.add(qid)

    def answers(self, question_id: str) -> list[Turn]:
        return list(self._answers.get(question_id, []))

    def was_asked(self, question_id: str) -> bool:
        return question_id in self._asked

    @property
    def fingerprint(self) -> str:
        """Identifies the transcript and plan that were scored: same fingerprint, same report."""
        h = hashlib.sha256()
        for t in self.turns:
            h.update(
                json.dumps([t.id, t.speaker, t.text, t.start, t.end, t.interrupted, t.question_id]).encode()
            )
        h.update(json.dumps([[q.id, q.competency, q.key_points] for q in self.questions]).encode())
        h.update(json.dumps(sorted(self.weights.items())).encode())
        return h.hexdigest()


def parse_plan(spec: dict[str, Any] | None) -> tuple[tuple[RubricQuestion, ...], dict[str, float], str]:
    """Questions, weights and role from a plan snapshot; raises ``ScoringInputError`` naming the fault."""
    if not isinstance(spec, dict) or not spec.get("questions"):
        raise ScoringInputError("the interview plan has no questions (InterviewPlan.spec.questions is empty)")
    questions: list[RubricQuestion] = []
    for i, q in enumerate(spec["questions"]):
        where = f"plan question #{i + 1}"
        if not isinstance(q, dict):
            raise ScoringInputError(f"{where} is not an object")
        try:
            qid, competency, text = str(q["id"]), str(q["competency"]), str(q["text"])
            rubric = q["rubric"]
            anchors = {int(k): str(v) for k, v in rubric.get("anchors", {}).items()}
            key_points = tuple(str(k) for k in rubric["key_points"] if str(k).strip())
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ScoringInputError(f"{where} lacks id/competency/text/rubric.key_points ({e!r})") from e
        if not key_points:
            raise ScoringInputError(f"{where} ({qid}) has no rubric key points")
        questions.append(
            RubricQuestion(
                id=qid,
                competency=competency,
                text=text,
                anchors=anchors,
                key_points=key_points,
                story=bool(q.get("story", False)),
            )
        )
    raw_weights = spec.get("weights") or {}
    try:
        weights = {str(k): float(v) for k, v in raw_weights.items()}
    except (TypeError, ValueError, AttributeError) as e:
        raise ScoringInputError(f"plan weights are not numbers ({e!r})") from e
    for q in questions:  # a competency without a weight counts like the average one
        weights.setdefault(q.competency, 1.0 / max(1, len({x.competency for x in questions})))
    if any(w < 0 for w in weights.values()):
        raise ScoringInputError("plan weights must not be negative")
    return tuple(questions), weights, str(spec.get("role", ""))
