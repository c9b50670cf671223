"""Outbound phone screens through the real ``twilio`` client, pointed at a local fake of the REST API."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan, Invitation, create_invitation, utcnow
from telephony import (
    OutboundCallError,
    PlacedCall,
    ScheduledCall,
    TelephonySettings,
    place_call,
    place_due_calls,
    schedule_phone_screen,
    telephony_state,
)
from tests.fakes.twilio_rest import FakeTwilioRest

pytestmark = pytest.mark.integration

PUBLIC = "https://interviews.example.com"
SID = "AC" + "ab" * 16
TOKEN = "outbound-test-auth-token"
FROM = "+15550100000"
APP = AppSettings(public_url=PUBLIC, secret_key="outbound-test-secret")


@pytest.fixture
def twilio_api():
    with FakeTwilioRest(account_sid=SID, auth_token=TOKEN) as fake:
        yield fake


def _settings(fake: FakeTwilioRest, **kw: object) -> TelephonySettings:
    values = dict(
        account_sid=SID,
        auth_token=TOKEN,
        from_number=FROM,
        api_base_url=fake.base_url,
        scheduler_interval_s=0,
    )
    return TelephonySettings(**(values | kw))


def _invitation(db, phone: str | None = "+15550123456", org_id: str | None = None) -> str:
    with db.session() as s:
        plan = InterviewPlan(title="Support", role="customer_support")
        s.add(plan)
        s.flush()
        return create_invitation(
            s, plan_id=plan.id, org_id=org_id, candidate_name="Ada", candidate_phone=phone
        ).invitation.id


def test_place_call_uses_the_real_client_and_binds_the_call(db, twilio_api):
    invitation_id = _invitation(db)
    placed = place_call(invitation_id, settings=_settings(twilio_api), base_url=APP.base_url, db=db)

    (call,) = twilio_api.calls
    assert placed.call_sid == call.sid and placed.status == "queued"
    assert call.one("To") == "+15550123456" and call.one("From") == FROM
    assert call.one("Url") == f"{PUBLIC}/twilio/voice?interview={placed.interview_id}"
    assert call.one("StatusCallback") == f"{PUBLIC}/twilio/status"
    assert set(call.form["StatusCallbackEvent"]) == {"initiated", "ringing", "answered", "completed"}
    with db.session() as s:
        interview = s.get(Interview, placed.interview_id)
        assert interview.invitation_id == invitation_id
        assert (interview.call_sid, interview.channel, interview.status) == (call.sid, "phone", "invited")


def test_answered_outbound_call_connects_without_a_pin(sqlite_db, twilio_api):
    settings = _settings(twilio_api)
    placed = place_call(_invitation(sqlite_db), settings=settings, base_url=APP.base_url, db=sqlite_db)
    # Twilio now requests the Url it was given, signed with our auth token.
    url = f"{PUBLIC}/twilio/voice?interview={placed.interview_id}"
    params = {"CallSid": placed.call_sid, "Direction": "outbound-api", "To": "+15550123456", "From": FROM}
    app = create_app(
        APP,
        telephony=settings,
    )
    with TestClient(app) as client:
        response = client.post(
            f"/twilio/voice?interview={placed.interview_id}",
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params),
            },
        )
    assert response.status_code == 200
    stream = ElementTree.fromstring(response.text).find("Connect/Stream")
    values = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert values["interview_id"] == placed.interview_id


def test_refusals_are_clear_and_say_whether_to_retry(sqlite_db, twilio_api):
    bad_number = _invitation(sqlite_db, phone="555-0123")
    with pytest.raises(OutboundCallError) as e:
        place_call(bad_number, settings=_settings(twilio_api), base_url=APP.base_url, db=sqlite_db)
    assert "21211" in e.value.message and e.value.retryable is False

    good = _invitation(sqlite_db)
    with pytest.raises(OutboundCallError) as e:
        place_call(
            good, settings=_settings(twilio_api, auth_token="wrong"), base_url=APP.base_url, db=sqlite_db
        )
    assert "401" in e.value.message and e.value.retryable is False

    twilio_api.fail_with = 503
    with pytest.raises(OutboundCallError) as e:
        place_call(good, settings=_settings(twilio_api), base_url=APP.base_url, db=sqlite_db)
    assert e.value.retryable is True

    no_phone = _invitation(sqlite_db, phone=None)
    requests_before = twilio_api.requests
    with pytest.raises(OutboundCallError, match="no candidate phone"):
        place_call(no_phone, settings=_settings(twilio_api), base_url=APP.base_url, db=sqlite_db)
    assert twilio_api.requests == requests_before  # refused before dialling


def test_scheduled_phone_screen_is_dialled_once_when_due(db, twilio_api):
    settings = _settings(twilio_api)
    invitation_id = _invitation(db)
    at = utcnow() + timedelta(hours=2)
    scheduled = schedule_phone_screen(invitation_id, at, settings=settings, base_url=APP.base_url, db=db)
    assert isinstance(scheduled, ScheduledCall) and twilio_api.calls == []

    assert (
        place_due_calls(now=at - timedelta(minutes=1), settings=settings, base_url=APP.base_url, db=db) == []
    )
    placed = place_due_calls(now=at + timedelta(seconds=1), settings=settings, base_url=APP.base_url, db=db)
    assert [p.invitation_id for p in placed] == [invitation_id]
    assert (
        place_due_calls(now=at + timedelta(minutes=1), settings=settings, base_url=APP.base_url, db=db) == []
    )
    assert len(twilio_api.calls) == 1


def test_failed_scheduled_call_is_retried_later(sqlite_db, twilio_api):
    settings = _settings(twilio_api)
    invitation_id = _invitation(sqlite_db)
    at = utcnow() + timedelta(minutes=30)
    schedule_phone_screen(invitation_id, at, settings=settings, base_url=APP.base_url, db=sqlite_db)
    twilio_api.fail_with = 503
    now = at + timedelta(seconds=1)
    assert place_due_calls(now=now, settings=settings, base_url=APP.base_url, db=sqlite_db) == []
    with sqlite_db.session() as s:
        retry_at = s.get(Invitation, invitation_id).scheduled_call_at
    assert retry_at is not None and retry_at.replace(tzinfo=now.tzinfo) > now


def test_schedule_now_dials_immediately(sqlite_db, twilio_api):
    result = schedule_phone_screen(
        _invitation(sqlite_db), settings=_settings(twilio_api), base_url=APP.base_url, db=sqlite_db
    )
    assert isinstance(result, PlacedCall) and len(twilio_api.calls) == 1


def test_phone_screen_api_needs_a_recruiter(sqlite_db, twilio_api):
    invitation_id = _invitation(sqlite_db, org_id=None)
    app = create_app(
        APP,
        telephony=_settings(twilio_api),
    )
    with TestClient(app) as client:
        # The dashboard's login guards the route: no session, no call.
        refused = client.post("/api/phone-screens", json={"invitation_id": invitation_id})
        assert refused.status_code == 401 and twilio_api.calls == []

        telephony_state(app).recruiter_auth = lambda request: SimpleNamespace(org_id=None)
        later = (utcnow() + timedelta(days=1)).isoformat()
        scheduled = client.post("/api/phone-screens", json={"invitation_id": invitation_id, "at": later})
        assert scheduled.status_code == 202 and scheduled.json()["status"] == "scheduled"
        now = client.post("/api/phone-screens", json={"invitation_id": invitation_id})
        assert now.status_code == 202 and now.json()["call_sid"] == twilio_api.calls[0].sid
        missing = client.post("/api/phone-screens", json={"invitation_id": "nope"})
        assert missing.status_code == 404
