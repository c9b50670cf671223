"""Attempt counters that cannot be raced: :meth:`RateLimiter.hit` reserves an attempt and says whether it is
allowed in one atomic step, so the caller checks nothing before it acts (no check-then-act window).

Fixed windows: the first hit of a key opens a window of ``window_s``; hits in it are counted, and a hit is
allowed while its count is at most ``limit``. Hits over the limit are still counted (an attacker who keeps
trying stays refused until the window ends). Keys are hashed before they are stored: e-mail addresses, IP
addresses and phone numbers never reach Redis or the database.

Backends::

    MemoryRateLimiter     one process (a lock around a dict); the default without Redis
    RedisRateLimiter      every web replica sharing ``REDIS_URL`` (a Lua script: INCR + PEXPIRE)
    DatabaseRateLimiter   every replica sharing the database (an upsert on ``rate_counters``); for rare
                          events that must persist whatever is configured (phone PIN attempts)

``build_rate_limiter()`` picks Redis when ``REDIS_URL`` is set, else memory. A Redis that cannot be reached
falls back to the in-process counter (logged) rather than refusing every login.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite

from ._db import Database
from ._models import RateCounter

__all__ = [
    "DatabaseRateLimiter",
    "Hit",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "build_rate_limiter",
]

logger = logging.getLogger("mockline.storage")


@dataclass(frozen=True, slots=True)
class Hit:
    allowed: bool
    count: int  # hits in the current window, this one included
    retry_after: int  # whole seconds until the window ends (0 when allowed)


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_s: float) -> Hit: ...

    def reset(self, key: str) -> None: ...


def _hashed(key: str) -> str:
    prefix, _, rest = key.partition(":")
    return f"{prefix[:20]}:{hashlib.sha256(rest.encode('utf-8')).hexdigest()[:40]}"


def _verdict(count: int, limit: int, remaining_s: float) -> Hit:
    allowed = count <= limit
    return Hit(allowed=allowed, count=count, retry_after=0 if allowed else max(1, math.ceil(remaining_s)))


class MemoryRateLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._windows: dict[str, tuple[float, float, int]] = {}  # key -> (start, length, count)
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_s: float) -> Hit:
        key = _hashed(key)
        with self._lock:
            now = self._clock()
            start, length, count = self._windows.get(key, (now, window_s, 0))
            if now >= start + length:
                start, length, count = now, window_s, 0
            count += 1
            self._windows[key] = (start, length, count)
            if len(self._windows) > self._max_keys:
                self._sweep(now)
            return _verdict(count, limit, start + length - now)

    def _sweep(self, now: float) -> None:
        for k, (start, length, _) in list(self._windows.items()):
            if now >= start + length:
                del self._windows[k]

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(_hashed(key), None)


_REDIS_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimiter:
    """Counters in Redis under ``{prefix}{hashed key}``; every replica with the same prefix shares them."""

    def __init__(self, client: Any, *, prefix: str = "mockline:rl:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_REDIS_HIT)
        self._fallback = MemoryRateLimiter()

    def hit(self, key: str, *, limit: int, window_s: float) -> Hit:
        try:
            count, ttl_ms = self._script(keys=[self._prefix + _hashed(key)], args=[int(window_s * 1000)])
        except Exception as e:  # redis.RedisError, OSError: count in this process until Redis is back
            logger.warning("rate limiter: Redis unavailable (%s); counting in process", type(e).__name__)
            return self._fallback.hit(key, limit=limit, window_s=window_s)
        return _verdict(int(count), limit, int(ttl_ms) / 1000)

    def reset(self, key: str) -> None:
        self._fallback.reset(key)
        try:
            self._client.delete(self._prefix + _hashed(key))
        except Exception as e:
            logger.warning("rate limiter: Redis unavailable (%s)", type(e).__name__)


class DatabaseRateLimiter:
    """Counters in the ``rate_counters`` table: one upsert that returns the new count (row-locked on
    PostgreSQL, serialised by the write lock on SQLite)."""

    def __init__(self, database: Callable[[], Database], *, clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._clock = clock

    def hit(self, key: str, *, limit: int, window_s: float) -> Hit:
        db = self._database()
        now = self._clock()
        cutoff = now - window_s
        insert: Any = sqlite.insert if db.is_sqlite else postgresql.insert
        table = RateCounter.__table__
        stmt = insert(table).values(key=_hashed(key), window_start=now, count=1)
        expired = table.c.window_start <= cutoff
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "window_start": case((expired, now), else_=table.c.window_start),
            },
        ).returning(table.c.count, table.c.window_start)
        with db.session() as s:
            count, start = s.execute(stmt).one()
            if count == 1 and int(now) % 64 == 0:  # now and then, forget long-closed windows
                s.execute(delete(RateCounter).where(RateCounter.window_start < now - 7 * 86400))
        return _verdict(int(count), limit, float(start) + window_s - now)

    def reset(self, key: str) -> None:
        with self._database().session() as s:
            s.execute(delete(RateCounter).where(RateCounter.key == _hashed(key)))


class RateLimitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore", populate_by_name=True)

    redis_url: str = Field(default="", validation_alias=AliasChoices("REDIS_URL", "redis_url"))


def build_rate_limiter(redis_url: str | None = None) -> RateLimiter:
    """Redis-backed when ``REDIS_URL`` (or ``redis_url``) is set, else one process's memory."""
    url = RateLimitSettings().redis_url if redis_url is None else redis_url
    if not url:
        return MemoryRateLimiter()
    import redis

    return RedisRateLimiter(redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0))
