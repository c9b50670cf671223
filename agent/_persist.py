"""Persistence of a running interview: turns, metrics, brain state, the finish, and resume.

All functions here are blocking (SQLAlchemy); ``InterviewWriter`` runs them one at a time in a worker thread
so the event loop never waits on the database and writes keep their order. Each turn is its own transaction
(turn row + brain snapshot), so a crash loses at most the turn in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage import (
    Database,
    Interview,
    InterviewStatus,
    OutboxEvent,
    Recording,
    TranscriptTurn,
    TurnMetric,
    next_turn_seq,
    transcript,
    turn_metrics,
    utcnow,
)

__all__ = [
    "InterviewClosed",
    "InterviewNotFound",
    "InterviewWriter",
    "LoadedInterview",
    "MetricRecord",
    "PersistError",
    "TurnRecord",
    "add_recording",
    "finish_interview",
    "interview_report",
    "load_interview",
]

logger = logging.getLogger("mockline.agent")

FINISHING_REASONS = frozenset({"completed", "hangup", "timeout"})
"""End reasons that close an interview for good; others ("dropped", "error") leave it resumable."""


class PersistError(Exception):
    """The interview cannot be run from what the database holds."""


class InterviewNotFound(PersistError):
    pass


class InterviewClosed(PersistError):
    """The interview already finished (or is being scored); it cannot be run again."""


@dataclass(frozen=True)
class PriorTurn:
    id: int
    seq: int
    speaker: str
    text: str
    interrupted: bool


@dataclass(frozen=True)
class LoadedInterview:
    id: str
    plan_spec: dict[str, Any]
    plan_title: str
    mode: str
    brain: str
    candidate_name: str
    state: dict[str, Any]
    started_at: datetime
    turns: list[PriorTurn]
    next_seq: int

    @property
    def resumed(self) -> bool:
        return bool(self.turns)


@dataclass
class TurnRecord:
    seq: int
    speaker: str  # agent | candidate
    text: str
    started_at: float
    ended_at: float
    interrupted: bool = False
    question_id: str | None = None
    kind: str | None = None
    state: dict[str, Any] | None = None  # brain snapshot to store with the turn
    id: int | None = None  # set once written


@dataclass
class MetricRecord:
    seq: int
    turn: TurnRecord | None
    eou_delay_ms: float | None = None
    stt_ms: float | None = None
    llm_ttft_ms: float | None = None
    tts_ttfb_ms: float | None = None
    v2v_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_interview(db: Database, interview_id: str, *, channel: str | None = None) -> LoadedInterview:
    """Mark the interview in progress (first start or resume) and return what the agent needs."""
    with db.session() as s:
        iv = s.get(Interview, interview_id, with_for_update=not db.is_sqlite)
        if iv is None:
            raise InterviewNotFound(f"interview {interview_id} does not exist")
        if not iv.status.is_open:
            raise InterviewClosed(f"interview {interview_id} is {iv.status}")
        now = utcnow()
        iv.status = InterviewStatus.IN_PROGRESS
        iv.started_at = iv.started_at or now
        iv.last_seen_at = now
        iv.end_reason = None
        if channel:
            iv.channel = channel
        turns = [
            PriorTurn(id=t.id, seq=t.seq, speaker=t.speaker, text=t.text, interrupted=t.interrupted)
            for t in transcript(s, iv.id)
        ]
        next_seq = next_turn_seq(s, iv.id)
        started = iv.started_at
        if started.tzinfo is None:  # SQLite drops the offset; stored values are UTC
            from datetime import UTC

            started = started.replace(tzinfo=UTC)
        return LoadedInterview(
            id=iv.id,
            plan_spec=dict(iv.spec),  # the candidate's own snapshot, else the plan's
            plan_title=iv.plan.title,
            mode=iv.mode,
            brain=iv.brain,
            candidate_name=iv.candidate_name,
            state=dict(iv.state or {}),
            started_at=started,
            turns=turns,
            next_seq=next_seq,
        )


def _write_turn(db: Database, interview_id: str, rec: TurnRecord) -> None:
    with db.session() as s:
        if rec.id is None:
            row = TranscriptTurn(
                interview_id=interview_id,
                seq=rec.seq,
                speaker=rec.speaker,
                text=rec.text,
                started_at=rec.started_at,
                ended_at=rec.ended_at,
                interrupted=rec.interrupted,
                question_id=rec.question_id,
                kind=rec.kind,
            )
            s.add(row)
            s.flush()
            rec.id = row.id
        else:  # the candidate continued the same answer after a pause: extend the row
            existing = s.get(TranscriptTurn, rec.id)
            if existing is None:
                return
            existing.text = rec.text
            existing.ended_at = rec.ended_at
        iv = s.get(Interview, interview_id)
        if iv is not None:
            iv.last_seen_at = utcnow()
            if rec.state is not None:
                iv.state = rec.state


def _write_metric(db: Database, interview_id: str, rec: MetricRecord) -> None:
    with db.session() as s:
        s.add(
            TurnMetric(
                interview_id=interview_id,
                seq=rec.seq,
                turn_id=rec.turn.id if rec.turn is not None else None,
                eou_delay_ms=rec.eou_delay_ms,
                stt_ms=rec.stt_ms,
                llm_ttft_ms=rec.llm_ttft_ms,
                tts_ttfb_ms=rec.tts_ttfb_ms,
                v2v_ms=rec.v2v_ms,
                extra=rec.extra,
            )
        )


def finish_interview(
    db: Database, interview_id: str, *, reason: str, state: dict[str, Any] | None = None
) -> bool:
    """End a session. Finishing reasons mark the interview ``finished`` and write the outbox event in the
    same transaction; "dropped"/"error" keep it ``in_progress`` so a reconnect resumes it. Returns True when
    the interview was finished by this call."""
    with db.session() as s:
        iv = s.get(Interview, interview_id, with_for_update=not db.is_sqlite)
        if iv is None:
            return False
        if state is not None:
            iv.state = state
        iv.end_reason = reason
        iv.last_seen_at = utcnow()
        if reason not in FINISHING_REASONS or iv.status != InterviewStatus.IN_PROGRESS:
            return False
        iv.status = InterviewStatus.FINISHED
        iv.ended_at = utcnow()
        s.add(OutboxEvent(kind="interview.finished", interview_id=iv.id))
        return True


def add_recording(db: Database, interview_id: str, *, path: str, sample_rate: int, duration_s: float) -> int:
    with db.session() as s:
        row = Recording(interview_id=interview_id, path=path, sample_rate=sample_rate, duration_s=duration_s)
        s.add(row)
        s.flush()
        return row.id


class InterviewWriter:
    """Ordered, non-blocking writes for one session: one owned task draining a queue into a worker thread.

    A failed write is logged (without candidate data) and does not stop later writes or the interview.
    """

    def __init__(self, *, db: Database, interview_id: str) -> None:
        self._db = db
        self._interview_id = interview_id
        self._queue: asyncio.Queue[Callable[[], object] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        self.written = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"persist-{self._interview_id}")

    def turn(self, rec: TurnRecord) -> None:
        self._queue.put_nowait(lambda: _write_turn(self._db, self._interview_id, rec))

    def metric(self, rec: MetricRecord) -> None:
        self._queue.put_nowait(lambda: _write_metric(self._db, self._interview_id, rec))

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` after every queued write, in the writer thread, and return its result."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def job() -> None:
            try:
                result = fn()
            except BaseException as e:  # handed to the awaiting caller
                fut.get_loop().call_soon_threadsafe(_set_exc, fut, e)
            else:
                fut.get_loop().call_soon_threadsafe(_set_result, fut, result)

        self._queue.put_nowait(job)
        return await fut

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            if job is None:
                return
            try:
                await asyncio.to_thread(job)
                self.written += 1
            except Exception:
                self.failures += 1
                logger.exception("interview write failed", extra={"interview_id": self._interview_id})

    async def aclose(self, *, drain_s: float = 10.0) -> None:
        """Drain what is queued (up to ``drain_s``), then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), drain_s)
        except TimeoutError:
            logger.warning(
                "interview writes did not drain in time", extra={"interview_id": self._interview_id}
            )
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None


