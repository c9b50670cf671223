"""One ``AgentRuntime`` per process, shared by every transport.

The web process builds one :class:`SharedRuntime` and hands the same object to each transport. A transport
calls :meth:`SharedRuntime.get` on its first interview; the application sets ``on_finished`` beforehand, or
preloads the runtime with :meth:`SharedRuntime.preload` at start-up so the first candidate does not wait for
the models (a preload also freezes what it loaded out of the collector's scans).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ._process import freeze_loaded
from ._runtime import AgentRuntime
from .settings import AgentSettings

__all__ = ["SharedRuntime"]

logger = logging.getLogger("mockline.agent")


class SharedRuntime:
    """The process's agent runtime, loaded once (in a thread, models are heavy) on first use.

    ``loaded``: a runtime built elsewhere (tests, benchmarks); then nothing is loaded here.
    ``on_finished``: passed to ``AgentRuntime.load`` (e.g. the scoring queue); set it before the first load.
    """

    def __init__(
        self,
        *,
        settings: AgentSettings | None = None,
        on_finished: Callable[[str], Any] | None = None,
        loaded: AgentRuntime | None = None,
    ) -> None:
        self.settings = settings
        self.on_finished = on_finished
        self._runtime = loaded
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> AgentRuntime | None:
        """The runtime if it is loaded; never loads it."""
        return self._runtime

    @property
    def live_interview_ids(self) -> set[str]:
        return self._runtime.live_interview_ids if self._runtime is not None else set()

    async def get(self) -> AgentRuntime:
        if self._runtime is not None:
            return self._runtime
        async with self._lock:
            if self._runtime is None:
                settings = self.settings or AgentSettings()
                logger.info("loading the agent runtime (VAD, STT, TTS)")
                self._runtime = await asyncio.to_thread(
                    AgentRuntime.load, settings, on_finished=self.on_finished
                )
                logger.info("agent runtime ready")
        return self._runtime

    async def preload(self) -> None:
        """Start-up preload; a failure is logged, and the next interview tries again."""
        try:
            await self.get()
        except Exception:
            logger.exception("could not preload the agent runtime")
            return
        freeze_loaded()  # models and libraries stay out of the garbage collector's scans (agent/_process.py)

    async def aclose(self) -> None:
        """Close the runtime if it was loaded (or handed in)."""
        if self._runtime is not None:
            await self._runtime.aclose()
