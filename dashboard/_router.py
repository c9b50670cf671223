"""Puts the dashboard into the web app: routes, static files and the error pages."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.staticfiles import StaticFiles

from ._deps import DashboardServices
from ._errors import DashboardError
from ._reports import report_router
from ._routes_auth import router as auth_router
from ._routes_compare import router as compare_router
from ._routes_interviews import router as interviews_router
from ._routes_invitations import router as invitations_router
from ._routes_mail_template import router as mail_template_router
from ._routes_plan_edit import router as plan_edit_router
from ._routes_plans import router as plans_router
from ._routes_practice import router as practice_router
from ._routes_team import router as team_router
from ._routes_webhooks import router as webhooks_router
from ._sessions import Viewer
from ._web import current_viewer, handle_dashboard_error

__all__ = ["install_dashboard", "recruiter_api_auth", "router"]

router = APIRouter()
for _r in (
    auth_router,
    interviews_router,
    plans_router,
    invitations_router,
    practice_router,
    webhooks_router,
    team_router,
    compare_router,
    plan_edit_router,
    mail_template_router,
):
    router.include_router(_r)

STATIC_DIR = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI, services: DashboardServices) -> None:
    """Mount the dashboard on ``app``: /login, /logout, /dashboard/…, /practice…, /static/dashboard/…,
    and the report API (/api/interviews/{id}/report[.pdf]) behind the same login and organisation check.
    Routes take ``services`` as a typed dependency."""
    app.state.dashboard = services
    app.include_router(router)
    app.include_router(report_router())
    app.mount("/static/dashboard", StaticFiles(directory=STATIC_DIR), name="dashboard_static")
    app.add_exception_handler(DashboardError, handle_dashboard_error)


def recruiter_api_auth(request: Request) -> Viewer:
    """The logged-in recruiter for a JSON API call (other packages' APIs, e.g. telephony's /api/phone-screens,
    get this from the app's services); state-changing calls need the session's CSRF token in
    the ``X-CSRF-Token`` header (cookies alone would let another site make the call)."""
    viewer = current_viewer(request)
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
            raise HTTPException(status_code=403, detail="CSRF token missing or wrong (X-CSRF-Token header)")
        if not viewer.can("edit"):
            raise HTTPException(status_code=403, detail="Your role is read-only.")
    return viewer
