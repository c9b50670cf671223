"""Issue 16: what an attack leaves in the logs is about the attack, never the candidate.

Guessed and right PINs, the candidate's phone number and name, link tokens, passwords and résumé text must
not appear in any log line at INFO or above (messages and their structured fields); passwords and PINs not
even at DEBUG.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import InterviewPlan, create_invitation
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard
from tests.test_security_phone import _call, _post, _replica, _wrong

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONE = "+15550007777"
NAME = "Zebediah Quartermaine"
RESUME = "Led the Zanzibar ledger migration at Quokka Bank"
_STANDARD = set(vars(logging.makeLogRecord({})))


def _said(record: logging.LogRecord) -> str:
    """Everything a log line carries: its message and its structured ``extra`` fields."""
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "message"}
    return record.getMessage() + " " + repr(extra)


def test_an_attack_logs_nothing_about_the_candidate(db, tmp_path, caplog):
    seeded = seed_dashboard(db, tmp_path)
    with db.session() as s:
        plan = InterviewPlan(title="Support", role="customer_support")
        s.add(plan)
        s.flush()
        new = create_invitation(
            s, plan_id=plan.id, org_id=seeded.org_a, candidate_name=NAME, candidate_phone=PHONE,
            valid_for=timedelta(days=1),
        )  # fmt: skip
        pin, token = new.invitation.pin, new.token
    caplog.set_level(logging.DEBUG, logger="mockline")

    with _replica(pin_attempts_per_caller=4) as phone:
        _post(phone, "/twilio/voice", _call(PHONE))
        for attempt in (1, 2, 3):
            _post(phone, f"/twilio/pin?attempt={attempt}", _call(PHONE) | {"Digits": _wrong(pin, attempt)})
        _post(phone, "/twilio/pin?attempt=1", _call(PHONE, 2) | {"Digits": pin})  # the fourth: accepted
        _post(phone, "/twilio/pin?attempt=2", _call(PHONE, 2) | {"Digits": pin})  # the fifth: over the limit

    with TestClient(create_app(AppSettings(data_dir=str(tmp_path)))) as web:
        for _ in range(7):  # wrong passwords until the throttle answers
            login = CSRF.search(web.get("/login").text).group(1)
            web.post(
                "/login", data={"email": seeded.email_a, "password": "hunter2-guess", "csrf_token": login}
            )
        web.post("/rtc/offer", json={"token": token + "x", "sdp": "v=0", "type": "offer"})
        web.get(f"/i/{token}")
        other = TestClient(web.app, client=("192.0.2.44", 1234))
        login = CSRF.search(other.get("/login").text).group(1)
        other.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": login})
        csrf = CSRF.search(other.get("/dashboard/plans/new").text).group(1)
        other.post(
            "/dashboard/plans",
            data={"csrf_token": csrf, "role": "backend_engineer", "title": "Backend", "resume_text": RESUME},
        )

    messages = {r.getMessage() for r in caplog.records}  # the flows above did happen, and were logged
    assert {
        "phone PIN accepted",
        "phone PIN attempts over the limit; call refused",
        "login rate limited",
    } <= messages
    secrets_anywhere = [pin, "hunter2-guess", PASSWORD_A, token]
    candidate_at_info = [PHONE, PHONE[2:], NAME, RESUME]
    for record in caplog.records:
        said = _said(record)
        for secret in secrets_anywhere:
            assert secret not in said, f"{record.name} {record.levelname}: {said}"
        if record.levelno >= logging.INFO:
            for value in candidate_at_info:
                assert value not in said, f"{record.name} {record.levelname}: {said}"
