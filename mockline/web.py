"""The one web process: health, and the routers of signaling, telephony and dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storage import get_database

from ._guard import BodyLimit, RefuseNulInUrl, SecurityHeaders
from ._stale import run_stale_sweeper
from ._validation import validation_failed
from .settings import AppSettings, get_app_settings

if TYPE_CHECKING:
    from agent import AgentRuntime
    from storage import RateLimiter
    from telephony import TelephonySettings

logger = logging.getLogger("mockline.web")


def _body_limits(settings: AppSettings) -> Callable[[str, str], int]:
    from dashboard import get_dashboard_settings

    upload = get_dashboard_settings().upload_max_bytes + settings.max_body_bytes

    def limit_for(method: str, path: str) -> int:
        if method == "POST" and path == "/dashboard/plans":  # the plan form with its résumé PDF
            return upload
        return settings.max_body_bytes

    return limit_for


def create_app(
    settings: AppSettings | None = None,
    *,
    telephony: TelephonySettings | None = None,
    runtime: AgentRuntime | None = None,
    rate_limiter: RateLimiter | None = None,
) -> FastAPI:
    """The web app. ``telephony``, ``runtime``, ``rate_limiter``: what tests hand in instead of the
    environment's (see :func:`mockline._services.build_services`)."""
    from ._services import build_services  # imports every package: only when an app is built

    settings = settings or get_app_settings()
    services = build_services(settings, telephony=telephony, runtime=runtime, rate_limiter=rate_limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from agent import tune_for_realtime
        from scoring import ScoringRuntime

        tune_for_realtime()  # GC thresholds and a thread pool sized for many sessions (agent/_process.py)

        # Scoring: in-process without REDIS_URL, else a producer for `mockline worker`; the outbox sweep
        # runs in both cases so no finished interview stays unscored.
        scoring = ScoringRuntime()
        await scoring.start()
        # Every transport shares one agent runtime; finished interviews go straight to scoring.
        services.runtime.on_finished = scoring.enqueue_scoring
        preload = asyncio.create_task(services.runtime.preload()) if settings.preload_agent else None
        # Invitation reminders by e-mail and signed webhooks (dashboard/_jobs.py).
        from dashboard import DashboardJobs

        dashboard_jobs = DashboardJobs(base_url=settings.base_url)
        dashboard_jobs.start()

        def live() -> set[str]:
            return services.runtime.live_interview_ids

        stale = asyncio.create_task(
            run_stale_sweeper(
                get_database, older_than=timedelta(minutes=settings.stale_interview_minutes), live=live
            )
        )
        logger.info("web process ready at %s", settings.base_url)
        try:
            yield
        finally:
            for task in (preload, stale):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            try:
                await services.runtime.aclose()
            finally:
                await dashboard_jobs.aclose()
                await scoring.aclose()

    docs = settings.api_docs
    app = FastAPI(
        title="mockline",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.services = services  # for tests and benchmarks; routes take their part as a dependency
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_middleware(BodyLimit, limit_for=_body_limits(settings))
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(SecurityHeaders)

    from dashboard import install_dashboard

    install_dashboard(app, services.dashboard)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with get_database().session() as s:
                s.execute(text("SELECT 1"))
        except Exception:
            logger.exception("health check: database unreachable")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    from signaling import install_signaling
    from telephony import install_telephony

    install_telephony(app, services.telephony)
    install_signaling(app, services.signaling)

    return app
