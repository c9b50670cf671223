"""The offline scorer: deterministic, explainable rubric scoring without any model.

Per answer it measures four things and says what it found:

- key-point coverage (55 %): each rubric key point is covered when most of its content words (stemmed,
  stopwords dropped) occur in the answer; the best-matching sentence is quoted as evidence;
- structure (20 %): for story questions the STAR markers (situation, task, action, result) and a concrete
  outcome (numbers); for other questions reasoning markers (because, trade-off, for example, first/then);
- relevance (15 %): how much of the question's and rubric's vocabulary the answer uses;
- length sanity (10 %): very short answers and rambling ones lose points.

The weighted sum maps onto the 1–5 anchors; answers under 12 words or covering no key point cap at 2.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._result import Evidence, QuestionResult
from ._snapshot import RubricQuestion, Turn
from ._text import content_stems, sentences, tokens

__all__ = ["score_answer", "template_answer"]

_STAR: dict[str, re.Pattern[str]] = {
    "situation": re.compile(
        r"\b(when i was|at my (last|previous|current|old|first)|in my (last|previous|current|old|first)"
        r"|we had|there was|the situation|the context|back (when|in)|(a few|two|three|several) (years|months)"
        r" ago|last (year|quarter|month)|one time|once)\b"
    ),
    "task": re.compile(
        r"\b(my (task|job|goal|role|responsibility) was|i was (responsible|asked|tasked|in charge)"
        r"|(we|i) needed to|the (goal|challenge|problem|task) was|had to|my part was)\b"
    ),
    "action": re.compile(
        r"\b(i (decided|built|designed|implemented|wrote|led|proposed|set up|introduced|created|organi[sz]ed"
        r"|talked|spoke|worked|added|changed|started|used|moved|refactored|migrated|investigated|analy[sz]ed"
        r"|measured|reached out|scheduled|negotiated|fixed|tested|automated|asked|suggested|prioriti[sz]ed"
        r"|focused|split|wrote|paired|mentored|documented)|so i|then i|first,? i)\b"
    ),
    "result": re.compile(
        r"\b(as a result|the result|resulted in|which (reduced|cut|improved|increased|saved|led|meant)"
        r"|in the end|ultimately|the outcome|outcome was|we (shipped|delivered|reduced|cut|improved|saved"
        r"|launched|hit|met|finished)|(reduced|cut|improved|increased|saved|dropped|halved|doubled)"
        r" (the|our|it|by|from|to)|i learned|lesson)\b"
    ),
}
_REASONING: dict[str, re.Pattern[str]] = {
    "reasoning": re.compile(r"\b(because|so that|which means|the reason|since|therefore)\b"),
    "trade-offs": re.compile(
        r"\b(trade-?offs?|downside|on the other hand|instead|versus|vs|but then|cost)\b"
    ),
    "example": re.compile(r"\b(for example|for instance|e\.g\.|such as|in practice|at my|we (used|had))\b"),
    "steps": re.compile(r"\b(first|then|next|finally|after that|step)\b"),
}
_OUTCOME = re.compile(
    r"(\b\d+(?:[.,]\d+)?\s*(?:%|percent|ms|milliseconds|seconds|minutes|hours|days|weeks|months|x|times"
    r"|users|customers|requests|engineers|people)?\b|\b(half|twice|doubled|halved|tripled)\b)"
)
_COVER_SHORT = 1.0  # key points of one or two content words need all of them
_COVER_LONG = 0.6  # longer key points need this share of their content words


def _kp_hit(kp: str, answer_stems: set[str]) -> tuple[bool, set[str]]:
    need = set(content_stems(kp))
    if not need:
        return False, set()
    found = need & answer_stems
    share = len(found) / len(need)
    return share >= (_COVER_SHORT if len(need) <= 2 else _COVER_LONG), need


def _best_sentence(need: set[str], answers: Sequence[Turn]) -> Evidence | None:
    best: tuple[int, Evidence] | None = None
    for turn in answers:
        for start, end in sentences(turn.text):
            hits = len(need & {t.stem for t in tokens(turn.text[start:end])})
            if hits and (best is None or hits > best[0]):
                best = (hits, Evidence(turn.id, start, end, turn.text[start:end]))
    return best[1] if best else None


def _length(words: int) -> tuple[float, str]:
    if words < 12:
        return 0.0, "very short"
    if words < 35:
        return 0.5, "short"
    if words > 400:
        return 0.6, "long; risks rambling"
    return 1.0, "a sensible length"


def score_answer(q: RubricQuestion, answers: Sequence[Turn]) -> QuestionResult:
    """Score one question from the candidate's answer turns."""
    text = " ".join(t.text for t in answers).strip()
    if not text:
        return QuestionResult(
            question_id=q.id,
            competency=q.competency,
            score=1,
            rationale="No answer was given to this question.",
            weaknesses=[f"no answer to: {q.text}"],
            improvements=[f"Answer '{q.text}' covering: {', '.join(q.key_points)}."],
        )
    answer_stems = set(content_stems(text))
    covered, missing, evidence = [], [], []
    for kp in q.key_points:
        hit, need = _kp_hit(kp, answer_stems)
        if hit:
            covered.append(kp)
            ev = _best_sentence(need, answers)
            if ev and ev not in evidence:
                evidence.append(ev)
        else:
            missing.append(kp)
    coverage = len(covered) / len(q.key_points)

    lower = text.lower()
    markers = _STAR if q.story else _REASONING
    found = [name for name, rx in markers.items() if rx.search(lower)]
    has_outcome = bool(_OUTCOME.search(lower))
    structure = (len(found) + (1 if has_outcome else 0)) / (len(markers) + 1)

    topic = set(content_stems(q.text + " " + " ".join(q.key_points)))
    relevance = min(1.0, len(topic & answer_stems) / max(1, min(len(topic), 8)))
    words = len(tokens(text))
    length, length_label = _length(words)

    points = 0.55 * coverage + 0.20 * structure + 0.15 * relevance + 0.10 * length
    score = max(1, min(5, 1 + round(4 * points)))
    if words < 12 or not covered:
        score = min(score, 2)

    kind = "STAR parts" if q.story else "reasoning"
    rel_label = "high" if relevance >= 0.6 else "moderate" if relevance >= 0.3 else "low"
    parts = [
        f"Covered {len(covered)} of {len(q.key_points)} key points"
        + (f" ({'; '.join(covered)})" if covered else "")
        + (f"; missing: {'; '.join(missing)}." if missing else "."),
        f"Structure: {kind} found: {', '.join(found) or 'none'}"
        + (
            f"; missing: {', '.join(m for m in markers if m not in found)}"
            if len(found) < len(markers)
            else ""
        )
        + ("; gives concrete numbers or outcomes." if has_outcome else "; no concrete numbers or outcomes."),
        f"Relevance to the question: {rel_label}.",
        f"{words} words ({length_label}).",
    ]
    if score in q.anchors:
        parts.append(f"Closest anchor ({score}): {q.anchors[score]}")
    if not evidence:  # quote the opening of the answer so a reader can jump to it
        first = answers[0]
        spans = sentences(first.text)
        if spans:
            s, e = spans[0]
            evidence.append(Evidence(first.id, s, e, first.text[s:e]))

    result = QuestionResult(
        question_id=q.id,
        competency=q.competency,
        score=score,
        rationale=" ".join(parts),
        evidence=evidence[:4],
    )
    if covered:
        result.strengths.append(f"{q.competency}: covered {'; '.join(covered)}")
    if missing:
        result.weaknesses.append(f"{q.competency}: did not cover {'; '.join(missing)}")
        result.improvements.append(f"When asked '{q.text}', also cover: {'; '.join(missing)}.")
    if q.story and "result" not in found:
        result.improvements.append(f"End the story for '{q.text}' with its result, ideally measured.")
    if not q.story and "reasoning" not in found:
        result.improvements.append(f"Explain why, not only what, when answering '{q.text}'.")
    if length < 0.5:
        result.improvements.append(f"Give a fuller answer to '{q.text}' (it was {words} words).")
    return result


def template_answer(q: RubricQuestion) -> str:
    """A sample stronger answer built from the rubric's key points: a scaffold with [placeholders] for the
    candidate's own facts (the offline scorer cannot invent their experience)."""
    ordinals = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
    steps = "; ".join(
        f"{ordinals[i] if i < len(ordinals) else 'then'}, {kp}" for i, kp in enumerate(q.key_points)
    )
    if q.story:
        return (
            "In my previous role, [one sentence on the situation]. My task was [the goal and what was at "
            f"stake]. Here is what I did, step by step: {steps}. The result: [a measured outcome, e.g. "
            "'incidents dropped by 30% within a month'], and what I learned: [the lesson I applied since]."
        )
    return (
        f"I would cover it in this order: {steps}. For each point I'd say why it matters and what it costs, "
        "and give a concrete example from [a system I worked on]."
    )
