"""LiveKit room mode: the transport that runs interviews in LiveKit rooms (``mockline agent``).

A transport like ``signaling/`` and ``telephony/``: it imports ``agent`` (the core), never the reverse.
``livekit_room.settings`` (settings, dispatch contract, errors) is light and shared with the web process;
``livekit_room.worker`` is the livekit-agents worker itself.
"""

from .settings import (
    END_REASON_ATTRIBUTE,
    DispatchMetadata,
    DispatchMetadataError,
    LiveKitConfigError,
    LiveKitSettings,
    LiveKitWorkerError,
    get_livekit_settings,
    parse_dispatch_metadata,
    room_name_for,
)
from .worker import (
    RoomAudio,
    build_server,
    enqueue_finished,
    entrypoint,
    on_request,
    prewarm,
    run_interview_job,
    run_worker,
    warm_imports,
)

__all__ = [
    "END_REASON_ATTRIBUTE",
    "DispatchMetadata",
    "DispatchMetadataError",
    "LiveKitConfigError",
    "LiveKitSettings",
    "LiveKitWorkerError",
    "RoomAudio",
    "build_server",
    "enqueue_finished",
    "entrypoint",
    "get_livekit_settings",
    "on_request",
    "parse_dispatch_metadata",
    "prewarm",
    "room_name_for",
    "run_interview_job",
    "run_worker",
    "warm_imports",
]
