"""The "events" data channel: JSON messages between the join page and the server.

Server → browser::

    {"type": "caption", "speaker": "agent"|"candidate", "text": str, "final": bool}
    {"type": "state", "agent": "listening"|"thinking"|"speaking"|..., "user": "speaking"|"listening"|...}
    {"type": "muted", "muted": bool}                                     (acknowledges "mute")
    {"type": "history", "turns": [{"speaker": str, "text": str}, ...]}   (on connect; non-empty on resume)
    {"type": "progress", "question": int, "of": int, "remaining_s": int, "finished": bool}
        ("Question 2 of 4" and the time left; question 0 = not asked yet; agent/_progress.py)
    {"type": "ended", "reason": "completed"|"hangup"|"timeout"|"error", "mode": str, "report_url": str|null}
    {"type": "hold", "held": bool}
        (the agent's output paused or was interrupted: silence its audio now, skipping the jitter buffer;
        false: play it again. Sent only live, never from the backlog: a stale hold would mute a new reply.)

Browser → server::

    {"type": "mute", "muted": bool}
    {"type": "end"}
    {"type": "listener", "mutes_on_hold": bool}   (on connect: the page silences the agent on "hold")

Parsing is pure (no sockets) so tests drive it directly. Anything else is a :class:`ProtocolError`; the
channel counts and logs it (without its content) and carries on.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "ClientMessage",
    "EndMessage",
    "EventChannel",
    "ListenerMessage",
    "MuteMessage",
    "ProtocolError",
    "encode",
    "parse_client_message",
]

logger = logging.getLogger("mockline.signaling")

MAX_CLIENT_MESSAGE_BYTES = 4096


class ProtocolError(ValueError):
    """A data-channel message that is not one of ours."""


@dataclass(frozen=True, slots=True)
class MuteMessage:
    muted: bool


@dataclass(frozen=True, slots=True)
class EndMessage:
    pass


@dataclass(frozen=True, slots=True)
class ListenerMessage:
    mutes_on_hold: bool


ClientMessage = MuteMessage | EndMessage | ListenerMessage


def parse_client_message(raw: str | bytes, *, max_bytes: int = MAX_CLIENT_MESSAGE_BYTES) -> ClientMessage:
    if len(raw) > max_bytes:
        raise ProtocolError("message too large")
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise ProtocolError("not JSON") from e
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    kind = msg.get("type")
    if kind == "mute":
        muted = msg.get("muted")
        if not isinstance(muted, bool):
            raise ProtocolError("mute needs a boolean 'muted'")
        return MuteMessage(muted=muted)
    if kind == "end":
        return EndMessage()
    if kind == "listener":
        mutes = msg.get("mutes_on_hold")
        if not isinstance(mutes, bool):
            raise ProtocolError("listener needs a boolean 'mutes_on_hold'")
        return ListenerMessage(mutes_on_hold=mutes)
    raise ProtocolError("unknown message type")


def encode(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


class _Channel(Protocol):
    @property
    def readyState(self) -> str: ...  # aiortc spells it like the browser

    def send(self, data: str) -> None: ...


class EventChannel:
    """Sends events to the browser's current data channel; implements the agent's ``InterviewListener``.

    Messages sent while no channel is open are kept (a bounded backlog) and flushed on :meth:`attach`,
    so a caption spoken during a reconnect is not lost.
    """

    def __init__(self, *, backlog: int = 200) -> None:
        self._channel: _Channel | None = None
        self._backlog: deque[str] = deque(maxlen=backlog)
        self.agent_state: str | None = None
        self.user_state: str | None = None
        self.ended_reason: str | None = None
        self.malformed = 0
        # Added to the "ended" event (e.g. the practice-mode report link).
        self.ended_fields: dict[str, Any] = {}
        self._progress: tuple[Any, float] | None = None  # the last Progress and when it was told

    # -- transport side -------------------------------------------------------------------------------
    def attach(self, channel: _Channel) -> None:
        self._channel = channel
        self.flush()

    def detach(self, channel: _Channel | None = None) -> None:
        if channel is None or channel is self._channel:
            self._channel = None

    def reset_backlog(self) -> None:
        """Forget unsent events (a resumed browser gets the stored history instead); the current
        progress is kept, its time left brought up to date."""
        self._backlog.clear()
        if self._progress is not None:
            progress, told = self._progress
            self._backlog.append(encode("progress", **progress.later(time.monotonic() - told).as_dict()))

    def flush(self) -> None:
        ch = self._channel
        while self._backlog and ch is not None and ch.readyState == "open":
            ch.send(self._backlog.popleft())

    def send(self, kind: str, **fields: Any) -> None:
        self._backlog.append(encode(kind, **fields))
        self.flush()

    def send_live(self, kind: str, **fields: Any) -> bool:
        """Send now or not at all (no backlog); True if it went out on an open channel."""
        self.flush()
        ch = self._channel
        if self._backlog or ch is None or ch.readyState != "open":
            return False
        ch.send(encode(kind, **fields))
        return True

    def parse(self, raw: str | bytes) -> ClientMessage | None:
        """The browser's message, or None (counted and logged) when it is malformed."""
        try:
            return parse_client_message(raw)
        except ProtocolError as e:
            self.malformed += 1
            logger.warning("ignored a malformed data-channel message: %s", e, extra={"count": self.malformed})
            return None

    # -- InterviewListener ------------------------------------------------------------------------------
    def on_caption(self, *, speaker: str, text: str, final: bool) -> None:
        self.send("caption", speaker=speaker, text=text, final=final)

    def on_state(self, *, agent: str | None = None, user: str | None = None) -> None:
        self.agent_state = agent or self.agent_state
        self.user_state = user or self.user_state
        self.send("state", agent=self.agent_state, user=self.user_state)

    def on_progress(self, *, progress: Any) -> None:
        """``progress``: an ``agent._progress.Progress``."""
        self._progress = (progress, time.monotonic())
        self.send("progress", **progress.as_dict())

    def on_ended(self, *, reason: str) -> None:
        if self.ended_reason is None:
            self.ended_reason = reason
            self.send("ended", reason=reason, **self.ended_fields)
