"""Issue 16: attempt limits cannot be raced, hold across replicas, and keep no personal data.

Many threads (each standing for a request on some web replica) hit one key at the same moment against the
real backends: Redis, PostgreSQL and SQLite, and the in-process counter. Exactly ``limit`` of them are
allowed, whatever the interleaving. Windows end on the backend's clock, and the stored keys are hashes.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import select

from storage import DatabaseRateLimiter, MemoryRateLimiter, RateCounter, RedisRateLimiter, get_database

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"
PHONE = "+15550001234"
EMAIL = "ada@example.com"


@pytest.fixture
def redis_limiter():
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"mockline-test:{uuid.uuid4().hex}:"
    try:
        yield RedisRateLimiter(client, prefix=prefix), client, prefix
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()


def _all_at_once(hit, n: int) -> list[bool]:  # type: ignore[no-untyped-def]
    """``n`` threads call ``hit()`` together (a barrier releases them at once); who was allowed."""
    barrier = threading.Barrier(n)

    def one(_: int) -> bool:
        barrier.wait(30)
        return hit().allowed

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_hits_on_redis_allow_exactly_the_limit(redis_limiter):
    limiter, _, _ = redis_limiter
    allowed = _all_at_once(lambda: limiter.hit(f"login-pair0:{EMAIL}", limit=5, window_s=60), 24)
    assert allowed.count(True) == 5


def test_two_replicas_on_one_redis_share_the_count(redis_limiter):
    first, client, prefix = redis_limiter
    second = RedisRateLimiter(client, prefix=prefix)  # another web process with the same REDIS_URL
    verdicts = [
        (first if i % 2 else second).hit("practice:203.0.113.5", limit=3, window_s=60) for i in range(5)
    ]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert 0 < verdicts[-1].retry_after <= 60


def test_concurrent_hits_on_the_database_allow_exactly_the_limit(db):
    limiter = DatabaseRateLimiter(get_database)
    allowed = _all_at_once(lambda: limiter.hit(f"pin-caller:{PHONE}", limit=4, window_s=3600), 16)
    assert allowed.count(True) == 4
    with db.session() as s:
        assert s.scalar(select(RateCounter.count)) == 16  # refused attempts count too


def test_concurrent_hits_in_process_allow_exactly_the_limit():
    limiter = MemoryRateLimiter()
    allowed = _all_at_once(lambda: limiter.hit("login-ip:198.51.100.1", limit=7, window_s=60), 32)
    assert allowed.count(True) == 7


def test_a_window_ends_and_the_count_starts_again(db):
    now = [1_000_000.0]
    for limiter in (
        MemoryRateLimiter(clock=lambda: now[0]),
        DatabaseRateLimiter(get_database, clock=lambda: now[0]),
    ):
        now[0] += 10_000
        key = f"pin-all:{type(limiter).__name__}"
        assert [limiter.hit(key, limit=2, window_s=60).allowed for _ in range(3)] == [True, True, False]
        now[0] += 30
        refused = limiter.hit(key, limit=2, window_s=60)
        assert not refused.allowed and refused.retry_after == 30
        now[0] += 31
        assert limiter.hit(key, limit=2, window_s=60).allowed
        limiter.reset(key)


def test_keys_are_stored_hashed_never_as_phone_numbers_or_addresses(db, redis_limiter):
    limiter, client, prefix = redis_limiter
    limiter.hit(f"login-pair0:198.51.100.1|{EMAIL}", limit=5, window_s=60)
    DatabaseRateLimiter(get_database).hit(f"pin-caller:{PHONE}", limit=5, window_s=60)
    redis_keys = [k.decode() for k in client.scan_iter(prefix + "*")]
    with db.session() as s:
        db_keys = list(s.scalars(select(RateCounter.key)))
    assert len(redis_keys) == 1 and len(db_keys) == 1
    for key in redis_keys + db_keys:
        assert EMAIL not in key and "198.51.100.1" not in key and PHONE not in key and "5550001234" not in key


def test_an_unreachable_redis_counts_in_process_instead_of_refusing_everyone():
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5, socket_timeout=0.5)
    limiter = RedisRateLimiter(client)
    verdicts = [limiter.hit("login-ip:192.0.2.1", limit=2, window_s=60).allowed for _ in range(3)]
    assert verdicts == [True, True, False]
    client.close()
