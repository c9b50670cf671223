"""Login and logout."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from storage import User

from ._deps import DatabaseDep, dashboard_of
from ._passwords import verify_password
from ._ratelimit import LoginThrottle
from ._sessions import SESSION_COOKIE, end_session, load_viewer, start_session
from ._settings import get_dashboard_settings
from ._web import (
    AnonForm,
    SignedForm,
    anon_csrf_token,
    anon_form,
    render,
    secure_cookies,
    set_anon_csrf_cookie,
)
from ._web import session_form as _signed_form  # any role may log out

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()


def _throttle(request: Request) -> LoginThrottle:
    settings = get_dashboard_settings()
    return LoginThrottle(
        limiter=dashboard_of(request.app).rate_limiter,
        per_pair=settings.login_max_failures_per_email,
        per_ip=settings.login_max_failures_per_ip,
        window_s=settings.login_window_seconds,
    )


def _safe_next(target: str) -> str:
    # Only same-site paths: "/x" yes; "//evil.example", "/\\evil", "https://…" no.
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/dashboard"


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str = "/dashboard",
    error: str = "",
    status_code: int = 200,
    token: str | None = None,
) -> Response:
    token = token or anon_csrf_token(request)
    response = render(
        request,
        "login.html",
        {"title": "Log in", "anon_csrf": token, "email": email, "next_path": next_path, "error": error},
        status_code=status_code,
    )
    set_anon_csrf_cookie(request, response, token)
    return response


@router.get("/login", name="login")
def login_page(request: Request, db: DatabaseDep, next: str = "/dashboard") -> Response:
    with db.session() as s:
        if load_viewer(s, request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login")
def login(request: Request, db: DatabaseDep, form: AnonForm = Depends(anon_form)) -> Response:
    email = form.get("email").lower()
    password = form.data.get("password", "")
    password = password if isinstance(password, str) else ""
    next_path = _safe_next(form.get("next") or "/dashboard")
    if not email or not password or len(email) > 320 or len(password) > 1024:
        return _login_page(
            request,
            email=email[:320],
            next_path=next_path,
            token=form.csrf_token,
            error="Enter your e-mail address and password.",
            status_code=422,
        )
    throttle = _throttle(request)
    ip = request.client.host if request.client else "unknown"
    wait = throttle.reserve(ip=ip, email=email)  # counted before the hash: concurrent guesses all count
    if wait:
        minutes = max(1, round(wait / 60))
        logger.warning("login rate limited", extra={"client_ip": ip})
        response = _login_page(
            request,
            email=email,
            next_path=next_path,
            token=form.csrf_token,
            error=f"Too many failed attempts. Try again in about {minutes} min.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    lifetime = timedelta(hours=get_dashboard_settings().session_hours)
    with db.session() as s:
        user = s.scalar(select(User).where(func.lower(User.email) == email))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            logger.info("login refused")
            return _login_page(
                request,
                email=email,
                next_path=next_path,
                token=form.csrf_token,
                error="That e-mail address and password do not match.",
                status_code=401,
            )
        token = start_session(s, user, lifetime=lifetime)
        user_id = user.id
    throttle.succeeded(ip=ip, email=email)
    logger.info("login", extra={"user_id": user_id})
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response


@router.post("/logout", name="logout")
def logout(request: Request, db: DatabaseDep, form: SignedForm = Depends(_signed_form)) -> Response:
    with db.session() as s:
        end_session(s, request.cookies.get(SESSION_COOKIE))
    logger.info("logout", extra={"user_id": form.viewer.user_id})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response
