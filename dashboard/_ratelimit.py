"""Login throttling: each attempt is reserved before the password hash runs, so concurrent guesses cannot all
slip under the limit (the app's ``storage.RateLimiter``; Redis-shared across replicas when configured).

Who is slowed down:

* **an address guessing one account** (``ip + e-mail``): ``per_pair`` attempts per window, then twice that
  per four windows, then four times per sixteen — each step a longer wait (backoff). A successful login
  clears these counters.
* **an address guessing many accounts** (``ip``): ``per_ip`` attempts per window.

There is deliberately no counter per e-mail alone: knowing a recruiter's address must not be enough to lock
them out from everywhere. The real user, from their own address, can always log in.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import RateLimiter

__all__ = ["LoginThrottle"]

_BACKOFF = ((1, 1), (2, 4), (4, 16))  # (limit multiplier, window multiplier)


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    limiter: RateLimiter
    per_pair: int
    per_ip: int
    window_s: float

    def _pair_keys(self, ip: str, email: str) -> list[tuple[str, int, float]]:
        return [
            (f"login-pair{i}:{ip}|{email}", self.per_pair * n, self.window_s * w)
            for i, (n, w) in enumerate(_BACKOFF)
        ]

    def reserve(self, *, ip: str, email: str) -> int:
        """Count this attempt; 0 when it may go ahead, else the seconds to wait."""
        keys = [*self._pair_keys(ip, email), (f"login-ip:{ip}", self.per_ip, self.window_s)]
        waits = [self.limiter.hit(key, limit=limit, window_s=window) for key, limit, window in keys]
        return max(h.retry_after for h in waits)

    def succeeded(self, *, ip: str, email: str) -> None:
        for key, _, _ in self._pair_keys(ip, email):
            self.limiter.reset(key)
