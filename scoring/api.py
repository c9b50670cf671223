"""HTTP routes for reports: ``GET /api/interviews/{id}/report`` (JSON) and ``/report.pdf``.

No authentication here: the dashboard adds it when it mounts the router, e.g.
``app.include_router(build_router(dependencies=[Depends(require_recruiter)]))``. The module-level
``router`` is unauthenticated and meant for tests and trusted internal use only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Query
from fastapi.params import Depends
from fastapi.responses import JSONResponse, Response

from ._errors import InterviewNotFound, ReportNotFound
from ._pdf import pdf_filename, render_pdf
from ._report import report_json

__all__ = ["build_router", "router"]


def build_router(*, dependencies: Sequence[Depends] | None = None) -> APIRouter:
    """The report routes; ``dependencies`` is the hook for the dashboard's auth (applies to every route)."""
    r = APIRouter(tags=["reports"], dependencies=list(dependencies or []))

    async def _load(interview_id: str, version: int | None) -> dict:
        try:
            return await asyncio.to_thread(report_json, interview_id, version=version)
        except InterviewNotFound as e:
            raise HTTPException(status_code=404, detail=str(e)) from e
        except ReportNotFound as e:
            raise HTTPException(status_code=404, detail=str(e)) from e

    @r.get("/api/interviews/{interview_id}/report")
    async def get_report(interview_id: str, version: int | None = Query(None, ge=1)) -> JSONResponse:
        return JSONResponse(await _load(interview_id, version))

    @r.get("/api/interviews/{interview_id}/report.pdf")
    async def get_report_pdf(interview_id: str, version: int | None = Query(None, ge=1)) -> Response:
        report = await _load(interview_id, version)
        pdf = await asyncio.to_thread(render_pdf, report)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{pdf_filename(report)}"'},
        )

    return r


router = build_router()
