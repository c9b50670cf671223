"""Storage on SQLite and real PostgreSQL: the schema migrates, turns are written as they happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from storage import (
    OPEN_STATUSES,
    Base,
    Interview,
    InterviewPlan,
    InterviewStatus,
    Invitation,
    Organization,
    PlanSnapshot,
    Recording,
    ScoreReport,
    TranscriptTurn,
    TurnMetric,
    latest_recording,
    latest_report,
    next_turn_seq,
    transcript,
    transcript_lines,
    turn_metrics,
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


def test_turns_are_read_back_in_the_order_they_were_spoken(db):
    """Turns written out of order (a resumed answer, a late write) come back by ``seq``, with their metrics;
    the next turn takes the next number."""
    with db.session() as s:
        plan = InterviewPlan(title="x", role="sales")
        s.add(plan)
        s.flush()
        iv = Interview(plan_id=plan.id)
        s.add(iv)
        s.flush()
        iid = iv.id
        assert next_turn_seq(s, iid) == 1
    for seq, speaker, text_ in [
        (3, "agent", "Next question."),
        (1, "agent", "Hello."),
        (2, "candidate", "Hi."),
    ]:
        with db.session() as s:
            s.add(
                TranscriptTurn(
                    interview_id=iid, seq=seq, speaker=speaker, text=text_, started_at=0, ended_at=1
                )
            )
            s.add(TurnMetric(interview_id=iid, seq=seq, v2v_ms=100.0 * seq))
    with db.session() as s:
        assert [t.text for t in transcript(s, iid)] == ["Hello.", "Hi.", "Next question."]
        assert transcript_lines(s, iid)[1] == {"speaker": "candidate", "text": "Hi."}
        assert [m.v2v_ms for m in turn_metrics(s, iid)] == [100.0, 200.0, 300.0]
        assert next_turn_seq(s, iid) == 4
        assert transcript(s, "no-such-interview") == []


def test_status_is_typed_in_python_and_plain_text_in_the_database(db):
    """``Interview.status`` reads back as an ``InterviewStatus``, whether it was written as the member or its
    text, while the column keeps the plain text older rows and other tools read."""
    with db.session() as s:
        plan = InterviewPlan(title="x", role="sales")
        s.add(plan)
        s.flush()
        fresh, written_as_text = Interview(plan_id=plan.id), Interview(plan_id=plan.id, status="finished")
        s.add_all([fresh, written_as_text])
        s.flush()
        ids = fresh.id, written_as_text.id
        assert written_as_text.status is InterviewStatus.FINISHED
    with db.session() as s:
        raw = s.execute(
            text("SELECT id, status FROM interviews WHERE id IN (:a, :b)"), {"a": ids[0], "b": ids[1]}
        )
        stored = dict(raw.tuples().all())
        assert stored == {ids[0]: "invited", ids[1]: "finished"}
        assert all(type(v) is str for v in stored.values())
        rows = [s.get(Interview, i) for i in ids]
        assert [r.status for r in rows] == [InterviewStatus.INVITED, InterviewStatus.FINISHED]
        assert [r.status.is_open for r in rows] == [True, False]
        assert s.scalar(select(Interview.id).where(Interview.status.in_(OPEN_STATUSES))) == ids[0]
        assert s.scalar(select(Interview.id).where(Interview.status == "finished")) == ids[1]


def test_plan_snapshot_reads_questions_leniently():
    """The dashboard and the report read a plan's questions through one typed reader, which skips what is not
    a question rather than failing the page."""
    spec = {
        "role": "backend_engineer",
        "weights": {"system_design": 0.6, "communication": 0.4},
        "questions": [
            {"id": "q1", "text": "Design a URL shortener.", "competency": "system_design"},
            "not a question",
            {"text": "no id"},
            {"id": "q2", "text": None, "competency": "debugging"},
        ],
    }
    plan = PlanSnapshot.from_json(spec)
    assert plan.role == "backend_engineer"
    assert plan.question_ids == ["q1", "q2"]
    assert plan.question_text("q1") == "Design a URL shortener."
    assert plan.question_text("q2") == "" and plan.question_text("q9") == ""
    assert plan.competencies == ["system_design", "communication", "debugging"]
    assert PlanSnapshot.from_json(None) == PlanSnapshot() == PlanSnapshot.from_json({"questions": None})


def test_an_interview_reads_its_own_questions_before_the_plans(db):
    with db.session() as s:
        plan = InterviewPlan(title="x", role="sales", spec={"questions": [{"id": "p1", "text": "Plan's."}]})
        s.add(plan)
        s.flush()
        own = Interview(plan_id=plan.id, plan_spec={"questions": [{"id": "o1", "text": "Own."}]})
        shared = Interview(plan_id=plan.id)
        s.add_all([own, shared])
        s.flush()
        assert own.snapshot.question_ids == ["o1"]
        assert shared.snapshot.question_text("p1") == "Plan's."
        assert plan.snapshot.question_ids == ["p1"]


def test_the_newest_report_and_recording_are_the_current_ones(db):
    """Re-scoring writes a new report version and a resumed interview a second recording: the dashboard,
    the webhooks and the notices all show the newest."""
    with db.session() as s:
        plan = InterviewPlan(title="x", role="sales")
        s.add(plan)
        s.flush()
        iv = Interview(plan_id=plan.id)
        s.add(iv)
        s.flush()
        iid = iv.id
        assert latest_report(s, iid) is None and latest_recording(s, iid) is None
        for version, overall in [(2, 3.5), (1, 2.0)]:
            s.add(ScoreReport(interview_id=iid, version=version, scorer="offline", overall=overall))
        for path in ["a/first.ogg", "a/resumed.ogg"]:
            s.add(Recording(interview_id=iid, path=path))
    with db.session() as s:
        assert latest_report(s, iid).overall == 3.5
        assert latest_recording(s, iid).path == "a/resumed.ogg"
