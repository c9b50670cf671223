"""Interview plans and candidate invitations (link shown once with a copy button, phone PIN, expiry)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import desc, func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from storage import (
    OPEN_STATUSES,
    Database,
    Interview,
    InterviewPlan,
    InterviewStatus,
    Invitation,
    create_invitation,
    rotate_token,
    utcnow,
)

from ._bulk_invite import BulkReport
from ._deps import DatabaseDep, dashboard_of
from ._errors import DashboardError, NotFound
from ._invite_delivery import invitation_link, send_invitations
from ._mail import Mailer, MailError, get_mail_settings
from ._plans import (
    DIFFICULTIES,
    INTERVIEW_TYPES,
    SENIORITIES,
    PlanForm,
    PlanFormError,
    build_spec,
    pdf_to_text,
    personalised_spec,
    role_choices,
    round_choices,
)
from ._roles import EDIT
from ._sessions import Viewer
from ._settings import get_dashboard_settings
from ._web import SignedForm, current_viewer, need, render, signed_form

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
_RESUME_MAX = 50_000


def _plan_form_page(
    request: Request, viewer: Viewer, form: PlanForm, errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "plan_new.html",
        {
            "title": "New interview plan",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "form": form,
            "errors": errors,
            "roles": role_choices(),
            "rounds": round_choices(),
            "seniorities": SENIORITIES,
            "types": INTERVIEW_TYPES,
            "difficulties": DIFFICULTIES,
        },
        status_code=status_code,
    )


@router.get("/dashboard/plans", name="plans")
def plan_list(request: Request, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)) -> Response:
    with db.session() as s:
        counts = (
            select(Invitation.plan_id, func.count(Invitation.id).label("n"))
            .where(Invitation.org_id == viewer.org_id)
            .group_by(Invitation.plan_id)
            .subquery()
        )
        rows = s.execute(
            select(InterviewPlan, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.plan_id == InterviewPlan.id)
            .where(InterviewPlan.org_id == viewer.org_id)
            .order_by(desc(InterviewPlan.created_at))
        ).all()
    archived = request.query_params.get("archived") == "1"
    shown = [(p, n) for p, n in rows if (p.archived_at is not None) == archived]
    return render(
        request,
        "plans.html",
        {
            "title": "Archived plans" if archived else "Interview plans",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "plans": shown,
            "archived": archived,
            "archived_count": sum(1 for p, _ in rows if p.archived_at is not None),
        },
    )


@router.get("/dashboard/plans/new", name="plan_new")
def plan_new(request: Request, viewer: Viewer = Depends(need(EDIT))) -> Response:
    return _plan_form_page(request, viewer, PlanForm(), {})


@router.post("/dashboard/plans", name="plan_create")
async def plan_create(request: Request, db: DatabaseDep, form: SignedForm = Depends(signed_form)) -> Response:
    viewer = form.viewer
    pf = PlanForm(
        title=form.get("title"),
        role=form.get("role"),
        seniority=form.get("seniority"),
        interview_type=form.get("interview_type"),
        rounds=[r for r in form.data.getlist("rounds") if isinstance(r, str)],
        question_count=form.get("question_count"),
        time_limit_minutes=form.get("time_limit_minutes"),
        difficulty=form.get("difficulty"),
        job_description=form.get("job_description"),
    )
    # Building the plan reads the question bank and the database: off the event loop.
    return await run_in_threadpool(_create_plan, request, db, viewer, pf)


def _create_plan(request: Request, db: Database, viewer: Viewer, pf: PlanForm) -> Response:
    """The plan carries the job description; résumés belong to candidates (their invitations)."""
    try:
        args = pf.checked()
        spec = build_spec(args)
    except PlanFormError as e:
        return _plan_form_page(request, viewer, pf, e.errors, status_code=422)
    with db.session() as s:
        plan = InterviewPlan.from_spec(
            spec,
            title=pf.title or f"{spec['role']} ({spec['seniority']}, {spec['interview_type']})",
            org_id=viewer.org_id,
            created_by=viewer.user_id,
            job_description=args["job_description"],
        )
        s.add(plan)
        s.flush()
        plan_id = plan.id
    logger.info("interview plan created", extra={"plan_id": plan_id, "user_id": viewer.user_id})
    return RedirectResponse(f"/dashboard/plans/{plan_id}", status_code=303)


def _org_plan(s, viewer: Viewer, plan_id: str) -> InterviewPlan:  # type: ignore[no-untyped-def]
    plan = s.get(InterviewPlan, plan_id) if len(plan_id) <= 64 else None
    if plan is None or plan.org_id != viewer.org_id:
        raise NotFound("No such interview plan.")
    return plan


def _invitation_state(inv: Invitation, interview_status: InterviewStatus | None) -> str:
    if inv.revoked:
        return "withdrawn"
    if interview_status and interview_status not in OPEN_STATUSES:
        return "completed"
    expires = inv.expires_at if inv.expires_at.tzinfo else inv.expires_at.replace(tzinfo=UTC)
    if expires <= utcnow():
        return "expired"
    return "in progress" if interview_status == InterviewStatus.IN_PROGRESS else "open"


def _plan_page(
    request: Request,
    db: Database,
    viewer: Viewer,
    plan_id: str,
    *,
    new_link: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    bulk: BulkReport | None = None,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        latest = (
            select(Interview.status)
            .where(Interview.invitation_id == Invitation.id)
            .order_by(desc(Interview.created_at))
            .limit(1)
            .scalar_subquery()
        )
        invitations = [
            (inv, _invitation_state(inv, status))
            for inv, status in s.execute(
                select(Invitation, latest)
                .where(Invitation.plan_id == plan.id)
                .order_by(desc(Invitation.created_at))
            )
        ]
    return render(
        request,
        "plan.html",
        {
            "title": plan.title,
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "plan": plan,
            "questions": (plan.spec or {}).get("questions", []),
            "invitations": invitations,
            "new_link": new_link,
            "errors": errors or {},
            "form": form or {"valid_days": str(get_dashboard_settings().invitation_days), "send_email": "1"},
            "notice": notice,
            "bulk": bulk,
            "mail_enabled": get_mail_settings().enabled,
        },
        status_code=status_code,
    )


@router.get("/dashboard/plans/{plan_id}", name="plan")
def plan_page(
    request: Request, plan_id: str, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)
) -> Response:
    saved = "The plan is saved." if request.query_params.get("saved") else None
    return _plan_page(request, db, viewer, plan_id, notice=saved)


def _link(request: Request, token: str) -> str:
    return invitation_link(dashboard_of(request.app).base_url, token)


def _email_one(request: Request, db: Database, invitation_id: str, token: str) -> str:
    """Send one invitation e-mail; the sentence to show the recruiter."""
    try:
        problem = send_invitations(
            db, Mailer(), dashboard_of(request.app).base_url, [(invitation_id, token)]
        )[invitation_id]
    except MailError as e:
        return f"The e-mail was not sent: {e.message} Copy the link below instead."
    if problem:
        return f"The e-mail was not sent: {problem} Copy the link below instead."
    return "The invitation was e-mailed to the candidate."


class Archived(DashboardError):
    status = 409

    def __init__(self) -> None:
        super().__init__("This plan is archived: restore it before inviting candidates.")


def _candidate_resume(form: SignedForm, errors: dict[str, str]) -> str:
    """The candidate's résumé from the invitation form: pasted text, and/or the text of an uploaded PDF."""
    text = form.get("resume_text")
    if len(text) > _RESUME_MAX:
        errors["resume_text"] = f"Keep the résumé under {_RESUME_MAX:,} characters."
        return ""
    upload = form.data.get("resume_pdf")
    if not (isinstance(upload, UploadFile) and upload.filename):
        return text
    limit = get_dashboard_settings().upload_max_bytes
    upload.file.seek(0)
    pdf = upload.file.read(limit + 1)
    if len(pdf) > limit:
        errors["resume_pdf"] = f"The PDF is larger than {limit // (1024 * 1024)} MB."
    elif not pdf.startswith(b"%PDF"):
        errors["resume_pdf"] = "That file is not a PDF."
    else:
        try:
            return (text + "\n\n" + pdf_to_text(pdf)).strip()
        except PlanFormError as e:
            errors.update(e.errors)
    return ""


