"""Coaching from what the offline scorer measured: a coach's sentences, and a stronger answer rewritten from
the candidate's own words (never a template with placeholders)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._snapshot import RubricQuestion

if TYPE_CHECKING:
    from ._offline import AnswerReading

__all__ = ["coach_answer", "stronger_answer"]


def coach_answer(q: RubricQuestion, r: AnswerReading, score: int) -> list[str]:
    return []


def stronger_answer(q: RubricQuestion, r: AnswerReading) -> str | None:
    return None
