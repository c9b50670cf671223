"""SQLAlchemy 2 typed models.

The plan an interview runs is stored as a snapshot (``InterviewPlan.spec``: questions, rubrics, weights), so
scoring and the dashboard read everything they need from storage and never import the agent.

Times: ``DateTime(timezone=True)`` in UTC for wall-clock moments; transcript and metric offsets are float
seconds from the interview start (``Interview.started_at``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from ._plan_snapshot import PlanSnapshot


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012 (SQLAlchemy's API)


class InterviewStatus(enum.StrEnum):
    """Where an interview is. Stored as its plain-text value (``interviews.status`` is a VARCHAR); a
    ``StrEnum``, so a member equals its text and formats as it (``InterviewStatus.FINISHED == "finished"``).
    """

    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    SCORING = "scoring"
    SCORED = "scored"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        """The candidate may still start or resume it (invited, in progress)."""
        return self in OPEN_STATUSES


#: The statuses of an interview a candidate may still start or resume (for ``Interview.status.in_(...)``).
OPEN_STATUSES: tuple[InterviewStatus, ...] = (InterviewStatus.INVITED, InterviewStatus.IN_PROGRESS)


class InterviewStatusType(TypeDecorator[InterviewStatus]):
    """``interviews.status``: a VARCHAR(20) in the database (the schema and its data do not change), an
    ``InterviewStatus`` in Python. Writes accept the member or its text; an unknown text is refused."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: InterviewStatus | str | None, dialect: Dialect) -> str | None:
        return None if value is None else InterviewStatus(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> InterviewStatus | None:
        return None if value is None else InterviewStatus(value)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A recruiter. Passwords are stored as argon2 hashes only."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # admin | recruiter | viewer (dashboard/_roles.py says what each may do); ``is_admin`` mirrors "admin".
    role: Mapped[str] = mapped_column(String(20), default="recruiter", server_default="recruiter")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserSession(Base):
    """A dashboard login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token) hex
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InterviewPlan(Base):
    __tablename__ = "interview_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    seniority: Mapped[str] = mapped_column(String(50), default="mid")
    interview_type: Mapped[str] = mapped_column(String(20), default="mixed")
    language: Mapped[str] = mapped_column(String(10), default="en")
    difficulty: Mapped[str] = mapped_column(String(20), default="medium")
    question_count: Mapped[int] = mapped_column(Integer, default=5)
    time_limit_minutes: Mapped[int] = mapped_column(Integer, default=20)
    rounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    job_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    resume_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Archived plans leave the list and take no new invitations (links already sent keep working).
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def snapshot(self) -> PlanSnapshot:
        """``spec`` read as typed data: the plan's questions (id, text, competency), role and competencies."""
        return PlanSnapshot.from_json(self.spec)

    @classmethod
    def from_spec(
        cls,
        spec: dict[str, Any],
        *,
        title: str,
        org_id: str | None = None,
        created_by: str | None = None,
        job_description: str | None = None,
        resume_text: str | None = None,
    ) -> InterviewPlan:
        """A plan row from a plan snapshot (``agent.plans.PlanSpec.to_json()``): the searchable columns are
        copied out of the snapshot, which is stored whole in ``spec``."""
        return cls(
            org_id=org_id,
            title=title,
            role=spec["role"],
            seniority=spec["seniority"],
            interview_type=spec["interview_type"],
            language=spec.get("language", "en"),
            difficulty=spec["difficulty"],
            question_count=spec["question_count"],
            time_limit_minutes=spec["time_limit_minutes"],
            rounds=spec["rounds"],
            job_description=job_description,
            resume_text=resume_text,
            spec=spec,
            created_by=created_by,
        )


class Invitation(Base):
    """A candidate's link and phone PIN. The link token is never stored, only its SHA-256."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("interview_plans.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pin: Mapped[str | None] = mapped_column(String(12), index=True, nullable=True)
    candidate_name: Mapped[str] = mapped_column(String(200), default="")
    candidate_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    candidate_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mode: Mapped[str] = mapped_column(String(20), default="recruiter")  # recruiter | practice
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_call_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The candidate's own résumé (text): personalises this candidate's questions, never the plan's.
    resume_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # This candidate's plan snapshot when their résumé personalised it (None: the plan's ``spec``).
    plan_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # When the invitation e-mail went out, and when the reminder before expiry did (claimed by the sweep).
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    plan: Mapped[InterviewPlan] = relationship()


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("interview_plans.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[str | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True, nullable=True
    )
    mode: Mapped[str] = mapped_column(String(20), default="recruiter")  # recruiter | practice
    channel: Mapped[str] = mapped_column(
        String(20), default="simulate"
    )  # webrtc | phone | livekit | simulate
    status: Mapped[InterviewStatus] = mapped_column(
        InterviewStatusType(), default=InterviewStatus.INVITED, index=True
    )
    candidate_name: Mapped[str] = mapped_column(String(200), default="")
    brain: Mapped[str] = mapped_column(String(20), default="offline")
    call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    overall_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scoring_attempts: Mapped[int] = mapped_column(Integer, default=0)
    scoring_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # brain state for resume
    # a recruiter erased the candidate's data (audio, transcript, report); the row stays for the audit trail
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The recruiter's decision: advance | hold | reject (None: not decided yet).
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The plan snapshot this interview runs when it is the candidate's own (copied from the invitation).
    plan_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # When the recruiter who invited the candidate was e-mailed that the interview is scored.
    score_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    plan: Mapped[InterviewPlan] = relationship()
    turns: Mapped[list[TranscriptTurn]] = relationship(
        back_populates="interview", order_by="TranscriptTurn.seq", cascade="all, delete-orphan"
    )
    metrics: Mapped[list[TurnMetric]] = relationship(order_by="TurnMetric.seq", cascade="all, delete-orphan")

    @validates("status")
    def _typed_status(self, _key: str, value: InterviewStatus | str) -> InterviewStatus:
        return InterviewStatus(value)  # ``iv.status = "finished"`` holds the member too

    @property
    def spec(self) -> dict[str, Any]:
        """The plan snapshot this interview runs: the candidate's own, else the plan's."""
        return self.plan_spec or (self.plan.spec if self.plan is not None else None) or {}

    @property
    def snapshot(self) -> PlanSnapshot:
        """``spec`` read as typed data: the questions (id, text, competency) this interview asks."""
        return PlanSnapshot.from_json(self.spec)


class TranscriptTurn(Base):
    """One utterance, written as it happens. ``interrupted``: the agent was cut off and ``text`` is what
    the candidate actually heard."""

    __tablename__ = "transcript_turns"
    __table_args__ = (UniqueConstraint("interview_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(20))  # agent | candidate
    text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float] = mapped_column(Float)  # seconds from interview start
    ended_at: Mapped[float] = mapped_column(Float)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    question_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(30), nullable=True)  # question, probe, hint, closing…
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    interview: Mapped[Interview] = relationship(back_populates="turns")


class TurnMetric(Base):
    """Latency of one agent reply, in milliseconds (None where a stage did not run)."""

    __tablename__ = "turn_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    turn_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_turns.id", ondelete="SET NULL"), nullable=True
    )
    eou_delay_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    stt_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    llm_ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    tts_ttfb_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    v2v_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    # the key in the RecordingStore (``storage._recordings``): relative, e.g. "<interview>/<stamp>.ogg"
    path: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(50), default="audio/wav")
    sample_rate: Mapped[int] = mapped_column(Integer, default=16000)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    # where second 0 of the file sits on the transcript's clock (seconds from ``Interview.started_at``)
    offset_s: Mapped[float] = mapped_column(Float, default=0.0)
    channels: Mapped[int] = mapped_column(Integer, default=1)  # 2: candidate left, interviewer right
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # recording (being written; a crash leaves it playable up to its last second) | complete
    status: Mapped[str] = mapped_column(String(20), default="complete")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Something a recruiter did that must stay on record (erasing a candidate's data). Carries no
    candidate content: the action, who, which interview, when."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(
        String(50)
    )  # erase_candidate | retention_audio | retention_transcript
    interview_id: Mapped[str] = mapped_column(String(32), index=True)  # no FK: the row may be gone
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScoreReport(Base):
    """One scoring run. Re-scoring writes a new version; the newest is current."""

    __tablename__ = "score_reports"
    __table_args__ = (UniqueConstraint("interview_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    scorer: Mapped[str] = mapped_column(String(30))  # offline | llm:<model>
    overall: Mapped[float] = mapped_column(Float)
    recommendation: Mapped[str | None] = mapped_column(String(30), nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # strengths, weaknesses, …
    speech_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    questions: Mapped[list[QuestionScore]] = relationship(cascade="all, delete-orphan")
    competencies: Mapped[list[CompetencyScore]] = relationship(cascade="all, delete-orphan")


class QuestionScore(Base):
    __tablename__ = "question_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("score_reports.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    competency: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)  # 1..5
    rationale: Mapped[str] = mapped_column(Text, default="")
    # [{"turn_id": int, "start": int, "end": int, "quote": str}] — character span in the turn's text
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    improved_answer: Mapped[str | None] = mapped_column(Text, nullable=True)


class CompetencyScore(Base):
    __tablename__ = "competency_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("score_reports.id", ondelete="CASCADE"), index=True)
    competency: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ScoreOverride(Base):
    """A recruiter's override; the original score stays where it was."""

    __tablename__ = "score_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("score_reports.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(100))  # "competency:<name>" | "question:<id>" | "overall"
    original_score: Mapped[float] = mapped_column(Float)
    new_score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEvent(Base):
    """Transactional outbox: written in the same transaction that finishes an interview, dispatched to the
    queue afterwards, and swept again if dispatch failed (e.g. Redis was down)."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_pending", "dispatched_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50))  # "interview.finished"
    interview_id: Mapped[str] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateCounter(Base):
    """A fixed-window attempt counter (``storage.DatabaseRateLimiter``): phone PIN attempts per caller and
    overall, shared by every web replica and surviving a redial. ``key`` is a hash, never a phone number."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)  # epoch seconds
    count: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEndpoint(Base):
    """An organisation's receiver of signed event notifications (``interview.finished``, ``report.ready``)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))  # HMAC-SHA256 key, shown to the admin who made it
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One outbox event for one endpoint: created by the fan-out, retried with backoff until delivered or
    out of attempts (``failed_at``)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "delivered_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
