"""The interview plan: what the interviewer asks, in which order, and how answers are judged.

A ``PlanSpec`` is stored as ``InterviewPlan.spec`` (JSON) and read back by the agent (to conduct the
interview) and by the scoring worker (to score it). Its JSON shape, version 1::

    {
      "version": 1,
      "role": "Backend engineer",            # display title
      "role_key": "backend_engineer",        # question-bank key
      "seniority": "junior|mid|senior|lead",
      "interview_type": "technical|behavioural|mixed",
      "rounds": ["greeting", "technical", "behavioural", "hr", "closing"],
      "question_count": 5,                   # == len(questions)
      "time_limit_minutes": 20,
      "difficulty": "easy|medium|hard",
      "language": "en",
      "mode": "recruiter|practice",
      "questions": [                          # in the order they are asked
        {
          "id": "be-api-idempotency",        # unique in the plan; transcript turns carry it
          "round": "technical",              # technical (role skills) | behavioural | communication | hr
          "competency": "api_design",        # key of "weights"
          "text": "How would you make a payment API safe to retry?",
          "difficulty": "medium",
          "story": false,                    # true: expects a past-experience story (probed for its outcome)
          "follow_ups": ["..."],             # probes for more depth
          "harder_follow_up": "..." | null,  # asked after a strong answer
          "easier_follow_up": "..." | null,  # asked after a weak answer
          "hints": ["..."],                  # offered once when the candidate is stuck
          "tags": ["idempotency", "payments"],
          "rubric": {
            "anchors": {"1": "...", "2": "...", "3": "...", "4": "...", "5": "..."},
            "key_points": ["idempotency key", "..."]   # what a strong answer covers (offline scorer)
          }
        }
      ],
      "weights": {"api_design": 0.4, "collaboration": 0.6},   # per competency, sum 1.0
      "steering": {"job_keywords": [...], "resume_keywords": [...], "personalised_from": "..." | null}
    }

Scoring depends on ``questions[].id/competency/text/rubric{anchors, key_points}`` and ``weights``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "QUESTION_ROUNDS",
    "ROUNDS",
    "Difficulty",
    "InterviewType",
    "Mode",
    "PlanSpec",
    "Question",
    "Rubric",
    "Seniority",
    "Steering",
]

Difficulty = Literal["easy", "medium", "hard"]
InterviewType = Literal["technical", "behavioural", "mixed"]
Mode = Literal["recruiter", "practice"]
Seniority = Literal["junior", "mid", "senior", "lead"]
RoundName = Literal["greeting", "technical", "behavioural", "communication", "hr", "closing"]
QuestionRound = Literal["technical", "behavioural", "communication", "hr"]

ROUNDS: tuple[str, ...] = ("greeting", "technical", "behavioural", "communication", "hr", "closing")
QUESTION_ROUNDS: tuple[str, ...] = ("technical", "behavioural", "communication", "hr")
SPOKEN_LANGUAGES = ("en",)


class Rubric(BaseModel):
    """Behaviourally anchored 1–5 scale plus the key points a strong answer covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    anchors: dict[int, str]
    key_points: list[str] = Field(min_length=1)

    @field_validator("anchors")
    @classmethod
    def _five_anchors(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v) != [1, 2, 3, 4, 5]:
            raise ValueError(f"needs exactly the anchors 1, 2, 3, 4, 5 (got {sorted(v)})")
        if any(not text.strip() for text in v.values()):
            raise ValueError("anchor descriptions must not be empty")
        return dict(sorted(v.items()))


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    round: QuestionRound
    competency: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    text: str = Field(min_length=8)
    difficulty: Difficulty = "medium"
    story: bool = False
    follow_ups: list[str] = Field(default_factory=list)
    harder_follow_up: str | None = None
    easier_follow_up: str | None = None
    hints: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    rubric: Rubric


class Steering(BaseModel):
    """What personalised the plan (kept so a recruiter can see why these questions were chosen)."""

    model_config = ConfigDict(extra="forbid")

    job_keywords: list[str] = Field(default_factory=list)
    resume_keywords: list[str] = Field(default_factory=list)
    personalised_from: str | None = None


class PlanSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    role: str = Field(min_length=1)
    role_key: str = Field(min_length=1)
    seniority: Seniority = "mid"
    interview_type: InterviewType = "mixed"
    rounds: list[RoundName]
    question_count: int = Field(ge=1, le=30)
    time_limit_minutes: int = Field(ge=1, le=180)
    difficulty: Difficulty = "medium"
    language: str = "en"
    mode: Mode = "recruiter"
    questions: list[Question] = Field(min_length=1)
    weights: dict[str, float]
    steering: Steering = Field(default_factory=Steering)

    @field_validator("language")
    @classmethod
    def _spoken_language(cls, v: str) -> str:
        v = v.strip().lower()
        if v not in SPOKEN_LANGUAGES:
            raise ValueError(
                f"language {v!r} is not supported: speech recognition and synthesis are English-only ('en')"
            )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> PlanSpec:
        if len(self.questions) != self.question_count:
            raise ValueError(
                f"question_count is {self.question_count} but {len(self.questions)} questions given"
            )
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {', '.join(dupes)}")
        missing = sorted({q.round for q in self.questions} - set(self.rounds))
        if missing:
            raise ValueError(f"questions use rounds not in 'rounds': {', '.join(missing)}")
        competencies = {q.competency for q in self.questions}
        if set(self.weights) != competencies:
            raise ValueError(
                f"weights must name exactly the plan's competencies {sorted(competencies)} "
                f"(got {sorted(self.weights)})"
            )
        if any(w < 0 for w in self.weights.values()) or not math.isclose(
            sum(self.weights.values()), 1.0, abs_tol=1e-3
        ):
            raise ValueError("weights must be non-negative and sum to 1")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def to_json(self) -> dict[str, Any]:
        """The JSON-serialisable form stored in ``InterviewPlan.spec``."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanSpec:
        return cls.model_validate(data)
