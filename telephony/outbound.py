"""Outbound phone screens: the recruiter schedules, we dial through the real ``twilio`` REST client.

``place_call`` opens (or resumes) the invitation's interview, asks Twilio to call the candidate with our
voice webhook as the call's TwiML URL (``?interview=<id>`` so the answer maps straight to it) and our status
callback, and stores the CallSid. ``TWILIO_API_BASE_URL`` redirects the client to another host (tests use a
local fake of the REST API); the client's own request building, auth and parsing still run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, update
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from storage import Database, Invitation, InvitationError, get_database, resolve_pin, utcnow

from ._calls import open_interview
from ._errors import OutboundCallError
from ._security import public_url_for
from ._settings import TelephonySettings, get_telephony_settings

__all__ = [
    "BaseUrlHttpClient",
    "PlacedCall",
    "ScheduledCall",
    "place_call",
    "place_due_calls",
    "schedule_phone_screen",
]

logger = logging.getLogger("mockline.telephony")

_TWILIO_API = "https://api.twilio.com"


class BaseUrlHttpClient(TwilioHttpClient):
    """The stock Twilio HTTP client, with ``https://api.twilio.com`` swapped for another base URL."""

    def __init__(self, *, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        url = urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, "")
        )
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class PlacedCall:
    invitation_id: str
    interview_id: str
    call_sid: str
    status: str


@dataclass(frozen=True)
class ScheduledCall:
    invitation_id: str
    at: datetime


def _client(settings: TelephonySettings) -> Client:
    if not settings.account_sid or not settings.auth_token:
        raise OutboundCallError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to place calls")
    http_client = None
    if settings.api_base_url.rstrip("/") != _TWILIO_API:
        http_client = BaseUrlHttpClient(base_url=settings.api_base_url)
    return Client(settings.account_sid, settings.auth_token, http_client=http_client)


def _usable_invitation(s: Any, invitation_id: str) -> Invitation:
    inv = s.get(Invitation, invitation_id)
    if inv is None:
        raise OutboundCallError("unknown invitation")
    try:
        if inv.pin is None or resolve_pin(s, inv.pin).id != inv.id:
            raise OutboundCallError("the invitation cannot be used")
    except InvitationError as e:
        raise OutboundCallError(f"the invitation cannot be used: {e.code}") from e
    if not inv.candidate_phone:
        raise OutboundCallError("the invitation has no candidate phone number")
    return inv


def place_call(
    invitation_id: str,
    *,
    settings: TelephonySettings | None = None,
    base_url: str,
    db: Database | None = None,
) -> PlacedCall:
    """Dial the candidate now. Blocking (HTTP to Twilio): run it in a thread from async code.

    ``base_url`` is the public URL Twilio calls back (``AppSettings.base_url``), passed in by the caller so
    telephony does not reach up into the application's settings."""
    settings = settings or get_telephony_settings()
    db = db or get_database()
    if not settings.from_number:
        raise OutboundCallError("TWILIO_FROM_NUMBER must be set to place calls")
    client = _client(settings)
    with db.session() as s:
        inv = _usable_invitation(s, invitation_id)
        to_number = inv.candidate_phone
        interview_id = open_interview(s, inv, call_sid=None, phone=to_number).id
    base = base_url.rstrip("/")
    try:
        call = client.calls.create(
            to=to_number,
            from_=settings.from_number,
            url=public_url_for(base, "/twilio/voice", f"interview={interview_id}"),
            method="POST",
            status_callback=public_url_for(base, "/twilio/status"),
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
    except TwilioRestException as e:
        retryable = e.status >= 500 or e.status == 429
        raise OutboundCallError(
            f"Twilio refused the call (HTTP {e.status}, code {e.code})", retryable=retryable
        ) from e
    except (TwilioException, OSError) as e:
        raise OutboundCallError("could not reach the Twilio API", retryable=True) from e
    except Exception as e:  # requests' ConnectionError and friends
        raise OutboundCallError("could not reach the Twilio API", retryable=True) from e
    with db.session() as s:
        inv = s.get(Invitation, invitation_id)
        row = open_interview(s, inv, call_sid=call.sid, phone=to_number)
    logger.info("outbound phone call placed", extra={"interview_id": row.id, "call_sid": call.sid})
    return PlacedCall(
        invitation_id=invitation_id, interview_id=interview_id, call_sid=call.sid, status=call.status
    )


def schedule_phone_screen(
    invitation_id: str,
    at: datetime | None = None,
    *,
    settings: TelephonySettings | None = None,
    base_url: str,
    db: Database | None = None,
) -> PlacedCall | ScheduledCall:
    """Recruiter-facing: call the candidate now (``at`` None or past) or at ``at`` (the scheduler dials)."""
    db = db or get_database()
    now = utcnow()
    if at is not None and at.tzinfo is None:
        raise OutboundCallError("the scheduled time must include a timezone")
    if at is None or at <= now:
        return place_call(invitation_id, settings=settings, base_url=base_url, db=db)
    with db.session() as s:
        inv = _usable_invitation(s, invitation_id)
        inv.scheduled_call_at = at
    return ScheduledCall(invitation_id=invitation_id, at=at)


def place_due_calls(
    *,
    now: datetime | None = None,
    settings: TelephonySettings | None = None,
    base_url: str,
    db: Database | None = None,
    retry_in: timedelta = timedelta(minutes=5),
) -> list[PlacedCall]:
    """Dial every phone screen whose time has come. Each is claimed first (``scheduled_call_at`` cleared
    with a conditional update), so two processes never dial the same candidate twice."""
    db = db or get_database()
    now = now or utcnow()
    with db.session() as s:
        due = s.execute(
            select(Invitation.id, Invitation.scheduled_call_at).where(
                Invitation.scheduled_call_at.is_not(None), Invitation.scheduled_call_at <= now
            )
        ).all()
    placed: list[PlacedCall] = []
    for invitation_id, at in due:
        with db.session() as s:
            claimed = s.execute(
                update(Invitation)
                .where(Invitation.id == invitation_id, Invitation.scheduled_call_at == at)
                .values(scheduled_call_at=None)
            ).rowcount
        if not claimed:
            continue
        try:
            placed.append(place_call(invitation_id, settings=settings, base_url=base_url, db=db))
        except OutboundCallError as e:
            logger.warning(
                "scheduled phone screen not placed: %s",
                e.code,
                extra={"invitation_id": invitation_id, "retryable": e.retryable},
            )
            if e.retryable:
                with db.session() as s:
                    inv = s.get(Invitation, invitation_id)
                    if inv is not None and inv.scheduled_call_at is None:
                        inv.scheduled_call_at = now + retry_in
    return placed
