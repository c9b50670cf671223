"""The telephony router the web app mounts: webhooks, the stream websocket, the phone-screen API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, FastAPI

from . import _api, _stream, _webhooks
from ._settings import check_settings
from ._state import TelephonyState, run_scheduler, stop_scheduler, telephony_state
from .outbound import place_due_calls

__all__ = ["install_telephony", "router"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = telephony_state(app)
    check_settings(state.settings, environment=state.environment)
    s = state.settings
    if s.scheduler_interval_s > 0 and s.account_sid and s.auth_token and s.from_number:
        place_due = partial(place_due_calls, settings=s, base_url=state.base_url)
        state.scheduler = asyncio.create_task(run_scheduler(state, place_due), name="phone-scheduler")
    try:
        yield
    finally:
        await stop_scheduler(state)


router = APIRouter(lifespan=_lifespan)
router.include_router(_webhooks.router)
router.include_router(_stream.router)
router.include_router(_api.router)


def install_telephony(app: FastAPI, state: TelephonyState) -> None:
    """Mount the phone routes on ``app``; they take ``state`` as a typed dependency."""
    app.state.telephony = state
    app.include_router(router)
