"""Scoring quality: how closely a scorer's 1–5 scores follow careful human grades.

The graded set is ``tests/data/scoring/graded_answers.yaml`` (hand-written answers to question-bank questions,
each graded 1–5 with a reason). Every answer is scored against its bank question's rubric and compared with
its grade:

- Spearman rank correlation over all answers (average ranks for ties);
- pairwise ranking accuracy within a question: of the pairs of answers to the same question with different
  grades, the share the scorer orders the same way (a tie in score counts half);
- exact and within-one agreement;
- the mean score of the everyday-words strong answers and of the keyword-stuffed ones, and how many stuffed
  answers score above (and level with) their question's strong answer;
- how many requests and non-answers the scorer recognised as such instead of grading them;
- the mean confidence, and its mean where the score equals the grade and where it does not (a confidence worth
  showing is clearly higher on the first).

``--llm`` adds the LLM judge as configured by the environment (any OpenAI-compatible server; it is not run by
default: each answer costs ``judge_samples`` requests).

Figures are given for the ``dev`` split, the ``heldout`` split (questions not looked at while building the
scorer) and all answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._proc import ROOT

__all__ = ["DATA", "GradedAnswer", "QualityResult", "load_graded", "pairwise", "run_quality", "spearman"]

DATA = ROOT / "tests" / "data" / "scoring" / "graded_answers.yaml"
NOT_ANSWERS = ("request", "non_answer")


@dataclass(frozen=True, slots=True)
class GradedAnswer:
    question_id: str
    split: str
    kind: str
    grade: int
    text: str


@dataclass
class QualityResult:
    scorer: str
    split: str
    answers: int
    spearman: float
    pairwise: float
    exact: float
    within_one: float
    strong_mean: float
    stuffed_mean: float
    stuffed_above_strong: int
    stuffed_level_with_strong: int
    not_answers_recognised: str
    mean_confidence: float | None
    confidence_when_exact: float | None  # a useful confidence is higher where the score matches the grade
    confidence_when_off: float | None
    ms_per_answer: float


def load_graded(path: Path = DATA) -> list[GradedAnswer]:
    import yaml

    data = yaml.safe_load(path.read_text())
    return [
        GradedAnswer(q["question_id"], q["split"], a["kind"], int(a["grade"]), " ".join(a["text"].split()))
        for q in data["questions"]
        for a in q["answers"]
    ]


def _ranks(xs: Sequence[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def pairwise(items: Sequence[tuple[str, int, float]]) -> float:
    """``items`` are (question id, grade, score); pairs within a question with different grades."""
    good = total = 0.0
    for i, (qa, ga, sa) in enumerate(items):
        for qb, gb, sb in items[i + 1 :]:
            if qa != qb or ga == gb:
                continue
            total += 1
            if sa == sb:
                good += 0.5
            elif (sa > sb) == (ga > gb):
                good += 1
    return good / total if total else 0.0


def _mean(xs: Sequence[float]) -> float:
    return round(sum(xs) / len(xs), 2) if xs else float("nan")


def _summarise(
    scorer: str, split: str, rows: list[tuple[GradedAnswer, Any]], seconds: float
) -> QualityResult:
    grades = [g.grade for g, _ in rows]
    scores = [float(r.score) for _, r in rows]
    strong = {g.question_id: float(r.score) for g, r in rows if g.kind == "strong"}
    stuffed = [(g.question_id, float(r.score)) for g, r in rows if g.kind == "stuffed"]
    nots = [(g, r) for g, r in rows if g.kind in NOT_ANSWERS]
    recognised = sum(1 for _, r in nots if getattr(r, "status", "answered") != "answered")
    conf = [r.confidence for _, r in rows if getattr(r, "confidence", None) is not None]
    exact = [
        r.confidence for g, r in rows if getattr(r, "confidence", None) is not None and r.score == g.grade
    ]
    off = [r.confidence for g, r in rows if getattr(r, "confidence", None) is not None and r.score != g.grade]
    return QualityResult(
        scorer=scorer,
        split=split,
        answers=len(rows),
        spearman=round(spearman(grades, scores), 3),
        pairwise=round(pairwise([(g.question_id, g.grade, float(r.score)) for g, r in rows]), 3),
        exact=round(sum(1 for g, s in zip(grades, scores, strict=True) if g == s) / len(rows), 3),
        within_one=round(
            sum(1 for g, s in zip(grades, scores, strict=True) if abs(g - s) <= 1) / len(rows), 3
        ),
        strong_mean=_mean(list(strong.values())),
        stuffed_mean=_mean([s for _, s in stuffed]),
        stuffed_above_strong=sum(1 for q, s in stuffed if q in strong and s > strong[q]),
        stuffed_level_with_strong=sum(1 for q, s in stuffed if q in strong and s == strong[q]),
        not_answers_recognised=f"{recognised}/{len(nots)}",
        mean_confidence=_mean(conf) if conf else None,
        confidence_when_exact=_mean(exact) if exact else None,
        confidence_when_off=_mean(off) if off else None,
        ms_per_answer=round(1000 * seconds / max(1, len(rows)), 2),
    )


def _bank() -> dict[str, Any]:
    from agent.plans import load_question_bank
    from scoring import RubricQuestion

    bank = load_question_bank()
    qs = [q for role in bank.roles.values() for q in role.questions] + list(bank.generic)
    return {
        q.id: RubricQuestion(
            id=q.id,
            competency=q.competency,
            text=q.text,
            anchors=dict(q.rubric.anchors),
            key_points=tuple(q.rubric.key_points),
            story=q.story,
        )
        for q in qs
    }


def offline_scorer() -> Callable[[Any, str], Any]:
    from scoring import Turn, score_answer

    def run(q: Any, text: str) -> Any:
        return score_answer(q, [Turn(id=1, seq=1, speaker="candidate", text=text, start=0.0, end=30.0)])

    return run


def word_overlap_scorer() -> Callable[[Any, str], Any]:
    """The offline scorer as it runs without wordllama installed: key points matched by shared word stems."""
    from scoring import _meaning

    run = offline_scorer()

    def overlap(q: Any, text: str) -> Any:
        saved, _meaning._meaning = _meaning._meaning, _meaning.Meaning(None)
        try:
            return run(q, text)
        finally:
            _meaning._meaning = saved

    return overlap


def llm_scorer() -> Callable[[Any, str], Any]:
    """The LLM judge as configured by the environment (``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` /
    ``MOCKLINE_LLM_MODEL``), with the same request/refusal handling as a real interview."""
    import asyncio

    from scoring import LlmJudge, Turn, get_scoring_settings, score_answer
    from scoring._offline import answer_status

    settings = get_scoring_settings()
    if not settings.llm_configured:
        raise SystemExit("--llm needs OPENAI_BASE_URL or OPENAI_API_KEY (and MOCKLINE_LLM_MODEL)")
    loop = asyncio.new_event_loop()
    judge = LlmJudge(settings=settings)

    def run(q: Any, text: str) -> Any:
        turns = [Turn(id=1, seq=1, speaker="candidate", text=text, start=0.0, end=30.0)]
        if answer_status(turns) != "answered":
            return score_answer(q, turns)
        return loop.run_until_complete(judge.judge(q, turns))

    return run


def run_quality(*, path: Path = DATA, details: bool = False, llm: bool = False) -> list[QualityResult]:
    bank = _bank()
    graded = load_graded(path)
    results: list[QualityResult] = []
    scorers: list[tuple[str, Callable[[], Callable[[Any, str], Any]]]] = [
        ("offline", offline_scorer),
        ("offline, word overlap (no wordllama)", word_overlap_scorer),
    ]
    if llm:
        scorers.append(("llm judge", llm_scorer))
    for name, make in scorers:
        score = make()
        score(bank[graded[0].question_id], graded[0].text)  # warm-up: loading a model is not per answer
        t0 = time.perf_counter()
        rows = [(g, score(bank[g.question_id], g.text)) for g in graded]
        seconds = time.perf_counter() - t0
        if details:
            for g, r in rows:
                flag = "" if abs(g.grade - r.score) <= 1 else "  <<<"
                print(
                    f"{name[:12]:12} {g.split:7} {g.question_id:20} {g.kind:10} "
                    f"grade {g.grade} score {r.score}{flag}"
                )
        for split in ("dev", "heldout", "all"):
            sel = [(g, r) for g, r in rows if split in ("all", g.split)]
            results.append(_summarise(name, split, sel, seconds * len(sel) / len(rows)))
    return results
