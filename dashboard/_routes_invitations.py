"""Managing sent invitations: withdraw, extend, e-mail with a new link, and invite a CSV list at once."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from storage import (
    Database,
    Invitation,
    create_invitation,
    extend_invitation,
    revoke_invitation,
    rotate_token,
)

from ._bulk_invite import BulkInvited, BulkReport, parse_candidates
from ._deps import DatabaseDep, dashboard_of
from ._errors import NotFound
from ._invite_delivery import send_invitations
from ._mail import Mailer, MailError, get_mail_settings
from ._routes_plans import Archived, _email_one, _link, _org_plan, _plan_page
from ._sessions import Viewer
from ._settings import get_dashboard_settings
from ._web import SignedForm, signed_form

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()


def _org_invitation(s, viewer: Viewer, invitation_id: str) -> Invitation:  # type: ignore[no-untyped-def]
    inv = s.get(Invitation, invitation_id) if len(invitation_id) <= 64 else None
    if inv is None or inv.org_id != viewer.org_id:
        raise NotFound("No such invitation.")
    return inv


@router.post("/dashboard/invitations/{invitation_id}/revoke", name="revoke_invitation")
def revoke(
    request: Request, invitation_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    with db.session() as s:
        inv = _org_invitation(s, viewer, invitation_id)
        revoke_invitation(inv)
        plan_id, name = inv.plan_id, inv.candidate_name
    logger.info("invitation withdrawn", extra={"invitation_id": invitation_id, "user_id": viewer.user_id})
    return _plan_page(
        request, db, viewer, plan_id, notice=f"The invitation for {name or 'the candidate'} was withdrawn."
    )


@router.post("/dashboard/invitations/{invitation_id}/extend", name="extend_invitation")
def extend(
    request: Request, invitation_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    try:
        days = int(form.get("days") or 7)
        if not 1 <= days <= 90:
            raise ValueError
    except ValueError:
        days = 0
    with db.session() as s:
        inv = _org_invitation(s, viewer, invitation_id)
        plan_id = inv.plan_id
        if days == 0 or inv.revoked:
            message = "Extend by 1 to 90 days." if days == 0 else "A withdrawn invitation cannot be extended."
            return _plan_page(request, db, viewer, plan_id, notice=message, status_code=422)
        extend_invitation(inv, by=timedelta(days=days))
    logger.info("invitation extended", extra={"invitation_id": invitation_id, "user_id": viewer.user_id})
    return _plan_page(request, db, viewer, plan_id, notice=f"The invitation now runs {days} more day(s).")


@router.post("/dashboard/invitations/{invitation_id}/email", name="email_invitation")
def email(
    request: Request, invitation_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    """E-mail the candidate a new link (links are only known when made; the old one stops working)."""
    viewer = form.viewer
    with db.session() as s:
        inv = _org_invitation(s, viewer, invitation_id)
        plan_id = inv.plan_id
        if not inv.candidate_email or inv.revoked:
            why = "This invitation has no e-mail address." if not inv.candidate_email else "It was withdrawn."
            return _plan_page(request, db, viewer, plan_id, notice=why, status_code=422)
        token = rotate_token(s, inv)
        shown = {
            "link": _link(request, token),
            "pin": inv.pin or "",
            "candidate": inv.candidate_name,
            "invitation_id": inv.id,
        }
    notice = _email_one(request, db, invitation_id, token)
    return _plan_page(request, db, viewer, plan_id, new_link=shown, notice=notice)


@router.post("/dashboard/plans/{plan_id}/invitations/bulk", name="bulk_invite")
async def bulk_invite(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    upload = form.data.get("candidates_csv")
    data = b""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(get_dashboard_settings().upload_max_bytes + 1)
    return await run_in_threadpool(
        _bulk, request, db, form.viewer, plan_id, data, form.get("send_email"), form.get("valid_days")
    )


def _bulk(
    request: Request,
    db: Database,
    viewer: Viewer,
    plan_id: str,
    data: bytes,
    send_email: str,
    valid_days: str,
) -> Response:
    settings = get_dashboard_settings()
    errors: dict[str, str] = {}
    if not data:
        errors["candidates_csv"] = "Choose a CSV file with one candidate per line: name,email[,phone]."
    elif len(data) > settings.upload_max_bytes:
        errors["candidates_csv"] = f"The file is larger than {settings.upload_max_bytes // (1024 * 1024)} MB."
    try:
        days = int(valid_days or settings.invitation_days)
        if not 1 <= days <= 90:
            raise ValueError
    except ValueError:
        errors["bulk_days"] = "The links must be valid for 1 to 90 days."
        days = 0
    if errors:
        with db.session() as s:
            _org_plan(s, viewer, plan_id)
        return _plan_page(request, db, viewer, plan_id, errors=errors, status_code=422)
    rows, problems = parse_candidates(data)
    made: list[tuple[str, str, BulkInvited]] = []
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        if plan.archived_at is not None:
            raise Archived()
        for row in rows:
            new = create_invitation(
                s,
                plan_id=plan.id,
                org_id=viewer.org_id,
                candidate_name=row.name,
                candidate_email=row.email,
                candidate_phone=row.phone,
                valid_for=timedelta(days=days),
                created_by=viewer.user_id,
            )
            shown = BulkInvited(
                line=row.line,
                name=row.name,
                email=row.email,
                link=_link(request, new.token),
                pin=new.invitation.pin or "",
                mail_problem=None,
            )
            made.append((new.invitation.id, new.token, shown))
    emailed = bool(send_email) and get_mail_settings().enabled and bool(made)
    mail_error = None
    invited = [m for _, _, m in made]
    if emailed:
        try:
            outcome = send_invitations(
                db, Mailer(), dashboard_of(request.app).base_url, [(i, t) for i, t, _ in made]
            )
            invited = [
                BulkInvited(m.line, m.name, m.email, m.link, m.pin, outcome.get(i)) for i, _, m in made
            ]
        except MailError as e:
            mail_error = e.message
    logger.info(
        "bulk invitation: %d invited, %d rows refused",
        len(made),
        len(problems),
        extra={"plan_id": plan_id, "user_id": viewer.user_id},
    )
    report = BulkReport(invited=invited, problems=problems, emailed=emailed, mail_error=mail_error)
    return _plan_page(request, db, viewer, plan_id, bulk=report, status_code=200 if made else 422)
