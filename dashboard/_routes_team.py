"""The team (admins): add a member with a role and a first password shown once, change a role, remove."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from storage import Database

from ._deps import DatabaseDep
from ._errors import AccountError
from ._roles import ADMIN, ROLES, role_label
from ._sessions import Viewer
from ._users import change_role, create_user, org_users, remove_user
from ._web import SignedForm, edit_form, need, render

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()


def _page(
    request: Request,
    db: Database,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    new_member: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        members = org_users(s, viewer.org_id)
    return render(
        request,
        "team.html",
        {
            "title": "Team",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "members": members,
            "roles": [(r, role_label(r)) for r in ROLES],
            "errors": errors or {},
            "form": form or {"role": "recruiter"},
            "notice": notice,
            "new_member": new_member,
        },
        status_code=status_code,
    )


@router.get("/dashboard/team", name="team")
def team(request: Request, db: DatabaseDep, viewer: Viewer = Depends(need(ADMIN))) -> Response:
    return _page(request, db, viewer)


@router.post("/dashboard/team", name="team_add")
def team_add(request: Request, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))) -> Response:
    viewer = form.viewer
    values = {k: form.get(k) for k in ("email", "name", "role")}
    password = secrets.token_urlsafe(15)  # 20 characters, shown once; they change it after logging in
    try:
        with db.session() as s:
            create_user(
                s,
                email=values["email"],
                password=password,
                org_id=viewer.org_id,
                name=values["name"][:200],
                role=values["role"],
            )
    except AccountError as e:
        return _page(request, db, viewer, errors={"email": e.message}, form=values, status_code=422)
    logger.info("team member added", extra={"user_id": viewer.user_id, "role": values["role"]})
    shown = {"email": values["email"].strip().lower(), "password": password}
    return _page(request, db, viewer, new_member=shown)


@router.post("/dashboard/team/{user_id}/role", name="team_role")
def team_role(
    request: Request, user_id: str, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))
) -> Response:
    viewer = form.viewer
    try:
        with db.session() as s:
            user = change_role(s, org_id=viewer.org_id, user_id=user_id, role=form.get("role"))
            notice = f"{user.email} is now {user.role}."
    except AccountError as e:
        return _page(request, db, viewer, notice=e.message, status_code=422)
    logger.info("team role changed", extra={"user_id": viewer.user_id, "member_id": user_id})
    return _page(request, db, viewer, notice=notice)


@router.post("/dashboard/team/{user_id}/remove", name="team_remove")
def team_remove(
    request: Request, user_id: str, db: DatabaseDep, form: SignedForm = Depends(edit_form(ADMIN))
) -> Response:
    viewer = form.viewer
    try:
        with db.session() as s:
            email = remove_user(s, org_id=viewer.org_id, user_id=user_id, acting_user_id=viewer.user_id)
    except AccountError as e:
        return _page(request, db, viewer, notice=e.message, status_code=422)
    logger.info("team member removed", extra={"user_id": viewer.user_id, "member_id": user_id})
    return _page(request, db, viewer, notice=f"{email} was removed from the team.")
