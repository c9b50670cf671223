"""The organisation's invitation e-mail (admins and recruiters): edit the subject and the message with
``{placeholders}``, preview it filled in for a sample candidate before saving, save it, or go back to the
standard wording. A template with an unknown placeholder or an unpaired brace is refused with a message
saying which; every saved invitation e-mail still carries the link, the PIN and the deadline."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from storage import (
    Database,
    Organization,
    delete_email_template,
    get_email_template,
    save_email_template,
    utcnow,
)

from ._deps import DatabaseDep, dashboard_of
from ._invitation_mail import format_deadline
from ._mail import get_mail_settings
from ._mail_template import (
    DEFAULT_BODY,
    DEFAULT_SUBJECT,
    PLACEHOLDERS,
    Rendered,
    TemplateProblem,
    check,
    render,
)
from ._roles import EDIT
from ._sessions import Viewer
from ._settings import get_dashboard_settings
from ._web import SignedForm, edit_form, need
from ._web import render as render_page

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()
KIND = "invitation"
PATH = "/dashboard/email-template"


def _sample(request: Request, company: str) -> dict[str, str]:
    """Made-up values for the preview (no real candidate's link is ever shown here)."""
    base = dashboard_of(request.app).base_url.rstrip("/")
    days = get_dashboard_settings().invitation_days
    return {
        "candidate_name": "Dana Whitfield",
        "company": company,
        "role": "Backend engineer",
        "link": f"{base}/i/example-link-for-the-preview",
        "pin": "482913",
        "deadline": format_deadline(utcnow() + timedelta(days=days)),
        "minutes": "20",
    }


def _page(
    request: Request,
    viewer: Viewer,
    db: Database,
    *,
    subject: str | None = None,
    body: str | None = None,
    errors: dict[str, str] | None = None,
    preview: Rendered | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        org = s.get(Organization, viewer.org_id)
        company = org.name if org is not None else ""
        own = get_email_template(s, org_id=viewer.org_id, kind=KIND)
        custom = own is not None
        if subject is None or body is None:
            subject, body = (own.subject, own.body) if own is not None else (DEFAULT_SUBJECT, DEFAULT_BODY)
    return render_page(
        request,
        "email_template.html",
        {
            "title": "Invitation e-mail",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "subject": subject,
            "body": body,
            "placeholders": PLACEHOLDERS,
            "errors": errors or {},
            "preview": preview,
            "saved": saved,
            "custom": custom,
            "company": company,
        },
        status_code=status_code,
    )


@router.get(PATH, name="email_template")
def email_template(request: Request, db: DatabaseDep, viewer: Viewer = Depends(need(EDIT))) -> Response:
    return _page(request, viewer, db)


@router.post(PATH, name="email_template_post")
def email_template_post(
    request: Request, db: DatabaseDep, form: SignedForm = Depends(edit_form(EDIT))
) -> Response:
    viewer = form.viewer
    action = form.get("action")
    if action == "reset":
        with db.session() as s:
            delete_email_template(s, org_id=viewer.org_id, kind=KIND)
        logger.info("invitation e-mail back to the standard wording", extra={"user_id": viewer.user_id})
        return RedirectResponse(PATH, status_code=303)
    subject = form.get("subject").replace("\r\n", "\n")
    body = form.get("body").replace("\r\n", "\n")
    try:
        check(subject, body)
    except TemplateProblem as e:
        return _page(
            request, viewer, db, subject=subject, body=body, errors={e.field: e.message}, status_code=422
        )
    with db.session() as s:
        org = s.get(Organization, viewer.org_id)
        company = org.name if org is not None else ""
    preview = render(
        subject, body, values=_sample(request, company), dial_in=get_mail_settings().dial_in_number
    )
    if action != "save":
        return _page(request, viewer, db, subject=subject, body=body, preview=preview)
    with db.session() as s:
        save_email_template(
            s, org_id=viewer.org_id, kind=KIND, subject=subject, body=body, user_id=viewer.user_id
        )
    logger.info("invitation e-mail template saved", extra={"user_id": viewer.user_id})
    return _page(request, viewer, db, subject=subject, body=body, preview=preview, saved=True)
