"""Changing a plan: edit its title, time, job description and questions with their rubrics (with a preview
before saving), duplicate it, archive it. Interviews already run keep the questions they were asked: saving
copies the old snapshot onto them first."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import update

from storage import Interview, InterviewPlan, utcnow

from ._deps import DatabaseDep
from ._plan_edit import EDIT_ROUNDS, PlanEdit, PlanEditError, edit_from_spec, parse_edit, read_form
from ._roles import EDIT
from ._routes_plans import _org_plan
from ._sessions import Viewer
from ._web import SignedForm, need, render, signed_form

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()


def _page(
    request: Request,
    viewer: Viewer,
    plan: InterviewPlan,
    edit: PlanEdit,
    *,
    errors: dict[str, str] | None = None,
    preview: list[dict[str, object]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "plan_edit.html",
        {
            "title": f"Edit — {plan.title}",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "plan": plan,
            "edit": edit,
            "rounds": EDIT_ROUNDS,
            "errors": errors or {},
            "preview": preview,
        },
        status_code=status_code,
    )


def _validated(spec: dict[str, object]) -> dict[str, object]:
    from agent.plans import PlanSpec

    try:
        return PlanSpec.model_validate(spec).to_json()
    except ValueError as e:  # pydantic's ValidationError is a ValueError
        raise PlanEditError({"questions": f"The plan is not valid: {str(e).splitlines()[-1][:300]}"}) from e


@router.get("/dashboard/plans/{plan_id}/edit", name="plan_edit")
def plan_edit(
    request: Request, plan_id: str, db: DatabaseDep, viewer: Viewer = Depends(need(EDIT))
) -> Response:
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        s.expunge(plan)
    edit = edit_from_spec(plan.title, plan.time_limit_minutes, plan.job_description, plan.spec or {})
    return _page(request, viewer, plan, edit)


@router.post("/dashboard/plans/{plan_id}/edit", name="plan_save")
def plan_save(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    """``action=preview`` shows the questions as they would be; ``action=save`` stores them."""
    viewer = form.viewer
    edit = read_form({k: v for k, v in form.data.items() if isinstance(v, str)})
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        try:
            spec = _validated(parse_edit(edit, plan.spec or {}))
        except PlanEditError as e:
            s.expunge(plan)
            return _page(request, viewer, plan, edit, errors=e.errors, status_code=422)
        if form.get("action") != "save":
            s.expunge(plan)
            return _page(request, viewer, plan, edit, preview=list(spec["questions"]))  # type: ignore[arg-type]
        # Interviews already run (or running) keep the snapshot they were asked from.
        s.execute(
            update(Interview)
            .where(Interview.plan_id == plan.id, Interview.plan_spec.is_(None))
            .values(plan_spec=plan.spec)
            .execution_options(synchronize_session=False)
        )
        plan.spec = spec
        plan.title = edit.title or plan.title
        plan.time_limit_minutes = int(spec["time_limit_minutes"])  # type: ignore[call-overload]
        plan.question_count = int(spec["question_count"])  # type: ignore[call-overload]
        plan.rounds = list(spec["rounds"])  # type: ignore[call-overload]
        plan.job_description = edit.job_description or None
    logger.info("interview plan edited", extra={"plan_id": plan_id, "user_id": viewer.user_id})
    return RedirectResponse(f"/dashboard/plans/{plan_id}?saved=1", status_code=303)


@router.post("/dashboard/plans/{plan_id}/duplicate", name="plan_duplicate")
def plan_duplicate(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        copy = InterviewPlan.from_spec(
            dict(plan.spec or {}),
            title=f"Copy of {plan.title}"[:200],
            org_id=viewer.org_id,
            created_by=viewer.user_id,
            job_description=plan.job_description,
        )
        s.add(copy)
        s.flush()
        copy_id = copy.id
    logger.info("interview plan duplicated", extra={"plan_id": plan_id, "user_id": viewer.user_id})
    return RedirectResponse(f"/dashboard/plans/{copy_id}/edit", status_code=303)


@router.post("/dashboard/plans/{plan_id}/archive", name="plan_archive")
def plan_archive(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    """``action=archive`` hides the plan from the list and stops new invitations; ``restore`` undoes it.
    Links already sent keep working."""
    viewer = form.viewer
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        plan.archived_at = utcnow() if form.get("action") != "restore" else None
    return RedirectResponse(f"/dashboard/plans/{plan_id}", status_code=303)
