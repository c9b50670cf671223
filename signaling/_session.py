"""One browser interview. It outlives a dropped connection for the resume grace period.

A :class:`BrowserInterview` owns the agent's audio pair and the events channel; peer connections come and
go (:meth:`new_peer`). The interview starts when the first peer connects. When the current peer is lost
the interview keeps running for ``resume_grace_seconds``; a reconnect adopts it, otherwise the handle is
closed as "hangup". Everything it starts is cancelled in :meth:`aclose`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc

from agent import PushAudioInput

from ._events import EndMessage, EventChannel, ListenerMessage, MuteMessage
from ._output import WebRTCAudioOutput
from ._peer import PeerLink
from ._settings import SignalingSettings

__all__ = ["BrowserInterview"]

logger = logging.getLogger("mockline.signaling")

# After the interview ends, how long the browser gets to read the "ended" event and hang up itself.
ENDED_LINGER_SECONDS = 5.0


class BrowserInterview:
    def __init__(
        self,
        *,
        session_id: str,
        invitation_id: str,
        interview_id: str,
        settings: SignalingSettings,
        runtime: Callable[[], Awaitable[Any]],
        history: Callable[[], Awaitable[list[dict[str, str]]]],
        on_closed: Callable[[BrowserInterview], None],
        ended_fields: dict[str, Any] | None = None,
        admit: Callable[[BrowserInterview], bool] = lambda _session: True,
    ) -> None:
        self.session_id = session_id
        self.invitation_id = invitation_id
        self.interview_id = interview_id
        self._settings = settings
        self._runtime = runtime
        self._history = history
        self._on_closed = on_closed
        self._admit = admit  # asked once, when the first connection comes up: is a room left?
        self.address = ""  # the client address that opened it (per-address admission limits)
        self.opened_at = 0.0  # time.monotonic() when it was admitted (the oldest pending makes way)
        self.audio_in = PushAudioInput(label="webrtc")
        self.audio_out = WebRTCAudioOutput()
        self.events = EventChannel()
        self.events.ended_fields = dict(ended_fields or {})
        self.audio_out.on_hold = lambda held: self.events.send_live("hold", held=held)
        self.peer: PeerLink | None = None
        self.handle: Any = None
        self.muted = False
        self.end_reason: str | None = None
        self.connections = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._peers: set[PeerLink] = set()  # every connection this interview had; all closed in aclose
        self._grace: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def closing(self) -> bool:
        return self._close_task is not None

    @property
    def live(self) -> bool:
        """A peer is connected or still connecting: a second browser must not take over."""
        return self.peer is not None

    # -- peers --------------------------------------------------------------------------------------------
    def new_peer(self) -> PeerLink:
        """A connection for this interview; it replaces the current one when it connects."""
        peer = PeerLink(
            settings=self._settings,
            on_audio=self._audio,
            on_message=self._message,
            on_channel=self._channel,
            on_connected=self._connected,
            on_lost=self._lost,
        )
        self._peers.add(peer)
        return peer

    def offer_peer(self, peer: PeerLink) -> None:
        """Admit a connection attempt (the registry checked that no other peer is live)."""
        self.peer = peer
        self.audio_out.listener_mutes = False  # until this connection's page says it mutes on a hold
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    async def drop_peer(self, peer: PeerLink | None = None) -> None:
        """Close the current connection attempt (or ``peer`` if it is the current one) without ending."""
        if self.peer is not None and (peer is None or peer is self.peer):
            peer, self.peer = self.peer, None
            self.audio_out.detach(peer.track)
            self.events.detach(peer.channel)
        if peer is not None:
            await peer.close()
        if self.peer is None and self.connections > 0:
            self._start_grace()

    def _start_grace(self) -> None:
        if self._closing or self._grace is not None:
            return
        logger.info("browser connection lost; waiting for a resume", extra={"session_id": self.session_id})
        self._grace = self._spawn(self._grace_timer(), "signaling.grace")

    def _audio(self, frame: rtc.AudioFrame) -> None:
        if self.muted:
            frame = rtc.AudioFrame(
                data=bytes(len(frame.data) * 2),
                sample_rate=frame.sample_rate,
                num_channels=frame.num_channels,
                samples_per_channel=frame.samples_per_channel,
            )
        self.audio_in.push_frame(frame)

    def _message(self, peer: PeerLink, raw: str | bytes) -> None:
        if peer is not self.peer:
            return
        msg = self.events.parse(raw)
        if isinstance(msg, MuteMessage):
            self.muted = msg.muted
            self.events.send("muted", muted=msg.muted)
        elif isinstance(msg, ListenerMessage):
            self.audio_out.listener_mutes = msg.mutes_on_hold
        elif isinstance(msg, EndMessage):
            self._spawn(self.aclose("hangup"), "signaling.end")

    def _channel(self, peer: PeerLink) -> None:
        if peer is self.peer and peer.channel is not None:
            self.events.attach(peer.channel)

    def _connected(self, peer: PeerLink) -> None:
        if peer is not self.peer or self._closing:
            return
        if self.connections == 0 and not self._admit(self):
            self.events.on_ended(reason="busy")
            self._spawn(self.aclose("busy"), "signaling.busy")
            return
        self.connections += 1
        self.audio_out.attach(peer.track)
        if self.connections == 1:
            self._spawn(self._run(), "signaling.interview")
        else:
            self._spawn(self._send_history(), "signaling.history")
            logger.info("browser interview resumed", extra={"session_id": self.session_id})

    def _lost(self, peer: PeerLink) -> None:
        self._spawn(peer.close(), "signaling.peer-close")
        if peer is not self.peer:
            return
        self.peer = None
        self.audio_out.detach(peer.track)
        self.events.detach(peer.channel)
        if self._closing:
            return
        if self.handle is None and self.connections == 0:
            self._spawn(self.aclose("hangup"), "signaling.never-connected")
            return
        self._start_grace()

    async def _grace_timer(self) -> None:
        await asyncio.sleep(self._settings.resume_grace_seconds)
        self._grace = None
        if self.peer is None:
            logger.info("resume grace period over", extra={"session_id": self.session_id})
            self._spawn(self.aclose("hangup"), "signaling.grace-over")

    async def _send_history(self) -> None:
        turns = await self._history()
        self.events.reset_backlog()
        self.events.send("history", turns=turns)
        self.events.on_state(agent=self.events.agent_state, user=self.events.user_state)

    # -- the interview ------------------------------------------------------------------------------------
    async def _run(self) -> None:
        reason = "error"
        try:
            self.events.on_state(agent="initializing")
            await self._send_history()
            runtime = await self._runtime()
            self.handle = await runtime.start_interview(
                interview_id=self.interview_id,
                audio_input=self.audio_in,
                audio_output=self.audio_out,
                listener=self.events,
                telephony=False,
                channel="webrtc",
            )
            reason = await self.handle.wait()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("browser interview failed", extra={"session_id": self.session_id})
        self.end_reason = self.end_reason or reason
        self.events.on_ended(reason=reason)
        self._spawn(self._linger_then_close(reason), "signaling.linger")

    async def _linger_then_close(self, reason: str) -> None:
        peer = self.peer
        if peer is not None:
            try:
                await asyncio.wait_for(peer.wait_lost(), timeout=ENDED_LINGER_SECONDS)
            except TimeoutError:
                pass
        await self.aclose(reason)

    async def aclose(self, reason: str = "hangup") -> None:
        """End the interview (if still running), close the peer and cancel everything (idempotent)."""
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close(reason))
            self._close_task.set_name("signaling.close")
        if asyncio.current_task() is not self._close_task:
            await asyncio.shield(self._close_task)

    @property
    def close_task(self) -> asyncio.Task[None] | None:
        return self._close_task

    async def _close(self, reason: str) -> None:
        self._closing = True
        self.end_reason = self.end_reason or reason
        if self.handle is not None:
            try:
                await self.handle.aclose(reason)
            except Exception:
                logger.exception("closing the interview handle failed", extra={"session_id": self.session_id})
        self.events.on_ended(reason=self.end_reason)
        peer, self.peer = self.peer, None
        if peer is not None:
            self.audio_out.detach(peer.track)
        await asyncio.gather(*(p.close() for p in self._peers), return_exceptions=True)
        self.audio_in.close()
        await self.audio_out.aclose()
        while self._tasks:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._on_closed(self)
