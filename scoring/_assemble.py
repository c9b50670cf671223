"""From per-question results to a whole report: competencies, weighted overall, recommendation (or "needs
human review", see ``_decision.py``) or coaching summary, strengths, weaknesses, improvements (including
speech habits) and sample improved answers. Requests are listed but left out of every average."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._decision import decide, graded
from ._metrics import speech_metrics
from ._result import CompetencyResult, QuestionResult, ScoreResult
from ._snapshot import InterviewSnapshot, RubricQuestion, Turn

__all__ = ["IMPROVED_ANSWERS", "assemble"]

IMPROVED_ANSWERS = 2  # sample improved answers for at most this many of the weakest answers (score <= 3)


def _speech_advice(m: dict[str, Any]) -> list[str]:
    out: list[str] = []
    rate = m.get("fillers_per_100_words")
    if rate is not None and rate > 3:
        top = ", ".join(list(m["fillers"])[:3])
        out.append(f"Cut filler words ({top}): {rate} per 100 words; pause silently instead.")
    wpm = m.get("words_per_minute")
    if wpm is not None and wpm > 180:
        out.append(f"Slow down: {wpm:.0f} words per minute is fast for an interview (aim for 130–160).")
    elif wpm is not None and wpm < 100:
        out.append(f"Speak a little more fluently: {wpm:.0f} words per minute (aim for 130–160).")
    if (m.get("talk_ratio") or 1.0) < 0.4:
        out.append("Give fuller answers: you spoke less than 40% of the time.")
    p90 = m.get("response_latency_p90_s")
    if p90 is not None and p90 > 5:
        out.append(
            "Buy thinking time out loud ('let me think about that for a moment') instead of long silences."
        )
    if m.get("interruptions", 0) >= 3:
        out.append("Let the interviewer finish the question before answering.")
    return out


def assemble(
    snap: InterviewSnapshot,
    results: list[QuestionResult],
    *,
    scorer: str,
    improve: Callable[[RubricQuestion, list[Turn]], str | None],
    notes: list[str] | None = None,
) -> ScoreResult:
    by_q = {q.id: q for q in snap.questions}
    comps: dict[str, list[QuestionResult]] = {}
    for r in graded(results):
        comps.setdefault(r.competency, []).append(r)
    competencies = [
        CompetencyResult(
            competency=c,
            score=round(sum(r.score for r in rs) / len(rs), 2),
            weight=snap.weights.get(c, 0.0),
            evidence=[r.evidence[0] for r in rs if r.evidence][:3],
        )
        for c, rs in comps.items()
    ]
    total_w = sum(c.weight for c in competencies)
    if competencies and total_w > 0:
        overall = sum(c.score * c.weight for c in competencies) / total_w
    elif competencies:
        overall = sum(c.score for c in competencies) / len(competencies)
    else:
        overall = 1.0
    overall = round(overall, 2)

    for r in sorted((r for r in results if r.score <= 3), key=lambda r: r.score)[:IMPROVED_ANSWERS]:
        if not r.improved_answer:
            r.improved_answer = improve(by_q[r.question_id], snap.answers(r.question_id))

    metrics = speech_metrics(snap.turns)
    strengths = [s for r in sorted(results, key=lambda r: -r.score) if r.score >= 4 for s in r.strengths]
    weaknesses = [w for r in sorted(results, key=lambda r: r.score) if r.score <= 3 for w in r.weaknesses]
    improvements = [i for r in sorted(results, key=lambda r: r.score) for i in r.improvements]
    improvements += _speech_advice(metrics)
    not_assessed = [q.id for q in snap.questions if q.id not in {r.question_id for r in results}]

    ranked = sorted(competencies, key=lambda c: -c.score)
    best = ranked[0].competency if ranked else None
    worst = ranked[-1].competency if len(ranked) > 1 else None
    mode = "practice" if snap.mode == "practice" else "recruiter"
    summary = (
        f"Overall {overall:.1f}/5 across {len(graded(results))} answered question(s)"
        + (f"; strongest in {best}" if best else "")
        + (f", weakest in {worst}" if worst and worst != best else "")
        + "."
    )
    decision = decide(results, overall)
    coaching = None
    if mode == "practice":
        next_step = improvements[0] if improvements else "Keep practising with harder questions."
        coaching = f"{summary} Next time, focus on this first: {next_step}"
    report: dict[str, Any] = {
        "mode": mode,
        "summary": summary,
        "coaching_summary": coaching,
        "strengths": strengths[:8],
        "weaknesses": weaknesses[:8],
        "improvements": list(dict.fromkeys(improvements))[:10],
        "not_assessed": not_assessed,
        "transcript_sha256": snap.fingerprint,
        "notes": list(notes or []),
        "confidence": decision.confidence,
        "review_reasons": decision.reasons if mode == "recruiter" else [],
        "review_first": decision.review_first if mode == "recruiter" else [],
        "answers": {
            r.question_id: {
                "status": r.status,
                "confidence": r.confidence,
                "agreement": r.agreement,
                "flagged": r.flagged,
                "key_points": r.key_points,
                "coaching": r.improvements,  # what worked, what was missing, one next step
            }
            for r in results
        },
    }
    return ScoreResult(
        scorer=scorer,
        overall=overall,
        recommendation=decision.recommendation if mode == "recruiter" else None,
        questions=results,
        competencies=competencies,
        report=report,
        speech_metrics=metrics,
    )
