"""Recruiter accounts (used by ``mockline admin``)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import Organization, User

from ._errors import AccountError, NotFound
from ._passwords import check_password_strength, hash_password
from ._roles import ROLES

__all__ = ["change_role", "create_user", "org_users", "remove_user"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_user(
    s: Session,
    *,
    email: str,
    password: str,
    org_name: str | None = None,
    org_id: str | None = None,
    name: str = "",
    is_admin: bool = False,
    role: str | None = None,
) -> User:
    """A new recruiter in an organisation: ``org_id``, or the organisation named ``org_name`` (created when it
    does not exist). Raises :class:`AccountError` for a bad e-mail, a weak password or a taken address."""
    role = role or ("admin" if is_admin else "recruiter")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    problem = check_password_strength(password)
    if problem:
        raise AccountError(problem)
    if s.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise AccountError(f"an account for {email} already exists")
    if org_id:
        org = s.get(Organization, org_id)
        if org is None:
            raise AccountError(f"no organisation with id {org_id}")
    elif org_name and org_name.strip():
        org = s.scalar(select(Organization).where(Organization.name == org_name.strip()))
        if org is None:
            org = Organization(name=org_name.strip())
            s.add(org)
            s.flush()
    else:
        raise AccountError("name the organisation (--org)")
    user = User(
        org_id=org.id,
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=role == "admin",
        role=role,
    )
    s.add(user)
    s.flush()
    return user


def org_users(s: Session, org_id: str) -> list[User]:
    return list(s.scalars(select(User).where(User.org_id == org_id).order_by(User.created_at)))


def _admins(s: Session, org_id: str) -> int:
    return (
        s.scalar(select(func.count()).select_from(User).where(User.org_id == org_id, User.role == "admin"))
        or 0
    )


def _member(s: Session, org_id: str, user_id: str) -> User:
    user = s.get(User, user_id) if len(user_id) <= 64 else None
    if user is None or user.org_id != org_id:
        raise NotFound("No such team member.")
    return user


def change_role(s: Session, *, org_id: str, user_id: str, role: str) -> User:
    """Give a team member another role; the organisation always keeps one admin."""
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    user = _member(s, org_id, user_id)
    if user.role == "admin" and role != "admin" and _admins(s, org_id) <= 1:
        raise AccountError("The team needs at least one admin: make someone else admin first.")
    user.role = role
    user.is_admin = role == "admin"
    s.flush()
    return user


def remove_user(s: Session, *, org_id: str, user_id: str, acting_user_id: str) -> str:
    """Delete a team member (their logins end with them); returns their e-mail. Not yourself, not the last
    admin. Plans and invitations they made stay (``created_by`` becomes empty)."""
    user = _member(s, org_id, user_id)
    if user.id == acting_user_id:
        raise AccountError("You cannot remove yourself; ask another admin.")
    if user.role == "admin" and _admins(s, org_id) <= 1:
        raise AccountError("The team needs at least one admin.")
    email = user.email
    s.delete(user)
    s.flush()
    return email
