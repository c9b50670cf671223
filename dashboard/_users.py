"""Recruiter accounts (used by ``mockline admin``)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import Organization, User

from ._errors import AccountError
from ._passwords import check_password_strength, hash_password
from ._roles import ROLES

__all__ = ["create_user"]

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
