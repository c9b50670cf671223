"""Per-session views of the process-wide providers (VAD, STT, TTS).

The runtime loads each model once and every session uses it. livekit's ``AgentActivity`` subscribes to its
providers' ``metrics_collected`` and ``error`` events, and a provider's streams emit those events on the
provider object that created them. With one shared object, every session's handler received every other
session's events: with N sessions, N VAD metrics a second each reached N handlers (each recomputing
``AgentSession.usage`` with deep copies), a quadratic cost that dominated the event loop at 25–50 calls, and
one session's provider error was reported to all of them.

:func:`session_view` is a shallow copy with its own listener table: the model, pools and options stay shared
(the copy's attributes are the same objects), streams created through the view report to that session only.
"""

from __future__ import annotations

import copy
from typing import TypeVar

__all__ = ["session_view"]

T = TypeVar("T")


def session_view(provider: T) -> T:
    """The same provider with a listener table of its own (see the module docstring)."""
    if provider is None or not isinstance(getattr(provider, "_events", None), dict):
        return provider
    view = copy.copy(provider)
    view._events = {}  # type: ignore[attr-defined]  # livekit.rtc.EventEmitter's listener table
    return view
