"""Scoring settings (``MOCKLINE_SCORING_`` prefix, plus the shared ``REDIS_URL`` / ``OPENAI_*`` names)."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ScoringSettings", "get_scoring_settings"]


class ScoringSettings(BaseSettings):
    """How scoring jobs are queued, retried and judged.

    Without ``REDIS_URL`` the web process scores in-process (an asyncio queue); with it, ``mockline worker``
    processes consume the Redis queue (arq). A worker killed mid-job loses nothing: its job is picked up
    again ``job_timeout_s + 2 + recovery_grace_s`` seconds after it started.
    """

    model_config = SettingsConfigDict(env_prefix="MOCKLINE_SCORING_", extra="ignore", populate_by_name=True)

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "MOCKLINE_SCORING_REDIS_URL", "redis_url")
    )
    queue_name: str = "mockline:scoring"
    # Budget for one scoring run; a run that overruns it is retried.
    job_timeout_s: float = Field(default=300.0, gt=0)
    max_tries: int = Field(default=5, ge=1)
    retry_backoff_s: float = Field(default=5.0, ge=0)  # first retry delay; doubles per try
    retry_backoff_max_s: float = Field(default=300.0, ge=0)
    # Extra time after a job's timeout before another worker may take over a job whose worker died.
    recovery_grace_s: float = Field(default=10.0, ge=0.5)
    poll_delay_s: float = Field(default=0.5, gt=0)
    concurrency: int = Field(default=4, ge=1)
    # Outbox sweep: how often, and after how long a finished interview without a report is queued again.
    sweep_interval_s: float = Field(default=30.0, gt=0)
    stale_after_s: float = Field(default=600.0, gt=0)

    scorer: Literal["offline", "llm"] = Field(
        default="offline", validation_alias=AliasChoices("MOCKLINE_SCORER", "scorer")
    )
    llm_model: str = Field(
        default="gpt-4o-mini", validation_alias=AliasChoices("MOCKLINE_LLM_MODEL", "llm_model")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    judge_samples: int = Field(default=3, ge=1, le=9)
    judge_attempts: int = Field(default=3, ge=1)  # per sample, when the output is malformed
    judge_timeout_s: float = Field(default=60.0, gt=0)
    judge_temperature: float = 0.4

    # Test hook: when set, a job announces itself on the Redis list "<key>:started" and then blocks until
    # something is pushed to "<key>:release". Lets a test SIGKILL a worker while a job is running.
    test_hold_key: str | None = None

    @property
    def lease_s(self) -> float:
        """How long a scoring claim in the database is honoured before another worker may take over."""
        return self.job_timeout_s + 2.0

    @property
    def in_progress_s(self) -> float:
        """How long arq keeps a job marked running; after a worker dies, the job runs again after this."""
        return self.lease_s + self.recovery_grace_s

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential, capped."""
        return min(self.retry_backoff_max_s, self.retry_backoff_s * (2 ** max(0, attempt - 1)))

    @property
    def llm_configured(self) -> bool:
        return self.scorer == "llm" and bool(self.openai_api_key or self.openai_base_url)


@functools.lru_cache(maxsize=1)
def get_scoring_settings() -> ScoringSettings:
    return ScoringSettings()
