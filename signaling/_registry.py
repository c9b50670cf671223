"""Admission and bookkeeping of browser interviews in this process.

:meth:`SessionRegistry.offer` turns a link token and an SDP offer into an answer: it checks the link,
enforces one live connection per invitation and the ``max_sessions`` cap, finds the interview to resume or
creates it, and hands the connection to the interview's :class:`BrowserInterview`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from storage import (
    Database,
    InvitationBusy,
    TranscriptTurn,
    admit_interview,
    resolve_token,
)

from ._errors import ServerBusy
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
    ) -> None:
        self._settings = settings
        self._runtime = runtime
        self._database = database
        self._by_invitation: dict[str, BrowserInterview] = {}
        # Called (on the event loop) after a session was added or removed: metrics, tests.
        self.observers: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    @property
    def sessions(self) -> list[BrowserInterview]:
        return list(self._by_invitation.values())

    def get(self, session_id: str) -> BrowserInterview | None:
        return next((s for s in self._by_invitation.values() if s.session_id == session_id), None)

    async def offer(self, *, token: str, sdp: str, type_: str, resume: str | None = None) -> dict[str, Any]:
        async with self._lock:  # admission is short; ICE gathering happens outside the lock
            invitation_id = await asyncio.to_thread(self._check_link, token)
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
                if len(self._by_invitation) >= self._settings.max_sessions:
                    logger.warning("refused a browser interview: at capacity")
                    raise ServerBusy("All interview rooms are busy right now. Please try again in a minute.")
                admission = await asyncio.to_thread(self._open_interview, token)
                session = self._new_session(admission, token)
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
            turns = s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == interview_id)
                .order_by(TranscriptTurn.seq)
            )
            return [{"speaker": t.speaker, "text": t.text} for t in turns]

    async def aclose(self) -> None:
        """Close every session (process shutdown) as "dropped": the interviews stay resumable."""
        sessions = list(self._by_invitation.values())
        await asyncio.gather(*(s.aclose("dropped") for s in sessions), return_exceptions=True)
