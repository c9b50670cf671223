"""Issue 16, item 2: the login limit cannot be raced, and knowing a recruiter's e-mail address is not
enough to lock them out.

Before the fix, the limit was checked before the (slow) password hash and the failure recorded after it:
twelve simultaneous wrong passwords were all hashed against a limit of five. And five failures from
anywhere locked the account for everyone, its owner included.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

import dashboard._routes_auth as auth_routes
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import RedisRateLimiter
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


def _login(c: TestClient, email: str, password: str) -> httpx.Response:
    token = CSRF.search(c.get("/login").text).group(1)
    return c.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


class HashGate:
    """Holds every password check until released, counting how many began: the widest race window."""

    def __init__(self, on_change) -> None:  # type: ignore[no-untyped-def]
        self.began = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._on_change = on_change
        self._real = auth_routes.verify_password

    def __call__(self, password_hash, password):  # type: ignore[no-untyped-def]
        with self._lock:
            self.began += 1
        self._on_change()
        self.release.wait(60)  # a safety net only: the test releases it
        return self._real(password_hash, password)


async def test_simultaneous_wrong_passwords_cannot_all_slip_under_the_limit(seeded, tmp_path, monkeypatch):
    app = create_app(AppSettings(data_dir=str(tmp_path)))
    loop, changed = asyncio.get_running_loop(), asyncio.Event()
    gate = HashGate(lambda: loop.call_soon_threadsafe(changed.set))
    monkeypatch.setattr(auth_routes, "verify_password", gate)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        token = CSRF.search((await http.get("/login")).text).group(1)
        form = {"email": seeded.email_a, "password": "wrong-wrong-wrong", "csrf_token": token}
        attempts = [asyncio.create_task(http.post("/login", data=form)) for _ in range(12)]
        for t in attempts:
            t.add_done_callback(lambda _t: changed.set())
        async with asyncio.timeout(60):  # every attempt is either in the hash or already answered
            while gate.began + sum(t.done() for t in attempts) < 12:
                changed.clear()
                await changed.wait()
        gate.release.set()
        answers = [r.status_code for r in await asyncio.gather(*attempts)]
    assert gate.began == 5  # login_max_failures_per_email
    assert sorted(answers) == [401] * 5 + [429] * 7


def test_an_attacker_elsewhere_cannot_lock_the_recruiter_out(seeded, tmp_path):
    app = create_app(AppSettings(data_dir=str(tmp_path)))
    attacker = TestClient(app, client=("198.51.100.66", 5000))
    for _ in range(5):
        assert _login(attacker, seeded.email_a, "guess-guess-guess").status_code == 401
    slowed = _login(attacker, seeded.email_a, PASSWORD_A)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    recruiter = TestClient(app, client=("192.0.2.10", 5001))
    assert _login(recruiter, seeded.email_a, PASSWORD_A).status_code == 303


def test_the_limit_holds_across_web_replicas_sharing_redis(seeded, tmp_path):
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"mockline-test:{uuid.uuid4().hex}:"
    replicas = []
    for _ in range(2):
        limiter = RedisRateLimiter(client, prefix=prefix)  # what REDIS_URL gives each replica
        app = create_app(AppSettings(data_dir=str(tmp_path)), rate_limiter=limiter)
        replicas.append(TestClient(app, client=("198.51.100.7", 5000)))
    try:
        for i in range(5):  # alternating between the two replicas behind a load balancer
            assert _login(replicas[i % 2], seeded.email_a, "guess-guess-guess").status_code == 401
        assert _login(replicas[1], seeded.email_a, "guess-guess-guess").status_code == 429
        assert _login(replicas[0], seeded.email_a, PASSWORD_A).status_code == 429
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()
