"""When an interview is scored, the recruiter who invited the candidate gets one e-mail (over a real SMTP
server) with the overall score, the recommendation and a link to the interview page."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from dashboard._mail import Mailer
from dashboard._score_notice import send_score_notices
from scoring import ScoringSettings, run_scoring
from storage import Interview, Invitation, User, hash_token, utcnow
from tests import smtp_server as _smtp
from tests.test_dashboard_seed import seed_dashboard
from tests.test_scoring_support import make_interview

pytestmark = pytest.mark.integration
smtp_server = _smtp.smtp_server  # the fixture
BASE = "http://testserver"


def _invited_by(db, interview_id: str, org_id: str, user_id: str | None) -> None:
    """Make the finished interview one that came from ``user_id``'s invitation in ``org_id``."""
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        iv.plan.org_id = iv.org_id = org_id
        inv = Invitation(
            org_id=org_id,
            plan_id=iv.plan_id,
            token_hash=hash_token(f"t-{interview_id}"),
            candidate_name=iv.candidate_name,
            expires_at=utcnow(),
            created_by=user_id,
        )
        s.add(inv)
        s.flush()
        iv.invitation_id = inv.id


async def test_the_inviting_recruiter_hears_once_when_the_interview_is_scored(db, tmp_path, smtp_server):
    seeded = seed_dashboard(db, tmp_path)
    with db.session() as s:
        recruiter = s.scalar(select(User).where(User.email == seeded.email_a))
        recruiter.name = "Rita"
        recruiter_id = recruiter.id
    kay = make_interview(db, candidate="Kay Kim")
    _invited_by(db, kay, seeded.org_a, recruiter_id)
    cli = make_interview(db, candidate="Cli Invite")  # invited from the command line: nobody to tell
    _invited_by(db, cli, seeded.org_a, None)

    mailer = Mailer()
    assert send_score_notices(db, mailer, BASE) == 0  # not scored yet
    settings = ScoringSettings(redis_url=None, scorer="offline")
    for iid in (kay, cli):
        await run_scoring(iid, settings=settings, db=db)
    assert send_score_notices(db, mailer, BASE) == 1
    assert send_score_notices(db, mailer, BASE) == 0  # once only

    [msg] = smtp_server.to(seeded.email_a)
    assert msg["Subject"] == "Scored: Kay Kim for Backend (mid)"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    with db.session() as s:
        overall = s.get(Interview, kay).overall_score
    assert text.startswith("Hello Rita,") and f"Overall: {overall:.1f} / 5" in text
    assert "Recommendation: " in text
    assert (
        f"{BASE}/dashboard/interviews/{kay}" in text and f'href="{BASE}/dashboard/interviews/{kay}"' in html
    )
    assert len(smtp_server.messages) == 1


async def test_an_unreachable_mail_server_leaves_the_notice_due(db, tmp_path, smtp_server, monkeypatch):
    from dashboard._mail import get_mail_settings
    from tests.smtp_server import free_port

    seeded = seed_dashboard(db, tmp_path)
    with db.session() as s:
        recruiter_id = s.scalar(select(User.id).where(User.email == seeded.email_a))
    kay = make_interview(db, candidate="Kay Kim")
    _invited_by(db, kay, seeded.org_a, recruiter_id)
    await run_scoring(kay, settings=ScoringSettings(redis_url=None, scorer="offline"), db=db)

    port = os.environ["MOCKLINE_SMTP_PORT"]
    monkeypatch.setenv("MOCKLINE_SMTP_PORT", str(free_port()))  # nothing listens there
    get_mail_settings.cache_clear()
    assert send_score_notices(db, Mailer(), BASE) == 0
    monkeypatch.setenv("MOCKLINE_SMTP_PORT", port)  # the server is back
    get_mail_settings.cache_clear()
    assert send_score_notices(db, Mailer(), BASE) == 1
    assert len(smtp_server.to(seeded.email_a)) == 1
