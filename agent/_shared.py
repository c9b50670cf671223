"""One ``AgentRuntime`` per process, shared by every transport.

The web process stores it on its app state. Transports call :func:`shared_runtime` on their first interview;
the application layer may put ``runtime_options`` (keyword arguments for ``AgentRuntime.load``, e.g.
``on_finished``) on the state beforehand, or preload it with :func:`preload_runtime` at start-up so the first
candidate does not wait for the models (a preload also freezes what it loaded out of the collector's scans).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._process import freeze_loaded
from ._runtime import AgentRuntime
from .settings import AgentSettings

__all__ = ["preload_runtime", "shared_runtime"]

logger = logging.getLogger("mockline.agent")


def _lock(state: Any) -> asyncio.Lock:
    # No await between the read and the write: atomic on the event loop.
    lock = getattr(state, "runtime_lock", None)
    if lock is None:
        lock = asyncio.Lock()
        state.runtime_lock = lock
    return lock


async def shared_runtime(state: Any) -> AgentRuntime:
    """``state.runtime``, loaded once (in a thread, models are heavy) on first use."""
    runtime: AgentRuntime | None = getattr(state, "runtime", None)
    if runtime is not None:
        return runtime
    async with _lock(state):
        runtime = getattr(state, "runtime", None)
        if runtime is None:
            options: dict[str, Any] = dict(getattr(state, "runtime_options", None) or {})
            settings = options.pop("settings", None) or AgentSettings()
            logger.info("loading the agent runtime (VAD, STT, TTS)")
            runtime = await asyncio.to_thread(AgentRuntime.load, settings, **options)
            state.runtime = runtime
            logger.info("agent runtime ready")
    return runtime


async def preload_runtime(state: Any) -> None:
    """Start-up preload; a failure is logged, and the next interview tries again."""
    try:
        await shared_runtime(state)
    except Exception:
        logger.exception("could not preload the agent runtime")
        return
    freeze_loaded()  # the models and libraries stay out of the garbage collector's scans (agent/_process.py)
