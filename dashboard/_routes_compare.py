"""Candidates of one plan side by side (with CSV), and their stage: advance, hold or reject, one or many."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from storage import Database

from ._compare import STAGES, Comparison, compare_plan, set_stage
from ._csv import comparison_csv_lines
from ._deps import DatabaseDep, dashboard_of
from ._labels import human
from ._routes_plans import _org_plan
from ._sessions import Viewer
from ._web import SignedForm, current_viewer, render, signed_form

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()

_STAGE_FILTERS = {"": "Everyone", "none": "Not decided", **{s: human(s) for s in STAGES}}


def _stage_filter(request: Request) -> str:
    stage = request.query_params.get("stage", "")
    return stage if stage in _STAGE_FILTERS else ""


def _load(db: Database, viewer: Viewer, plan_id: str, stage: str) -> tuple[object, Comparison]:
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        comparison = compare_plan(
            s, org_id=viewer.org_id, plan_id=plan.id, spec=plan.spec or {}, stage=stage or None
        )
        s.expunge(plan)
    return plan, comparison


def _page(
    request: Request,
    db: Database,
    viewer: Viewer,
    plan_id: str,
    *,
    stage: str = "",
    notice: str | None = None,
    status: int = 200,
) -> Response:
    plan, comparison = _load(db, viewer, plan_id, stage)
    return render(
        request,
        "compare.html",
        {
            "title": f"Compare candidates — {plan.title}",  # type: ignore[attr-defined]
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "plan": plan,
            "cmp": comparison,
            "stage": stage,
            "stage_filters": _STAGE_FILTERS,
            "stages": [(s, human(s)) for s in STAGES],
            "csv_query": urlencode({"stage": stage}) if stage else "",
            "notice": notice,
        },
        status_code=status,
    )


def _stage_notice(changed: int, stage: str) -> str:
    if changed == 1:
        return (
            "1 candidate no longer has a stage."
            if stage == "clear"
            else f"1 candidate is now at “{human(stage)}”."
        )
    what = "no longer have a stage" if stage == "clear" else f"are now at “{human(stage)}”"
    return f"{changed} candidates {what}."


@router.get("/dashboard/plans/{plan_id}/compare", name="plan_compare")
def compare(
    request: Request, plan_id: str, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)
) -> Response:
    return _page(request, db, viewer, plan_id, stage=_stage_filter(request))


@router.get("/dashboard/plans/{plan_id}/compare.csv", name="plan_compare_csv")
def compare_csv(
    request: Request, plan_id: str, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)
) -> Response:
    plan, comparison = _load(db, viewer, plan_id, _stage_filter(request))
    base = dashboard_of(request.app).base_url.rstrip("/")
    logger.info("comparison exported", extra={"user_id": viewer.user_id, "rows": len(comparison.rows)})
    title = "".join(ch if ch.isalnum() else "-" for ch in plan.title.lower()).strip("-")[:60] or "plan"  # type: ignore[attr-defined]
    return StreamingResponse(
        comparison_csv_lines(comparison, base_url=base),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="candidates-{title}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/dashboard/plans/{plan_id}/stage", name="plan_stage")
def change_stage(
    request: Request, plan_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    """Set the stage of the ticked interviews (``interview_id``, repeated); ``stage`` "clear" undoes it.
    ``back=interview`` returns to the single interview's page instead of the comparison."""
    viewer = form.viewer
    ids = [i for i in form.data.getlist("interview_id") if isinstance(i, str)]
    wanted = form.get("stage")
    back_stage = form.get("filter") if form.get("filter") in _STAGE_FILTERS else ""
    if wanted not in (*STAGES, "clear"):
        return _page(request, db, viewer, plan_id, stage=back_stage, notice="Choose a stage.", status=422)
    if not ids:
        return _page(
            request, db, viewer, plan_id, stage=back_stage, notice="Tick at least one candidate.", status=422
        )
    with db.session() as s:
        plan = _org_plan(s, viewer, plan_id)
        changed = set_stage(
            s, org_id=viewer.org_id, interview_ids=ids, stage=None if wanted == "clear" else wanted
        )
        plan_id = plan.id
    logger.info("stage changed", extra={"user_id": viewer.user_id, "stage": wanted, "count": changed})
    if form.get("back") == "interview" and len(ids) == 1:
        return RedirectResponse(f"/dashboard/interviews/{ids[0]}", status_code=303)
    notice = _stage_notice(changed, wanted)
    return _page(request, db, viewer, plan_id, stage=back_stage, notice=notice)
