"""The interview list (with CSV export), one interview's page, its recording, and score overrides."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from storage import (
    Database,
    Interview,
    InterviewPlan,
    PlanSnapshot,
    RecordingStoreError,
    ScoreOverride,
    erase_candidate,
    get_recording_store,
)

from ._charts import Bar, LatencyStages, Segment, competency_bars, latency_bars, latency_legend, talk_timeline
from ._compare import current_scores
from ._csv import csv_lines
from ._deps import DatabaseDep, dashboard_of
from ._errors import NotFound, Unavailable
from ._interview import InterviewView, get_org_interview, load_interview_view
from ._listing import SORTS, STATUSES, interview_rows, org_roles, parse_filter
from ._playback import latest_recording, recording_response
from ._sessions import Viewer
from ._settings import get_dashboard_settings
from ._speech import speech_metrics
from ._web import SignedForm, current_viewer, render, signed_form

__all__ = ["router"]

logger = logging.getLogger("mockline.dashboard")
router = APIRouter()

_REASON_MAX = 2000


@router.get("/dashboard", name="interviews")
def interview_list(request: Request, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)) -> Response:
    f = parse_filter(request.query_params)
    page_size = get_dashboard_settings().page_size
    with db.session() as s:
        rows = interview_rows(
            s, org_id=viewer.org_id, f=f, limit=page_size + 1, offset=(f.page - 1) * page_size
        )
        roles = org_roles(s, viewer.org_id)
    has_next = len(rows) > page_size
    args = f.query_args()
    return render(
        request,
        "interviews.html",
        {
            "title": "Interviews",
            "viewer": viewer,
            "csrf_token": viewer.csrf_token,
            "rows": rows[:page_size],
            "f": f,
            "errors": f.errors,
            "roles": roles,
            "statuses": STATUSES,
            "sorts": SORTS,
            "csv_query": urlencode(args),
            "prev_query": urlencode({**args, "page": f.page - 1}) if f.page > 1 else None,
            "next_query": urlencode({**args, "page": f.page + 1}) if has_next else None,
        },
        status_code=422 if f.errors else 200,
    )


@router.get("/dashboard/interviews.csv", name="interviews_csv")
def interview_csv(request: Request, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)) -> Response:
    f = parse_filter(request.query_params)
    if f.errors:
        return Response(
            "; ".join(f"{k}: {v}" for k, v in f.errors.items()) + "\n",
            status_code=422,
            media_type="text/plain",
        )
    with db.session() as s:
        rows = interview_rows(s, org_id=viewer.org_id, f=f)
        scores = current_scores(s, [r.id for r in rows])
        plan_ids = {r.plan_id for r in rows if r.id in scores}
        orders = {
            p.id: p.snapshot.question_ids
            for p in s.scalars(select(InterviewPlan).where(InterviewPlan.id.in_(plan_ids)))
        }
        question_order = {r.id: orders.get(r.plan_id, []) for r in rows}
        for iid, own in s.execute(  # candidates whose résumé personalised their questions
            select(Interview.id, Interview.plan_spec).where(
                Interview.id.in_(list(scores)), Interview.plan_spec.is_not(None)
            )
        ):
            question_order[iid] = PlanSnapshot.from_json(own).question_ids
    logger.info("interview list exported", extra={"user_id": viewer.user_id, "rows": len(rows)})
    return StreamingResponse(
        csv_lines(
            rows,
            scores=scores,
            question_order=question_order,
            base_url=dashboard_of(request.app).base_url,
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="interviews.csv"', "Cache-Control": "no-store"},
    )


def _page_context(view: InterviewView) -> dict[str, object]:
    bars = [Bar(label=c.label, original=c.original, effective=c.effective) for c in view.competencies]
    segments = [Segment(speaker=t.speaker, start=t.start, end=t.end) for t in view.turns]
    latency = [
        LatencyStages(
            label=str(m.seq),
            eou=m.eou_delay_ms,
            stt=m.stt_ms,
            llm=m.llm_ttft_ms,
            tts=m.tts_ttfb_ms,
            total=m.v2v_ms,
        )
        for m in view.metrics
    ]
    v2v = sorted(m.v2v_ms for m in view.metrics if m.v2v_ms is not None)
    return {
        "view": view,
        "iv": view.interview,
        "report_body": (view.report.report if view.report else {}) or {},
        "chart_bars": competency_bars(bars) if bars else None,
        "chart_timeline": talk_timeline(segments, duration=view.duration_s) if segments else None,
        "chart_latency": latency_bars(latency) if latency else None,
        "latency_legend": latency_legend(),
        "v2v_median": v2v[len(v2v) // 2] if v2v else None,
        "v2v_p90": v2v[min(len(v2v) - 1, math.ceil(0.9 * len(v2v)) - 1)] if v2v else None,
        "speech": speech_metrics(view.report.speech_metrics if view.report else None),
    }


def _interview_page(
    request: Request,
    db: Database,
    viewer: Viewer,
    interview_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with db.session() as s:
        iv = get_org_interview(s, org_id=viewer.org_id, interview_id=interview_id)
        view = load_interview_view(s, interview=iv)
    context = _page_context(view)
    context.update(
        title=f"Interview — {iv.candidate_name or 'candidate'}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        errors=errors or {},
        form=form or {},
    )
    return render(request, "interview.html", context, status_code=status_code)


@router.get("/dashboard/interviews/{interview_id}", name="interview")
def interview_page(
    request: Request, interview_id: str, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)
) -> Response:
    return _interview_page(request, db, viewer, interview_id)


@router.get("/dashboard/interviews/{interview_id}/recording", name="recording")
def recording(
    request: Request, interview_id: str, db: DatabaseDep, viewer: Viewer = Depends(current_viewer)
) -> Response:
    """Both voices (Ogg/Opus, candidate left, interviewer right), with HTTP Range support so the player
    can seek. Another organisation's interview is a 404 like a missing one."""
    with db.session() as s:
        iv = get_org_interview(s, org_id=viewer.org_id, interview_id=interview_id)
        rec = latest_recording(s, iv.id)
    return recording_response(request, rec)


