"""Median, p95 and worst of a sample; every figure in BENCHMARKS.md is one of these."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Dist", "dist"]


@dataclass(frozen=True, slots=True)
class Dist:
    n: int
    median: float | None
    p95: float | None
    worst: float | None

    def cells(self, fmt: str = "{:.0f}") -> list[str]:
        """``[median, p95, worst, n]`` as table cells ("–" when there is no data)."""
        f = lambda v: "–" if v is None else fmt.format(v)  # noqa: E731
        return [f(self.median), f(self.p95), f(self.worst), str(self.n)]

    def as_dict(self) -> dict[str, float | int | None]:
        return {"n": self.n, "median": self.median, "p95": self.p95, "worst": self.worst}


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def dist(values: Iterable[float | None], *, worst: str = "max") -> Dist:
    """Summary of the non-None ``values``; ``worst="min"`` for figures where lower is worse."""
    vals = sorted(float(v) for v in values if v is not None)
    if not vals:
        return Dist(0, None, None, None)
    p95 = _quantile(vals, 0.95 if worst == "max" else 0.05)
    return Dist(len(vals), _quantile(vals, 0.5), p95, vals[-1] if worst == "max" else vals[0])
