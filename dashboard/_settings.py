"""Dashboard settings (``MOCKLINE_DASHBOARD_`` prefix)."""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DashboardSettings", "get_dashboard_settings"]


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_DASHBOARD_", extra="ignore")

    # A login lasts this long; logging out ends it at once.
    session_hours: float = Field(default=12.0, gt=0)
    # Login attempts allowed per client address and e-mail within the window (then twice as many per four
    # windows, four times per sixteen: backoff; a success clears them), and per client address overall.
    # Nothing counts per e-mail alone: nobody can lock a recruiter out from everywhere.
    login_max_failures_per_email: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=30, ge=1)
    login_window_seconds: float = Field(default=900.0, gt=0)
    # Candidate invitations are valid this many days unless the form says otherwise.
    invitation_days: int = Field(default=7, ge=1, le=90)
    # Résumé PDF uploads larger than this are refused.
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Practice mode (no account): on/off, and how long a practice link works.
    practice_enabled: bool = True
    practice_link_hours: int = Field(default=24, ge=1)
    practice_per_ip_per_hour: int = Field(default=20, ge=1)
    practice_question_count: int = Field(default=4, ge=1, le=30)
    practice_time_limit_minutes: int = Field(default=15, ge=1, le=180)
    # Interviews per page on the list (the CSV export has no limit).
    page_size: int = Field(default=50, ge=1, le=1000)


@functools.lru_cache(maxsize=1)
def get_dashboard_settings() -> DashboardSettings:
    return DashboardSettings()
