"""Twilio's HTTP webhooks: the voice answer (TwiML), the PIN gather action, call status callbacks.

Every request is checked against ``X-Twilio-Signature`` first (403 otherwise). The PIN attempt count of one
call travels in the gather action URL (``?attempt=N``), which Twilio signs with the rest, so a caller cannot
reset it. Redialling does start a new count, so attempts are also counted per calling number and from all
callers together, in the database, reserved before the PIN is looked up.

A PIN that is unknown, expired, withdrawn or already used gets the same answer: the answer must not tell a
guesser that a PIN exists.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from storage import Interview, InvitationError, get_recording_settings

from . import _twiml
from ._calls import (
    interview_for_call,
    interview_for_pin,
    normalise_number,
    record_call_status,
    stream_interview,
)
from ._errors import SignatureInvalid
from ._security import public_url_for, validate_signature, websocket_url_for
from ._state import TelephonyDep, TelephonyState

__all__ = ["router"]

logger = logging.getLogger("mockline.telephony")

router = APIRouter(prefix="/twilio", tags=["telephony"])

_UNAVAILABLE = "Sorry, this interview is not available right now. Please try again later. Goodbye."


async def verified_params(request: Request, state: TelephonyState) -> dict[str, str]:
    """The webhook's form parameters, once its Twilio signature checks out; 403 otherwise."""
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    if any("\x00" in key or "\x00" in value for key, value in params.items()):  # never Twilio
        raise HTTPException(status_code=400, detail="malformed webhook parameters")
    url = public_url_for(state.base_url, request.url.path, request.url.query)
    try:
        validate_signature(
            state.settings, url=url, params=params, signature=request.headers.get("X-Twilio-Signature")
        )
    except SignatureInvalid as e:
        logger.warning("Twilio webhook refused: %s", e.message, extra={"path": request.url.path})
        raise HTTPException(status_code=403, detail="invalid Twilio signature") from e
    return params


def _twiml_response(xml: str) -> Response:
    return Response(content=xml, media_type="application/xml")


def _connect(state: TelephonyState, *, interview_id: str, call_sid: str) -> Response:
    token = state.tokens.issue(interview_id=interview_id, call_sid=call_sid)
    return _twiml_response(
        _twiml.connect_stream(
            stream_url=websocket_url_for(state.base_url, "/twilio/stream"),
            interview_id=interview_id,
            token=token,
            greeting=_recording_notice(),
        )
    )


def _recording_notice() -> str:
    rec = get_recording_settings()
    return _twiml.recording_notice(
        enabled=rec.enabled, audio_days=rec.retention_days, transcript_days=rec.transcript_retention_days
    )


def _ask_pin(state: TelephonyState, *, attempt: int) -> Response:
    action = public_url_for(state.base_url, "/twilio/pin", f"attempt={attempt}")
    return _twiml_response(
        _twiml.ask_for_pin(action_url=action, retry=attempt > 1, timeout_s=state.settings.gather_timeout_s)
    )


@router.post("/voice")
async def voice(request: Request, state: TelephonyDep) -> Response:
    """A call was answered (inbound, or one we placed): connect it, or ask for the PIN."""
    params = await verified_params(request, state)
    call_sid = params.get("CallSid", "")
    if not call_sid:
        raise HTTPException(status_code=400, detail="missing CallSid")
    wanted = request.query_params.get("interview")

    def lookup() -> str | None:
        with state.database().session() as s:
            interview: Interview | None
            if wanted:  # a call we placed for this interview (the URL is covered by the signature)
                interview = stream_interview(s, wanted)
                if interview is not None:
                    interview.call_sid = call_sid
            else:
                interview = interview_for_call(
                    s,
                    call_sid=call_sid,
                    direction=params.get("Direction", "inbound"),
                    from_number=params.get("From"),
                    to_number=params.get("To"),
                    match_caller_id=state.settings.match_caller_id,
                )
            return interview.id if interview is not None else None

    interview_id = await run_in_threadpool(lookup)
    if interview_id is not None:
        logger.info(
            "phone call mapped to an interview", extra={"interview_id": interview_id, "call_sid": call_sid}
        )
        return _connect(state, interview_id=interview_id, call_sid=call_sid)
    if wanted:
        return _twiml_response(_twiml.refuse(_UNAVAILABLE))
    return _ask_pin(state, attempt=1)


@router.post("/pin")
async def pin(request: Request, state: TelephonyDep) -> Response:
    """The gather action: a good PIN connects the stream; a wrong one retries, up to the limit."""
    params = await verified_params(request, state)
    call_sid = params.get("CallSid", "")
    if not call_sid:
        raise HTTPException(status_code=400, detail="missing CallSid")
    try:
        attempt = max(1, min(int(request.query_params.get("attempt", "1")), state.settings.max_pin_attempts))
    except ValueError:
        attempt = state.settings.max_pin_attempts
    digits = params.get("Digits", "")
    settings = state.settings

    def reserve() -> bool:
        caller = normalise_number(params.get("From")) or "withheld"
        window = settings.pin_attempts_window_s
        per_caller = state.pin_attempts.hit(
            f"pin-caller:{caller}", limit=settings.pin_attempts_per_caller, window_s=window
        )
        overall = state.pin_attempts.hit("pin-all:", limit=settings.pin_attempts_global, window_s=window)
        return per_caller.allowed and overall.allowed

    def lookup() -> str:
        with state.database().session() as s:
            return interview_for_pin(s, digits, call_sid=call_sid, phone=params.get("From")).id

    if not await run_in_threadpool(reserve):
        logger.warning("phone PIN attempts over the limit; call refused", extra={"call_sid": call_sid})
        return _twiml_response(_twiml.refuse(_twiml.PROMPT_GOODBYE))
    try:
        interview_id = await run_in_threadpool(lookup)
    except InvitationError:  # unknown, expired, withdrawn or used: one answer for all
        logger.info("phone PIN not accepted (attempt %d of %d)", attempt, settings.max_pin_attempts)
        if attempt >= settings.max_pin_attempts:
            return _twiml_response(_twiml.refuse(_twiml.PROMPT_GOODBYE))
        return _ask_pin(state, attempt=attempt + 1)
    logger.info("phone PIN accepted", extra={"interview_id": interview_id, "call_sid": call_sid})
    return _connect(state, interview_id=interview_id, call_sid=call_sid)


@router.post("/status", status_code=204)
async def status(request: Request, state: TelephonyDep) -> Response:
    """Call status callbacks (initiated, ringing, answered, completed, busy, no-answer, failed…)."""
    params = await verified_params(request, state)
    call_sid, call_status = params.get("CallSid", ""), params.get("CallStatus", "")
    if not call_sid or not call_status:
        raise HTTPException(status_code=400, detail="missing CallSid or CallStatus")

    def save() -> bool:
        with state.database().session() as s:
            return record_call_status(s, call_sid=call_sid, status=call_status)

    matched = await run_in_threadpool(save)
    logger.info("call status %s", call_status[:20], extra={"call_sid": call_sid, "matched": matched})
    return Response(status_code=204)
