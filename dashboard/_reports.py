"""The scoring package's report routes (JSON and PDF), mounted behind the dashboard's login and org check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ._deps import DatabaseDep
from ._interview import get_org_interview
from ._web import current_viewer

__all__ = ["report_router", "require_report_access"]


def require_report_access(request: Request, interview_id: str, db: DatabaseDep) -> None:
    """A logged-in recruiter of the interview's organisation; otherwise 401, or 404 for another org's."""
    viewer = current_viewer(request)
    with db.session() as s:
        get_org_interview(s, org_id=viewer.org_id, interview_id=interview_id)


def report_router() -> APIRouter:
    """``GET /api/interviews/{id}/report`` and ``/report.pdf`` from ``scoring.api``, with auth."""
    from scoring.api import build_router

    return build_router(dependencies=[Depends(require_report_access)])
