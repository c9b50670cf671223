"""Who may talk to the telephony endpoints.

* Webhooks: ``X-Twilio-Signature`` is checked with ``twilio.request_validator.RequestValidator`` against the
  public URL (``MOCKLINE_PUBLIC_URL`` + path + query) and ``TWILIO_AUTH_TOKEN``.
* The Media Streams websocket: a short-lived stream token (itsdangerous, signed with the app secret) that we
  put in the TwiML ``<Parameter>``, bound to the interview and the call; plus the upgrade request's
  ``X-Twilio-Signature`` when Twilio sends one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from twilio.request_validator import RequestValidator

from ._errors import SignatureInvalid, StreamRejected
from ._settings import TelephonySettings

__all__ = [
    "StreamGrant",
    "StreamTokens",
    "public_url_for",
    "validate_signature",
    "websocket_url_for",
]

logger = logging.getLogger("mockline.telephony")

_SALT = "mockline.telephony.stream"


def public_url_for(base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio requested, as Twilio signs it: public base + path (+ ?query)."""
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def websocket_url_for(base_url: str, path: str) -> str:
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + path
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + path
    return base + path


def validate_signature(
    settings: TelephonySettings,
    *,
    url: str,
    params: Mapping[str, str],
    signature: str | None,
) -> None:
    """Raise :class:`SignatureInvalid` unless ``signature`` is Twilio's for ``url`` + ``params``."""
    if settings.skip_signature:
        logger.warning("Twilio signature check SKIPPED for a webhook (MOCKLINE_TWILIO_SKIP_SIGNATURE=1)")
        return
    if not settings.auth_token:
        raise SignatureInvalid("TWILIO_AUTH_TOKEN is not configured")
    if not signature:
        raise SignatureInvalid("missing X-Twilio-Signature")
    if not RequestValidator(settings.auth_token).validate(url, dict(params), signature):
        raise SignatureInvalid("X-Twilio-Signature does not match")


@dataclass(frozen=True, slots=True)
class StreamGrant:
    interview_id: str
    call_sid: str


class StreamTokens:
    """Issue and check the stream token carried in the ``<Stream><Parameter name="token">``."""

    def __init__(self, *, secret_key: str, ttl_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self._ttl_s = ttl_s

    def issue(self, *, interview_id: str, call_sid: str) -> str:
        return self._serializer.dumps({"i": interview_id, "c": call_sid})

    def check(self, token: str | None, *, interview_id: str | None, call_sid: str) -> StreamGrant:
        if not token or len(token) > 512:
            raise StreamRejected("stream has no token")
        try:
            data = self._serializer.loads(token, max_age=self._ttl_s)
        except SignatureExpired as e:
            raise StreamRejected("stream token expired") from e
        except BadSignature as e:
            raise StreamRejected("stream token is not ours") from e
        if not isinstance(data, dict) or not isinstance(data.get("i"), str):
            raise StreamRejected("stream token is not ours")
        if interview_id is not None and interview_id != data["i"]:
            raise StreamRejected("stream token is for another interview")
        if data.get("c") and data["c"] != call_sid:
            raise StreamRejected("stream token is for another call")
        return StreamGrant(interview_id=data["i"], call_sid=str(data.get("c") or call_sid))
