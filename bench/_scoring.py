"""Hang-up → scored report: the agent's ``finish_interview`` (outbox event), the in-process scoring queue,
the scorer, the stored report. Offline rubric scorer, and the LLM judge against the fake OpenAI server
(first token after ``judge_ttft_s``; three samples per answer, the default)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from ._latency import fresh_db
from ._stats import Dist, dist
from .fakes import ANSWERS

__all__ = ["ScoringResult", "run_scoring_bench"]

VERDICT = {
    "score": 3,
    "rationale": "Names concrete steps and a measured outcome.",
    "evidence": [],
    "strengths": ["concrete example"],
    "weaknesses": ["no trade-offs"],
    "improvement": "Say what you would do differently.",
    "improved_answer": "I profiled first, then batched the calls and cached results, and measured the gain.",
}


@dataclass
class ScoringResult:
    scorer: str
    interviews: int
    answers_each: int
    seconds: Dist
    statuses: list[str]


def _interview(db: Any, questions: int, seed: int) -> str:
    from agent.plans import build_plan
    from storage import Interview, InterviewPlan, InterviewStatus, TranscriptTurn, utcnow

    spec = build_plan(role="backend engineer", question_count=questions, seed=seed, time_limit_minutes=30)
    with db.session() as s:
        plan = InterviewPlan(title="Bench", role=spec.role, question_count=questions, spec=spec.to_json())
        s.add(plan)
        s.flush()
        iv = Interview(plan_id=plan.id, candidate_name="Bench", channel="webrtc", started_at=utcnow(),
                       status=InterviewStatus.IN_PROGRESS.value)  # fmt: skip
        s.add(iv)
        s.flush()
        t, seq = 0.0, 0
        for i, q in enumerate(spec.questions):
            for speaker, text in (("agent", q.text), ("candidate", ANSWERS[i % len(ANSWERS)])):
                s.add(TranscriptTurn(interview_id=iv.id, seq=(seq := seq + 1), speaker=speaker, text=text,
                                     started_at=t, ended_at=t + 8.0, question_id=q.id,
                                     kind="ask" if speaker == "agent" else None))  # fmt: skip
                s.flush()
                t += 9.0
        return iv.id


async def _measure(db: Any, settings: Any, ids: list[str]) -> list[tuple[float, str]]:
    from agent import finish_interview
    from scoring import ScoringRuntime

    done: dict[str, tuple[float, str]] = {}
    changed = asyncio.Event()

    class Timed(ScoringRuntime):
        async def _run(self, interview_id: str, force: bool) -> Any:
            outcome = await super()._run(interview_id, force)
            done[interview_id] = (time.perf_counter(), outcome.status)
            changed.set()
            return outcome

    runtime = Timed(settings=settings, db=db)
    await runtime.start()
    out = []
    try:
        for iid in ids:
            t0 = time.perf_counter()  # the candidate hangs up
            await asyncio.to_thread(finish_interview, db, iid, reason="hangup")
            await runtime.enqueue_scoring(iid)  # what AgentRuntime(on_finished=...) does
            async with asyncio.timeout(300):
                while iid not in done:
                    changed.clear()
                    await changed.wait()
            out.append((done[iid][0] - t0, done[iid][1]))
    finally:
        await runtime.aclose()
    return out


async def run_scoring_bench(
    *, interviews: int, questions: int = 10, judge_ttft_s: float = 0.3
) -> list[ScoringResult]:
    import agent.plans  # noqa: F401  (livekit plugins register on the main thread, before any worker thread)
    from scoring import ScoringSettings
    from storage import Database, upgrade_to_head
    from tests.fakes.openai_server import FakeOpenAIServer, Reply

    db = Database(url=fresh_db("scoring"))
    await asyncio.to_thread(upgrade_to_head, db)
    results = []
    base = {"redis_url": None, "sweep_interval_s": 3600.0}
    ids = [await asyncio.to_thread(_interview, db, questions, i) for i in range(interviews)]
    timed = await _measure(db, ScoringSettings(**base, scorer="offline"), ids)
    results.append(
        ScoringResult("offline", interviews, questions, dist(t for t, _ in timed), [s for _, s in timed])
    )
    reply = Reply(text=json.dumps(VERDICT), delay=judge_ttft_s, words_per_chunk=8)
    async with FakeOpenAIServer(default=reply) as server:
        llm = ScoringSettings(**base, scorer="llm", openai_base_url=server.base_url, openai_api_key="bench",
                              llm_model="fake-judge")  # fmt: skip
        ids = [await asyncio.to_thread(_interview, db, questions, 100 + i) for i in range(interviews)]
        timed = await _measure(db, llm, ids)
    results.append(ScoringResult("llm (fake server)", interviews, questions, dist(t for t, _ in timed),
                                 [s for _, s in timed]))  # fmt: skip
    await asyncio.to_thread(db.engine.dispose)
    return results
