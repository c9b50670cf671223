"""Errors a browser sees as a JSON ``{"error": code, "message": text}`` answer.

Errors::

    SignalingError            (``code`` is stable, ``message`` is safe to show, ``http_status`` is the answer)
    ├── BadRequest            malformed JSON or SDP, wrong field types            400
    ├── PayloadTooLarge       body over ``max_message_bytes``                      413
    ├── ServerBusy            ``max_sessions`` reached; try again in a moment       503  (retryable)
    └── TooManyRequests       too many offers or pending sessions from one address  429  (retryable)

Refusals about the link itself are ``storage.InvitationError`` subclasses (unknown 404, expired/used 410, and
``InvitationBusy`` 409 when the link is already in a live call); they carry the same ``code``/``message``/
``http_status`` and are answered the same way.
"""

from __future__ import annotations

__all__ = ["BadRequest", "PayloadTooLarge", "ServerBusy", "SignalingError", "TooManyRequests"]


class SignalingError(Exception):
    code = "signaling_error"
    http_status = 400
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SignalingError):
    code = "bad_request"
    http_status = 400


class PayloadTooLarge(SignalingError):
    code = "too_large"
    http_status = 413


class ServerBusy(SignalingError):
    code = "busy"
    http_status = 503
    retryable = True


class TooManyRequests(SignalingError):
    code = "rate_limited"
    http_status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
