"""Team and roles: an admin adds, re-roles and removes members in the dashboard; every data-changing route
refuses a viewer (403), the team and webhook pages refuse a recruiter, and the team keeps an admin."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from dashboard import create_user
from mockline.settings import AppSettings
from mockline.web import create_app
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FIRST_PASSWORD = re.compile(r'id="member-password" class="mono" readonly value="([^"]+)"')
VIEWER_PW = "viewer-password-1"
RECRUITER_PW = "recruiter-password-1"
ADMIN_ONLY = ("/dashboard/team", "/dashboard/webhooks")


@pytest.fixture
def team(db, tmp_path):
    seeded = seed_dashboard(db, tmp_path)
    with db.session() as s:
        create_user(s, email="viewer@acme.test", password=VIEWER_PW, org_id=seeded.org_a, role="viewer")
        create_user(s, email="rec@acme.test", password=RECRUITER_PW, org_id=seeded.org_a, role="recruiter")
    return seeded


def _client(tmp_path) -> TestClient:
    return TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url="http://testserver")))


def _login(tmp_path, email: str, password: str) -> TestClient:
    c = _client(tmp_path)
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return c


def _csrf(c: TestClient) -> str:
    return CSRF.search(c.get("/dashboard").text).group(1)


def _routes(routes) -> list[Route]:
    """Every route, through routers included in routers (FastAPI keeps them nested)."""
    found: list[Route] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            found += _routes(inner.routes)
        elif isinstance(r, Route):
            found.append(r)
    return found


def _dashboard_posts(c: TestClient, ids: dict[str, str]) -> list[str]:
    paths = []
    for route in _routes(c.app.routes):
        if "POST" in (route.methods or ()) and route.path.startswith("/dashboard"):
            paths.append(re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x"), route.path))
    return sorted(set(paths))


def test_a_viewer_reads_everything_and_changes_nothing(team, tmp_path):
    c = _login(tmp_path, "viewer@acme.test", VIEWER_PW)
    for page in (
        "/dashboard",
        "/dashboard/plans",
        f"/dashboard/plans/{team.plan_a}",
        f"/dashboard/interviews/{team.scored_a}",
        "/dashboard/interviews.csv",
    ):
        assert c.get(page).status_code == 200, page
    plan_page = c.get(f"/dashboard/plans/{team.plan_a}").text
    assert "Invite a candidate" not in plan_page and "New plan" not in plan_page
    assert "Override a score" not in c.get(f"/dashboard/interviews/{team.scored_a}").text
    assert c.get("/dashboard/plans/new").status_code == 403
    for page in ADMIN_ONLY:
        assert c.get(page).status_code == 403

    ids = {"plan_id": team.plan_a, "interview_id": team.scored_a}
    posts = _dashboard_posts(c, ids)
    assert len(posts) >= 12  # plans, invitations, overrides, team, webhooks, …
    token = _csrf(c)
    for path in posts:
        r = c.post(path, data={"csrf_token": token, "role": "admin"}, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Your role does not allow this" in r.text
    # the JSON API refuses state changes too
    r = c.post("/api/phone-screens", json={"invitation_id": "x"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and r.json()["detail"] == "Your role is read-only."
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def test_a_recruiter_runs_plans_but_not_the_team_or_webhooks(team, tmp_path):
    c = _login(tmp_path, "rec@acme.test", RECRUITER_PW)
    assert c.get("/dashboard/plans/new").status_code == 200
    for page in ADMIN_ONLY:
        assert c.get(page).status_code == 403
    token = _csrf(c)
    admin_posts = [p for p in _dashboard_posts(c, {}) if p.startswith(ADMIN_ONLY)]
    assert len(admin_posts) >= 5
    for path in admin_posts:
        assert c.post(path, data={"csrf_token": token, "role": "admin"}).status_code == 403, path
    page = f"/dashboard/plans/{team.plan_a}"
    r = c.post(f"{page}/invitations", data={"csrf_token": token, "candidate_name": "Kay"})
    assert r.status_code == 200 and "Invitation ready for Kay" in r.text
    nav = c.get("/dashboard").text
    assert 'href="/dashboard/team"' not in nav and 'href="/dashboard/webhooks"' not in nav


def test_an_admin_adds_a_member_who_can_log_in_with_the_first_password(team, tmp_path):
    admin = _login(tmp_path, team.email_a, PASSWORD_A)
    r = admin.post(
        "/dashboard/team",
        data={"csrf_token": _csrf(admin), "email": "New@Acme.test", "name": "Nia New", "role": "viewer"},
    )
    assert r.status_code == 200 and "new@acme.test can log in now" in r.text
    password = FIRST_PASSWORD.search(r.text).group(1)
    member = _login(tmp_path, "new@acme.test", password)
    assert member.get("/dashboard/plans/new").status_code == 403  # a viewer

    r = admin.post(
        "/dashboard/team", data={"csrf_token": _csrf(admin), "email": "new@acme.test", "role": "viewer"}
    )
    assert r.status_code == 422 and "already exists" in r.text
    r = admin.post(
        "/dashboard/team", data={"csrf_token": _csrf(admin), "email": "x@acme.test", "role": "owner"}
    )
    assert r.status_code == 422 and "the role must be one of admin, recruiter, viewer" in r.text


def test_roles_change_and_members_leave_but_the_team_keeps_an_admin(team, tmp_path, db):
    from sqlalchemy import select

    from storage import User

    admin = _login(tmp_path, team.email_a, PASSWORD_A)
    with db.session() as s:
        ids = {u.email: u.id for u in s.scalars(select(User))}
    me = ids[team.email_a]
    r = admin.post(f"/dashboard/team/{me}/role", data={"csrf_token": _csrf(admin), "role": "viewer"})
    assert r.status_code == 422 and "at least one admin" in r.text
    r = admin.post(f"/dashboard/team/{me}/remove", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 422 and "cannot remove yourself" in r.text

    viewer = _login(tmp_path, "viewer@acme.test", VIEWER_PW)
    r = admin.post(
        f"/dashboard/team/{ids['viewer@acme.test']}/role",
        data={"csrf_token": _csrf(admin), "role": "recruiter"},
    )
    assert "viewer@acme.test is now recruiter." in r.text
    assert viewer.get("/dashboard/plans/new").status_code == 200  # takes effect on the next request

    r = admin.post(f"/dashboard/team/{ids['viewer@acme.test']}/remove", data={"csrf_token": _csrf(admin)})
    assert "viewer@acme.test was removed from the team." in r.text
    assert viewer.get("/dashboard", follow_redirects=False).status_code == 303  # logged out with them

    # another organisation's member is not found from here
    r = admin.post(f"/dashboard/team/{ids[team.email_b]}/remove", data={"csrf_token": _csrf(admin)})
    assert r.status_code == 404
