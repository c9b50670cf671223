"""Choose the scorer for a snapshot: the LLM judge when configured (falling back to offline), else offline."""

from __future__ import annotations

import asyncio
import logging

from ._assemble import assemble
from ._coach import stronger_answer
from ._errors import JudgeError
from ._llm import LlmJudge, first_error
from ._offline import answer_status, read_answer, score_answer
from ._result import QuestionResult, ScoreResult
from ._settings import ScoringSettings
from ._snapshot import InterviewSnapshot, RubricQuestion, Turn

__all__ = ["score_offline", "score_snapshot"]

logger = logging.getLogger("mockline.scoring")


def improve_offline(q: RubricQuestion, answers: list[Turn]) -> str | None:
    """A stronger version of the candidate's own answer (None when there is nothing of theirs to build on)."""
    return stronger_answer(q, read_answer(q, answers))


def score_offline(snap: InterviewSnapshot, *, notes: list[str] | None = None) -> ScoreResult:
    """Deterministic scoring: the same snapshot always gives the same report."""
    results = [score_answer(q, snap.answers(q.id)) for q in snap.questions if snap.was_asked(q.id)]
    return assemble(snap, results, scorer="offline", improve=improve_offline, notes=notes)


async def score_snapshot(
    snap: InterviewSnapshot, *, settings: ScoringSettings, judge: LlmJudge | None = None
) -> ScoreResult:
    if settings.scorer != "llm":
        return await asyncio.to_thread(score_offline, snap)
    if not settings.llm_configured:
        note = "MOCKLINE_SCORER=llm but neither OPENAI_BASE_URL nor OPENAI_API_KEY is set; scored offline"
        logger.warning("LLM scorer selected without a provider; scoring offline")
        return await asyncio.to_thread(score_offline, snap, notes=[note])
    own = judge is None
    tasks: list[asyncio.Task[QuestionResult]] = []
    judge = judge or LlmJudge(settings=settings)
    results: list[QuestionResult] = []
    failure: JudgeError | None = None
    try:
        async with asyncio.TaskGroup() as tg:
            for q in snap.questions:
                if not snap.was_asked(q.id):
                    continue
                answers = snap.answers(q.id)
                if answer_status(answers) == "answered":
                    tasks.append(tg.create_task(judge.judge(q, answers)))
                else:  # nothing, a refusal or a request ("can we stop"): no judge, not graded as an answer
                    results.append(await asyncio.to_thread(score_answer, q, answers))
    except ExceptionGroup as eg:
        leaf = first_error(eg)
        if not isinstance(leaf, JudgeError):
            raise leaf from None
        failure = leaf
    finally:
        if own:
            await judge.aclose()
    if failure is not None:
        logger.warning("LLM judge failed (%s); scoring offline", type(failure).__name__)
        note = f"LLM judge unavailable ({failure}); scored offline"
        return await asyncio.to_thread(score_offline, snap, notes=[note])
    results += [t.result() for t in tasks]
    order = {q.id: i for i, q in enumerate(snap.questions)}
    results.sort(key=lambda r: order[r.question_id])
    return assemble(snap, results, scorer=f"llm:{judge.model}", improve=improve_offline)
