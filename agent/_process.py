"""Process settings for serving many real-time sessions from one event loop.

Measured with ``python -m bench capacity`` (BENCHMARKS.md, "Where the time goes"): at 25–50 phone calls the
loop was mostly idle yet frames left late, because of two stalls that are not CPU:

- **Garbage collection.** Every session allocates many short-lived objects per 20 ms frame, so the default
  thresholds (700, 10, 10) run young collections constantly and full collections of 300–560 ms over the
  few hundred MB of loaded models and libraries. ``freeze_loaded`` moves what is loaded at start-up out of
  the collector's reach (``gc.freeze``), and ``tune_for_realtime`` raises the thresholds so collections are
  rarer; reference counting still frees almost everything at once, only cycles wait longer.
- **The default thread pool.** asyncio's default executor has min(32, cores + 4) = 6 workers on 2 cores, and
  it carries aiortc's per-frame Opus encode, SQLite writes and every ``asyncio.to_thread``: with a dozen
  browser sessions frames queue behind each other. 32 workers cost a little memory, not CPU.
"""

from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor

__all__ = ["freeze_loaded", "tune_for_realtime"]

GC_THRESHOLDS = (50_000, 100, 1000)
EXECUTOR_WORKERS = 32


def tune_for_realtime(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Call once, from the serving event loop, before sessions start."""
    loop = loop or asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=EXECUTOR_WORKERS, thread_name_prefix="rt-io"))
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_loaded() -> None:
    """Call after the models are loaded: everything alive now is never scanned by the collector again."""
    gc.collect()
    gc.freeze()
