"""The words the candidate is likely to say next, for the speech recogniser to expect.

``interview_vocabulary`` is pure: from the plan and the question being answered it builds a
comma-separated list of terms, most telling first — the question's own technical words ("Kafka"), its
short rubric key points ("idempotency key"), its tags, then the job description's and the résumé's
keywords, then the other questions' tags (the role's skills as the plan knows them). The recogniser keeps
as many whole terms as fit its token budget (``agent/providers/_whisper_engine.py``), so the order is the
priority. ``prime_stt`` hands it to an STT that accepts a context (``WhisperSTT.set_context``) and does
nothing for one that does not.
"""

from __future__ import annotations

import re
from typing import Any

from agent.plans import PlanSpec, Question

__all__ = ["interview_vocabulary", "prime_stt"]

_SHORT_POINT = 4  # words: a key point longer than this is a sentence, not a term
# a word that is a name or a term, not an ordinary word: capitalised mid-sentence ("Kafka"), mixed case
# or digits ("PgBouncer", "S3"), or an acronym ("SQL")
_NOTABLE = re.compile(r"^(?:[A-Z][a-z]+[A-Z]\w*|\w*\d\w*|[A-Z]{2,}s?|[A-Z][a-z]+)$")


def interview_vocabulary(plan: PlanSpec, question: Question | None) -> str:
    """Terms to prime the recogniser with while ``question`` is being answered (most important first)."""
    terms: list[str] = []
    if question is not None:
        terms += _notable_words(question.text)
        points = [p.strip().rstrip(".") for p in question.rubric.key_points]
        terms += [p for p in points if len(p.split()) <= _SHORT_POINT]
        terms += question.tags
    terms += plan.steering.job_keywords + plan.steering.resume_keywords
    for q in plan.questions:
        terms += q.tags
    if question is not None:
        terms += [p for p in (p.strip().rstrip(".") for p in question.rubric.key_points)
                  if len(p.split()) > _SHORT_POINT]  # fmt: skip
    return ", ".join(_unique(t.replace(",", " ").replace("_", " ").strip() for t in terms))


def prime_stt(stt: Any, conductor: Any) -> None:
    """Give ``stt`` the vocabulary of the question the conductor is on (no-op for other STTs)."""
    set_context = getattr(stt, "set_context", None)
    plan = getattr(conductor, "plan", None)
    if set_context is None or not isinstance(plan, PlanSpec):
        return
    set_context(interview_vocabulary(plan, getattr(conductor, "current_question", None)))


def _notable_words(text: str) -> list[str]:
    """Names and terms of ``text``: a capitalised word counts unless it starts a sentence ("How did")."""
    out = []
    starts = True
    for raw in text.split():
        w = raw.strip(".,;:?!\"'()")
        if w and w != "I" and not (starts and w.istitle()) and _NOTABLE.match(w):
            out.append(w)
        starts = raw.endswith((".", "?", "!", ":"))
    return out


def _unique(terms: Any) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in terms:
        key = t.lower()
        if t and key not in seen:
            seen.add(key)
            out.append(t)
    return out
