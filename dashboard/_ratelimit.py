"""Failed-login counters per e-mail and per client address (sliding window, in process memory).

Good enough for one web process; with several, each counts on its own (the limit is per process).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureCounter"]


class FailureCounter:
    def __init__(self, *, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it is not blocked."""
        with self._lock:
            now = self._clock()
            hits = self._live(key, now)
            if len(hits) < self._limit:
                return 0
            return max(1, math.ceil(hits[-self._limit] + self._window - now))

    def add_failure(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            self._live(key, now)
            self._hits.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
