"""Errors raised by the scoring worker, its queue and the report exports.

```
ScoringError                 base class; ``retryable`` says whether trying again later can help
├── ScoringConfigError       settings that cannot work (``mockline worker`` without REDIS_URL)  (ValueError)
├── ScoringInputError        the interview cannot be scored as stored (no plan, malformed plan JSON)
│   └── InterviewNotFound    no interview with this id                                           (LookupError)
├── ScoringBusy              another worker holds this interview's scoring lease   (retryable, retry_after)
├── ScoringFailed            a scoring run failed; ``retryable`` is False once the tries are used up
├── QueueUnavailable         the job queue (Redis) cannot be reached; the outbox keeps the event  (retryable)
├── JudgeError               the LLM judge failed (provider error, timeout); offline scoring takes over
│   └── JudgeOutputError     the judge kept answering with output that does not fit the schema
└── ReportNotFound           the interview has no score report yet                               (LookupError)
```
"""

from __future__ import annotations

__all__ = [
    "InterviewNotFound",
    "JudgeError",
    "JudgeOutputError",
    "QueueUnavailable",
    "ReportNotFound",
    "ScoringBusy",
    "ScoringConfigError",
    "ScoringError",
    "ScoringFailed",
    "ScoringInputError",
]


class ScoringError(Exception):
    """Base class for scoring errors."""

    retryable: bool = False


class ScoringConfigError(ScoringError, ValueError):
    """The scoring settings cannot work as given."""


class ScoringInputError(ScoringError):
    """The stored interview cannot be scored; trying again will not help until the data is fixed."""


class InterviewNotFound(ScoringInputError, LookupError):
    def __init__(self, interview_id: str) -> None:
        self.interview_id = interview_id
        super().__init__(f"no interview with id {interview_id!r}")


class ScoringBusy(ScoringError):
    """Another worker is scoring this interview right now; try again after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, interview_id: str, *, retry_after: float) -> None:
        self.interview_id = interview_id
        self.retry_after = retry_after
        super().__init__(f"interview {interview_id} is being scored by another worker")


class ScoringFailed(ScoringError):
    """A scoring run failed. The interview went back to ``finished`` (retry pending) or to ``failed``."""

    def __init__(self, message: str, *, retryable: bool, attempt: int) -> None:
        self.retryable = retryable
        self.attempt = attempt
        super().__init__(message)


class QueueUnavailable(ScoringError):
    """The job queue could not be reached."""

    retryable = True


class JudgeError(ScoringError):
    """The LLM judge could not produce a verdict."""

    retryable = True


class JudgeOutputError(JudgeError):
    """The LLM judge's output stayed malformed after every retry."""


class ReportNotFound(ScoringError, LookupError):
    def __init__(self, interview_id: str) -> None:
        self.interview_id = interview_id
        super().__init__(f"interview {interview_id!r} has no score report yet")
