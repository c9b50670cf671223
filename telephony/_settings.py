"""Telephony settings (``TWILIO_`` prefix), built once per process through :func:`get_telephony_settings`.

The development switch that disables webhook signature checks is spelled ``MOCKLINE_TWILIO_SKIP_SIGNATURE``
on purpose: it is a mockline decision, not a Twilio credential, and it is refused in production
(:func:`check_settings`).
"""

from __future__ import annotations

import functools
import logging

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import TelephonyConfigError

__all__ = ["TelephonySettings", "check_settings", "get_telephony_settings"]

logger = logging.getLogger("mockline.telephony")


class TelephonySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWILIO_", extra="ignore", populate_by_name=True)

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""  # E.164 caller ID for outbound calls, e.g. +15551230000
    # The REST API base. Only tests and proxies change it; the real client code runs either way.
    api_base_url: str = "https://api.twilio.com"
    skip_signature: bool = Field(
        default=False, validation_alias=AliasChoices("MOCKLINE_TWILIO_SKIP_SIGNATURE", "skip_signature")
    )
    # Inbound calls from a candidate's number are mapped to their invitation without a PIN. Off by default:
    # a caller ID is trivially spoofed, so it would let anyone who knows the number skip the PIN.
    match_caller_id: bool = False
    max_pin_attempts: int = 3  # per call (the count travels in the signed gather URL)
    # PIN attempts per calling number, and from all callers together, per window; counted in the database
    # (every replica, and a redial, see the same count). Past either, callers hear the goodbye.
    pin_attempts_per_caller: int = Field(default=10, ge=1)
    pin_attempts_global: int = Field(default=300, ge=1)
    pin_attempts_window_s: float = Field(default=3600.0, gt=0)
    gather_timeout_s: int = 8
    stream_token_ttl_s: int = 120  # the stream must connect within this time of the TwiML answer
    start_timeout_s: float = 10.0  # a websocket that sends no 'start' within this is closed
    mark_timeout_s: float = 15.0  # extra wait for a mark echo past the audio's own length
    scheduler_interval_s: float = 15.0  # how often due phone screens are dialled; 0 disables


@functools.lru_cache(maxsize=1)
def get_telephony_settings() -> TelephonySettings:
    return TelephonySettings()


def check_settings(settings: TelephonySettings, *, environment: str) -> None:
    """Refuse unsafe combinations and say loudly what is switched off. Called at startup."""
    if settings.skip_signature:
        if environment == "production":
            raise TelephonyConfigError(
                "MOCKLINE_TWILIO_SKIP_SIGNATURE=1 is refused when MOCKLINE_ENVIRONMENT=production"
            )
        logger.warning(
            "Twilio webhook signature checks are DISABLED (MOCKLINE_TWILIO_SKIP_SIGNATURE=1); "
            "anyone who can reach this server can start phone interviews. Development only."
        )
    elif not settings.auth_token:
        logger.warning("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will be refused with 403")
