"""Errors raised while loading question banks and building interview plans.

```
PlanError                 base class; every error names what was wrong in plain words
├── PlanInputError        bad build_plan() arguments (counts, rounds, language, difficulty…)   (ValueError)
├── UnknownRoleError      no questions for the requested role (lists the known roles)           (LookupError)
├── QuestionBankError     a bank file is unreadable or invalid; names the file and the bad field
└── ResumeError           a résumé PDF could not be read or holds no text
```
"""

from __future__ import annotations

__all__ = ["PlanError", "PlanInputError", "QuestionBankError", "ResumeError", "UnknownRoleError"]


class PlanError(Exception):
    """Base class for plan and question-bank errors."""


class PlanInputError(PlanError, ValueError):
    """``build_plan`` got an argument it cannot honour."""


class UnknownRoleError(PlanError, LookupError):
    """The question bank has no questions for this role."""

    def __init__(self, role: str, known: list[str]) -> None:
        self.role = role
        self.known = known
        super().__init__(
            f"no questions for role {role!r}; known roles: {', '.join(known)} "
            "(add your own with MOCKLINE_QUESTION_BANK=/path/to/bank.yaml)"
        )


class QuestionBankError(PlanError):
    """A question-bank file is unreadable or invalid."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"question bank {path}: {problem}")


class ResumeError(PlanError):
    """A résumé could not be turned into text."""
