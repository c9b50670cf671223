"""An organisation's own invitation e-mail: written in the dashboard with {placeholders}, previewed, saved,
and then what the candidate's e-mail says (a real SMTP server on loopback, tests/smtp_server.py).

Unit scripts first (what a template may contain, what a rendered message always carries), then the
dashboard over HTTP as an admin, a recruiter and a viewer.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard import create_user
from dashboard._mail_template import DEFAULT_BODY, DEFAULT_SUBJECT, TemplateProblem, check, render
from storage import EmailTemplate, InterviewPlan, resolve_token
from tests import smtp_server as _smtp
from tests.test_dashboard_roles import _login
from tests.test_invitation_mail import CSRF, LINK, _parts
from tests.test_invitation_mail import acme as acme
from tests.test_invitation_mail import seeded as seeded

smtp_server = _smtp.smtp_server  # the fixture
PAGE = "/dashboard/email-template"
VALUES = {
    "candidate_name": "Dana Whitfield",
    "company": "Acme",
    "role": "Backend engineer",
    "link": "https://jobs.acme.test/i/abc",
    "pin": "482913",
    "deadline": "Monday 14 December 2026, 09:00 UTC",
    "minutes": "20",
}
OURS = (
    "Dear {candidate_name}, thanks for applying to {company}! Your {minutes}-minute {role} interview "
    "is ready: {link} (or call us with PIN {pin}). The link works until {deadline}. {{Acme talent team}}"
)


# -- what a template may say ---------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("subject", "body", "field", "says"),
    [
        (
            "Hi",
            "Hello {candidate}, {link}",
            "body",
            "Unknown placeholder {candidate}. You can use {candidate_name}",
        ),
        ("Interview at {firm}", "Hello", "subject", "Unknown placeholder {firm}."),
        ("Hi", "Your link: {link.__class__}", "body", "Unknown placeholder {link.__class__}."),
        ("Hi", "Your PIN: {pin:>20}", "body", "Unknown placeholder {pin:>20}."),
        ("Hi", "Use {link", "body", "A “{” or “}” has no partner. Write {{ or }}"),
        ("Hi", "Odd } brace", "body", "has no partner"),
        ("", "Hello", "subject", "Write a subject line."),
        ("Hi", "   ", "body", "Write the message."),
        ("Two\nlines", "Hello", "subject", "The subject is one line."),
    ],
)
def test_a_template_with_a_mistake_is_refused_saying_what_and_where(subject, body, field, says) -> None:
    with pytest.raises(TemplateProblem) as e:
        check(subject, body)
    assert e.value.field == field and says in e.value.message


@pytest.mark.unit
def test_placeholders_are_filled_and_double_braces_stay_braces() -> None:
    out = render("Interview at {company}: {role}", OURS, values=VALUES)
    assert out.subject == "Interview at Acme: Backend engineer"
    assert out.text.startswith("Dear Dana Whitfield, thanks for applying to Acme! Your 20-minute Backend")
    assert "{Acme talent team}" in out.text
    assert out.text.count(VALUES["link"]) == 1  # nothing appended: it already has link, PIN and deadline
    assert f'<a href="{VALUES["link"]}">' in out.html


@pytest.mark.unit
def test_a_template_without_the_link_pin_or_deadline_still_gives_them_to_the_candidate() -> None:
    out = render(
        "Hello", "Hi {candidate_name}, we'd love to talk. <b>Cheers</b>", values=VALUES, dial_in="+1 555 0100"
    )
    assert out.text.splitlines()[-3:] == [
        "Start the interview in your browser: https://jobs.acme.test/i/abc",
        "Or call +1 555 0100 and enter this PIN on the keypad: 482913",
        "Please finish the interview before Monday 14 December 2026, 09:00 UTC.",
    ]
    assert "482913" in out.html and "&lt;b&gt;Cheers&lt;/b&gt;" in out.html  # the HTML part is escaped


@pytest.mark.unit
def test_the_standard_wording_is_a_valid_template_with_every_fact() -> None:
    out = render(DEFAULT_SUBJECT, DEFAULT_BODY, values=VALUES)
    assert out.subject == "Your interview for Backend engineer at Acme"
    assert out.text.startswith("Hello Dana Whitfield,")
    assert "Please finish the interview before Monday 14 December 2026, 09:00 UTC." in out.text
    assert "Start the interview in your browser: " not in out.text  # nothing had to be appended


# -- in the dashboard ---------------------------------------------------------------------------------------


def _form(c: TestClient, **data: str) -> dict[str, str]:
    return {"csrf_token": CSRF.search(c.get(PAGE).text).group(1), **data}


def _invite(c: TestClient, plan_id: str, name: str, email: str) -> None:
    page = f"/dashboard/plans/{plan_id}"
    token = CSRF.search(c.get(page).text).group(1)
    data = {"csrf_token": token, "candidate_name": name, "candidate_email": email, "send_email": "1"}
    r = c.post(f"{page}/invitations", data=data)
    assert r.status_code == 200 and "The invitation was e-mailed to the candidate." in r.text


@pytest.mark.integration
def test_a_saved_template_is_what_the_candidates_email_says(acme, seeded, db, smtp_server):
    page = acme.get(PAGE)
    assert page.status_code == 200 and "The standard wording is in use." in page.text
    assert "{candidate_name}" in page.text and "{deadline}" in page.text  # the placeholders are listed

    # a preview shows the message for a sample candidate and saves nothing
    r = acme.post(PAGE, data=_form(acme, subject="Interview at {company}", body=OURS, action="preview"))
    assert r.status_code == 200 and "Preview for a sample candidate" in r.text
    assert "Dear Dana Whitfield, thanks for applying to Acme!" in r.text
    with db.session() as s:
        assert s.query(EmailTemplate).count() == 0

    r = acme.post(PAGE, data=_form(acme, subject="Interview at {company}", body=OURS, action="save"))
    assert r.status_code == 200 and "Saved. New invitations use this wording." in r.text
    assert "Your own wording is in use." in acme.get(PAGE).text

    _invite(acme, seeded.plan_a, "Grace Hopper", "grace@example.org")
    [msg] = smtp_server.to("grace@example.org")
    assert msg["Subject"] == "Interview at Acme"
    text, html = _parts(msg)
    token = LINK.search(text).group(1)
    with db.session() as s:
        pin = resolve_token(s, token).pin
    assert text.startswith("Dear Grace Hopper, thanks for applying to Acme! Your 20-minute Backend engineer")
    assert f"http://testserver/i/{token} (or call us with PIN {pin})" in text
    assert "The link works until " in text and " UTC. {Acme talent team}" in text
    assert f'<a href="http://testserver/i/{token}">' in html and "Grace Hopper" in html


@pytest.mark.integration
def test_a_short_template_still_sends_the_link_pin_and_deadline(acme, seeded, db, smtp_server):
    r = acme.post(PAGE, data=_form(acme, subject="Let's talk", body="Hi {candidate_name}!", action="save"))
    assert r.status_code == 200
    _invite(acme, seeded.plan_a, "Alan Turing", "alan@example.org")
    [msg] = smtp_server.to("alan@example.org")
    text, _html = _parts(msg)
    token = LINK.search(text).group(1)
    with db.session() as s:
        pin = resolve_token(s, token).pin
    assert text.startswith("Hi Alan Turing!")
    assert f"Start the interview in your browser: http://testserver/i/{token}" in text
    assert f"Your phone PIN: {pin}" in text and "Please finish the interview before " in text


@pytest.mark.integration
def test_an_unknown_placeholder_is_refused_and_nothing_changes(acme, db):
    r = acme.post(PAGE, data=_form(acme, subject="Hi", body="Hello {first_name}, {link}", action="save"))
    assert r.status_code == 422
    assert "Unknown placeholder {first_name}." in r.text and 'aria-invalid="true"' in r.text
    assert "Hello {first_name}, {link}" in r.text  # what they typed is kept to fix
    with db.session() as s:
        assert s.query(EmailTemplate).count() == 0


@pytest.mark.integration
def test_back_to_the_standard_wording(acme, seeded, smtp_server):
    acme.post(PAGE, data=_form(acme, subject="Hi", body="Hi {candidate_name}", action="save"))
    r = acme.post(PAGE, data=_form(acme, action="reset"))
    assert r.status_code == 200 and "The standard wording is in use." in r.text
    _invite(acme, seeded.plan_a, "Ada Byron", "ada@example.org")
    [msg] = smtp_server.to("ada@example.org")
    assert msg["Subject"] == "Your interview for Backend engineer at Acme"


@pytest.mark.integration
def test_recruiters_edit_the_template_viewers_cannot_and_other_organisations_keep_theirs(
    seeded,
    db,
    tmp_path,
    smtp_server,
):
    with db.session() as s:
        create_user(
            s, email="viewer@acme.test", password="viewer-password-1", org_id=seeded.org_a, role="viewer"
        )
        create_user(
            s, email="rec@acme.test", password="recruiter-password-1", org_id=seeded.org_a, role="recruiter"
        )
    rec = _login(tmp_path, "rec@acme.test", "recruiter-password-1")
    assert 'href="/dashboard/email-template"' in rec.get("/dashboard").text
    r = rec.post(PAGE, data=_form(rec, subject="From Acme", body="Hi {candidate_name} {link}", action="save"))
    assert r.status_code == 200 and "Saved." in r.text

    viewer = _login(tmp_path, "viewer@acme.test", "viewer-password-1")
    assert 'href="/dashboard/email-template"' not in viewer.get("/dashboard").text
    assert viewer.get(PAGE).status_code == 403
    token = CSRF.search(viewer.get("/dashboard").text).group(1)
    data = {"csrf_token": token, "subject": "x", "body": "y", "action": "save"}
    assert viewer.post(PAGE, data=data).status_code == 403

    from tests.test_dashboard_seed import PASSWORD_B

    globex = _login(tmp_path, seeded.email_b, PASSWORD_B)
    assert "The standard wording is in use." in globex.get(PAGE).text
    with db.session() as s:
        plan_b = s.scalars(select(InterviewPlan.id).where(InterviewPlan.org_id == seeded.org_b)).first()
    _invite(globex, plan_b, "Bo Globex", "bo@example.org")
    [msg] = smtp_server.to("bo@example.org")
    assert msg["Subject"] == "Your interview for Backend engineer at Globex"