@router.post("/dashboard/interviews/{interview_id}/erase", name="erase")
def erase(
    request: Request, interview_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    """Erase the candidate's audio, transcript and report (the erasure itself goes in the audit log)."""
    viewer = form.viewer
    with db.session() as s:
        get_org_interview(s, org_id=viewer.org_id, interview_id=interview_id)  # 404 for other organisations
    try:
        erased = erase_candidate(
            db,
            get_recording_store(),
            interview_id=interview_id,
            org_id=viewer.org_id,
            user_id=viewer.user_id,
        )
    except RecordingStoreError as e:
        logger.warning("erasure failed: the recordings store did not answer", exc_info=True)
        raise Unavailable(
            "The recording could not be deleted just now, so nothing was erased. Try again."
        ) from e
    if not erased:  # still running: erasing mid-call would race the recorder and the transcript writer
        raise NotFound("This interview cannot be erased while it is running.")
    return RedirectResponse(f"/dashboard/interviews/{interview_id}", status_code=303)


def _parse_override(form: SignedForm, view: InterviewView) -> tuple[dict[str, str], float, str, str]:
    errors: dict[str, str] = {}
    target = form.get("target")
    line = view.targets().get(target)
    if line is None:
        errors["target"] = "Choose a score to override."
    raw = form.get("new_score")
    new_score = math.nan
    try:
        new_score = float(raw)
    except ValueError:
        errors["new_score"] = "Enter the new score as a number from 1 to 5."
    else:
        if not 1.0 <= new_score <= 5.0:
            errors["new_score"] = "The new score must be between 1 and 5."
    reason = form.get("reason")
    if len(reason) < 3:
        errors["reason"] = "Say why you are changing the score (a few words at least)."
    elif len(reason) > _REASON_MAX:
        errors["reason"] = f"Keep the reason under {_REASON_MAX} characters."
    return errors, new_score, reason, target


@router.post("/dashboard/interviews/{interview_id}/overrides", name="override")
def override_score(
    request: Request, interview_id: str, db: DatabaseDep, form: SignedForm = Depends(signed_form)
) -> Response:
    viewer = form.viewer
    with db.session() as s:
        iv = get_org_interview(s, org_id=viewer.org_id, interview_id=interview_id)
        view = load_interview_view(s, interview=iv)
        if view.report is None:
            raise NotFound("This interview has no scores to override yet.")
        errors, new_score, reason, target = _parse_override(form, view)
        if not errors:
            line = view.targets()[target]
            s.add(
                ScoreOverride(
                    report_id=view.report.id,
                    target=target,
                    original_score=line.original,
                    new_score=round(new_score, 2),
                    reason=reason,
                    user_id=viewer.user_id,
                )
            )
    if errors:
        return _interview_page(
            request,
            db,
            viewer,
            interview_id,
            errors=errors,
            form={"target": target, "new_score": form.get("new_score"), "reason": reason},
            status_code=422,
        )
    logger.info("score overridden", extra={"interview_id": interview_id, "user_id": viewer.user_id})
    return RedirectResponse(f"/dashboard/interviews/{interview_id}#scores", status_code=303)
