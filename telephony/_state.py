"""Per-app telephony state: settings, stream tokens, live calls, the shared agent runtime, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from storage import DatabaseRateLimiter, RateLimiter, get_database

from ._bridge import LiveCalls
from ._security import StreamTokens
from ._settings import TelephonySettings, get_telephony_settings

__all__ = ["TelephonyState", "get_runtime", "telephony_state"]

logger = logging.getLogger("mockline.telephony")


@dataclass
class TelephonyState:
    settings: TelephonySettings
    base_url: str
    environment: str
    tokens: StreamTokens
    live_calls: LiveCalls = field(default_factory=LiveCalls)
    # PIN attempt counters: in the database, so a redial or another replica sees the same count.
    pin_attempts: RateLimiter = field(default_factory=lambda: DatabaseRateLimiter(get_database))
    scheduler: asyncio.Task[None] | None = None


def telephony_state(app: Starlette) -> TelephonyState:
    """Built on first use from ``app.state.settings`` (AppSettings) and ``app.state.telephony_settings``
    (tests may set it) or the environment."""
    state: TelephonyState | None = getattr(app.state, "telephony", None)
    if state is None:
        app_settings = app.state.settings
        settings = getattr(app.state, "telephony_settings", None) or get_telephony_settings()
        state = TelephonyState(
            settings=settings,
            base_url=app_settings.base_url,
            environment=app_settings.environment,
            tokens=StreamTokens(secret_key=app_settings.secret_key, ttl_s=settings.stream_token_ttl_s),
        )
        app.state.telephony = state
    return state


async def get_runtime(app: Starlette) -> Any:
    """The process's shared ``AgentRuntime`` (``app.state.runtime``), loaded on first use."""
    from agent import shared_runtime

    return await shared_runtime(app.state)


async def run_scheduler(state: TelephonyState, place_due: Any) -> None:
    """Dial due phone screens every ``scheduler_interval_s``; owned by the router lifespan."""
    while True:
        await asyncio.sleep(state.settings.scheduler_interval_s)
        try:
            await asyncio.to_thread(place_due)
        except Exception:
            logger.exception("phone screen scheduler pass failed")


async def stop_scheduler(state: TelephonyState) -> None:
    if state.scheduler is not None:
        state.scheduler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.scheduler
        state.scheduler = None
