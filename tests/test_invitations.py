"""Candidate links are unguessable, expire, and stop working once the interview is done."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import (
    Interview,
    InterviewPlan,
    InterviewStatus,
    InvitationExpired,
    InvitationNotFound,
    InvitationUsed,
    create_invitation,
    current_interview,
    resolve_pin,
    resolve_token,
    utcnow,
)

pytestmark = pytest.mark.integration


def _plan(s):
    plan = InterviewPlan(title="Support", role="customer_support")
    s.add(plan)
    s.flush()
    return plan


def test_token_resolves_and_is_not_stored_in_clear(db):
    with db.session() as s:
        new = create_invitation(s, plan_id=_plan(s).id, org_id=None, candidate_name="Ada")
        token, inv_id = new.token, new.invitation.id
        assert len(token) >= 40
        assert new.invitation.token_hash != token and token not in new.invitation.token_hash
    with db.session() as s:
        assert resolve_token(s, token).id == inv_id
        with pytest.raises(InvitationNotFound):
            resolve_token(s, token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_expired_link_is_refused(db):
    with db.session() as s:
        new = create_invitation(s, plan_id=_plan(s).id, org_id=None, valid_for=timedelta(minutes=5))
    with db.session() as s:
        with pytest.raises(InvitationExpired) as e:
            resolve_token(s, new.token, now=utcnow() + timedelta(minutes=6))
        assert "expired" in e.value.message


def test_pin_resolves_and_finished_interview_is_used(db):
    with db.session() as s:
        new = create_invitation(s, plan_id=_plan(s).id, org_id=None)
        pin, inv_id, plan_id = new.invitation.pin, new.invitation.id, new.invitation.plan_id
    with db.session() as s:
        inv = resolve_pin(s, f"{pin[:3]} {pin[3:]}#")
        assert inv.id == inv_id
        assert current_interview(s, inv) is None
        s.add(Interview(plan_id=plan_id, invitation_id=inv_id, status=InterviewStatus.IN_PROGRESS))
    with db.session() as s:
        inv = resolve_pin(s, pin)  # still usable while in progress (a dropped call can resume)
        iv = current_interview(s, inv)
        assert iv is not None
        iv.status = InterviewStatus.FINISHED
    with db.session() as s, pytest.raises(InvitationUsed):
        resolve_pin(s, pin)
