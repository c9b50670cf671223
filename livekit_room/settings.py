"""LiveKit room mode's settings and dispatch contract, shared by the worker and the web process.

``LiveKitSettings`` (``LIVEKIT_`` prefix, the names livekit's own tools use) is read by the worker
(``livekit_room.worker``) and by the web process that mints candidate tokens and creates dispatches
(``signaling.livekit_token``). A dispatch carries ``{"interview_id": "..."}`` as its metadata; the room is
``room_name_for(interview_id)``.

Errors::

    LiveKitWorkerError
    ├── DispatchMetadataError   the dispatch metadata is not {"interview_id": "<id>"} (job rejected)
    └── LiveKitConfigError      LIVEKIT_URL / key / secret missing or placeholders outside development
"""

from __future__ import annotations

import functools
import json
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "END_REASON_ATTRIBUTE",
    "DispatchMetadata",
    "DispatchMetadataError",
    "LiveKitConfigError",
    "LiveKitSettings",
    "LiveKitWorkerError",
    "get_livekit_settings",
    "parse_dispatch_metadata",
    "room_name_for",
]

# The interviewer sets this attribute on itself with the end reason just before it leaves the room, so the
# join page can tell "finished" from "interrupted".
END_REASON_ATTRIBUTE = "mockline.end_reason"

_PLACEHOLDERS = {"", "devkey", "secret", "changeme"}


class LiveKitWorkerError(Exception):
    retryable = False


class DispatchMetadataError(LiveKitWorkerError):
    pass


class LiveKitConfigError(LiveKitWorkerError):
    pass


class LiveKitSettings(BaseSettings):
    """LiveKit connection and worker tuning (``LIVEKIT_`` prefix, the names livekit's own tools use)."""

    model_config = SettingsConfigDict(env_prefix="LIVEKIT_", extra="ignore")

    url: str = ""  # ws(s)://... of the LiveKit server; the API client derives http(s) from it
    public_url: str = ""  # what the candidate's browser connects to, if not ``url`` (e.g. behind TLS)
    api_key: str = ""
    api_secret: SecretStr = SecretStr("")
    agent_name: str = "mockline-interviewer"
    room_prefix: str = "interview-"
    token_ttl_seconds: int = Field(default=600, ge=30, le=24 * 3600)  # candidate must join within this
    executor: Literal["process", "thread"] = "process"  # process: a crashed interview cannot take others
    num_idle_processes: int = Field(default=1, ge=0)  # warm processes (models loaded) waiting for jobs
    load_threshold: float = Field(default=0.75, gt=0, le=1)  # above this CPU load, jobs go elsewhere
    # Interviews at once in this worker. Set: the worker's load is its share of this count (full at
    # max_jobs), not the machine's CPU, which on a shared host other processes drive to 100 %.
    max_jobs: int | None = Field(default=None, ge=1)
    initialize_timeout_seconds: float = Field(default=120.0, gt=0)  # model load in prewarm
    health_port: int = 8081  # worker health endpoint (GET /)
    # A candidate whose connection dropped (not a hang-up) may rejoin the room within this many seconds and
    # carry on; after that the interview ends as "dropped" (resumable from the link).
    resume_grace_seconds: float = Field(default=120.0, ge=0)
    # How long the interviewer waits in the room for the candidate to arrive (the page fetched a token, then
    # was closed) before the interview ends as "dropped" and the worker takes other jobs.
    join_timeout_seconds: float = Field(default=600.0, gt=0)
    development: bool = False  # allow the livekit-server --dev key pair (devkey/secret)

    def check(self) -> None:
        if not self.url or not self.api_key or not self.api_secret.get_secret_value():
            raise LiveKitConfigError("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set")
        if not self.development and (
            self.api_key in _PLACEHOLDERS or self.api_secret.get_secret_value() in _PLACEHOLDERS
        ):
            raise LiveKitConfigError(
                "LIVEKIT_API_KEY/SECRET are the dev placeholders; set real ones (or LIVEKIT_DEVELOPMENT=true)"
            )
        if not self.development and len(self.api_secret.get_secret_value()) < 32:
            raise LiveKitConfigError("LIVEKIT_API_SECRET must be at least 32 characters")


@functools.lru_cache(maxsize=1)
def get_livekit_settings() -> LiveKitSettings:
    return LiveKitSettings()


class DispatchMetadata(BaseModel):
    interview_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")

    def dumps(self) -> str:
        return self.model_dump_json()


def parse_dispatch_metadata(raw: str) -> DispatchMetadata:
    try:
        return DispatchMetadata.model_validate(json.loads(raw or "null"))
    except (ValueError, ValidationError) as e:
        raise DispatchMetadataError('dispatch metadata must be {"interview_id": "<id>"}') from e


def room_name_for(interview_id: str, settings: LiveKitSettings | None = None) -> str:
    return f"{(settings or get_livekit_settings()).room_prefix}{interview_id}"
