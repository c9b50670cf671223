"""A recruiter changes a plan from the dashboard: edits a question and its rubric, adds one, removes one,
previews before saving; interviews already held keep their questions; duplicates and archives a plan."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mockline.settings import AppSettings
from mockline.web import create_app
from scoring._store import load_snapshot
from storage import Interview, InterviewPlan
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def acme(db, tmp_path):
    seeded = seed_dashboard(db, tmp_path)
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url="http://testserver")))
    token = CSRF.search(c.get("/login").text).group(1)
    c.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token})
    return c, seeded


def _form(html: str) -> dict[str, str]:
    """The edit form's fields as the browser would post them (unticked boxes left out)."""
    data: dict[str, str] = {}
    for m in re.finditer(r"<input[^>]*>", html):
        tag = m.group(0)
        name = re.search(r'name="([^"]+)"', tag)
        if not name or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        data[m.group(1)] = m.group(2)
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    return {k: v.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"') for k, v in data.items()}


def test_edit_questions_and_rubric_with_a_preview_and_old_interviews_keep_theirs(acme, db):
    c, seeded = acme
    url = f"/dashboard/plans/{seeded.plan_a}/edit"
    page = c.get(url)
    assert page.status_code == 200
    form = _form(page.text)
    assert form["slots"] == "3"  # two questions and an empty slot to add one
    old_first = form["q-0-text"]
    with db.session() as s:
        asked = s.get(Interview, seeded.scored_a).spec["questions"][0]["text"]
    assert asked == old_first

    form.update(
        {
            "q-0-text": "How would you design retries for a payment API?",
            "q-0-competency": "System design",
            "q-0-anchor-5": "Idempotency keys, backoff with jitter, and how keys expire.",
            "q-0-points": "idempotency key\nbackoff with jitter\nkey expiry",
            "q-1-remove": "1",
            "q-2-text": "Tell me about an on-call incident you led.",
            "q-2-round": "behavioural",
            "q-2-competency": "Ownership",
            **{f"q-2-anchor-{n}": f"Level {n} answer" for n in range(1, 6)},
            "q-2-points": "- what broke\n- what they did\n- what changed after",
            "q-2-weight": "3",
            "action": "preview",
        }
    )
    preview = c.post(url, data=form)
    assert preview.status_code == 200 and "Preview: the candidate will hear" in preview.text
    assert "How would you design retries for a payment API?" in preview.text
    with db.session() as s:  # nothing saved by a preview
        assert s.get(InterviewPlan, seeded.plan_a).spec["questions"][0]["text"] == old_first

    form["action"] = "save"
    saved = c.post(url, data=form)
    assert saved.status_code == 200 and "The plan is saved." in saved.text
    assert "Tell me about an on-call incident you led." in saved.text
    with db.session() as s:
        plan = s.get(InterviewPlan, seeded.plan_a)
        spec = plan.spec
        assert plan.question_count == 2 and [q["id"] for q in spec["questions"]][1] == "custom-1"
        first = spec["questions"][0]
        assert first["competency"] == "system_design"
        assert first["rubric"]["key_points"] == ["idempotency key", "backoff with jitter", "key expiry"]
        assert spec["questions"][1]["rubric"]["key_points"] == [
            "what broke",
            "what they did",
            "what changed after",
        ]
        assert spec["weights"] == {"system_design": 0.25, "ownership": 0.75}
        assert "behavioural" in spec["rounds"]
        # Ada's interview was held with the old questions: it keeps them, and is scored against them
        assert s.get(Interview, seeded.scored_a).spec["questions"][0]["text"] == old_first
    snapshot, _ = load_snapshot(db, seeded.scored_a)
    assert snapshot.questions[0].text == old_first


def test_a_bad_edit_is_shown_again_with_its_messages(acme):
    c, seeded = acme
    url = f"/dashboard/plans/{seeded.plan_a}/edit"
    form = _form(c.get(url).text)
    form.update({"q-0-text": "Short", "q-0-points": "", "q-0-anchor-3": "", "time_limit_minutes": "0"})
    r = c.post(url, data={**form, "action": "save"})
    assert r.status_code == 422
    assert "Write the question (8 to 2,000 characters)." in r.text
    assert "List at least one key point" in r.text and "Describe every score from 1 to 5." in r.text
    assert "from 1 to 180" in r.text
    assert 'id="q-0-text" name="q-0-text" rows="2" aria-invalid="true"' in r.text
    form = _form(c.get(url).text)
    r = c.post(url, data={**form, "q-0-remove": "1", "q-1-remove": "1", "action": "save"})
    assert r.status_code == 422 and "A plan needs at least one question." in r.text


def test_duplicate_then_archive_and_restore(acme, db):
    c, seeded = acme
    page = f"/dashboard/plans/{seeded.plan_a}"
    token = CSRF.search(c.get(page).text).group(1)
    r = c.post(f"{page}/duplicate", data={"csrf_token": token})
    assert (
        r.status_code == 200
        and r.url.path.endswith("/edit")
        and "Copy of backend_engineer plan" not in r.text
    )
    copy_id = r.url.path.split("/")[-2]
    with db.session() as s:
        original, copy = s.get(InterviewPlan, seeded.plan_a), s.get(InterviewPlan, copy_id)
        assert copy.title == f"Copy of {original.title}" and copy.spec == original.spec

    r = c.post(f"/dashboard/plans/{copy_id}/archive", data={"csrf_token": token, "action": "archive"})
    assert "Archived" in r.text and "Invite a candidate" not in r.text
    assert copy_id not in c.get("/dashboard/plans").text
    assert "Archived plans (1)" in c.get("/dashboard/plans").text
    assert copy_id in c.get("/dashboard/plans?archived=1").text
    r = c.post(f"/dashboard/plans/{copy_id}/invitations", data={"csrf_token": token, "candidate_name": "Zed"})
    assert r.status_code == 409 and "archived" in r.text
    r = c.post(f"/dashboard/plans/{copy_id}/archive", data={"csrf_token": token, "action": "restore"})
    assert "Invite a candidate" in r.text and copy_id in c.get("/dashboard/plans").text
