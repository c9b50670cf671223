"""The plan form: reading and checking it, and building the plan snapshot with ``agent.plans``.

``agent.plans`` is imported when a plan is built, not at import time, so the dashboard's pages load without
the question bank being read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DIFFICULTIES",
    "INTERVIEW_TYPES",
    "SENIORITIES",
    "PlanForm",
    "PlanFormError",
    "build_spec",
    "pdf_to_text",
    "personalised_spec",
    "role_choices",
    "round_choices",
]

SENIORITIES = ("junior", "mid", "senior", "lead")
INTERVIEW_TYPES = ("technical", "behavioural", "mixed")
DIFFICULTIES = ("easy", "medium", "hard")
_TEXT_MAX = 20_000


class PlanFormError(Exception):
    """Form fields that need fixing: ``errors`` maps a field name to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def role_choices() -> list[tuple[str, str]]:
    """(bank key, title) for every role in the question bank, by title."""
    from agent.plans import load_question_bank

    bank = load_question_bank()
    return sorted(((key, entry.title) for key, entry in bank.roles.items()), key=lambda kv: kv[1].lower())


def round_choices() -> tuple[str, ...]:
    from agent.plans import ROUNDS

    return tuple(ROUNDS)


def pdf_to_text(data: bytes) -> str:
    from agent.plans import ResumeError, resume_text_from_pdf

    try:
        return resume_text_from_pdf(data)
    except ResumeError as e:
        raise PlanFormError({"resume_pdf": str(e)}) from e


@dataclass
class PlanForm:
    """The plan form as typed (strings), so it can be shown again with its messages."""

    title: str = ""
    role: str = ""
    seniority: str = "mid"
    interview_type: str = "mixed"
    rounds: list[str] = field(default_factory=list)
    question_count: str = "5"
    time_limit_minutes: str = "20"
    difficulty: str = "medium"
    job_description: str = ""
    resume_text: str = ""

    def _int(self, name: str, low: int, high: int, errors: dict[str, str]) -> int:
        raw = getattr(self, name)
        try:
            value = int(raw)
        except ValueError:
            errors[name] = f"Enter a whole number from {low} to {high}."
            return low
        if not low <= value <= high:
            errors[name] = f"Must be from {low} to {high}."
        return value

    def checked(self) -> dict[str, Any]:
        """Arguments for ``build_plan``; raises :class:`PlanFormError` naming every bad field."""
        errors: dict[str, str] = {}
        if not self.role:
            errors["role"] = "Choose a role."
        if self.seniority not in SENIORITIES:
            errors["seniority"] = "Choose a seniority level."
        if self.interview_type not in INTERVIEW_TYPES:
            errors["interview_type"] = "Choose an interview type."
        if self.difficulty not in DIFFICULTIES:
            errors["difficulty"] = "Choose a difficulty."
        count = self._int("question_count", 1, 30, errors)
        minutes = self._int("time_limit_minutes", 1, 180, errors)
        if len(self.title) > 200:
            errors["title"] = "Keep the title under 200 characters."
        for name in ("job_description", "resume_text"):
            if len(getattr(self, name)) > _TEXT_MAX:
                errors[name] = f"Keep this under {_TEXT_MAX:,} characters."
        if errors:
            raise PlanFormError(errors)
        return {
            "role": self.role,
            "seniority": self.seniority,
            "interview_type": self.interview_type,
            "rounds": self.rounds or None,
            "question_count": count,
            "time_limit_minutes": minutes,
            "difficulty": self.difficulty,
            "job_description": self.job_description or None,
            "resume_text": self.resume_text or None,
        }


def personalised_spec(plan_spec: dict[str, Any], resume_text: str) -> dict[str, Any] | None:
    """The candidate's own plan snapshot: the plan's questions with one about their résumé (None when the
    résumé names nothing to ask about, or the plan snapshot cannot be read)."""
    from agent.plans import PlanError, PlanSpec, personalise_plan

    try:
        spec = personalise_plan(PlanSpec.from_json(plan_spec), resume_text=resume_text)
    except (PlanError, ValueError):  # a snapshot from an older version: the plan's questions stay
        return None
    return spec.to_json() if spec is not None else None


def build_spec(args: dict[str, Any], *, mode: str = "recruiter") -> dict[str, Any]:
    """The plan snapshot (``InterviewPlan.spec``) from checked form arguments."""
    from agent.plans import ROUNDS, PlanError, PlanInputError, ResumeError, UnknownRoleError, build_plan

    unknown = [r for r in args.get("rounds") or [] if r not in ROUNDS]
    if unknown:
        raise PlanFormError({"rounds": f"Unknown round(s): {', '.join(unknown)[:200]}."})
    try:
        spec = build_plan(**args, mode=mode)
    except UnknownRoleError as e:
        raise PlanFormError({"role": str(e)}) from e
    except ResumeError as e:
        raise PlanFormError({"resume_text": str(e)}) from e
    except PlanInputError as e:
        raise PlanFormError({"form": str(e)}) from e
    except PlanError as e:
        raise PlanFormError({"form": f"The plan could not be built: {e}"}) from e
    return spec.to_json()
