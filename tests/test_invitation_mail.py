"""Invitations reach people: e-mail over a real SMTP server (aiosmtpd on loopback), withdraw and extend,
a CSV list invited at once with a per-row report, and the reminder before the link expires."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard._bulk_invite import parse_candidates
from dashboard._invite_delivery import send_due_reminders
from dashboard._mail import Mailer, get_mail_settings
from mockline.settings import AppSettings
from mockline.web import create_app
from storage import Invitation, InvitationUsed, resolve_token, utcnow
from tests import smtp_server as _smtp
from tests.smtp_server import free_port
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

smtp_server = _smtp.smtp_server  # the fixture
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"http://testserver/i/([A-Za-z0-9_-]+)")


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


@pytest.fixture
def acme(seeded, tmp_path) -> TestClient:
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url="http://testserver")))
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post(
        "/login",
        data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return c


def _csrf(c: TestClient, path: str) -> str:
    return CSRF.search(c.get(path).text).group(1)


def _parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


@pytest.mark.integration
def test_an_invitation_is_emailed_with_link_pin_and_deadline(acme, seeded, db, smtp_server):
    page = f"/dashboard/plans/{seeded.plan_a}"
    r = acme.post(
        f"{page}/invitations",
        data={
            "csrf_token": _csrf(acme, page),
            "candidate_name": "Grace Hopper",
            "candidate_email": "grace@example.org",
            "valid_days": "5",
            "send_email": "1",
        },
    )
    assert r.status_code == 200 and "The invitation was e-mailed to the candidate." in r.text
    [msg] = smtp_server.to("grace@example.org")
    assert msg["From"] == "mockline <talent@acme.test>"
    assert msg["Subject"] == "Your interview for Backend engineer at Acme"
    text, html = _parts(msg)
    token = LINK.search(text).group(1)
    assert f"http://testserver/i/{token}" in html  # the same link in both parts
    with db.session() as s:
        inv = resolve_token(s, token)  # the e-mailed link works
        assert inv.candidate_name == "Grace Hopper" and inv.emailed_at is not None
        assert f"PIN: {inv.pin}" in text and inv.pin in html
        deadline = inv.expires_at.strftime("%B %Y")
    assert "Please finish the interview before" in text and deadline in text and "UTC" in text
    assert "Grace Hopper · e-mailed" not in r.text  # the row says e-mailed under the address
    assert "grace@example.org · e-mailed" in r.text


@pytest.mark.integration
def test_a_mail_server_that_is_down_leaves_the_link_to_copy(acme, seeded, monkeypatch, smtp_server):
    monkeypatch.setenv("MOCKLINE_SMTP_PORT", str(free_port()))  # nothing listens there
    get_mail_settings.cache_clear()
    page = f"/dashboard/plans/{seeded.plan_a}"
    r = acme.post(
        f"{page}/invitations",
        data={
            "csrf_token": _csrf(acme, page),
            "candidate_name": "Alan Turing",
            "candidate_email": "alan@example.org",
            "valid_days": "7",
            "send_email": "1",
        },
    )
    assert r.status_code == 200
    assert "The e-mail was not sent: The mail server could not be reached" in r.text
    assert LINK.search(r.text)  # the link is still shown to copy by hand
    assert smtp_server.messages == []


@pytest.mark.integration
def test_withdrawn_links_stop_working_and_extended_ones_run_longer(acme, seeded, db, smtp_server):
    page = f"/dashboard/plans/{seeded.plan_a}"
    r = acme.post(
        f"{page}/invitations",
        data={"csrf_token": _csrf(acme, page), "candidate_name": "Kay", "valid_days": "1"},
    )
    token = LINK.search(r.text).group(1)
    with db.session() as s:
        inv = resolve_token(s, token)
        inv_id, first_deadline = inv.id, inv.expires_at
    r = acme.post(
        f"/dashboard/invitations/{inv_id}/extend", data={"csrf_token": _csrf(acme, page), "days": "7"}
    )
    assert "now runs 7 more day(s)" in r.text
    with db.session() as s:
        later = resolve_token(s, token).expires_at
    assert timedelta(days=6, hours=23) < later - first_deadline <= timedelta(days=7, seconds=5)

    r = acme.post(f"/dashboard/invitations/{inv_id}/revoke", data={"csrf_token": _csrf(acme, page)})
    assert "The invitation for Kay was withdrawn." in r.text
    with db.session() as s, pytest.raises(InvitationUsed):
        resolve_token(s, token)


@pytest.mark.integration
def test_another_organisation_cannot_withdraw_an_invitation(acme, seeded, db, tmp_path):
    from tests.test_dashboard_seed import PASSWORD_B

    page = f"/dashboard/plans/{seeded.plan_a}"
    r = acme.post(f"{page}/invitations", data={"csrf_token": _csrf(acme, page), "candidate_name": "Kay"})
    token = LINK.search(r.text).group(1)
    with db.session() as s:
        inv_id = resolve_token(s, token).id
    globex = TestClient(create_app(AppSettings(data_dir=str(tmp_path), public_url="http://testserver")))
    t = CSRF.search(globex.get("/login").text).group(1)
    globex.post("/login", data={"email": seeded.email_b, "password": PASSWORD_B, "csrf_token": t})
    r = globex.post(
        f"/dashboard/invitations/{inv_id}/revoke", data={"csrf_token": _csrf(globex, "/dashboard")}
    )
    assert r.status_code == 404
    with db.session() as s:
        assert resolve_token(s, token).revoked is False


@pytest.mark.integration
def test_a_csv_list_is_invited_and_emailed_with_a_report_of_bad_rows(acme, seeded, db, smtp_server):
    smtp_server.refuse.add("bounce@example.org")
    csv_text = (
        "name,email,phone\n"
        "Ada Byron,ada@example.org,+44 20 7946 0000\n"
        "No Address,not-an-email\n"
        "Bo Bounce,bounce@example.org\n"
        "\n"
        "Ada Again,ADA@example.org\n"
        ",nameless@example.org\n"
        "Linus,linus@example.org\n"
    )
    page = f"/dashboard/plans/{seeded.plan_a}"
    r = acme.post(
        f"{page}/invitations/bulk",
        data={"csrf_token": _csrf(acme, page), "valid_days": "10", "send_email": "1"},
        files={"candidates_csv": ("candidates.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert "3 candidates invited, 3 rows not invited" in r.text
    assert "That does not look like an e-mail address." in r.text  # line 3
    assert "The same e-mail address is on line 2." in r.text  # line 6
    assert "The name is missing." in r.text  # line 7
    assert "The mail server refused this address." in r.text  # Bo's row
    assert sorted(str(m["To"]) for m in smtp_server.messages) == [
        "Ada Byron <ada@example.org>",
        "Linus <linus@example.org>",
    ]
    with db.session() as s:
        rows = s.scalars(select(Invitation).where(Invitation.plan_id == seeded.plan_a)).all()
        by_email = {i.candidate_email: i for i in rows}
    assert set(by_email) == {"ada@example.org", "bounce@example.org", "linus@example.org"}
    assert by_email["ada@example.org"].candidate_phone == "+44 20 7946 0000"
    assert by_email["bounce@example.org"].emailed_at is None and by_email["linus@example.org"].emailed_at


@pytest.mark.integration
def test_the_reminder_carries_a_fresh_link_once_before_expiry(acme, seeded, db, smtp_server):
    page = f"/dashboard/plans/{seeded.plan_a}"
    acme.post(
        f"{page}/invitations",
        data={
            "csrf_token": _csrf(acme, page),
            "candidate_name": "Edsger",
            "candidate_email": "edsger@example.org",
            "valid_days": "1",
            "send_email": "1",
        },
    )
    acme.post(
        f"{page}/invitations",
        data={
            "csrf_token": _csrf(acme, page),
            "candidate_name": "Later",
            "candidate_email": "later@example.org",
            "valid_days": "30",
            "send_email": "1",
        },
    )
    [first] = smtp_server.to("edsger@example.org")
    old = LINK.search(_parts(first)[0]).group(1)

    mailer = Mailer()  # reminders 48 h before expiry (the default)
    assert send_due_reminders(db, mailer, "http://testserver") == 1
    assert send_due_reminders(db, mailer, "http://testserver") == 0  # once only
    [_, reminder] = smtp_server.to("edsger@example.org")
    assert len(smtp_server.to("later@example.org")) == 1  # 30 days left: no reminder yet
    text, _ = _parts(reminder)
    assert reminder["Subject"].startswith("Reminder: your interview")
    assert "the link in the earlier e-mail no longer works" in text
    new = LINK.search(text).group(1)
    with db.session() as s:
        assert resolve_token(s, new).reminder_sent_at is not None
        with pytest.raises(Exception):  # noqa: B017 - the old link is gone (not found)
            resolve_token(s, old)


@pytest.mark.integration
def test_no_reminder_for_expired_or_started_invitations(acme, seeded, db, smtp_server):
    page = f"/dashboard/plans/{seeded.plan_a}"
    for name in ("Started", "Expired"):
        acme.post(
            f"{page}/invitations",
            data={
                "csrf_token": _csrf(acme, page),
                "candidate_name": name,
                "candidate_email": f"{name.lower()}@example.org",
                "valid_days": "1",
                "send_email": "1",
            },
        )
    with db.session() as s:
        invs = {i.candidate_name: i for i in s.scalars(select(Invitation))}
        invs["Started"].used_at = utcnow()
        invs["Expired"].expires_at = utcnow() - timedelta(minutes=1)
    assert send_due_reminders(db, Mailer(), "http://testserver") == 0
    assert len(smtp_server.messages) == 2  # the two invitations, no reminder


@pytest.mark.unit
def test_csv_rows_are_read_with_or_without_a_header_and_semicolons():
    rows, problems = parse_candidates(b"Ada,ada@example.org\nBob;x\n")
    assert [(r.line, r.name, r.email) for r in rows] == [(1, "Ada", "ada@example.org")]
    assert [(p.line, p.message) for p in problems] == [(2, "Expected name,email[,phone].")]
    rows, problems = parse_candidates("\ufeffName;E-mail\nAda;ada@example.org;+1 555 0100\n".encode())
    assert [(r.name, r.phone) for r in rows] == [("Ada", "+1 555 0100")] and problems == []
    rows, problems = parse_candidates(b"\xff\xfe")
    assert rows == [] and "not UTF-8" in problems[0].message
    rows, problems = parse_candidates(b"")
    assert rows == [] and problems[0].message == "The file has no candidates."
