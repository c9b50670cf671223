"""The one web process: health, and the routers of signaling, telephony and dashboard."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from storage import get_database

from .settings import AppSettings, get_app_settings

logger = logging.getLogger("mockline.web")


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or get_app_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("web process ready at %s", settings.base_url)
        yield

    app = FastAPI(title="mockline", lifespan=lifespan)
    app.state.settings = settings

    from dashboard import install_dashboard

    install_dashboard(app)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with get_database().session() as s:
                s.execute(text("SELECT 1"))
        except Exception:
            logger.exception("health check: database unreachable")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    from telephony import router as telephony_router

    app.include_router(telephony_router)

    from signaling import create_router as signaling_router

    app.include_router(signaling_router())

    return app
