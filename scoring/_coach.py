"""Coaching from what the offline scorer measured, in a coach's sentences: what was good, what was missing,
one concrete next step; and a stronger answer rewritten from the candidate's own story.

The offline scorer cannot invent the candidate's experience, so the stronger answer is their own answer made
tighter: fillers and hedges cut, empty sentences dropped, the story told in order with its result last. What
is still missing is said after it in plain words. Nothing is a template with placeholders; when the answer has
nothing to build on there is no rewrite, only the coaching.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._snapshot import RubricQuestion
from ._substance import sentence_substance

if TYPE_CHECKING:
    from ._offline import AnswerReading, Reading

__all__ = ["coach_answer", "stronger_answer"]

_FILLER = re.compile(
    r"\b(?:um+|uh+|erm+|you know|i mean|sort of|kind of|basically|actually|literally|like,)\s*,?\s*", re.I
)
_HEDGE_LEAD = re.compile(r"^(?:so,?\s+|well,?\s+|and\s+|honestly,?\s+|i think\s+|i guess\s+)+", re.I)
_SUBSTANTIVE = 0.3  # sentences below this say too little to keep in a rewrite
_PRAISE = 0.5  # a sentence worth pointing at as the good part of a weak answer


def _clean(text: str) -> str:
    out = _FILLER.sub("", text).strip()
    out = _HEDGE_LEAD.sub("", out).strip()
    out = re.sub(r"\s{2,}", " ", out).strip(" ,")
    if not out:
        return ""
    out = out[0].upper() + out[1:]
    return out if out[-1] in ".!?" else out + "."


def _did(q: RubricQuestion) -> str:
    return "what you actually did" if q.story else "what you would actually do"


def _tightened(s: Reading) -> float:
    return sentence_substance(_clean(s.text), s.substance.specific_words).value


def _short(text: str, words: int = 14) -> str:
    w = text.split()
    return " ".join(w[:words]) + ("…" if len(w) > words else "")


def _best(r: AnswerReading) -> Reading | None:
    ranked = sorted(r.sentences, key=lambda s: -s.substance.value)
    return ranked[0] if ranked and ranked[0].substance.value >= _SUBSTANTIVE else None


def coach_answer(q: RubricQuestion, r: AnswerReading, score: int) -> list[str]:
    """At most three sentences: the good part, the gap, the next step."""
    out: list[str] = []
    best = _best(r)
    if best is not None and score >= 3:
        out.append(f'What worked: you were concrete when you said "{_short(best.text)}".')
    elif best is not None and best.substance.value >= _PRAISE:
        out.append(
            f'The most useful part was "{_short(best.text)}"; build the answer around moments like that.'
        )
    named, missing = list(r.named_only), list(r.missing)
    figures = any(s.substance.figure for s in r.sentences)
    outcomes = any(s.substance.outcome for s in r.sentences)
    if named:
        out.append(
            f"You mentioned {named[0]}, but not {_did(q)} about it; one sentence on that would "
            "turn a claim into evidence."
        )
    elif missing:
        gaps = " or ".join(missing[:2])
        out.append(f"The answer didn't get to {gaps}, which this question is really testing.")
    if best is None:
        out.append(
            f"Next time, answer '{q.text}' with one real example: what the situation was, what you did, "
            "and what happened."
        )
    elif q.story and not outcomes:
        out.append(
            "Next time, finish the story with what changed because of you, with a rough number if you "
            "have one."
        )
    elif not figures and score < 5:
        out.append("Next time, put a number on it, even a rough one (how many, how much faster, how often).")
    elif named or missing:
        topic = (named or missing)[0]
        out.append(f"Next time, add a sentence on {topic}: {_did(q)}, and what came of it.")
    else:
        out.append("Next time, keep this shape: the situation in a sentence, what you did, the result last.")
    return out


def stronger_answer(q: RubricQuestion, r: AnswerReading) -> str | None:
    """The candidate's own answer, tightened, with what it lacked said plainly after it; None when there is
    nothing of theirs to build on."""
    if r.status != "answered":
        return None
    # Judged without its fillers and hedges: "I think I would have the client send an id" keeps its substance.
    kept = [s for s in r.sentences if _tightened(s) >= _SUBSTANTIVE]
    if not kept:
        return None
    # Story order: what happened and what was done first, the result last.
    body = [s for s in kept if not s.substance.outcome] + [s for s in kept if s.substance.outcome]
    text = " ".join(c for s in body if (c := _clean(s.text)))
    gaps = list(r.named_only) + list(r.missing)
    if gaps:
        text += f" To make it stronger, add {_did(q)} about {gaps[0]}"
        text += f" and {gaps[1]}." if len(gaps) > 1 else "."
    if q.story and not any(s.substance.outcome for s in kept):
        text += " End with what changed because of it."
    return text
