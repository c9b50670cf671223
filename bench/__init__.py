"""Latency and capacity benchmarks: ``python -m bench all [--quick]`` rewrites BENCHMARKS.md.

``bench.fakes`` holds the fixed-latency providers; the runners below each start the system under test in
its own process (``python -m bench serve``) and drive it with real phone (streamdouble) and browser
(aiortc) callers on loopback.
"""

from ._all import SIZES, run_all
from ._capacity import StepResult, run_capacity
from ._latency import BargeInResult, V2VResult, run_bargein, run_v2v
from ._scoring import ScoringResult, run_scoring_bench
from ._stats import Dist, dist
from ._stt import SttResult, run_stt

__all__ = [
    "SIZES",
    "BargeInResult",
    "Dist",
    "ScoringResult",
    "StepResult",
    "SttResult",
    "V2VResult",
    "dist",
    "run_all",
    "run_bargein",
    "run_capacity",
    "run_scoring_bench",
    "run_stt",
    "run_v2v",
]
