"""Signed outgoing webhooks: an admin adds a receiver in the dashboard; interview.finished and report.ready
reach a real HTTP receiver on loopback that checks the HMAC-SHA256 signature; failures are retried with
backoff from the outbox, and given up on after the last attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard._webhook_wire import sign, verify
from dashboard._webhooks import WebhookSettings, backoff_s, deliver_due, fan_out
from mockline.settings import AppSettings
from mockline.web import create_app
from scoring import ScoringSettings, run_scoring
from storage import Interview, OutboxEvent, WebhookDelivery
from tests import webhook_receiver as _wr
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard
from tests.test_scoring_support import make_interview

receiver = _wr.receiver  # the fixture
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'id="wh-secret" class="mono" readonly value="([^"]+)"')
BASE = "http://testserver"


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


@pytest.fixture
def acme(seeded, tmp_path) -> TestClient:
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url=BASE)))
    token = CSRF.search(c.get("/login").text).group(1)
    c.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token})
    return c


def _add_endpoint(c: TestClient, url: str, events: list[str] | None = None) -> str:
    page = c.get("/dashboard/webhooks")
    assert page.status_code == 200
    r = c.post(
        "/dashboard/webhooks",
        data={
            "csrf_token": CSRF.search(page.text).group(1),
            "url": url,
            "events": events or ["interview.finished", "report.ready"],
        },
    )
    assert r.status_code == 200, r.text
    return SECRET.search(r.text).group(1)


def _signed_by(secret: str, req) -> bool:
    """The receiver's own check, written from the documented format (not with the sender's code)."""
    fields = dict(p.split("=", 1) for p in req.headers["mockline-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + req.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300


def _finish(db, interview_id: str) -> None:
    with db.session() as s:
        s.add(OutboxEvent(kind="interview.finished", interview_id=interview_id))


pytestmark = pytest.mark.integration


async def test_a_finished_interview_reaches_the_receiver_signed(acme, seeded, db, receiver):
    secret = _add_endpoint(acme, receiver.url)
    _finish(db, seeded.scored_a)
    _finish(db, seeded.scored_b)  # another organisation's interview: not for this receiver
    assert fan_out(db) == 1
    assert fan_out(db) == 0  # once per event and endpoint
    assert await deliver_due(db, BASE) == (1, 0)

    [req] = receiver.requests
    assert req.path == "/hooks/mockline" and req.headers["content-type"] == "application/json"
    assert req.headers["mockline-event"] == "interview.finished"
    assert _signed_by(secret, req)
    assert not _signed_by("whsec_wrong", req)
    event = json.loads(req.body)
    assert event["type"] == "interview.finished" and event["id"].startswith("evt_")
    assert event["data"]["interview_id"] == seeded.scored_a
    assert event["data"]["candidate_name"] == "Ada Lovelace"
    assert event["data"]["url"] == f"{BASE}/dashboard/interviews/{seeded.scored_a}"
    assert event["created_at"].endswith("+00:00") and "." not in event["created_at"]
    assert await deliver_due(db, BASE) == (0, 0)  # delivered: never sent again

    page = acme.get("/dashboard/webhooks").text
    assert "delivered" in page and receiver.url in page


async def test_report_ready_follows_a_real_scoring_run(acme, seeded, db, receiver):
    secret = _add_endpoint(acme, receiver.url, ["report.ready"])
    iid = make_interview(db)
    with db.session() as s:
        s.get(Interview, iid).org_id = seeded.org_a
    outcome = await run_scoring(iid, settings=ScoringSettings(redis_url=None, scorer="offline"), db=db)
    assert outcome.status == "scored"
    assert fan_out(db) == 1  # report.ready only; this endpoint did not ask for interview.finished
    assert await deliver_due(db, BASE) == (1, 0)
    [req] = receiver.requests
    assert _signed_by(secret, req)
    data = json.loads(req.body)["data"]
    assert data["interview_id"] == iid and data["status"] == "scored"
    assert data["overall"] == outcome_overall(db, iid) and data["report_version"] == 1
    assert data["report_url"] == f"{BASE}/api/interviews/{iid}/report"


def outcome_overall(db, iid: str) -> float:
    with db.session() as s:
        return s.get(Interview, iid).overall_score


async def test_a_failing_receiver_is_retried_with_backoff_then_given_up(acme, seeded, db, receiver):
    _add_endpoint(acme, receiver.url, ["interview.finished"])
    settings = WebhookSettings(max_attempts=3, backoff_base_s=10, backoff_cap_s=3600)
    receiver.answers[:] = [500, 503]
    _finish(db, seeded.scored_a)
    fan_out(db)
    t0 = datetime.now(UTC)
    assert await deliver_due(db, BASE, settings=settings, now=t0) == (0, 1)
    assert await deliver_due(db, BASE, settings=settings, now=t0 + timedelta(seconds=9)) == (0, 0)  # waiting
    assert await deliver_due(db, BASE, settings=settings, now=t0 + timedelta(seconds=11)) == (0, 1)
    # the second failure waits twice as long: 20 s
    assert await deliver_due(db, BASE, settings=settings, now=t0 + timedelta(seconds=30)) == (0, 0)
    assert await deliver_due(db, BASE, settings=settings, now=t0 + timedelta(seconds=32)) == (1, 0)
    ids = {r.headers["mockline-delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one delivery id across its retries
    with db.session() as s:
        d = s.scalar(select(WebhookDelivery))
        assert d.attempts == 3 and d.delivered_at is not None and d.last_status == 200

    receiver.answers[:] = [500, 500, 500]
    _finish(db, seeded.scored_a)
    fan_out(db)
    later = t0 + timedelta(hours=1)
    for step in (0, 11, 32):
        await deliver_due(db, BASE, settings=settings, now=later + timedelta(seconds=step))
    assert await deliver_due(db, BASE, settings=settings, now=later + timedelta(days=1)) == (0, 0)
    with db.session() as s:
        gave_up = s.scalars(select(WebhookDelivery).where(WebhookDelivery.failed_at.is_not(None))).all()
    assert len(gave_up) == 1 and gave_up[0].attempts == 3 and gave_up[0].last_error == "HTTP 500"
    assert "gave up: HTTP 500" in acme.get("/dashboard/webhooks").text


async def test_an_unreachable_receiver_is_recorded_and_retried(acme, seeded, db):
    from tests.smtp_server import free_port

    _add_endpoint(acme, f"http://127.0.0.1:{free_port()}/nobody")
    _finish(db, seeded.scored_a)
    fan_out(db)
    assert await deliver_due(db, BASE) == (0, 1)
    with db.session() as s:
        d = s.scalar(select(WebhookDelivery))
    assert d.attempts == 1 and d.delivered_at is None and "could not reach" in d.last_error


def test_the_endpoint_form_refuses_a_bad_address_and_no_events(acme):
    page = acme.get("/dashboard/webhooks")
    r = acme.post(
        "/dashboard/webhooks", data={"csrf_token": CSRF.search(page.text).group(1), "url": "ftp://x"}
    )
    assert r.status_code == 422
    assert "Enter the full address of your receiver" in r.text and "Choose at least one event." in r.text


@pytest.mark.unit
def test_signatures_verify_only_with_the_secret_the_body_and_a_fresh_time():
    body = b'{"type":"report.ready"}'
    now = 1_765_090_800
    header = sign("s3cret", now, body)
    assert verify("s3cret", header, body, now=now + 10)
    assert not verify("other", header, body, now=now)
    assert not verify("s3cret", header, body + b" ", now=now)
    assert not verify("s3cret", header, body, now=now + 3600)  # a replay an hour later
    assert not verify("s3cret", "t=abc,v1=00", body, now=now)
    settings = WebhookSettings(backoff_base_s=10, backoff_cap_s=60)
    assert [backoff_s(n, settings) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
