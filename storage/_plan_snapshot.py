"""The plan snapshot read as typed data: what the dashboard and the report show of a plan's questions.

A plan runs from a JSON snapshot (``InterviewPlan.spec``, or an interview's own ``plan_spec``; its shape is
documented in ``agent/plans/_spec.py``). Storage never imports the agent, so this reads only the parts every
reader shares — each question's id, text and competency, the role, the weighted competencies — and reads them
leniently: an entry that is not an object with an id is skipped, a missing text is "". Scoring validates the
rubrics strictly itself (``scoring._snapshot.parse_plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PlanQuestion", "PlanSnapshot"]


@dataclass(frozen=True, slots=True)
class PlanQuestion:
    id: str
    text: str = ""
    competency: str = ""


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    role: str = ""
    questions: tuple[PlanQuestion, ...] = ()
    weighted: tuple[str, ...] = ()  # the competencies the plan weights, in the snapshot's order

    @classmethod
    def from_json(cls, spec: Mapping[str, Any] | None) -> PlanSnapshot:
        if not isinstance(spec, Mapping):
            return cls()
        questions = tuple(
            PlanQuestion(
                id=str(q["id"]),
                text=str(q.get("text") or ""),
                competency=str(q.get("competency") or ""),
            )
            for q in spec.get("questions") or ()
            if isinstance(q, Mapping) and q.get("id")
        )
        weights = spec.get("weights")
        weighted = tuple(str(c) for c in weights) if isinstance(weights, Mapping) else ()
        return cls(role=str(spec.get("role") or ""), questions=questions, weighted=weighted)

    @property
    def question_ids(self) -> list[str]:
        """The questions' ids in the order they are asked."""
        return [q.id for q in self.questions]

    def question_text(self, question_id: str) -> str:
        """The text of a question ("" when the plan has no such question)."""
        return next((q.text for q in self.questions if q.id == question_id), "")

    @property
    def competencies(self) -> list[str]:
        """Every competency the plan assesses: the weighted ones first, then any other a question names."""
        out = list(self.weighted)
        for q in self.questions:
            if q.competency and q.competency not in out:
                out.append(q.competency)
        return out
