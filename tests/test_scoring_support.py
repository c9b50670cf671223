"""Shared builders for the scoring tests (no tests here): a plan snapshot, timed transcripts, interviews."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage import Database, Interview, InterviewPlan, OutboxEvent, TranscriptTurn

PLAN_SPEC: dict[str, Any] = {
    "version": 1,
    "role": "Backend engineer",
    "role_key": "backend_engineer",
    "questions": [
        {
            "id": "be-idem",
            "round": "technical",
            "competency": "api_design",
            "text": "How would you make a payment API safe to retry?",
            "story": False,
            "rubric": {
                "anchors": {
                    "1": "No idea how retries cause duplicates.",
                    "2": "Mentions retries but no mechanism.",
                    "3": "Idempotency keys, few details.",
                    "4": "Idempotency keys stored with the response, conflicts handled.",
                    "5": "Full design: keys, stored responses, expiry, concurrency and client guidance.",
                },
                "key_points": [
                    "idempotency key sent by the client",
                    "store the response keyed by the idempotency key",
                    "return the stored response on a retry",
                    "expire old keys",
                ],
            },
        },
        {
            "id": "bh-conflict",
            "round": "behavioural",
            "competency": "collaboration",
            "text": "Tell me about a disagreement with a colleague and how you resolved it.",
            "story": True,
            "rubric": {
                "anchors": {
                    "1": "No example.",
                    "2": "Vague example, blames others.",
                    "3": "Concrete example, some listening.",
                    "4": "Listened, found common ground, agreed next steps.",
                    "5": "All of 4 plus a measured outcome and a lesson applied later.",
                },
                "key_points": [
                    "listened to the colleague's view",
                    "found common ground",
                    "agreed on a decision or next steps",
                    "outcome of the disagreement",
                ],
            },
        },
    ],
    "weights": {"api_design": 0.6, "collaboration": 0.4},
}

STRONG_IDEM = (
    "The client sends an idempotency key with every payment request. On the server I store the response "
    "keyed by the idempotency key, in the same transaction as the payment. "
    "When a retry arrives with the same key, "
    "we return the stored response instead of charging twice, because a timeout does not mean the charge "
    "failed. We expire old keys after 24 hours. For example, at my last job this cut duplicate charges to 0."
)
STRONG_CONFLICT = (
    "At my last job a colleague and I disagreed about rewriting our billing service. I was responsible "
    "for the migration plan. First I listened to my colleague's view in a one to one and wrote down her "
    "concerns. We found common ground: both of us wanted fewer incidents. So I proposed a staged migration "
    "and we agreed on next steps with the team. "
    "As a result the outcome was good: incidents dropped by 40% in two months."
)
WEAK = "Um, I think it, like, depends. I would probably, you know, look into it and see."


@dataclass
class Line:
    speaker: str
    text: str
    start: float
    end: float
    question_id: str | None = None
    interrupted: bool = False
    kind: str | None = None


def good_script() -> list[Line]:
    return [
        Line("agent", "Hello, welcome to your interview.", 0.0, 3.0, kind="greeting"),
        Line("candidate", "Hi, thanks.", 4.0, 5.0),
        Line("agent", PLAN_SPEC["questions"][0]["text"], 6.0, 9.0, "be-idem", kind="question"),
        Line("candidate", STRONG_IDEM, 10.5, 40.0, "be-idem"),
        Line("agent", PLAN_SPEC["questions"][1]["text"], 41.0, 45.0, "bh-conflict", kind="question"),
        Line("candidate", STRONG_CONFLICT, 46.0, 76.0, "bh-conflict"),
        Line("agent", "Thank you, that is all.", 77.0, 80.0, kind="closing"),
    ]


def weak_script() -> list[Line]:
    return [
        Line("agent", PLAN_SPEC["questions"][0]["text"], 0.0, 3.0, "be-idem", kind="question"),
        Line("candidate", WEAK, 6.0, 10.0, "be-idem"),
        Line("agent", PLAN_SPEC["questions"][1]["text"], 11.0, 15.0, "bh-conflict", kind="question"),
        Line("candidate", "I don't really have conflicts.", 20.0, 22.0, "bh-conflict"),
    ]


def make_interview(
    db: Database,
    *,
    script: list[Line] | None = None,
    spec: dict[str, Any] | None = None,
    status: str = "finished",
    mode: str = "recruiter",
    candidate: str = "Ada Lovelace",
    outbox: bool = True,
) -> str:
    """An interview as the agent leaves it: turns, status ``finished`` and an outbox event."""
    with db.session() as s:
        plan = InterviewPlan(title="Backend (mid)", role="Backend engineer", spec=spec or PLAN_SPEC)
        s.add(plan)
        s.flush()
        iv = Interview(
            plan_id=plan.id,
            mode=mode,
            status=status,
            candidate_name=candidate,
            started_at=datetime.now(UTC),
            ended_at=datetime.now(UTC) if status == "finished" else None,
        )
        s.add(iv)
        s.flush()
        for seq, ln in enumerate(script if script is not None else good_script()):
            s.add(
                TranscriptTurn(
                    interview_id=iv.id,
                    seq=seq,
                    speaker=ln.speaker,
                    text=ln.text,
                    started_at=ln.start,
                    ended_at=ln.end,
                    interrupted=ln.interrupted,
                    question_id=ln.question_id,
                    kind=ln.kind,
                )
            )
        if outbox and status == "finished":
            s.add(OutboxEvent(kind="interview.finished", interview_id=iv.id))
        return iv.id


def finish_interview(db: Database, interview_id: str) -> None:
    """What the agent runtime does at the end: status finished + outbox event in the same transaction."""
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        assert iv is not None
        iv.status = "finished"
        iv.ended_at = datetime.now(UTC)
        s.add(OutboxEvent(kind="interview.finished", interview_id=interview_id))


async def wait_for(predicate: Callable[[], bool], *, within: float, what: str) -> None:
    """Wait for a condition another process makes true (checked every 0.2 s, generous limit)."""
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)
