"""Web-process settings (``MOCKLINE_`` prefix). Other concerns keep their own Settings classes."""

from __future__ import annotations

import functools
import secrets

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore")

    environment: str = "development"  # development | production
    host: str = "127.0.0.1"
    port: int = 8000
    # Public base URL used in candidate links and Twilio callbacks (e.g. https://interviews.example.com).
    public_url: str = ""
    # Signs cookies and tokens. Generated per process in development; required in production.
    secret_key: str = ""
    data_dir: str = "var"
    log_level: str = "INFO"
    # Load the speech models at start-up (``mockline up``) instead of on the first interview.
    preload_agent: bool = False
    # An in-progress interview with no turn for this long, and no session holding it, is finished as a
    # hang-up (and so scored). Well above the reconnect grace period.
    stale_interview_minutes: float = 15.0
    # Largest request body any route reads (forms, JSON, webhooks); bigger ones get 413 before they are read.
    # The résumé upload route allows the dashboard's upload limit on top
    # (MOCKLINE_DASHBOARD_UPLOAD_MAX_BYTES).
    max_body_bytes: int = Field(default=256 * 1024, ge=4096)
    # Serve /docs, /redoc and /openapi.json (off: the API's shape is nobody's business in production).
    api_docs: bool = False

    @model_validator(mode="after")
    def _secrets(self) -> AppSettings:
        if not self.secret_key:
            if self.environment != "development":
                raise ValueError("MOCKLINE_SECRET_KEY must be set outside development")
            self.secret_key = secrets.token_urlsafe(32)
        elif self.environment != "development" and self.secret_key in {"changeme", "secret", "dev"}:
            raise ValueError("MOCKLINE_SECRET_KEY is a placeholder; set a real secret")
        return self

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@functools.lru_cache(maxsize=1)
def get_app_settings() -> AppSettings:
    return AppSettings()
