"""Admission and bookkeeping of browser interviews in this process.

:meth:`SessionRegistry.offer` turns a link token and an SDP offer into an answer: it checks the link,
enforces one live connection per invitation, finds the interview to resume or creates it, and hands the
connection to the interview's :class:`BrowserInterview`.

Admission is in two steps, so that answering offers nobody connects cannot keep real candidates out:

* **pending** — an answered offer whose connection is not up yet. Cheap (no agent runs) and short-lived
  (``connect_timeout_seconds``); capped per client address (``max_pending_per_address``) and in all
  (``max_pending_sessions``; at that cap the oldest pending session makes way, so attackers from many
  addresses crowd out each other, not a candidate whose browser connects at once), and offers are
  rate-limited per address and per link through the app's ``RateLimiter`` (shared across replicas with
  Redis). Pending sessions do not count against ``max_sessions``.
* **live** — the connection came up. Only then does the session take one of the ``max_sessions`` rooms; if
  none is left at that moment, the session ends as "busy" (the browser is told), never a running one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from storage import (
    Database,
    InvitationBusy,
    MemoryRateLimiter,
    RateLimiter,
    admit_interview,
    resolve_token,
    transcript_lines,
)

from ._errors import ServerBusy, TooManyRequests
from ._session import BrowserInterview
from ._settings import SignalingSettings

__all__ = ["Admission", "SessionRegistry"]

logger = logging.getLogger("mockline.signaling")


@dataclass(frozen=True, slots=True)
class Admission:
    invitation_id: str
    interview_id: str
    mode: str


class SessionRegistry:
    def __init__(
        self,
        *,
        settings: SignalingSettings,
        runtime: Callable[[], Awaitable[Any]],
        database: Callable[[], Database],
        limiter: RateLimiter | None = None,
    ) -> None:
        self._settings = settings
        self._runtime = runtime
        self._database = database
        self._limiter = limiter or MemoryRateLimiter()
        self._by_invitation: dict[str, BrowserInterview] = {}
        # Called (on the event loop) after a session was added or removed: metrics, tests.
        self.observers: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    @property
    def sessions(self) -> list[BrowserInterview]:
        return list(self._by_invitation.values())

    @property
    def live_count(self) -> int:
        """Sessions whose connection came up (running, or waiting for a resume): they hold a room."""
        return sum(1 for s in self._by_invitation.values() if s.connections > 0)

    @property
    def pending_count(self) -> int:
        return sum(1 for s in self._by_invitation.values() if s.connections == 0)

    def get(self, session_id: str) -> BrowserInterview | None:
        return next((s for s in self._by_invitation.values() if s.session_id == session_id), None)

    def _limit(self, key: str, limit: int) -> None:
        hit = self._limiter.hit(key, limit=limit, window_s=60.0)
        if not hit.allowed:
            raise TooManyRequests(
                "Too many connection attempts. Please wait a minute and try again.",
                retry_after=hit.retry_after,
            )

    def limit_join(self, *, address: str, token: str) -> None:
        """Count a LiveKit room join (``POST /rtc/livekit``) against the same per-address and per-link
        limits as offers; raises ``TooManyRequests`` past them. Blocking: call it in a thread."""
        self._limit(f"rtc-offer-addr:{address}", self._settings.offers_per_address_per_minute)
        self._limit(f"rtc-join-link:{token}", self._settings.offers_per_link_per_minute)

    async def offer(
        self, *, token: str, sdp: str, type_: str, resume: str | None = None, address: str = "unknown"
    ) -> dict[str, Any]:
        settings = self._settings
        # Reserved before anything is looked up (atomic in the limiter: concurrent offers cannot all pass).
        await asyncio.to_thread(
            self._limit, f"rtc-offer-addr:{address}", settings.offers_per_address_per_minute
        )
        async with self._lock:  # admission is short; ICE gathering happens outside the lock
            invitation_id = await asyncio.to_thread(self._check_link, token)
            await asyncio.to_thread(
                self._limit, f"rtc-offer-link:{invitation_id}", settings.offers_per_link_per_minute
            )
            session = self._by_invitation.get(invitation_id)
            if session is not None and session.closing:
                await session.aclose()  # it is ending right now; then the link decides (usually "used")
                invitation_id = await asyncio.to_thread(self._check_link, token)
                session = self._by_invitation.get(invitation_id)
            if session is not None and session.live and resume == session.session_id:
                await session.drop_peer()  # the same browser, back before we noticed it had gone
            if session is not None and session.live:
                raise InvitationBusy(
                    "This interview is already open in another window or tab. Close it there and try again."
                )
            if session is None:
                await self._make_room(address)
                admission = await asyncio.to_thread(self._open_interview, token)
                session = self._new_session(admission, token)
                session.address, session.opened_at = address, time.monotonic()
                self._by_invitation[invitation_id] = session
                self._changed()
            peer = session.new_peer()
            session.offer_peer(peer)
        try:
            answer = await peer.answer(sdp=sdp, type_=type_)
        except BaseException as e:
            await session.drop_peer(peer)
            if session.connections == 0:
                await session.aclose("error")
            if isinstance(e, TimeoutError):
                raise ServerBusy("The connection could not be prepared in time. Please try again.") from e
            raise
        return {"sdp": answer.sdp, "type": answer.type, "session_id": session.session_id}

    async def _make_room(self, address: str) -> None:
        """Make way for a new (pending) session from a client at ``address``, or refuse it.

        Refused when every room is live, or when this address already holds its share of pending sessions.
        When pending sessions are at their cap in all (many addresses at once), the oldest is dropped: a
        real browser connects within a second or two, so only a session nobody is connecting loses out."""
        settings = self._settings
        if self.live_count >= settings.max_sessions:
            logger.warning("refused a browser interview: at capacity")
            raise ServerBusy("All interview rooms are busy right now. Please try again in a minute.")
        pending = [s for s in self._by_invitation.values() if s.connections == 0 and not s.closing]
        if sum(1 for s in pending if s.address == address) >= settings.max_pending_per_address:
            logger.warning("refused a browser interview: too many pending from one address")
            raise TooManyRequests(
                "Too many interviews are being opened from your network. Please wait a moment and try again.",
                retry_after=int(settings.connect_timeout_seconds),
            )
        if len(pending) >= settings.max_pending_sessions:
            oldest = min(pending, key=lambda s: s.opened_at)
            logger.warning("pending browser sessions at their cap; dropping the oldest")
            await oldest.aclose("busy")

    def _admit_live(self, session: BrowserInterview) -> bool:
        """Called when a pending session's connection comes up: it takes a room if one is left."""
        others = sum(1 for s in self._by_invitation.values() if s.connections > 0 and s is not session)
        if others >= self._settings.max_sessions:
            logger.warning("a browser connection came up with every room taken; ending it as busy")
            return False
        return True

    def _new_session(self, admission: Admission, token: str) -> BrowserInterview:
        report = ""
        if admission.mode == "practice" and self._settings.report_url_template:
            report = self._settings.report_url_template.format(
                token=token, interview_id=admission.interview_id
            )
        return BrowserInterview(
            session_id=uuid.uuid4().hex,
            invitation_id=admission.invitation_id,
            interview_id=admission.interview_id,
            settings=self._settings,
            runtime=self._runtime,
            history=lambda: asyncio.to_thread(self._history, admission.interview_id),
            on_closed=self._closed,
            admit=self._admit_live,
            ended_fields={"mode": admission.mode, "report_url": report or None},
        )

    def _closed(self, session: BrowserInterview) -> None:
        if self._by_invitation.get(session.invitation_id) is session:
            del self._by_invitation[session.invitation_id]
            self._changed()

    def _changed(self) -> None:
        for observer in list(self.observers):
            try:
                observer()
            except Exception:
                logger.exception("session observer failed")

    # -- database (run in a worker thread) -----------------------------------------------------------
    def _check_link(self, token: str) -> str:
        with self._database().session() as s:
            return resolve_token(s, token).id

    def _open_interview(self, token: str) -> Admission:
        """The open interview of the link (to resume), or a new one."""
        with self._database().session() as s:
            inv = resolve_token(s, token)
            interview = admit_interview(s, inv, channel="webrtc")
            return Admission(invitation_id=inv.id, interview_id=interview.id, mode=inv.mode)

    def _history(self, interview_id: str) -> list[dict[str, str]]:
        with self._database().session() as s:
            return transcript_lines(s, interview_id)

    async def aclose(self) -> None:
        """Close every session (process shutdown) as "dropped": the interviews stay resumable."""
        sessions = list(self._by_invitation.values())
        await asyncio.gather(*(s.aclose("dropped") for s in sessions), return_exceptions=True)
