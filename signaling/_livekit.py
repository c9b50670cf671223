"""The join page in LiveKit room mode: ``POST /rtc/livekit`` opens the link's interview and hands the browser
what livekit-client needs to join its room (server URL, room, a token for exactly this candidate).

Used instead of the aiortc offer/answer when LiveKit is configured (``LIVEKIT_URL``, ``LIVEKIT_API_KEY``,
``LIVEKIT_API_SECRET``): the interview runs in a ``mockline agent`` worker that LiveKit dispatches into the
room (``signaling.livekit_token``); the web process only admits the candidate.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from storage import Database, admit_interview, resolve_token, transcript_lines

from .livekit_token import DispatchFailed, LiveKitConfigError, start_livekit_interview

__all__ = [
    "LiveKitAdmission",
    "LiveKitUnavailable",
    "join_livekit",
    "livekit_configured",
    "open_livekit_interview",
]

logger = logging.getLogger("mockline.signaling.livekit")


def livekit_configured(settings: Any) -> bool:
    """LiveKit room mode is on when its URL, key and secret are all set (``LiveKitSettings``)."""
    return bool(settings.url and settings.api_key and settings.api_secret.get_secret_value())


@dataclass(frozen=True, slots=True)
class LiveKitAdmission:
    interview_id: str
    mode: str
    candidate_name: str
    history: list[dict[str, str]]  # turns so far, when the candidate resumes: the page shows them again


def open_livekit_interview(db: Database, token: str) -> LiveKitAdmission:
    """Blocking: the link's open interview (to resume) or a new one; raises ``InvitationError``."""
    with db.session() as s:
        inv = resolve_token(s, token)
        interview = admit_interview(s, inv, channel="livekit")
        return LiveKitAdmission(
            interview_id=interview.id,
            mode=inv.mode,
            candidate_name=inv.candidate_name or "",
            history=transcript_lines(s, interview.id),
        )


class LiveKitUnavailable(Exception):
    """What the candidate sees when the room cannot be prepared (``http_status``, ``code``, ``message``)."""

    def __init__(self, message: str, *, http_status: int, code: str) -> None:
        super().__init__(message)
        self.message, self.http_status, self.code = message, http_status, code


async def join_livekit(db: Database, token: str, lk_settings: Any) -> dict[str, Any]:
    """Admit the candidate and dispatch the interviewer; the JSON the join page connects with."""
    admission = await asyncio.to_thread(open_livekit_interview, db, token)
    try:
        join = await start_livekit_interview(
            interview_id=admission.interview_id,
            settings=lk_settings,
            candidate_name=admission.candidate_name,
        )
    except DispatchFailed as e:
        raise LiveKitUnavailable(
            "The interview room could not be prepared. Please try again in a minute.",
            http_status=503 if e.retryable else 502,
            code="busy" if e.retryable else "room_unavailable",
        ) from e
    except LiveKitConfigError as e:
        logger.error("LiveKit room mode is misconfigured: %s", e)
        raise LiveKitUnavailable(
            "Interviews are not available right now because of a problem on our side.",
            http_status=500,
            code="internal",
        ) from e
    return {
        "url": join.url,
        "room": join.room,
        "token": join.token,
        "identity": admission.interview_id,  # the candidate's identity in the room (also in the token)
        "mode": admission.mode,
        "history": admission.history,
    }
