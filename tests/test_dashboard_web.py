"""The dashboard over HTTP (no browser): login, sessions, CSRF, the organisation boundary, lists and CSV,
overrides, invitations, the recording with Range, practice mode. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import (
    Interview,
    InterviewPlan,
    Invitation,
    ScoreOverride,
    UserSession,
    resolve_token,
    utcnow,
)
from tests.test_dashboard_seed import PASSWORD_A, PASSWORD_B, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


def _client(tmp_path, public_url: str = "http://testserver") -> TestClient:
    app = create_app(AppSettings(data_dir=str(tmp_path), public_url=public_url))
    return TestClient(app, base_url=public_url.replace("interviews.example.com", "testserver"))


def _login(c: TestClient, email: str, password: str):
    token = CSRF.search(c.get("/login").text).group(1)
    return c.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


@pytest.fixture
def acme(seeded, tmp_path) -> TestClient:
    c = _client(tmp_path)
    assert _login(c, seeded.email_a, PASSWORD_A).status_code == 303
    return c


def _csrf(c: TestClient, path: str = "/dashboard") -> str:
    return CSRF.search(c.get(path).text).group(1)


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(seeded, tmp_path, db):
    c = _client(tmp_path)
    assert c.get("/dashboard", follow_redirects=False).headers["location"].startswith("/login")
    r = _login(c, seeded.email_a.upper(), PASSWORD_A)  # e-mail is case-insensitive
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "ml_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # http public URL
    token = c.cookies["ml_session"]
    with db.session() as s:
        stored = s.scalars(select(UserSession.id)).all()
    assert len(stored) == 1 and token not in stored[0]  # only the hash is stored
    assert "Ada Lovelace" in c.get("/dashboard").text

    r = c.post("/logout", data={"csrf_token": _csrf(c)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    c.cookies.set("ml_session", token)  # replaying the old cookie does not work
    assert c.get("/dashboard", follow_redirects=False).status_code == 303


def test_cookie_is_secure_when_public_url_is_https(seeded, tmp_path):
    c = _client(tmp_path, public_url="https://interviews.example.com")
    r = _login(c, seeded.email_a, PASSWORD_A)
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_answer(seeded, tmp_path):
    c = _client(tmp_path)
    wrong = _login(c, seeded.email_a, "not-the-password")
    unknown = _login(c, "nobody@acme.test", "not-the-password")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert "do not match" in r.text
        assert "ml_session" not in r.headers.get("set-cookie", "")


def test_repeated_failures_lock_the_email_even_for_the_right_password(seeded, tmp_path):
    c = _client(tmp_path)
    for _ in range(5):
        assert _login(c, seeded.email_a, "guess-guess-guess").status_code == 401
    r = _login(c, seeded.email_a, PASSWORD_A)
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    assert int(r.headers["Retry-After"]) > 0
    # another account from the same address is not locked out by these failures
    assert _login(c, seeded.email_b, PASSWORD_B).status_code == 303


def test_login_next_only_goes_to_this_site(seeded, tmp_path):
    c = _client(tmp_path)
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post(
        "/login",
        data={
            "email": seeded.email_a,
            "password": PASSWORD_A,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/dashboard"


def test_forms_without_the_session_csrf_token_are_refused_and_change_nothing(acme, seeded, db):
    url = f"/dashboard/interviews/{seeded.scored_a}/overrides"
    form = {"target": "overall", "new_score": "4", "reason": "strong answers"}
    for token in (None, "forged-token-" + "x" * 30):
        data = dict(form) if token is None else {**form, "csrf_token": token}
        r = acme.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403 and "expired" in r.text
    assert acme.post("/logout", data={}, follow_redirects=False).status_code == 403
    with db.session() as s:
        assert s.scalars(select(ScoreOverride)).all() == []
    assert acme.get("/dashboard").status_code == 200  # still logged in


def test_login_form_needs_its_double_submit_token(seeded, tmp_path):
    c = _client(tmp_path)
    r = c.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A}, follow_redirects=False)
    assert r.status_code == 403 and "ml_session" not in r.headers.get("set-cookie", "")


def test_another_organisations_data_is_not_reachable(acme, seeded):
    b = seeded.scored_b
    assert "Bob Globex" not in acme.get("/dashboard").text
    assert "Bob Globex" not in acme.get("/dashboard/interviews.csv").text
    for path in (
        f"/dashboard/interviews/{b}",
        f"/dashboard/interviews/{b}/recording",
        f"/api/interviews/{b}/report",
        f"/api/interviews/{b}/report.pdf",
    ):
        assert acme.get(path).status_code == 404, path
    r = acme.post(
        f"/dashboard/interviews/{b}/overrides",
        data={"csrf_token": _csrf(acme), "target": "overall", "new_score": "5", "reason": "sneaky"},
    )
    assert r.status_code == 404


def test_report_api_requires_login(seeded, tmp_path):
    c = _client(tmp_path)
    r = c.get(f"/api/interviews/{seeded.scored_a}/report.pdf")
    assert r.status_code == 401 and r.json()["detail"]


def test_list_filters_and_sorts(acme, seeded):
    text = acme.get("/dashboard", params={"status": "scored"}).text
    assert "Ada Lovelace" in text and "Cleo Invited" not in text
    text = acme.get("/dashboard", params={"from": (utcnow() - timedelta(days=3)).date().isoformat()}).text
    assert "Ada Lovelace" in text and "Cleo Invited" not in text
    page = acme.get("/dashboard", params={"sort": "date_asc"}).text
    assert page.index("Cleo Invited") < page.index("Ada Lovelace")
    r = acme.get("/dashboard", params={"from": "yesterday"})
    assert r.status_code == 422 and "is not a date" in r.text


def test_csv_export_follows_the_filter(acme, seeded, db):
    with db.session() as s:
        plan = s.get(InterviewPlan, seeded.plan_a)
        s.add(
            Interview(org_id=seeded.org_a, plan_id=plan.id, candidate_name='=HYPERLINK("x")', status="failed")
        )
    r = acme.get("/dashboard/interviews.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    by_name = {row["Candidate"]: row for row in rows}
    assert set(by_name) == {"Ada Lovelace", "Cleo Invited", '\'=HYPERLINK("x")'}
    assert by_name["Ada Lovelace"]["Overall score"] == "3.40"
    assert by_name["Ada Lovelace"]["Recommendation"] == "Lean hire"
    assert by_name["Ada Lovelace"]["Length (s)"] == "28.00"

    only_scored = list(csv.DictReader(io.StringIO(acme.get("/dashboard/interviews.csv?status=scored").text)))
    assert [row["Candidate"] for row in only_scored] == ["Ada Lovelace"]
    bad = acme.get("/dashboard/interviews.csv?status=bogus")
    assert bad.status_code == 422 and "Unknown status" in bad.text


def test_override_keeps_the_original_and_moves_the_sort(acme, seeded, db):
    url = f"/dashboard/interviews/{seeded.scored_a}/overrides"
    r = acme.post(url, data={"csrf_token": _csrf(acme), "target": "overall", "new_score": "9", "reason": ""})
    assert r.status_code == 422
    assert "between 1 and 5" in r.text and "Say why" in r.text
    r = acme.post(
        url,
        data={
            "csrf_token": _csrf(acme),
            "target": "overall",
            "new_score": "4.6",
            "reason": "Excellent follow-up",
        },
    )
    assert r.status_code == 200  # followed the redirect back to the page
    assert "Changed from 3.4 to 4.6" in r.text and "Excellent follow-up" in r.text
    with db.session() as s:
        o = s.scalar(select(ScoreOverride))
        assert (o.target, o.original_score, o.new_score) == ("overall", 3.4, 4.6)
        assert s.get(Interview, seeded.scored_a).overall_score == 3.4  # the scorer's number is untouched
    rows = list(csv.DictReader(io.StringIO(acme.get("/dashboard/interviews.csv").text)))
    ada = next(row for row in rows if row["Candidate"] == "Ada Lovelace")
    assert (ada["Overall score"], ada["Overridden score"]) == ("3.40", "4.60")
    # The recruiter's score is the final word: the recommendation follows it on the page, list, CSV and API.
    assert ada["Recommendation"] == "Strong yes"
    assert 'Strong yes <span class="sub">(recruiter)</span>' in r.text
    assert "Strong yes" in acme.get("/dashboard").text
    api = acme.get(f"/api/interviews/{seeded.scored_a}/report").json()
    assert (api["effective_overall"], api["effective_recommendation"]) == (4.6, "strong_yes")


def test_an_unsure_report_asks_for_a_human_and_points_at_the_answers(acme, seeded, db):
    from storage import ScoreReport

    with db.session() as s:
        rep = s.scalar(select(ScoreReport).where(ScoreReport.interview_id == seeded.scored_a))
        qid = s.get(Interview, seeded.scored_a).plan.spec["questions"][0]["id"]
        rep.recommendation = "needs_review"
        rep.report = {
            **rep.report,
            "confidence": 0.58,
            "review_reasons": ["the scorer is unsure of this interview (confidence 0.58)"],
            "review_first": [{"question_id": qid, "score": 3, "why": "scored with low confidence (0.41)"}],
            "answers": {
                qid: {
                    "status": "answered",
                    "confidence": 0.41,
                    "key_points": [
                        {"key_point": "mitigate first", "covered": True, "quote": "we rolled back first"},
                        {"key_point": "root cause", "covered": False, "named": True, "quote": ""},
                    ],
                }
            },
        }
    page = acme.get(f"/dashboard/interviews/{seeded.scored_a}").text
    assert "Needs human review" in page and "offline · confidence 0.58" in page
    assert f'href="#score-question-{qid}"' in page and f'id="score-question-{qid}"' in page
    assert "scored with low confidence (0.41)" in page and "Scorer's confidence 0.41" in page
    assert "✓ mitigate first: <q>we rolled back first</q>" in page
    assert '– root cause <span class="sub">(named, nothing behind it)</span>' in page
    rows = list(csv.DictReader(io.StringIO(acme.get("/dashboard/interviews.csv").text)))
    assert next(r for r in rows if r["Candidate"] == "Ada Lovelace")["Recommendation"] == "Needs human review"


def test_recording_supports_range_requests(acme, seeded, tmp_path):
    url = f"/dashboard/interviews/{seeded.scored_a}/recording"
    full = acme.get(url)
    assert full.status_code == 200 and full.content[:4] == b"RIFF"
    part = acme.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(full.content)}"
    assert part.content == full.content[1000:2000]


def test_plan_form_rejects_bad_input_with_messages(acme):
    token = _csrf(acme, "/dashboard/plans/new")
    r = acme.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "astronaut",
            "seniority": "mid",
            "interview_type": "mixed",
            "question_count": "many",
            "time_limit_minutes": "500",
            "difficulty": "medium",
        },
    )
    assert r.status_code == 422
    assert "Enter a whole number from 1 to 30" in r.text and "Must be from 1 to 180" in r.text
    r = acme.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "astronaut",
            "seniority": "mid",
            "interview_type": "mixed",
            "question_count": "3",
            "time_limit_minutes": "20",
            "difficulty": "medium",
        },
    )
    assert r.status_code == 422 and "astronaut" in r.text and "known roles" in r.text
    r = acme.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "backend_engineer",
            "seniority": "mid",
            "interview_type": "mixed",
            "question_count": "3",
            "time_limit_minutes": "20",
            "difficulty": "medium",
        },
    )
    assert r.status_code == 200  # a plan needs no résumé: résumés go with each candidate's invitation
    plan_id = r.url.path.rsplit("/", 1)[-1]
    r = acme.post(
        f"/dashboard/plans/{plan_id}/invitations",
        data={"csrf_token": token, "candidate_name": "Pat"},
        files={"resume_pdf": ("cv.pdf", b"just some text, not a pdf", "application/pdf")},
    )
    assert r.status_code == 422 and "not a PDF" in r.text


def test_plan_invitation_link_and_pin_work_and_a_new_link_replaces_the_old(acme, db):
    token = _csrf(acme, "/dashboard/plans/new")
    r = acme.post(
        "/dashboard/plans",
        data={
            "csrf_token": token,
            "role": "backend_engineer",
            "seniority": "senior",
            "interview_type": "technical",
            "question_count": "3",
            "time_limit_minutes": "25",
            "difficulty": "hard",
            "job_description": "Payments platform, Kubernetes",
        },
    )
    assert r.status_code == 200 and "3 questions" in r.text
    plan_id = r.url.path.rsplit("/", 1)[-1]
    r = acme.post(
        f"/dashboard/plans/{plan_id}/invitations",
        data={"csrf_token": token, "candidate_name": "Dana", "valid_days": "3"},
    )
    link = re.search(r'id="invite-link"[^>]*value="([^"]+)"', r.text).group(1)
    pin = re.search(r'id="invite-pin">(\d{6})<', r.text).group(1)
    assert link.startswith("http://testserver/i/")
    with db.session() as s:
        inv = resolve_token(s, link.rsplit("/", 1)[-1])
        assert (inv.candidate_name, inv.pin, inv.plan_id) == ("Dana", pin, plan_id)
        assert inv.plan.spec["question_count"] == 3 and inv.plan.spec["difficulty"] == "hard"
        inv_id = inv.id
    r = acme.post(f"/dashboard/invitations/{inv_id}/link", data={"csrf_token": token})
    new = re.search(r'id="invite-link"[^>]*value="([^"]+)"', r.text).group(1)
    assert new != link
    with db.session() as s:
        assert resolve_token(s, new.rsplit("/", 1)[-1]).id == inv_id
        with pytest.raises(Exception, match="not valid"):
            resolve_token(s, link.rsplit("/", 1)[-1])
    bad = acme.post(
        f"/dashboard/plans/{plan_id}/invitations",
        data={"csrf_token": token, "candidate_email": "not-an-email", "valid_days": "400"},
    )
    assert bad.status_code == 422 and "e-mail address" in bad.text and "1 to 90 days" in bad.text


def test_practice_creates_its_own_plan_and_a_private_report_link(seeded, tmp_path, db):
    c = _client(tmp_path)
    token = CSRF.search(c.get("/practice").text).group(1)
    r = c.post(
        "/practice",
        data={"csrf_token": token, "role": "backend_engineer", "seniority": "junior", "difficulty": "easy"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/i/")
    link_token = r.headers["location"].rsplit("/", 1)[-1]
    with db.session() as s:
        inv = resolve_token(s, link_token)
        assert inv.mode == "practice" and inv.org_id is None and inv.plan.org_id is None
        assert inv.plan.spec["mode"] == "practice"
        plan_id, inv_id = inv.plan_id, inv.id
    report_url = f"/practice/report/{link_token}"
    assert "not started" in c.get(report_url).text
    assert f"/practice/report/{link_token}" in c.get("/practice").text  # this browser remembers it
    with db.session() as s:
        s.add(Interview(plan_id=plan_id, invitation_id=inv_id, mode="practice", status="scoring"))
    assert "being prepared" in c.get(report_url).text
    assert c.get("/practice/report/" + "A" * 43).status_code == 404
    # a recruiter's invitation token does not open as a practice report
    acme = _client(tmp_path)
    _login(acme, seeded.email_a, PASSWORD_A)
    with db.session() as s:
        recruiter_invites = s.scalars(select(Invitation).where(Invitation.org_id.is_not(None))).all()
    assert recruiter_invites == []  # (none seeded) and the practice interview is not in any recruiter list
    assert "practice" not in acme.get("/dashboard/interviews.csv").text.split("\n", 1)[1]


def test_a_practice_report_coaches_each_answer_in_sentences(seeded, tmp_path, db):
    import asyncio

    from scoring import ScoringSettings, run_scoring
    from storage import TranscriptTurn

    c = _client(tmp_path)
    token = CSRF.search(c.get("/practice").text).group(1)
    r = c.post(
        "/practice",
        data={"csrf_token": token, "role": "backend_engineer", "seniority": "mid", "difficulty": "medium"},
        follow_redirects=False,
    )
    link_token = r.headers["location"].rsplit("/", 1)[-1]
    answer = (
        "Um, so I think I would have the client send a unique id with each request, and the server checks "
        "it before doing the work again. I guess that's it."
    )
    with db.session() as s:
        inv = resolve_token(s, link_token)
        question = inv.plan.spec["questions"][0]
        iv = Interview(plan_id=inv.plan_id, invitation_id=inv.id, mode="practice", status="finished")
        s.add(iv)
        s.flush()
        s.add(TranscriptTurn(interview_id=iv.id, seq=1, speaker="agent", text=question["text"],
                             started_at=0.0, ended_at=4.0, question_id=question["id"]))  # fmt: skip
        s.add(TranscriptTurn(interview_id=iv.id, seq=2, speaker="candidate", text=answer,
                             started_at=5.0, ended_at=20.0, question_id=question["id"]))  # fmt: skip
        iid = iv.id
    outcome = asyncio.run(run_scoring(iid, settings=ScoringSettings(redis_url=None, scorer="offline"), db=db))
    assert outcome.status == "scored"
    page = c.get(f"/practice/report/{link_token}").text
    assert '<div class="coaching">' in page and "Next time" in page  # a coach's sentences per answer
    assert "How this was scored" in page  # the scorer's own rationale stays one click away
    assert "[" not in page.split('<div class="coaching">', 1)[1].split("</div>", 1)[0]


def test_phone_screen_api_needs_login_and_the_csrf_header(seeded, tmp_path, db):
    """Telephony's JSON API authenticates through the dashboard: a session cookie alone cannot schedule
    a call (another site could send it); the session's CSRF token must come in X-CSRF-Token."""
    from storage import create_invitation

    with db.session() as s:
        inv_id = create_invitation(
            s, plan_id=seeded.plan_a, org_id=seeded.org_a, candidate_phone="+15550100"
        ).invitation.id
    at = (utcnow() + timedelta(hours=2)).isoformat()
    body = {"invitation_id": inv_id, "at": at}

    anon = _client(tmp_path)
    assert anon.post("/api/phone-screens", json=body, follow_redirects=False).status_code in (303, 401)

    c = _client(tmp_path)
    assert _login(c, seeded.email_a, PASSWORD_A).status_code == 303
    r = c.post("/api/phone-screens", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    with db.session() as s:
        assert s.get(Invitation, inv_id).scheduled_call_at is None

    r = c.post("/api/phone-screens", json=body, headers={"X-CSRF-Token": _csrf(c)})
    assert r.status_code == 202, r.text
    with db.session() as s:
        assert s.get(Invitation, inv_id).scheduled_call_at is not None

    other = _client(tmp_path)
    assert _login(other, seeded.email_b, PASSWORD_B).status_code == 303
    r = other.post("/api/phone-screens", json=body, headers={"X-CSRF-Token": _csrf(other)})
    assert r.status_code == 404
