"""Per-app telephony state: settings, stream tokens, live calls, the shared agent runtime, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from agent import SharedRuntime
from storage import Database, DatabaseRateLimiter, RateLimiter, get_database

from ._bridge import LiveCalls
from ._security import StreamTokens
from ._settings import TelephonySettings, get_telephony_settings

__all__ = ["TelephonyDep", "TelephonyState", "telephony_state"]

logger = logging.getLogger("mockline.telephony")


@dataclass(kw_only=True)
class TelephonyState:
    """What the phone routes need, built once by the application (:meth:`build`) and handed to the router
    with :func:`telephony.install_telephony`; routes take it as the typed dependency :data:`TelephonyDep`.

    ``recruiter_auth``: the dashboard's login for the phone-screen API (``(request) -> user``, sync or async);
    ``None`` answers 503. ``scheduler``: the due-call dialler, owned by the router's lifespan."""

    settings: TelephonySettings
    base_url: str
    environment: str
    tokens: StreamTokens
    runtime: SharedRuntime
    database: Callable[[], Database] = get_database
    recruiter_auth: Callable[[Request], Any] | None = None
    live_calls: LiveCalls = field(default_factory=LiveCalls)
    # PIN attempt counters: in the database, so a redial or another replica sees the same count.
    pin_attempts: RateLimiter = field(default_factory=lambda: DatabaseRateLimiter(get_database))
    scheduler: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        *,
        base_url: str,
        environment: str,
        secret_key: str,
        runtime: SharedRuntime,
        settings: TelephonySettings | None = None,
        recruiter_auth: Callable[[Request], Any] | None = None,
    ) -> TelephonyState:
        """Settings from the environment where not given; stream tokens signed with ``secret_key``."""
        settings = settings or get_telephony_settings()
        return cls(
            settings=settings,
            base_url=base_url,
            environment=environment,
            tokens=StreamTokens(secret_key=secret_key, ttl_s=settings.stream_token_ttl_s),
            runtime=runtime,
            recruiter_auth=recruiter_auth,
        )


def telephony_state(app: Starlette) -> TelephonyState:
    """The state ``install_telephony`` put on ``app`` (tests issue stream tokens with it)."""
    state: TelephonyState = app.state.telephony
    return state


def _telephony(conn: HTTPConnection) -> TelephonyState:
    return telephony_state(conn.app)


TelephonyDep = Annotated[TelephonyState, Depends(_telephony)]


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
