"""Twilio's HTTP side: signed webhooks, the PIN gather flow, number mapping, status callbacks."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan, create_invitation
from telephony import StreamTokens, TelephonyConfigError, TelephonySettings, check_settings

pytestmark = pytest.mark.integration

PUBLIC = "https://interviews.example.com"
TOKEN = "test-auth-token-0123456789abcdef"
SECRET = "test-secret-key-for-stream-tokens"


def _app(**telephony: object) -> TestClient:
    app = create_app(
        AppSettings(public_url=PUBLIC, secret_key=SECRET),
        telephony=TelephonySettings(auth_token=TOKEN, scheduler_interval_s=0, **telephony),
    )
    return TestClient(app)


def _post(client: TestClient, path: str, params: dict[str, str], *, sign: bool = True, token: str = TOKEN):
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return client.post(
        path,
        content=urlencode(params),
        headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )


def _invitation(db, *, phone: str | None = None) -> tuple[str, str]:
    with db.session() as s:
        plan = InterviewPlan(title="Support", role="customer_support")
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name="Ada", candidate_phone=phone)
        return new.invitation.id, new.invitation.pin


def _xml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ElementTree.fromstring(response.text)


CALL = {"CallSid": "CA" + "1" * 32, "From": "+15550001111", "To": "+15559990000", "Direction": "inbound"}


def test_unsigned_or_forged_webhooks_are_refused(sqlite_db):
    with _app() as client:
        assert _post(client, "/twilio/voice", CALL, sign=False).status_code == 403
        assert _post(client, "/twilio/voice", CALL, token="someone-elses-token").status_code == 403
        forged = _post(client, "/twilio/voice", CALL)  # signed for these params…
        assert forged.status_code == 200
        headers = {
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/voice", CALL)
        }
        tampered = client.post("/twilio/voice", data=CALL | {"From": "+15550002222"}, headers=headers)
        assert tampered.status_code == 403  # …but not for changed ones
        assert (
            _post(
                client, "/twilio/status", {"CallSid": "CA1", "CallStatus": "ringing"}, sign=False
            ).status_code
            == 403
        )


def test_unknown_caller_is_asked_for_the_pin(sqlite_db):
    with _app() as client:
        root = _xml(_post(client, "/twilio/voice", CALL))
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "dtmf" and gather.get("numDigits") == "6"
    assert gather.get("action") == PUBLIC + "/twilio/pin?attempt=1"
    assert "PIN" in gather.find("Say").text


def test_good_pin_connects_the_stream_with_a_signed_token(sqlite_db):
    invitation_id, pin = _invitation(sqlite_db)
    with _app() as client:
        root = _xml(_post(client, "/twilio/pin?attempt=1", CALL | {"Digits": pin}))
    stream = root.find("Connect/Stream")
    assert stream.get("url") == "wss://interviews.example.com/twilio/stream"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    with sqlite_db.session() as s:
        interview = s.query(Interview).one()
        assert interview.invitation_id == invitation_id
        assert (interview.channel, interview.call_sid) == ("phone", CALL["CallSid"])
    assert params["interview_id"] == interview.id
    grant = StreamTokens(secret_key=SECRET, ttl_s=60).check(
        params["token"], interview_id=interview.id, call_sid=CALL["CallSid"]
    )
    assert grant.interview_id == interview.id
    assert root.find("Hangup") is not None  # when the stream ends, the call ends
    # before the interviewer speaks, the caller hears what is kept and for how long
    notice = root.find("Say").text
    assert "This call is recorded and transcribed" in notice
    assert "The audio is deleted after 90 days" in notice


def test_wrong_pin_retries_then_says_goodbye_after_three_tries(sqlite_db, caplog):
    _invitation(sqlite_db)
    with _app() as client, caplog.at_level(logging.INFO, logger="mockline.telephony"):
        first = _xml(_post(client, "/twilio/pin?attempt=1", CALL | {"Digits": "000000"}))
        assert first.find("Gather").get("action") == PUBLIC + "/twilio/pin?attempt=2"
        assert "not recognised" in first.find("Gather/Say").text
        second = _xml(_post(client, "/twilio/pin?attempt=2", CALL | {"Digits": "999999"}))
        assert second.find("Gather").get("action") == PUBLIC + "/twilio/pin?attempt=3"
        third = _xml(_post(client, "/twilio/pin?attempt=3", CALL | {"Digits": "123"}))
    assert third.find("Gather") is None and third.find("Connect") is None
    assert "Goodbye" in third.find("Say").text
    assert third.find("Hangup") is not None
    assert "000000" not in caplog.text and "999999" not in caplog.text  # the digits are never logged


def test_no_digits_counts_as_a_try(sqlite_db):
    with _app() as client:
        root = _xml(_post(client, "/twilio/pin?attempt=3", {k: v for k, v in CALL.items()}))
    assert root.find("Hangup") is not None


def test_caller_from_the_candidates_number_skips_the_pin_when_switched_on(db):
    invitation_id, _ = _invitation(db, phone="+1 (555) 000-1111")
    with _app(match_caller_id=True) as client:
        root = _xml(_post(client, "/twilio/voice", CALL))
    assert root.find("Connect/Stream") is not None
    with db.session() as s:
        interview = s.query(Interview).one()
        assert interview.invitation_id == invitation_id and interview.phone_number == "+15550001111"


def test_caller_id_matching_is_off_by_default(sqlite_db):
    _invitation(sqlite_db, phone="+15550001111")
    with _app() as client:
        root = _xml(_post(client, "/twilio/voice", CALL))
    assert root.find("Gather") is not None


def test_finished_interview_pin_is_answered_like_an_unknown_one(sqlite_db):
    invitation_id, pin = _invitation(sqlite_db)
    with sqlite_db.session() as s:
        plan_id = s.query(InterviewPlan).one().id
        s.add(Interview(plan_id=plan_id, invitation_id=invitation_id, status="finished"))
    with _app() as client:
        used = _post(client, "/twilio/pin?attempt=3", CALL | {"Digits": pin})
        unknown = _post(client, "/twilio/pin?attempt=3", CALL | {"Digits": "000000"})
    assert used.text == unknown.text  # the answer does not confirm that the PIN exists
    assert "Goodbye" in _xml(used).find("Say").text and _xml(used).find("Hangup") is not None


def test_status_callback_records_a_missed_call(sqlite_db):
    _, pin = _invitation(sqlite_db)
    with _app() as client:
        _xml(_post(client, "/twilio/pin", CALL | {"Digits": pin}))
        assert (
            _post(
                client, "/twilio/status", {"CallSid": CALL["CallSid"], "CallStatus": "no-answer"}
            ).status_code
            == 204
        )
    with sqlite_db.session() as s:
        interview = s.query(Interview).one()
        assert interview.end_reason == "call_no_answer" and interview.status == "invited"


def test_skip_switch_is_loud_and_refused_in_production(sqlite_db, caplog):
    with caplog.at_level(logging.WARNING, logger="mockline.telephony"):
        with _app(skip_signature=True) as client:
            assert _post(client, "/twilio/voice", CALL, sign=False).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("DISABLED" in m for m in warnings)  # at startup
    assert any("SKIPPED" in m for m in warnings)  # and on the request
    with pytest.raises(TelephonyConfigError):
        check_settings(TelephonySettings(skip_signature=True), environment="production")


def test_skip_switch_reads_its_documented_env_name(monkeypatch):
    monkeypatch.setenv("MOCKLINE_TWILIO_SKIP_SIGNATURE", "1")
    assert TelephonySettings().skip_signature is True
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x" * 32)
    assert TelephonySettings().auth_token == "x" * 32


def test_stream_tokens_are_bound_and_short_lived():
    from telephony import StreamRejected

    tokens = StreamTokens(secret_key=SECRET, ttl_s=60)
    token = tokens.issue(interview_id="iv1", call_sid="CA1")
    with pytest.raises(StreamRejected, match="another call"):
        tokens.check(token, interview_id="iv1", call_sid="CA2")
    with pytest.raises(StreamRejected, match="another interview"):
        tokens.check(token, interview_id="iv2", call_sid="CA1")
    with pytest.raises(StreamRejected, match="not ours"):
        StreamTokens(secret_key="other", ttl_s=60).check(token, interview_id="iv1", call_sid="CA1")
    with pytest.raises(StreamRejected, match="expired"):
        StreamTokens(secret_key=SECRET, ttl_s=-1).check(token, interview_id="iv1", call_sid="CA1")
    assert re.fullmatch(r"[\w.\-]+", token)


@pytest.mark.parametrize(
    ("enabled", "audio_days", "transcript_days", "expected"),
    [
        (True, 30, 180, "The audio is deleted after 30 days; the transcript after 180 days"),
        (True, 0, 0, "The audio is kept; the transcript and the assessment are kept until they are erased."),
        (False, 30, 0, "This call is transcribed; no audio is kept."),
    ],
)
def test_the_spoken_recording_notice_follows_the_retention_settings(
    enabled, audio_days, transcript_days, expected
):
    from telephony._twiml import recording_notice

    notice = recording_notice(enabled=enabled, audio_days=audio_days, transcript_days=transcript_days)
    assert expected in notice
