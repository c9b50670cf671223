"""Recruiter-facing API: schedule a phone screen (call now, or at a time).

Authentication belongs to the dashboard: the app sets ``TelephonyState.recruiter_auth`` to a callable
``(request) -> user`` (sync or async) that raises ``HTTPException`` for anyone else. Until it is wired the
route answers 503 rather than placing calls for anonymous callers.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from storage import Invitation

from ._errors import OutboundCallError
from ._state import TelephonyDep, TelephonyState
from .outbound import PlacedCall, schedule_phone_screen

__all__ = ["PhoneScreenRequest", "router"]

router = APIRouter(prefix="/api", tags=["telephony"])


class PhoneScreenRequest(BaseModel):
    invitation_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    at: datetime | None = None  # ISO 8601 with a timezone; omitted = call now


async def recruiter(request: Request, state: TelephonyState) -> Any:
    """The logged-in recruiter (checked in the route, after the body: a bad body is a 422 for anyone)."""
    auth = state.recruiter_auth
    if auth is None:
        raise HTTPException(status_code=503, detail="recruiter authentication is not configured")
    user = auth(request)
    return await user if inspect.isawaitable(user) else user


@router.post("/phone-screens", status_code=202)
async def create_phone_screen(
    body: PhoneScreenRequest, request: Request, state: TelephonyDep
) -> JSONResponse:
    user = await recruiter(request, state)

    def run() -> Any:
        db = state.database()
        with db.session() as s:
            inv = s.get(Invitation, body.invitation_id)
            user_org = getattr(user, "org_id", None)
            # A practice invitation is nobody's to dial, and another organisation's (or one of no
            # organisation, for a recruiter who has one) does not exist for this recruiter.
            if inv is None or inv.mode == "practice" or inv.org_id != user_org:
                raise HTTPException(status_code=404, detail="no such invitation")
        return schedule_phone_screen(
            body.invitation_id, body.at, settings=state.settings, base_url=state.base_url, db=db
        )

    try:
        result = await run_in_threadpool(run)
    except OutboundCallError as e:
        status = 502 if e.retryable else 409
        return JSONResponse(
            {"error": e.code, "detail": e.message, "retryable": e.retryable}, status_code=status
        )
    if isinstance(result, PlacedCall):
        return JSONResponse(
            {"status": "calling", "interview_id": result.interview_id, "call_sid": result.call_sid},
            status_code=202,
        )
    return JSONResponse({"status": "scheduled", "at": result.at.isoformat()}, status_code=202)