def _set_result(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exc(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def interview_report(db: Database, interview_id: str) -> dict[str, Any]:
    """What was stored for an interview: status, turns and per-reply metrics, as plain data."""
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise InterviewNotFound(f"interview {interview_id} does not exist")
        turns = transcript(s, interview_id)
        metrics = turn_metrics(s, interview_id)
        recordings = s.scalars(select(Recording).where(Recording.interview_id == interview_id)).all()
        return {
            "interview_id": iv.id,
            "status": str(iv.status),
            "end_reason": iv.end_reason,
            "turns": [
                {
                    "id": t.id,
                    "seq": t.seq,
                    "speaker": t.speaker,
                    "text": t.text,
                    "started_at": t.started_at,
                    "ended_at": t.ended_at,
                    "interrupted": t.interrupted,
                    "kind": t.kind,
                    "question_id": t.question_id,
                }
                for t in turns
            ],
            "metrics": [
                {
                    "seq": m.seq,
                    "turn_id": m.turn_id,
                    "eou_delay_ms": m.eou_delay_ms,
                    "stt_ms": m.stt_ms,
                    "llm_ttft_ms": m.llm_ttft_ms,
                    "tts_ttfb_ms": m.tts_ttfb_ms,
                    "v2v_ms": m.v2v_ms,
                    "extra": m.extra,
                }
                for m in metrics
            ],
            "recordings": [{"path": r.path, "duration_s": r.duration_s} for r in recordings],
            "outbox": [
                e.kind for e in s.scalars(select(OutboxEvent).where(OutboxEvent.interview_id == iv.id))
            ],
        }
