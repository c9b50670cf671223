"""Join a LiveKit room interview: the candidate's access token and the interviewer's dispatch.

For LiveKit room mode (``mockline agent`` workers behind a LiveKit server) the web process, once a candidate
opened a valid invitation link, calls :func:`start_livekit_interview`: it asks LiveKit to dispatch the
interviewer agent into the interview's room (explicit dispatch, metadata ``{"interview_id": ...}``) and
returns what the candidate's browser needs to join that room with the LiveKit client SDK: the server URL,
the room name and a short-lived token whose identity is the interview id (the worker listens to exactly
that participant).

Errors::

    LiveKitJoinError
    ├── LiveKitConfigError      (from livekit_room.settings) LIVEKIT_* settings missing or placeholders
    └── DispatchFailed          LiveKit refused or could not be reached (``retryable`` for 5xx/network)
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

import aiohttp
from livekit import api

from livekit_room.settings import (
    DispatchMetadata,
    LiveKitConfigError,
    LiveKitSettings,
    get_livekit_settings,
    room_name_for,
)

__all__ = [
    "DispatchFailed",
    "LiveKitConfigError",
    "LiveKitJoin",
    "LiveKitJoinError",
    "candidate_token",
    "dispatch_interviewer",
    "start_livekit_interview",
]

logger = logging.getLogger("mockline.signaling.livekit")


class LiveKitJoinError(Exception):
    retryable = False


class DispatchFailed(LiveKitJoinError):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class LiveKitJoin:
    url: str
    room: str
    token: str
    dispatch_id: str


def candidate_token(*, interview_id: str, settings: LiveKitSettings | None = None, name: str = "") -> str:
    """A JWT that lets exactly this candidate join exactly this interview's room, for a short while."""
    s = settings or get_livekit_settings()
    s.check()
    DispatchMetadata(interview_id=interview_id)  # same id rules as the dispatch
    grants = api.VideoGrants(
        room_join=True,
        room=room_name_for(interview_id, s),
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        can_publish_sources=["microphone"],
    )
    return (
        api.AccessToken(s.api_key, s.api_secret.get_secret_value())
        .with_identity(interview_id)
        .with_name(name or "Candidate")
        .with_grants(grants)
        .with_ttl(datetime.timedelta(seconds=s.token_ttl_seconds))
        .to_jwt()
    )


_ENDED_JOBS = {api.JobStatus.JS_SUCCESS, api.JobStatus.JS_FAILED, api.JobStatus.JS_CANCELLED}


def _live(dispatch: api.AgentDispatch) -> bool:
    """Not deleted, and either not assigned to a worker yet or with a job still pending/running."""
    state = dispatch.state
    if state.deleted_at:
        return False
    return not state.jobs or any(job.state.status not in _ENDED_JOBS for job in state.jobs)


async def dispatch_interviewer(
    *,
    interview_id: str,
    settings: LiveKitSettings | None = None,
    session: aiohttp.ClientSession | None = None,
) -> str:
    """Ask LiveKit to send an interviewer worker into the interview's room; returns the dispatch id.

    Creates the room if needed (LiveKit's ``empty_timeout`` closes it if nobody comes). Idempotent while the
    interviewer is there: a dispatch of this agent into the room that has not ended (the candidate reloaded
    the page) is reused. Once its job ended (the worker stopped, the candidate
    dropped out), a new dispatch resumes the interview."""
    s = settings or get_livekit_settings()
    s.check()
    meta = DispatchMetadata(interview_id=interview_id)
    request = api.CreateAgentDispatchRequest(
        agent_name=s.agent_name, room=room_name_for(interview_id, s), metadata=meta.dumps()
    )
    client = api.LiveKitAPI(
        s.url, s.api_key, s.api_secret.get_secret_value(), session=session, failover=False
    )
    try:
        # The room first (idempotent): a server answers ListDispatch only for a room that exists (for one
        # that does not it times out with 503 "no response from servers").
        await client.room.create_room(api.CreateRoomRequest(name=request.room))
        for existing in await client.agent_dispatch.list_dispatch(request.room):
            if existing.agent_name == s.agent_name and _live(existing):
                return existing.id  # the interviewer is in the room (or on its way): never send a second
        dispatch = await client.agent_dispatch.create_dispatch(request)
    except api.TwirpError as e:
        logger.warning("livekit dispatch refused", extra={"status": e.status, "code": e.code})
        raise DispatchFailed(f"LiveKit refused the dispatch ({e.code})", retryable=e.status >= 500) from e
    except (aiohttp.ClientError, TimeoutError) as e:
        logger.warning("livekit unreachable for dispatch", extra={"error": type(e).__name__})
        raise DispatchFailed("LiveKit server unreachable", retryable=True) from e
    finally:
        await client.aclose()
    return dispatch.id


async def start_livekit_interview(
    *, interview_id: str, settings: LiveKitSettings | None = None, candidate_name: str = ""
) -> LiveKitJoin:
    """Dispatch the interviewer, then hand the candidate a token for the same room."""
    s = settings or get_livekit_settings()
    dispatch_id = await dispatch_interviewer(interview_id=interview_id, settings=s)
    token = candidate_token(interview_id=interview_id, settings=s, name=candidate_name)
    return LiveKitJoin(
        url=s.public_url or s.url, room=room_name_for(interview_id, s), token=token, dispatch_id=dispatch_id
    )
