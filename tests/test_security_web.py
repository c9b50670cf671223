"""Issue 16, probed over HTTP like an attacker: no page can be framed, nothing public that should not be
(API docs, capacity), no request body is read past its limit, and bad query values never reach a 500.

Each test here failed on the code before the fix: no security headers; /docs and /openapi.json served;
/rtc/status public; a 2 MB body read whole (and multipart spooled to disk) before a 403/422; 500s for
``page=99999999999999999999``, ``to=9999-12-31`` (page and CSV) and deeply nested JSON to /rtc/offer;
a practice invitation given to /api/phone-screens answered 409.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import InterviewPlan, create_invitation
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


def _client(tmp_path, **settings: object) -> TestClient:
    return TestClient(create_app(AppSettings(data_dir=str(tmp_path), **settings)))


def _logged_in(tmp_path, seeded) -> TestClient:
    c = _client(tmp_path)
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post(
        "/login",
        data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return c


def test_every_page_refuses_to_be_framed_or_sniffed(seeded, tmp_path, db):
    c = _logged_in(tmp_path, seeded)
    with db.session() as s:
        plan = InterviewPlan(title="Backend", role="backend_engineer")
        s.add(plan)
        s.flush()
        token = create_invitation(s, plan_id=plan.id, org_id=None).token
    anon = _client(tmp_path)
    pages = [anon.get("/login"), anon.get("/practice"), c.get("/dashboard"), anon.get(f"/i/{token}")]
    for page in pages:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert pages[-1].headers["referrer-policy"] == "no-referrer"  # the join page keeps its own, stricter one


def test_api_docs_are_off_unless_switched_on(sqlite_db, tmp_path):
    c = _client(tmp_path)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert c.get(path).status_code == 404
    on = _client(tmp_path, api_docs=True)
    assert on.get("/openapi.json").status_code == 200 and on.get("/docs").status_code == 200


def test_capacity_is_only_for_logged_in_recruiters(seeded, tmp_path):
    with _client(tmp_path) as anon:
        r = anon.get("/rtc/status", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with _logged_in(tmp_path, seeded) as c:
        body = c.get("/rtc/status").json()
        assert body["sessions"] == 0 and body["max_sessions"] >= 1 and body["pending"] == 0


@pytest.mark.parametrize("path", ["/twilio/voice", "/login", "/practice", "/rtc/offer", "/api/phone-screens"])
def test_a_large_body_is_refused_before_it_is_read(sqlite_db, tmp_path, path):
    with _client(tmp_path) as c:
        _refuses_large_bodies(c, path)


def _refuses_large_bodies(c: TestClient, path: str) -> None:
    big = b"x" * (2 * 1024 * 1024)
    declared = c.post(path, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(64):
            yield b"y" * 32768

    streamed = c.post(path, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413


def test_a_chunked_multipart_upload_is_not_spooled_past_the_limit(sqlite_db, tmp_path, monkeypatch):
    """The multipart parser spools files to temporary files; it must never get more than the limit."""
    import starlette.formparsers as fp

    spooled: list[int] = []

    class Counting(fp.SpooledTemporaryFile):  # type: ignore[misc, name-defined]
        def write(self, data):  # type: ignore[no-untyped-def]
            spooled.append(len(data))
            return super().write(data)

    monkeypatch.setattr(fp, "SpooledTemporaryFile", Counting)
    c = _client(tmp_path)
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(160):  # 5 MB, no Content-Length
            yield b"z" * 32768

    r = c.post(
        "/twilio/voice", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.status_code == 413
    assert sum(spooled) <= 256 * 1024


def test_a_far_page_or_date_is_explained_not_a_server_error(seeded, tmp_path):
    c = _logged_in(tmp_path, seeded)
    r = c.get("/dashboard?page=99999999999999999999")
    assert r.status_code == 422 and "Choose a page" in r.text
    assert c.get("/dashboard?page=-4").status_code == 200  # not a positive number: the first page
    for query in ("to=9999-12-31", "from=9999-12-31", "from=0001-01-01", "to=" + "9" * 5000):
        assert c.get(f"/dashboard?{query}").status_code == 422, query
        assert c.get(f"/dashboard/interviews.csv?{query}").status_code == 422, query
    assert c.get("/dashboard?to=9998-12-31").status_code == 200  # the last day a filter may name


def test_deeply_nested_json_is_a_bad_request(sqlite_db, tmp_path):
    with _client(tmp_path) as c:
        nested = "[" * 30000 + "]" * 30000  # 60 KB, under the body limit
        r = c.post("/rtc/offer", content=nested, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "bad_request"
        assert c.get("/healthz").status_code == 200


def test_a_practice_invitation_is_nobodys_to_dial(seeded, tmp_path, db):
    with db.session() as s:
        plan = InterviewPlan(title="Practice", role="backend_engineer")
        s.add(plan)
        s.flush()
        inv_id = create_invitation(
            s, plan_id=plan.id, org_id=None, mode="practice", candidate_phone="+15550100"
        ).invitation.id
    c = _logged_in(tmp_path, seeded)
    csrf = CSRF.search(c.get("/dashboard").text).group(1)
    r = c.post("/api/phone-screens", json={"invitation_id": inv_id}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404


def test_nul_characters_and_undecodable_bodies_are_client_errors(seeded, tmp_path):
    """Found by the fuzz test (test_security_fuzz.py): each of these was a 500, on PostgreSQL or on both."""
    c = _logged_in(tmp_path, seeded)
    assert c.get("/dashboard/interviews/%00").status_code == 400
    assert c.get("/dashboard?role=a%00b").status_code == 400
    csrf = CSRF.search(c.get("/dashboard").text).group(1)
    r = c.post("/api/phone-screens", content=b"\x80", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "input" not in r.json()["detail"][0]  # what was sent is not echoed
    r = c.post("/api/phone-screens", json={"invitation_id": "a\x00b"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    anon = _client(tmp_path)
    token = CSRF.search(anon.get("/login").text).group(1)
    r = anon.post("/login", data={"email": "a\x00@example.com", "password": "x", "csrf_token": token})
    assert r.status_code == 400
    assert c.get("/healthz").status_code == 200
