"""Phone interviews over Twilio: TwiML webhooks, the Media Streams bridge, outbound phone screens.

``telephony`` imports ``agent`` (the interviewer) and ``storage``; the web app mounts :data:`router` with
``install_telephony(app, TelephonyState.build(...))``.
The wire format lives in the pure modules :mod:`telephony.codec` and :mod:`telephony.serializer`.
"""

from ._bridge import CallOutcome, LiveCalls, StreamBridge
from ._errors import (
    MalformedFrame,
    OutboundCallError,
    OutOfOrder,
    OversizedMessage,
    SignatureInvalid,
    StartTimeout,
    StreamProtocolError,
    StreamRejected,
    TelephonyConfigError,
    TelephonyError,
    UnknownEvent,
)
from ._output import TwilioAudioOutput
from ._router import install_telephony, router
from ._security import StreamTokens, validate_signature
from ._settings import TelephonySettings, check_settings, get_telephony_settings
from ._state import TelephonyState, telephony_state
from .outbound import PlacedCall, ScheduledCall, place_call, place_due_calls, schedule_phone_screen

__all__ = [
    "CallOutcome",
    "LiveCalls",
    "MalformedFrame",
    "OutOfOrder",
    "OutboundCallError",
    "OversizedMessage",
    "PlacedCall",
    "ScheduledCall",
    "SignatureInvalid",
    "StartTimeout",
    "StreamBridge",
    "StreamProtocolError",
    "StreamRejected",
    "StreamTokens",
    "TelephonyConfigError",
    "TelephonyError",
    "TelephonySettings",
    "TelephonyState",
    "TwilioAudioOutput",
    "UnknownEvent",
    "check_settings",
    "get_telephony_settings",
    "install_telephony",
    "place_call",
    "place_due_calls",
    "router",
    "schedule_phone_screen",
    "telephony_state",
    "validate_signature",
]
