"""Brain settings: which brain, and the OpenAI-compatible endpoint for the LLM brain."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["BrainSettings", "get_brain_settings"]


class BrainSettings(BaseSettings):
    """``MOCKLINE_BRAIN``, ``MOCKLINE_LLM_MODEL``, ``MOCKLINE_LLM_TIMEOUT``, ``MOCKLINE_LLM_TEMPERATURE``,
    plus the OpenAI client's usual ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``."""

    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore", populate_by_name=True)

    brain: Literal["offline", "llm"] = "offline"
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=4.0, gt=0, le=60)  # seconds to the first token, then fall back
    llm_temperature: float = Field(default=0.5, ge=0, le=2)
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )


@functools.lru_cache(maxsize=1)
def get_brain_settings() -> BrainSettings:
    return BrainSettings()
