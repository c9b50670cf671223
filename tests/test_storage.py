"""Storage on SQLite and real PostgreSQL: the schema migrates, turns are written as they happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage import (
    Base,
    Interview,
    InterviewPlan,
    InterviewStatus,
    Invitation,
    Organization,
    TranscriptTurn,
    TurnMetric,
    utcnow,
)

pytestmark = pytest.mark.integration


def test_migrations_match_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_interview_with_turns_and_metrics_round_trip(db):
    with db.session() as s:
        org = Organization(name="Acme")
        plan = InterviewPlan(org_id=None, title="Backend", role="backend_engineer", spec={"questions": []})
        s.add_all([org, plan])
        s.flush()
        inv = Invitation(
            org_id=org.id,
            plan_id=plan.id,
            token_hash="a" * 64,
            pin="123456",
            expires_at=utcnow() + timedelta(days=1),
        )
        s.add(inv)
        s.flush()
        iv = Interview(
            org_id=org.id, plan_id=plan.id, invitation_id=inv.id, status=InterviewStatus.IN_PROGRESS
        )
        s.add(iv)
        s.flush()
        interview_id = iv.id

    # Turns are committed one by one, as they happen: each is visible to a new session at once.
    for seq, (speaker, text_) in enumerate([("agent", "Hello, welcome."), ("candidate", "Hi, thanks.")]):
        with db.session() as s:
            s.add(
                TranscriptTurn(
                    interview_id=interview_id,
                    seq=seq,
                    speaker=speaker,
                    text=text_,
                    started_at=seq * 2.0,
                    ended_at=seq * 2.0 + 1.5,
                    interrupted=(seq == 0),
                )
            )
        with db.session() as s:
            n = len(
                s.scalars(select(TranscriptTurn).where(TranscriptTurn.interview_id == interview_id)).all()
            )
            assert n == seq + 1

    with db.session() as s:
        s.add(TurnMetric(interview_id=interview_id, seq=1, eou_delay_ms=410.0, stt_ms=700.0, v2v_ms=1200.0))

    with db.session() as s:
        iv = s.get(Interview, interview_id)
        assert [t.speaker for t in iv.turns] == ["agent", "candidate"]
        assert iv.turns[0].interrupted is True
        assert iv.metrics[0].v2v_ms == pytest.approx(1200.0)
        assert iv.plan.role == "backend_engineer"


def test_turn_sequence_is_unique_per_interview(db):
    from sqlalchemy.exc import IntegrityError

    with db.session() as s:
        plan = InterviewPlan(title="x", role="sales")
        s.add(plan)
        s.flush()
        iv = Interview(plan_id=plan.id)
        s.add(iv)
        s.flush()
        iid = iv.id
    with db.session() as s:
        s.add(TranscriptTurn(interview_id=iid, seq=0, speaker="agent", text="a", started_at=0, ended_at=1))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(TranscriptTurn(interview_id=iid, seq=0, speaker="agent", text="b", started_at=0, ended_at=1))
