"""Practice mode: anyone picks a role and starts an interview; the coaching report is at an unguessable link.

The report link reuses the candidate's invitation token (only its hash is stored), so it is exactly as hard to
guess as the join link and shows nothing but that one interview. This browser remembers its recent practice
links in an HttpOnly cookie so the candidate can come back to them from ``/practice``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from storage import (
    Database,
    Interview,
    InterviewPlan,
    Invitation,
    create_invitation,
    hash_token,
)

from ._deps import DatabaseDep, dashboard_of
from ._errors import NotFound
from ._interview import load_interview_view
from ._plans import DIFFICULTIES, SENIORITIES, PlanForm, PlanFormError, build_spec, role_choices
from ._playback import latest_recording, recording_response
from ._settings import get_dashboard_settings
from ._web import AnonForm, anon_csrf_token, anon_form, render, secure_cookies, set_anon_csrf_cookie

__all__ = ["PRACTICE_COOKIE", "router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()

PRACTICE_COOKIE = "ml_practice"
_REMEMBERED = 5


def _remembered(request: Request) -> list[str]:
    raw = request.cookies.get(PRACTICE_COOKIE, "")
    return [t for t in raw.split(".") if 20 <= len(t) <= 128][:_REMEMBERED]


def _practice_page(
    request: Request,
    db: Database,
    *,
    form: PlanForm,
    errors: dict[str, str],
    status_code: int = 200,
    token: str | None = None,
) -> Response:
    token = token or anon_csrf_token(request)
    recent = []
    remembered = _remembered(request)
    if remembered:
        with db.session() as s:
            hashes = {hash_token(t): t for t in remembered}
            for inv, title in s.execute(
                select(Invitation, InterviewPlan.title)
                .join(InterviewPlan, InterviewPlan.id == Invitation.plan_id)
                .where(Invitation.token_hash.in_(list(hashes)), Invitation.mode == "practice")
                .order_by(desc(Invitation.created_at))
            ):
                recent.append({"title": title, "created_at": inv.created_at, "token": hashes[inv.token_hash]})
    response = render(
        request,
        "practice.html",
        {
            "title": "Practice an interview",
            "anon_csrf": token,
            "form": form,
            "errors": errors,
            "roles": role_choices(),
            "seniorities": SENIORITIES,
            "difficulties": DIFFICULTIES,
            "recent": recent,
        },
        status_code=status_code,
    )
    set_anon_csrf_cookie(request, response, token)
    return response


def _enabled() -> None:
    if not get_dashboard_settings().practice_enabled:
        raise NotFound("Practice mode is switched off on this server.")


@router.get("/practice", name="practice")
def practice_page(request: Request, db: DatabaseDep) -> Response:
    _enabled()
    return _practice_page(request, db, form=PlanForm(), errors={})


@router.post("/practice")
def practice_start(request: Request, db: DatabaseDep, form: AnonForm = Depends(anon_form)) -> Response:
    _enabled()
    settings = get_dashboard_settings()
    pf = PlanForm(
        role=form.get("role"),
        seniority=form.get("seniority") or "mid",
        difficulty=form.get("difficulty") or "medium",
        question_count=str(settings.practice_question_count),
        time_limit_minutes=str(settings.practice_time_limit_minutes),
    )
    try:
        spec = build_spec(pf.checked(), mode="practice")
    except PlanFormError as e:
        return _practice_page(request, db, form=pf, errors=e.errors, token=form.csrf_token, status_code=422)
    ip = request.client.host if request.client else "unknown"
    # Reserved, not checked-then-recorded: concurrent requests cannot all pass the limit.
    limiter = dashboard_of(request.app).rate_limiter
    hit = limiter.hit(f"practice:{ip}", limit=settings.practice_per_ip_per_hour, window_s=3600.0)
    if not hit.allowed:
        return _practice_page(
            request,
            db,
            form=pf,
            token=form.csrf_token,
            status_code=429,
            errors={"form": "Too many practice interviews from here; try again later."},
        )
    with db.session() as s:
        plan = InterviewPlan.from_spec(spec, title=f"Practice: {spec['role']}")
        s.add(plan)
        s.flush()
        new = create_invitation(
            s,
            plan_id=plan.id,
            org_id=None,
            mode="practice",
            valid_for=timedelta(hours=settings.practice_link_hours),
        )
        token = new.token
    logger.info("practice interview created")
    response = RedirectResponse(f"/i/{token}", status_code=303)
    remembered = [token, *(t for t in _remembered(request) if t != token)][:_REMEMBERED]
    response.set_cookie(
        PRACTICE_COOKIE,
        ".".join(remembered),
        max_age=settings.practice_link_hours * 3600 * 30,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/practice",
    )
    return response


def _practice_interview(s: Session, token: str) -> tuple[Invitation, Interview | None]:
    """The practice link's invitation and its latest interview; 404 for any other token."""
    inv = (
        s.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
        if len(token) <= 128
        else None
    )
    if inv is None or inv.mode != "practice":
        raise NotFound("No such practice interview.")
    iv = s.scalar(
        select(Interview).where(Interview.invitation_id == inv.id).order_by(desc(Interview.created_at))
    )
    return inv, iv


@router.get("/practice/report/{token}/recording", name="practice_recording")
def practice_recording(request: Request, token: str, db: DatabaseDep) -> Response:
    """The candidate's own interview recording, to the holder of the practice link only."""
    with db.session() as s:
        _inv, iv = _practice_interview(s, token)
        rec = latest_recording(s, iv.id) if iv is not None else None
    return recording_response(request, rec)


@router.get("/practice/report/{token}", name="practice_report")
def practice_report(request: Request, token: str, db: DatabaseDep) -> Response:
    with db.session() as s:
        inv, iv = _practice_interview(s, token)
        view = load_interview_view(s, interview=iv) if iv is not None else None
        plan_title = inv.plan.title
    from ._charts import Bar, competency_bars
    from ._speech import speech_metrics

    context: dict[str, object] = {
        "title": "Your practice report",
        "plan_title": plan_title,
        "view": view,
        "join_link": f"/i/{token}",
        "token": token,
        "chart_bars": None,
        "speech": [],
    }
    if view is not None and view.report is not None:
        # The candidate sees the scorer's own numbers: recruiter overrides are not part of a practice report.
        bars = [Bar(label=c.label, original=c.original, effective=c.original) for c in view.competencies]
        context.update(
            chart_bars=competency_bars(bars) if bars else None,
            speech=speech_metrics(view.report.speech_metrics),
            report_body=view.report.report or {},
        )
    return render(request, "practice_report.html", context)
