"""Report exports: the JSON and PDF routes (with the auth hook the dashboard uses) and the PDF's content."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from pypdf import PdfReader

from scoring import ScoringSettings, render_pdf, report_json, run_scoring
from scoring.api import build_router
from storage import Database, ScoreOverride, ScoreReport
from tests.test_scoring_support import make_interview, weak_script

pytestmark = pytest.mark.integration

SETTINGS = ScoringSettings(redis_url=None, scorer="offline")


def _app(*deps: object) -> FastAPI:
    app = FastAPI()
    app.include_router(build_router(dependencies=[Depends(d) for d in deps]))
    return app


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_report_routes_serve_json_and_pdf(sqlite_db: Database) -> None:
    iid = make_interview(sqlite_db)
    await run_scoring(iid, settings=SETTINGS, db=sqlite_db)
    async with await _client(_app()) as client:
        r = await client.get(f"/api/interviews/{iid}/report")
        assert r.status_code == 200
        body = r.json()
        assert body["interview"]["id"] == iid and body["version"] == 1
        assert body["recommendation"] in {"yes", "strong_yes"}
        pdf = await client.get(f"/api/interviews/{iid}/report.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        disposition = pdf.headers["content-disposition"]  # names the candidate, plan and day
        assert re.fullmatch(r'inline; filename="Interview - [^"]+ - \d{4}-\d\d-\d\d\.pdf"', disposition)
        missing = await client.get("/api/interviews/nope/report")
        assert missing.status_code == 404 and "no interview" in missing.json()["detail"]
        unscored = make_interview(sqlite_db, status="in_progress")
        r = await client.get(f"/api/interviews/{unscored}/report.pdf")
        assert r.status_code == 404 and "no score report yet" in r.json()["detail"]


async def test_the_dependencies_hook_guards_every_route(sqlite_db: Database) -> None:
    def recruiter_only(request: Request) -> None:
        if request.headers.get("x-user") != "recruiter":
            raise HTTPException(status_code=401, detail="login required")

    iid = make_interview(sqlite_db)
    await run_scoring(iid, settings=SETTINGS, db=sqlite_db)
    async with await _client(_app(recruiter_only)) as client:
        for path in (f"/api/interviews/{iid}/report", f"/api/interviews/{iid}/report.pdf"):
            assert (await client.get(path)).status_code == 401
            assert (await client.get(path, headers={"x-user": "recruiter"})).status_code == 200


async def test_pdf_shows_scores_evidence_and_speech(sqlite_db: Database, artifacts_dir: Path) -> None:
    iid = make_interview(sqlite_db, candidate="Grace “Amazing” Hopper")
    await run_scoring(iid, settings=SETTINGS, db=sqlite_db)
    with sqlite_db.session() as s:  # a recruiter override shows up as the effective score
        rep = s.query(ScoreReport).filter_by(interview_id=iid).one()
        s.add(
            ScoreOverride(
                report_id=rep.id,
                target="overall",
                original_score=rep.overall,
                new_score=2.5,
                reason="missed a key follow-up",
            )
        )
    data = report_json(iid, db=sqlite_db)
    assert data["effective_overall"] == 2.5 and data["overall"] != 2.5
    pdf = render_pdf(data)
    (artifacts_dir / "scoring-report.pdf").write_bytes(pdf)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert 'Grace "Amazing" Hopper' in flat
    assert "Overall: 2.50 / 5" in flat
    assert "Api design" in flat and "Collaboration" in flat  # labels, not stored keys
    assert "Question 1 (" in flat and iid not in flat and "(turn " not in flat  # no internal ids
    # The recommendation follows the recruiter's score, and the PDF says whose it is and which scorer ran.
    assert data["effective_recommendation"] == "no" and "Recommendation: No (recruiter)" in flat
    assert "Scored by offline with confidence" in flat
    assert "[x] expire old keys" in flat  # key points with the words that back them
    assert "We expire old keys after 24 hours" in flat  # an evidence quote
    assert "Words per minute" in flat and "Strengths" in flat and "Improvements" in flat
    if shutil.which("pdftoppm"):  # a page image for people to look at; also proves the PDF rasterises
        await asyncio.to_thread(
            subprocess.run,
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                str(artifacts_dir / "scoring-report.pdf"),
                str(artifacts_dir / "scoring-report"),
            ],
            check=True,
        )


async def test_practice_report_pdf_has_a_coaching_summary(sqlite_db: Database) -> None:
    iid = make_interview(sqlite_db, mode="practice", script=weak_script())
    await run_scoring(iid, settings=SETTINGS, db=sqlite_db)
    data = report_json(iid, db=sqlite_db)
    assert data["recommendation"] is None and data["coaching_summary"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(data))).pages)
    assert "Coaching summary" in text and "Recommendation" not in text
    assert "Sample stronger answer" in text
