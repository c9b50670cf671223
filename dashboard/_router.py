"""Puts the dashboard into the web app: routes, static files and the error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from ._errors import DashboardError
from ._reports import report_router
from ._routes_auth import router as auth_router
from ._routes_interviews import router as interviews_router
from ._routes_plans import router as plans_router
from ._routes_practice import router as practice_router
from ._web import handle_dashboard_error

__all__ = ["install_dashboard", "router"]

router = APIRouter()
for _r in (auth_router, interviews_router, plans_router, practice_router):
    router.include_router(_r)

STATIC_DIR = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI) -> None:
    """Mount the dashboard on ``app``: /login, /logout, /dashboard/…, /practice…, /static/dashboard/…,
    and the report API (/api/interviews/{id}/report[.pdf]) behind the same login and organisation check."""
    app.include_router(router)
    app.include_router(report_router())
    app.mount("/static/dashboard", StaticFiles(directory=STATIC_DIR), name="dashboard_static")
    app.add_exception_handler(DashboardError, handle_dashboard_error)
