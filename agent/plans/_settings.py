"""Plan settings (``MOCKLINE_`` prefix)."""

from __future__ import annotations

import functools

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PlanSettings", "get_plan_settings"]


class PlanSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore")

    # Extra question-bank files (YAML or JSON), separated by ":" (os.pathsep), e.g. /etc/mockline/devops.yaml
    question_bank: str = ""


@functools.lru_cache(maxsize=1)
def get_plan_settings() -> PlanSettings:
    return PlanSettings()
