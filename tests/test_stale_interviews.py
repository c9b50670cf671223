"""A candidate who drops and never comes back: the interview is finished (and so scored), not left open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mockline._stale import finish_stale_interviews
from storage import Interview, InterviewPlan, InterviewStatus, OutboxEvent, utcnow

pytestmark = pytest.mark.integration


def _interview(s, plan_id: str, idle: timedelta) -> str:
    iv = Interview(plan_id=plan_id, status=InterviewStatus.IN_PROGRESS, last_seen_at=utcnow() - idle)
    s.add(iv)
    s.flush()
    return iv.id


def test_only_idle_interviews_without_a_live_session_are_finished(db):
    with db.session() as s:
        plan = InterviewPlan(title="t", role="sales")
        s.add(plan)
        s.flush()
        abandoned = _interview(s, plan.id, timedelta(minutes=40))
        recent = _interview(s, plan.id, timedelta(minutes=2))  # still inside the resume grace
        held = _interview(s, plan.id, timedelta(minutes=40))  # a session in this process holds it

    done = finish_stale_interviews(db, older_than=timedelta(minutes=15), live={held})

    assert done == [abandoned]
    with db.session() as s:
        status = {i: s.get(Interview, i).status for i in (abandoned, recent, held)}
        events = s.scalars(select(OutboxEvent.interview_id)).all()
    assert status == {abandoned: "finished", recent: "in_progress", held: "in_progress"}
    assert events == [abandoned]  # handed on to scoring through the outbox
