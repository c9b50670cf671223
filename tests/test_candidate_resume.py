"""The résumé belongs to the candidate, not the plan: a recruiter makes a plan from a job description, invites
Kay with her résumé (pasted, or as a PDF) and Lee without one. Kay's interview asks one question about her
own project and is scored against it; Lee is never asked about a résumé he did not send."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from sqlalchemy import select

from agent._persist import load_interview
from dashboard import create_user
from mockline.settings import AppSettings
from mockline.web import create_app
from scoring._store import load_snapshot
from storage import Invitation, admit_interview

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KAY_RESUME = "Kay Kim. Led the Ledger project at Acme: payments on Kafka and PostgreSQL. Python, Kubernetes."


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


@pytest.fixture
def recruiter(db, tmp_path) -> TestClient:
    with db.session() as s:
        create_user(s, email="rita@acme.test", password="rita-password-1", org_name="Acme", role="recruiter")
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url="http://testserver")))
    token = CSRF.search(c.get("/login").text).group(1)
    c.post("/login", data={"email": "rita@acme.test", "password": "rita-password-1", "csrf_token": token})
    return c


def _questions(spec: dict) -> list[str]:
    return [q["text"] for q in spec["questions"]]


def test_each_candidate_gets_questions_from_their_own_resume_only(recruiter, db):
    form_page = recruiter.get("/dashboard/plans/new").text
    assert 'name="resume_text"' not in form_page and "goes with their invitation" in form_page
    token = CSRF.search(form_page).group(1)
    r = recruiter.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "backend_engineer",
            "seniority": "senior",
            "interview_type": "mixed",
            "question_count": "4",
            "time_limit_minutes": "20",
            "difficulty": "medium",
            "job_description": "Payments platform on Kafka and PostgreSQL.",
        },
    )
    assert r.status_code == 200
    plan_url = r.url.path
    plan_questions = re.findall(r"<li[^>]*>\s*(?:<[^>]+>)*([^<]+)", r.text)
    assert not any("résumé" in q for q in plan_questions)

    r = recruiter.post(
        f"{plan_url}/invitations",
        data={"csrf_token": token, "candidate_name": "Kay Kim", "resume_text": KAY_RESUME},
    )
    assert r.status_code == 200
    assert "From their résumé, one of their questions is about <strong>Ledger</strong>." in r.text
    r = recruiter.post(f"{plan_url}/invitations", data={"csrf_token": token, "candidate_name": "Lee Lo"})
    assert r.status_code == 200 and "From their résumé" not in r.text
    r = recruiter.post(
        f"{plan_url}/invitations",
        data={"csrf_token": token, "candidate_name": "Mo Ng"},
        files={
            "resume_pdf": (
                "mo.pdf",
                _pdf("Mo Ng. Built the Orbit project with Redis and Go."),
                "application/pdf",
            )
        },
    )
    assert r.status_code == 200 and "is about <strong>Orbit</strong>" in r.text

    with db.session() as s:
        invs = {i.candidate_name: i for i in s.scalars(select(Invitation))}
        kay = admit_interview(s, invs["Kay Kim"], channel="webrtc").id
        lee = admit_interview(s, invs["Lee Lo"], channel="webrtc").id
        assert invs["Lee Lo"].resume_text is None and invs["Kay Kim"].resume_text == KAY_RESUME

    kay_plan = load_interview(db, kay).plan_spec  # what the interviewer asks Kay
    lee_plan = load_interview(db, lee).plan_spec
    assert len(_questions(kay_plan)) == len(_questions(lee_plan)) == 4
    assert sum("Ledger" in q for q in _questions(kay_plan)) == 1
    assert not any("résumé" in q for q in _questions(lee_plan))
    assert len(set(_questions(kay_plan)) & set(_questions(lee_plan))) == 3  # still comparable

    kay_snapshot, _ = load_snapshot(db, kay)  # the scorer grades Kay against her own questions
    assert "resume-deep-dive" in {q.id for q in kay_snapshot.questions}
    lee_snapshot, _ = load_snapshot(db, lee)
    assert "resume-deep-dive" not in {q.id for q in lee_snapshot.questions}


def test_a_resume_that_names_nothing_known_keeps_the_plans_questions(recruiter, db):
    token = CSRF.search(recruiter.get("/dashboard/plans/new").text).group(1)
    r = recruiter.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "backend_engineer",
            "seniority": "mid",
            "interview_type": "technical",
            "question_count": "2",
            "time_limit_minutes": "15",
            "difficulty": "easy",
        },
    )
    r = recruiter.post(
        f"{r.url.path}/invitations",
        data={"csrf_token": token, "candidate_name": "Ned", "resume_text": "i like hiking and tea"},
    )
    assert "names no project or known skill" in r.text
    with db.session() as s:
        assert s.scalar(select(Invitation.plan_spec)) is None
