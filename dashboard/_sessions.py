"""Dashboard logins: a random cookie token per login; only its SHA-256 is stored (``UserSession.id``)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import User, UserSession, utcnow

__all__ = ["SESSION_COOKIE", "Viewer", "end_session", "load_viewer", "start_session"]

SESSION_COOKIE = "ml_session"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in recruiter, as the routes need them."""

    user_id: str
    org_id: str
    email: str
    name: str
    is_admin: bool
    csrf_token: str
    session_id: str
    role: str = "recruiter"  # admin | recruiter | viewer (dashboard/_roles.py)

    def can(self, action: str) -> bool:
        from ._roles import allows

        return allows(self.role, action)


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def start_session(s: Session, user: User, *, lifetime: timedelta) -> str:
    """Create a login for ``user``; returns the cookie token (the only time it exists in clear)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Expired logins of this user are swept as a new one starts.
    s.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    s.add(
        UserSession(
            id=_session_id(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    s.flush()
    return token


def load_viewer(s: Session, token: str | None) -> Viewer | None:
    if not token or len(token) > 128:
        return None
    row = s.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == _session_id(token))
    ).first()
    if row is None:
        return None
    sess, user = row
    if _aware(sess.expires_at) <= utcnow():
        return None
    return Viewer(
        user_id=user.id,
        org_id=user.org_id,
        email=user.email,
        name=user.name,
        is_admin=user.is_admin,
        csrf_token=sess.csrf_token,
        session_id=sess.id,
        role="admin" if user.is_admin else (user.role or "recruiter"),
    )


def end_session(s: Session, token: str | None) -> None:
    if token and len(token) <= 128:
        s.execute(delete(UserSession).where(UserSession.id == _session_id(token)))
