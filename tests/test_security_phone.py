"""Issue 16, item 3: the phone PIN can be neither skipped nor guessed.

Before the fix: a spoofed ``From`` equal to the candidate's number connected without a PIN (caller-ID
matching was on by default); the three tries were per call, so redialling reset them, with no limit per
calling number or overall; a used or expired PIN got a different message from an unknown one, telling the
guesser it exists; and the stream websocket closed with 1008 and no reason.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from streamdouble.protocol import MediaStreamEncoder, StreamIdentity
from twilio.request_validator import RequestValidator

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan, create_invitation
from telephony import TelephonySettings

pytestmark = pytest.mark.integration

PUBLIC = "https://interviews.example.com"
TOKEN = "test-auth-token-0123456789abcdef"


def _replica(**telephony: object) -> TestClient:
    """One web process; two of these share the database like two replicas (or a restart) would."""
    app = create_app(
        AppSettings(public_url=PUBLIC, secret_key="s" * 32),
        telephony=TelephonySettings(auth_token=TOKEN, scheduler_interval_s=0, **telephony),
    )
    return TestClient(app)


def _call(number: str, n: int = 1) -> dict[str, str]:
    return {"CallSid": f"CA{n:032d}", "From": number, "To": "+15559990000", "Direction": "inbound"}


def _post(client: TestClient, path: str, params: dict[str, str]):
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    return client.post(
        path,
        content=urlencode(params),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


def _pin(client: TestClient, call: dict[str, str], digits: str, attempt: int = 1) -> ElementTree.Element:
    r = _post(client, f"/twilio/pin?attempt={attempt}", call | {"Digits": digits})
    assert r.status_code == 200, r.text
    return ElementTree.fromstring(r.text)


def _invitation(db, *, phone: str | None = None, valid_for: timedelta = timedelta(days=1)) -> tuple[str, str]:
    with db.session() as s:
        plan = InterviewPlan(title="Support", role="customer_support")
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=None, candidate_phone=phone, valid_for=valid_for)
        return new.invitation.id, new.invitation.pin


def _wrong(pin: str, i: int) -> str:
    guess = f"{(int(pin) + 1 + i) % 10**6:06d}"
    assert guess != pin
    return guess


def test_a_spoofed_caller_id_does_not_skip_the_pin(db):
    _invitation(db, phone="+15550001111")
    with _replica() as client:
        r = _post(client, "/twilio/voice", _call("+15550001111"))
    root = ElementTree.fromstring(r.text)
    assert root.find("Gather") is not None and root.find("Connect") is None


def test_redialling_does_not_reset_the_count_even_on_another_replica(db):
    _, pin = _invitation(db)
    caller = "+15550002222"
    with _replica(pin_attempts_per_caller=4) as first:
        for attempt in (1, 2, 3):  # the first call: three wrong guesses
            _pin(first, _call(caller, 1), _wrong(pin, attempt), attempt)
    with _replica(pin_attempts_per_caller=4) as second:  # redial; the load balancer picks the other process
        again = _pin(second, _call(caller, 2), _wrong(pin, 9))
        assert again.find("Gather") is not None  # the fourth try is still allowed…
        refused = _pin(second, _call(caller, 2), pin, 2)  # …the fifth is not, right PIN or not
        assert refused.find("Connect") is None and refused.find("Hangup") is not None
        # another number is not affected by this caller's guesses
        assert _pin(second, _call("+15550003333", 3), pin).find("Connect/Stream") is not None


def test_guesses_from_many_numbers_hit_the_overall_limit(db):
    _, pin = _invitation(db)
    with _replica(pin_attempts_global=5) as client:
        for i in range(5):
            _pin(client, _call(f"+1555000{4000 + i}", i), _wrong(pin, i))
        last = _pin(client, _call("+15550009999", 9), pin)
    assert last.find("Connect") is None and last.find("Hangup") is not None
    with db.session() as s:
        assert s.query(Interview).count() == 0


@pytest.mark.parametrize("attempt", [1, 3])
def test_unknown_used_and_expired_pins_get_the_same_answer(db, attempt):
    used_id, used_pin = _invitation(db)
    with db.session() as s:
        plan_id = s.query(InterviewPlan).first().id
        s.add(Interview(plan_id=plan_id, invitation_id=used_id, status="finished"))
    _, expired_pin = _invitation(db, valid_for=timedelta(seconds=-5))
    with _replica() as client:
        answers = {
            name: _post(
                client, f"/twilio/pin?attempt={attempt}", _call(f"+1555001000{i}", i) | {"Digits": p}
            ).text
            for i, (name, p) in enumerate(
                [("used", used_pin), ("expired", expired_pin), ("unknown", _wrong(used_pin, 0))]
            )
        }
    assert answers["used"] == answers["unknown"] == answers["expired"]


def test_the_stream_websocket_says_why_it_closed(sqlite_db):
    identity = StreamIdentity()
    enc = MediaStreamEncoder(identity)
    with _replica(start_timeout_s=5.0) as client, client.websocket_connect("/twilio/stream") as ws:
        ws.send_text(json.dumps(enc.connected()))
        ws.send_text(json.dumps(enc.start(custom_parameters={"interview_id": "x", "token": "forged"})))
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == 1008
    assert closed["reason"] == "stream_rejected"
