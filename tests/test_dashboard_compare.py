"""A recruiter compares the candidates of one plan side by side, moves them to a stage (one or many at once),
filters the shortlist and exports it; the interview list's CSV carries e-mail, competency and question
scores, a link back and UTC times without microseconds."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard import create_user
from dashboard._labels import human
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import (
    Interview,
    InterviewPlan,
    Invitation,
    ScoreReport,
    get_recording_settings,
    hash_token,
    utcnow,
)
from tests.test_dashboard_seed import PASSWORD_A, _scored_interview, seed_dashboard, write_wav

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = "http://testserver"


@pytest.fixture
def shortlist(db, tmp_path):
    """Plan A: Ada (3.4, seeded), Bea (4.2, invited by e-mail, her first competency overridden to 5),
    and Cy who has not taken the interview yet."""
    seeded = seed_dashboard(db, tmp_path)
    wav = write_wav(Path(get_recording_settings().dir) / "seed" / "bea.wav")
    with db.session() as s:
        plan = s.get(InterviewPlan, seeded.plan_a)
        inv = Invitation(
            org_id=seeded.org_a,
            plan_id=plan.id,
            token_hash=hash_token("bea-token"),
            candidate_name="Bea Bright",
            candidate_email="bea@example.test",
            expires_at=utcnow() + timedelta(days=3),
        )
        s.add(inv)
        s.flush()
        bea, _ = _scored_interview(s, org_id=seeded.org_a, plan=plan, name="Bea Bright", wav=wav)
        iv = s.get(Interview, bea)
        iv.overall_score, iv.invitation_id = 4.2, inv.id
        s.scalar(select(ScoreReport).where(ScoreReport.interview_id == bea)).overall = 4.2
        s.add(Interview(org_id=seeded.org_a, plan_id=plan.id, candidate_name="Cy Waiting", status="invited"))
        create_user(
            s, email="viewer@acme.test", password="viewer-password-1", org_id=seeded.org_a, role="viewer"
        )
    seeded.bea = bea  # type: ignore[attr-defined]
    return seeded


def _login(tmp_path, email: str = "recruiter@acme.test", password: str = PASSWORD_A) -> TestClient:
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url=BASE)))
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    return c


def _names_in_order(html: str) -> list[str]:
    return re.findall(r'<a href="/dashboard/interviews/\w+">([^<]+)</a>', html)


def test_candidates_side_by_side_best_first_with_competencies_and_questions(shortlist, tmp_path):
    c = _login(tmp_path)
    override_url = f"/dashboard/interviews/{shortlist.bea}/overrides"
    comp = shortlist.competencies[0]
    token = CSRF.search(c.get("/dashboard").text).group(1)
    r = c.post(
        override_url,
        data={
            "csrf_token": token,
            "target": f"competency:{comp}",
            "new_score": "5",
            "reason": "Strong design",
        },
    )
    assert r.status_code == 200

    page = c.get(f"/dashboard/plans/{shortlist.plan_a}")
    assert 'href="/dashboard/plans/' in page.text and "Compare candidates" in page.text
    r = c.get(f"/dashboard/plans/{shortlist.plan_a}/compare")
    assert r.status_code == 200
    assert _names_in_order(r.text) == ["Bea Bright", "Ada Lovelace", "Cy Waiting"]  # unscored last
    assert "bea@example.test" in r.text
    assert "<strong>4.2</strong>" in r.text and "Lean hire" in r.text
    for c_name in shortlist.competencies:
        assert f">{human(c_name)}</th>" in r.text  # a labelled column per competency
    assert ">Q1<" in r.text and ">Q2<" in r.text
    bea_row = r.text.split("Bea Bright", 1)[1].split("</tr>", 1)[0]
    assert ">5.0<" in bea_row  # the overridden competency shows the recruiter's score
    assert "_" not in re.sub(r"<[^>]+>", "", r.text.split("<table", 1)[1].split("</table>", 1)[0])


def test_stages_one_at_a_time_and_in_bulk_and_the_shortlist_filter(shortlist, tmp_path, db):
    c = _login(tmp_path)
    url = f"/dashboard/plans/{shortlist.plan_a}"
    token = CSRF.search(c.get(f"{url}/compare").text).group(1)

    # from the interview page: one candidate
    r = c.post(
        f"{url}/stage",
        data={"csrf_token": token, "interview_id": shortlist.scored_a, "stage": "hold", "back": "interview"},
    )
    assert r.status_code == 200 and "Stage: <strong>Hold</strong>" in r.text

    # from the comparison: tick two and advance them
    with db.session() as s:
        cy = s.scalar(select(Interview.id).where(Interview.candidate_name == "Cy Waiting"))
    r = c.post(
        f"{url}/stage",
        data={
            "csrf_token": token,
            "interview_id": [shortlist.bea, cy, shortlist.scored_b],
            "stage": "advance",
        },
    )
    assert r.status_code == 200 and "2 candidates are now at “Advance”." in r.text  # Globex's is ignored
    with db.session() as s:
        assert s.get(Interview, shortlist.scored_b).stage is None

    shortlisted = c.get(f"{url}/compare?stage=advance").text
    assert _names_in_order(shortlisted) == ["Bea Bright", "Cy Waiting"]
    assert _names_in_order(c.get(f"{url}/compare?stage=hold").text) == ["Ada Lovelace"]
    assert "No candidates at this stage." in c.get(f"{url}/compare?stage=reject").text

    r = c.post(f"{url}/stage", data={"csrf_token": token, "interview_id": cy, "stage": "clear"})
    assert "1 candidate no longer has a stage." in r.text
    assert _names_in_order(c.get(f"{url}/compare?stage=none").text) == ["Cy Waiting"]

    r = c.post(f"{url}/stage", data={"csrf_token": token, "stage": "advance"})
    assert r.status_code == 422 and "Tick at least one candidate." in r.text
    r = c.post(f"{url}/stage", data={"csrf_token": token, "interview_id": cy, "stage": "hired"})
    assert r.status_code == 422

    # a viewer sees the comparison and stages but cannot change them
    v = _login(tmp_path, "viewer@acme.test", "viewer-password-1")
    page = v.get(f"{url}/compare")
    assert page.status_code == 200 and "Set stage" not in page.text and 'type="checkbox"' not in page.text
    vtoken = CSRF.search(page.text).group(1)
    assert (
        v.post(f"{url}/stage", data={"csrf_token": vtoken, "interview_id": cy, "stage": "reject"}).status_code
        == 403
    )

    # another organisation's plan is not found
    globex = _login(tmp_path, "recruiter@globex.test", "globex-password-1")
    assert globex.get(f"{url}/compare").status_code == 404


def test_comparison_csv_has_a_column_per_competency_and_question_and_a_link(shortlist, tmp_path):
    c = _login(tmp_path)
    r = c.get(f"/dashboard/plans/{shortlist.plan_a}/compare.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="candidates-' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["Candidate"] for row in rows] == ["Bea Bright", "Ada Lovelace", "Cy Waiting"]
    header = next(csv.reader(io.StringIO(r.text)))
    assert [h for h in header if h.startswith("Q")] and header[-1] == "Link"
    q1 = next(h for h in header if h.startswith("Q1: "))
    bea = rows[0]
    assert bea["E-mail"] == "bea@example.test" and bea["Overall score"] == "4.20"
    assert bea["Recommendation"] == "Lean hire" and bea[q1] == "3.00"
    assert bea["Link"] == f"{BASE}/dashboard/interviews/{shortlist.bea}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bea["Interview created (UTC)"])
    assert rows[2]["Overall score"] == "" and rows[2]["Status"] == "Invited"


def test_interview_list_csv_has_email_scores_link_and_plain_utc_times(shortlist, tmp_path):
    c = _login(tmp_path)
    r = c.get("/dashboard/interviews.csv")
    header = next(csv.reader(io.StringIO(r.text)))
    assert not [h for h in header if "_" in h]  # words, not snake_case
    rows = {row["Candidate"]: row for row in csv.DictReader(io.StringIO(r.text))}
    bea = rows["Bea Bright"]
    assert bea["E-mail"] == "bea@example.test"
    assert bea["Link"] == f"{BASE}/dashboard/interviews/{shortlist.bea}"
    assert bea["Question scores"] == "Q1 3; Q2 4"
    assert bea["Channel"] == "Browser" and bea["Status"] == "Scored"
    for column in ("Created (UTC)", "Started (UTC)", "Ended (UTC)"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bea[column]), column
    for comp in shortlist.competencies:
        assert bea[human(comp)]  # a column per competency, filled
    assert rows["Cleo Invited"]["Question scores"] == ""
