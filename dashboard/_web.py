"""Shared request plumbing: templates, the logged-in viewer, CSRF-checked forms, cookies, error pages."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from scoring import LABELS
from storage import get_database

from ._errors import CsrfRejected, DashboardError, Forbidden, LoginRequired
from ._sessions import SESSION_COOKIE, Viewer, load_viewer

__all__ = [
    "ANON_CSRF_COOKIE",
    "AnonForm",
    "SignedForm",
    "anon_csrf_token",
    "anon_form",
    "current_viewer",
    "edit_form",
    "handle_dashboard_error",
    "need",
    "render",
    "secure_cookies",
    "session_form",
    "set_anon_csrf_cookie",
    "signed_form",
    "templates",
]

logger = logging.getLogger("mockline.dashboard")

ANON_CSRF_COOKIE = "ml_csrf"
_MAX_FORM_FILES = 2
_MAX_FORM_FIELDS = 400  # a plan's edit form: up to 31 question slots of 11 fields


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = max(0, int(seconds))
    return f"{total // 60}:{total % 60:02d}"


def _when(dt: datetime | None) -> str | markupsafe.Markup:
    """A moment as ``<time>``: UTC in the page, shown in the viewer's own time zone by ``localtime.js``."""
    if dt is None:
        return "–"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return markupsafe.Markup('<time datetime="{}" data-local>{}</time>').format(
        dt.strftime("%Y-%m-%dT%H:%M:%SZ"), dt.strftime("%Y-%m-%d %H:%M UTC")
    )


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _label(key: str) -> str:
    from ._labels import human

    return human(key)


def _recommendation(key: str | None) -> str:
    return "–" if not key else LABELS.get(key, _label(key))


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(clock=_clock, when=_when, score=_score, label=_label, rec=_recommendation)
templates = Jinja2Templates(env=_env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    ctx = {"viewer": None, "csrf_token": "", "errors": {}, "title": "mockline"}
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def secure_cookies(request: Request) -> bool:
    """Cookies carry ``Secure`` when the public URL is https."""
    from ._deps import dashboard_of

    return dashboard_of(request.app).base_url.startswith("https://")


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def current_viewer(request: Request) -> Viewer:
    """The logged-in recruiter; raises :class:`LoginRequired` without a live session."""
    token = request.cookies.get(SESSION_COOKIE)
    with get_database().session() as s:
        viewer = load_viewer(s, token)
    if viewer is None:
        raise LoginRequired(next_path=_here(request) if request.method == "GET" else "/dashboard")
    request.state.viewer = viewer
    return viewer


async def _read_form(request: Request) -> FormData:
    try:
        data = await request.form(max_files=_MAX_FORM_FILES, max_fields=_MAX_FORM_FIELDS)
    except HTTPException as e:  # malformed multipart, too many fields, a field too large
        raise DashboardError(f"The form could not be read: {e.detail}") from e
    # No text a person types holds a NUL character, and PostgreSQL cannot store one.
    if any(isinstance(v, str) and "\x00" in v for v in data.values()):
        raise DashboardError("The form could not be read: it holds a NUL character.")
    return data


@dataclass(frozen=True, slots=True)
class SignedForm:
    """A POSTed form whose CSRF token matched the viewer's session."""

    viewer: Viewer
    data: FormData

    def get(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        return value.strip() if isinstance(value, str) else default


@dataclass(frozen=True, slots=True)
class AnonForm:
    """A POSTed form from a visitor without a session, checked with the double-submit cookie."""

    data: FormData
    csrf_token: str

    def get(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        return value.strip() if isinstance(value, str) else default


async def session_form(request: Request, viewer: Viewer = Depends(current_viewer)) -> SignedForm:
    """A CSRF-checked form from any logged-in role (log out, and nothing else that changes data)."""
    data = await _read_form(request)
    sent = data.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
        logger.warning("CSRF token rejected", extra={"path": request.url.path})
        raise CsrfRejected()
    return SignedForm(viewer=viewer, data=data)


async def signed_form(form: SignedForm = Depends(session_form)) -> SignedForm:
    """A CSRF-checked form that changes data: refused (403) for read-only roles. Every dashboard POST uses
    this or :func:`edit_form` with a stronger action, so a new route is protected by default."""
    if not form.viewer.can("edit"):
        logger.info("refused by role", extra={"user_id": form.viewer.user_id, "action": "edit"})
        raise Forbidden()
    return form


def anon_csrf_token(request: Request) -> str:
    """The visitor's double-submit token (from the cookie, or a new one the response must set)."""
    token = request.cookies.get(ANON_CSRF_COOKIE, "")
    if len(token) < 32 or len(token) > 128:
        token = secrets.token_urlsafe(32)
    return token


def set_anon_csrf_cookie(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(ANON_CSRF_COOKIE) != token:
        response.set_cookie(
            ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
        )


async def anon_form(request: Request) -> AnonForm:
    data = await _read_form(request)
    cookie = request.cookies.get(ANON_CSRF_COOKIE, "")
    sent = data.get("csrf_token")
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), cookie.encode()):
        logger.warning("CSRF token rejected", extra={"path": request.url.path})
        raise CsrfRejected()
    return AnonForm(data=data, csrf_token=cookie)


def need(action: str):  # type: ignore[no-untyped-def]
    """A dependency: the logged-in viewer, refused with 403 unless their role allows ``action``."""

    def dependency(viewer: Viewer = Depends(current_viewer)) -> Viewer:
        if not viewer.can(action):
            logger.info("refused by role", extra={"user_id": viewer.user_id, "action": action})
            raise Forbidden()
        return viewer

    return dependency


def edit_form(action: str = "edit"):  # type: ignore[no-untyped-def]
    """A dependency: a CSRF-checked form from a viewer whose role allows ``action``."""

    async def dependency(form: SignedForm = Depends(session_form)) -> SignedForm:
        if not form.viewer.can(action):
            logger.info("refused by role", extra={"user_id": form.viewer.user_id, "action": action})
            raise Forbidden()
        return form

    return dependency


def handle_dashboard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DashboardError)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    if isinstance(exc, LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)
    viewer = getattr(request.state, "viewer", None)
    return render(
        request,
        "error.html",
        {
            "viewer": viewer,
            "csrf_token": viewer.csrf_token if viewer else "",
            "title": f"Error {exc.status}",
            "status": exc.status,
            "message": exc.message,
        },
        status_code=exc.status,
    )
