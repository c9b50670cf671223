"""Scoring: turns a finished interview's transcript into a report, on a Redis job queue or in-process.

Why arq for the queue: it is asyncio-native (the scorer and the LLM judge are async), already a
dependency, small enough to read, and its source shows the guarantees we need. A job stays in the queue's
sorted set and in its ``arq:job:`` key until it completes; a worker marks it running with an expiring
``arq:in-progress:`` key (``psetex``, set under ``WATCH`` so only one worker takes it), so a SIGKILLed
worker's job becomes visible again when that key expires and another worker runs it (at-least-once).
Retries with backoff are ``Retry(defer=...)``; any number of workers on any machines poll the same queue
(horizontal scaling). The recovery time after a crash is arq's in-progress expiry, which we set to
``job_timeout_s + 2 + recovery_grace_s`` (``ScoringSettings``) instead of arq's fixed ``timeout + 10 s``.
We considered taskiq-redis (streams + ack, redelivery via idle claim) and saq (heartbeats + sweeps): both
fit, neither is installed, and arq's model is the easiest to verify. Since delivery is at-least-once, the
job itself is idempotent: a conditional UPDATE claims the interview in the database (see ``_store.py``).

Without ``REDIS_URL`` the same job function runs in the web process on an asyncio queue
(``ScoringRuntime``). A database outbox sweep (``OutboxSweeper``) re-queues anything that was not handed
over (Redis down, a crash between commit and enqueue), so no finished interview stays unscored.

Scorers: the offline, deterministic rubric scorer (default) and, with ``MOCKLINE_SCORER=llm`` and an
OpenAI-compatible endpoint, an LLM judge with structured output, sampled and median-aggregated, whose
quotes are checked against the transcript; it falls back to offline when the provider fails.
"""

from ._coach import stronger_answer
from ._decision import LABELS, NEEDS_REVIEW, Decision, decide, effective_recommendation, recommendation_for
from ._errors import (
    InterviewNotFound,
    JudgeError,
    JudgeOutputError,
    QueueUnavailable,
    ReportNotFound,
    ScoringBusy,
    ScoringConfigError,
    ScoringError,
    ScoringFailed,
    ScoringInputError,
)
from ._job import ScoringOutcome, run_scoring
from ._llm import LlmJudge, Verdict, verify_quote
from ._metrics import FILLERS, LONG_PAUSE_S, count_fillers, speech_metrics
from ._offline import read_answer, score_answer
from ._outbox import FINISHED_EVENT, OutboxSweeper, SweepStats, enqueue_scoring, sweep_once
from ._pdf import render_pdf
from ._queue import InProcessScoringQueue, RedisScoringQueue, ScoringQueue
from ._report import report_json
from ._result import CompetencyResult, Evidence, QuestionResult, ScoreResult
from ._runtime import ScoringRuntime
from ._scorer import score_offline, score_snapshot
from ._settings import ScoringSettings, get_scoring_settings
from ._snapshot import InterviewSnapshot, RubricQuestion, Turn, parse_plan
from ._store import load_snapshot

__all__ = [
    "FILLERS",
    "FINISHED_EVENT",
    "LABELS",
    "LONG_PAUSE_S",
    "NEEDS_REVIEW",
    "CompetencyResult",
    "Decision",
    "Evidence",
    "InProcessScoringQueue",
    "InterviewNotFound",
    "InterviewSnapshot",
    "JudgeError",
    "JudgeOutputError",
    "LlmJudge",
    "OutboxSweeper",
    "QuestionResult",
    "QueueUnavailable",
    "RedisScoringQueue",
    "ReportNotFound",
    "RubricQuestion",
    "ScoreResult",
    "ScoringBusy",
    "ScoringConfigError",
    "ScoringError",
    "ScoringFailed",
    "ScoringInputError",
    "ScoringOutcome",
    "ScoringQueue",
    "ScoringRuntime",
    "ScoringSettings",
    "SweepStats",
    "Turn",
    "Verdict",
    "count_fillers",
    "decide",
    "effective_recommendation",
    "enqueue_scoring",
    "get_scoring_settings",
    "load_snapshot",
    "parse_plan",
    "read_answer",
    "recommendation_for",
    "render_pdf",
    "report_json",
    "run_scoring",
    "score_answer",
    "score_offline",
    "score_snapshot",
    "speech_metrics",
    "stronger_answer",
    "sweep_once",
    "verify_quote",
]