@router.post("/dashboard/plans/{plan_id}/invitations", name="invite")
def invite(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    values = {
        k: form.get(k)
        for k in ("candidate_name", "candidate_email", "candidate_phone", "valid_days", "send_email")
    }
    errors: dict[str, str] = {}
    if len(values["candidate_name"]) > 200:
        errors["candidate_name"] = "Keep the name under 200 characters."
    if values["candidate_email"] and not _EMAIL.match(values["candidate_email"]):
        errors["candidate_email"] = "That does not look like an e-mail address."
    if values["candidate_phone"] and not _PHONE.match(values["candidate_phone"]):
        errors["candidate_phone"] = "Enter the phone number with digits only, e.g. +44 20 7946 0000."
    try:
        days = int(values["valid_days"] or get_dashboard_settings().invitation_days)
        if not 1 <= days <= 90:
            raise ValueError
    except ValueError:
        errors["valid_days"] = "The link must be valid for 1 to 90 days."
        days = 0
    resume = _candidate_resume(form, errors)
    values["resume_text"] = form.get("resume_text")
    if errors:
        return _plan_page(request, db, viewer, plan_id, errors=errors, form=values, status_code=422)
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        if plan.archived_at is not None:
            raise Archived()
        own_spec = personalised_spec(plan.spec or {}, resume) if resume else None
        new = create_invitation(
            s,
            plan_id=plan.id,
            org_id=viewer.org_id,
            candidate_name=values["candidate_name"],
            candidate_email=values["candidate_email"] or None,
            candidate_phone=values["candidate_phone"] or None,
            valid_for=timedelta(days=days),
            created_by=viewer.user_id,
            resume_text=resume or None,
            plan_spec=own_spec,
        )
        shown = {
            "link": _link(request, new.token),
            "pin": new.invitation.pin or "",
            "candidate": values["candidate_name"],
            "invitation_id": new.invitation.id,
            "personalised": ((own_spec or {}).get("steering") or {}).get("personalised_from") or "",
            "resume_unused": "1" if resume and own_spec is None else "",
        }
        token = new.token
    logger.info("invitation created", extra={"plan_id": plan_id, "user_id": viewer.user_id})
    notice = None
    if values["send_email"] and values["candidate_email"] and get_mail_settings().enabled:
        notice = _email_one(request, db, shown["invitation_id"], token)
    return _plan_page(request, db, viewer, plan_id, new_link=shown, notice=notice)


@router.post("/dashboard/invitations/{invitation_id}/link", name="new_link")
def new_link(
    request: Request, invitation_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    with db.session() as s:
        inv = s.get(Invitation, invitation_id) if len(invitation_id) <= 64 else None
        if inv is None or inv.org_id != viewer.org_id:
            raise NotFound("No such invitation.")
        token = rotate_token(s, inv)
        shown = {
            "link": _link(request, token),
            "pin": inv.pin or "",
            "candidate": inv.candidate_name,
            "invitation_id": inv.id,
        }
        plan_id = inv.plan_id
    logger.info("invitation link replaced", extra={"invitation_id": invitation_id, "user_id": viewer.user_id})
    return _plan_page(request, db, viewer, plan_id, new_link=shown)
