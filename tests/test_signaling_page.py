"""The join page ``/i/{token}``: what a candidate sees before the call, and when the link cannot be used."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Interview, InterviewPlan, InterviewStatus, Invitation, create_invitation

pytestmark = pytest.mark.integration


def _invite(db, *, mode: str = "recruiter", valid_for: timedelta = timedelta(days=1)) -> tuple[str, str]:
    with db.session() as s:
        plan = InterviewPlan(title="Backend engineer", role="backend", time_limit_minutes=15)
        s.add(plan)
        s.flush()
        new = create_invitation(
            s, plan_id=plan.id, org_id=None, candidate_name="Ada Lovelace", mode=mode, valid_for=valid_for
        )
        return new.token, new.invitation.id


@pytest.fixture
def client(db):
    with TestClient(create_app(AppSettings(environment="development"))) as c:
        yield c


def test_valid_link_shows_consent_before_anything_else(client, db):
    token, _ = _invite(db)
    res = client.get(f"/i/{token}")
    assert res.status_code == 200
    html = res.text
    assert "Ada Lovelace" in html and "Backend engineer" in html and "15" in html
    assert "Recording notice" in html and "shared with the hiring team" in html
    # Consent is unchecked and gates the next step; the call UI starts hidden.
    assert '<input type="checkbox" id="consent">' in html
    assert '<button id="consent-continue" class="primary" disabled>' in html
    assert '<section id="step-call" class="step" hidden' in html
    # The token in the URL must not leak through Referer headers or caches.
    assert res.headers["referrer-policy"] == "no-referrer"
    assert res.headers["cache-control"] == "no-store"
    assert '"offerUrl": "/rtc/offer"' in html


def test_practice_link_says_what_the_recording_is_for(client, db):
    token, _ = _invite(db, mode="practice")
    html = client.get(f"/i/{token}").text
    assert "Practice" in html and "coaching report" in html


@pytest.mark.parametrize("case", ["unknown", "expired", "used"])
def test_unusable_links_explain_themselves(client, db, case):
    if case == "unknown":
        token, status, words = "no-such-link", 404, "not valid"
    elif case == "expired":
        token, _ = _invite(db, valid_for=timedelta(seconds=-5))
        status, words = 410, "expired"
    else:
        token, inv_id = _invite(db)
        with db.session() as s:
            plan_id = s.get(Invitation, inv_id).plan_id
            s.add(Interview(plan_id=plan_id, invitation_id=inv_id, status=InterviewStatus.FINISHED.value))
        status, words = 410, "already been completed"
    res = client.get(f"/i/{token}")
    assert res.status_code == status
    assert "This link can't be used" in res.text and words in res.text
    assert 'id="step-consent"' not in res.text and "join.js" not in res.text


def test_page_assets_are_served(client):
    js = client.get("/rtc/static/join.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert 'createDataChannel("events")' in js.text
    css = client.get("/rtc/static/join.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert client.get("/rtc/static/../_routes.py").status_code == 404
    assert client.get("/rtc/static/secrets.txt").status_code == 404


def test_status_is_for_logged_in_recruiters_only(client):
    res = client.get("/rtc/status", follow_redirects=False)  # capacity is not public (issue 16)
    assert res.status_code == 303 and res.headers["location"].startswith("/login")


def test_mockline_invite_prints_a_link_that_opens_the_join_page(client, db):
    from typer.testing import CliRunner

    from mockline.cli import _load, app

    _load()
    result = CliRunner().invoke(app, ["invite", "--role", "backend engineer", "--name", "Ada", "--practice"])
    assert result.exit_code == 0, result.output
    link = next(line.split("link: ", 1)[1] for line in result.output.splitlines() if "link: " in line)
    pin = next(line.split("PIN:", 1)[1].split()[0] for line in result.output.splitlines() if "PIN:" in line)
    assert len(pin) == 6 and pin.isdigit()
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200 and "Ada" in page.text and "Practice" in page.text

    bad = CliRunner().invoke(app, ["invite", "--role", "astronaut"])
    assert bad.exit_code == 2 and "no questions for role" in bad.output
