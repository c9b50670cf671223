"""Telephony errors. Messages never contain candidate data (no transcripts, digits or phone numbers).

Errors::

    TelephonyError                 (base; ``code`` is stable, ``retryable`` says whether to try again)
    ├── StreamProtocolError        the Media Streams peer broke the protocol; the call is ended
    │   ├── MalformedFrame         not JSON, not an object, a missing/ill-typed field, bad base64
    │   ├── UnknownEvent           an ``event`` we do not know
    │   ├── OversizedMessage       a websocket message or media payload over the limit
    │   ├── OutOfOrder             sequence/chunk numbers going backwards, media before ``start``…
    │   └── StartTimeout           no ``start`` within the configured time
    ├── StreamRejected             a stream we did not start (bad/expired stream token, unknown interview)
    ├── SignatureInvalid           a webhook whose X-Twilio-Signature is missing or wrong (HTTP 403)
    ├── TelephonyConfigError       settings that cannot work (e.g. skipping signatures in production)
    └── OutboundCallError          placing a call through the Twilio REST API failed
"""

from __future__ import annotations

__all__ = [
    "MalformedFrame",
    "OutOfOrder",
    "OutboundCallError",
    "OversizedMessage",
    "SignatureInvalid",
    "StartTimeout",
    "StreamProtocolError",
    "StreamRejected",
    "TelephonyConfigError",
    "TelephonyError",
    "UnknownEvent",
]


class TelephonyError(Exception):
    code = "telephony_error"
    retryable = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class StreamProtocolError(TelephonyError):
    code = "protocol_error"


class MalformedFrame(StreamProtocolError):
    code = "malformed_frame"


class UnknownEvent(StreamProtocolError):
    code = "unknown_event"


class OversizedMessage(StreamProtocolError):
    code = "oversized_message"


class OutOfOrder(StreamProtocolError):
    code = "out_of_order"


class StartTimeout(StreamProtocolError):
    code = "start_timeout"


class StreamRejected(TelephonyError):
    code = "stream_rejected"


class SignatureInvalid(TelephonyError):
    code = "signature_invalid"


class TelephonyConfigError(TelephonyError):
    code = "config_error"


class OutboundCallError(TelephonyError):
    code = "outbound_call_failed"
