"""Browser interviews over WebRTC: the candidate's join link ``/i/{token}`` and ``POST /rtc/offer``.

An aiortc peer per browser connection; the interview (``agent`` runtime) outlives a dropped connection for
a grace period so the candidate can reopen the link and carry on. Mount with
``install_signaling(app, SignalingServices.build(runtime=shared))`` (``shared``: an ``agent.SharedRuntime``).

LiveKit room mode (``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` set): the same page joins
a LiveKit room instead, with the vendored livekit-client (``static/vendor``); ``POST /rtc/livekit`` admits
the candidate and dispatches a ``mockline agent`` worker (``signaling._livekit``, ``livekit_token``).
"""

from ._errors import BadRequest, PayloadTooLarge, ServerBusy, SignalingError
from ._events import EventChannel, ProtocolError, encode, parse_client_message
from ._registry import SessionRegistry
from ._routes import install_signaling, router
from ._services import SignalingServices, signaling_of
from ._session import BrowserInterview
from ._settings import IceServer, SignalingSettings, get_signaling_settings
from ._tracks import AgentAudioTrack, InboundConverter

__all__ = [
    "AgentAudioTrack",
    "BadRequest",
    "BrowserInterview",
    "EventChannel",
    "IceServer",
    "InboundConverter",
    "PayloadTooLarge",
    "ProtocolError",
    "ServerBusy",
    "SessionRegistry",
    "SignalingError",
    "SignalingServices",
    "SignalingSettings",
    "encode",
    "get_signaling_settings",
    "install_signaling",
    "parse_client_message",
    "router",
    "signaling_of",
]
