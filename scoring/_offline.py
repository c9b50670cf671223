"""The offline scorer: follows what an answer says, not which rubric words it uses. No network, no GPU.

Per answer:

1. A request ("can we stop", "could you repeat that") or a refusal ("I don't know") is not graded as an
   answer: it gets status ``request`` / ``no_answer`` and the lowest score, and says so.
2. Every sentence is weighed for substance (``_substance.py``): does the candidate say what they did or
   would do, give specifics (figures, spelled out or not; names of things; words that are their own rather
   than the rubric's), a reason, an outcome. Rubric vocabulary and generic filler count for nothing, so a
   list of rubric terms wrapped in STAR labels earns nothing.
3. Key points are matched by meaning (``_meaning.py``: static sentence embeddings), each to its closest
   sentence; a key point counts as covered only where that sentence has substance, and as "named only"
   where it is mentioned without any.
4. The score (1–5) comes from the answer's total substance (60 %), the breadth of its specific vocabulary
   (20 %) and key-point coverage (20 %), less a penalty when most of the answer is the rubric's own words.
   Its confidence (0–1) falls near a score boundary, where the signals disagree, for short answers, and
   without the embedding model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._meaning import get_meaning
from ._result import Evidence, QuestionResult
from ._snapshot import RubricQuestion, Turn
from ._substance import GENERIC, Substance, is_non_answer, is_request, sentence_substance, star_labels
from ._text import content_stems, sentences, tokens

__all__ = ["AnswerReading", "answer_status", "read_answer", "score_answer"]

_TOUCH = 0.12  # embedding similarity at which a sentence is about a key point (paraphrases score ~0.2-0.3)
_NEAR_BEST = 0.6  # sentences this close to the best match for a key point are about it too
_NAMED = 0.3  # similarity at which a sentence without substance counts as naming a key point
_COVER_SUBSTANCE = 0.45  # a touched key point counts as covered when its sentence has this much substance
_FULL_SUBSTANCE = 3.5  # summed sentence substance of a full, concrete answer
_FULL_SPECIFICS = 30  # distinct specific words of a full, concrete answer


@dataclass(frozen=True, slots=True)
class Reading:
    """One sentence of an answer, located in its turn."""

    turn: Turn
    start: int
    end: int
    substance: Substance

    @property
    def text(self) -> str:
        return self.turn.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class AnswerReading:
    """Everything the scorer measured about one answer; also what coaching is written from."""

    status: str  # answered | request | no_answer
    words: int
    sentences: tuple[Reading, ...]
    covered: tuple[tuple[str, int], ...]  # (key point, index of its sentence)
    named_only: tuple[str, ...]
    missing: tuple[str, ...]
    substance: float  # 0..1
    specifics: float  # 0..1
    coverage: float  # 0..1
    rubric_share: float  # share of the answer's content words that are the rubric's own
    star_labels: int
    raw: float  # 1..5 before rounding
    method: str


def _rubric_stems(q: RubricQuestion, *, question: bool = True) -> set[str]:
    return set(content_stems(" ".join([q.text if question else "", *q.key_points, *q.anchors.values()])))


def _unname(sentence: str, rubric: set[str]) -> str:
    """The sentence with the rubric's own names and figures ("404", "EXPLAIN") lowercased to plain words, so
    that quoting them does not count as giving specifics."""
    out = sentence
    for t in reversed(tokens(sentence)):
        if t.stem in rubric and (any(c.isdigit() for c in t.text) or t.text[:1].isupper()):
            out = out[: t.start] + "thing" + out[t.end :]
    return out


def answer_status(answers: Sequence[Turn]) -> str:
    """``answered``, ``request`` (asked to stop, repeat, ...) or ``no_answer`` (nothing, or a refusal). Pure
    text rules, no model: every scorer uses it to keep requests and refusals from being graded as answers."""
    text = " ".join(t.text for t in answers).strip()
    words = len(tokens(text))
    if text and is_request(text, words):
        return "request"
    if not text or is_non_answer(text, words):
        return "no_answer"
    return "answered"


def read_answer(q: RubricQuestion, answers: Sequence[Turn]) -> AnswerReading:
    text = " ".join(t.text for t in answers).strip()
    words = len(tokens(text))
    meaning = get_meaning()
    status = answer_status(answers)
    if status != "answered":
        return AnswerReading(
            status, words, (), (), (), q.key_points, 0.0, 0.0, 0.0, 0.0, 0, 1.0, meaning.method
        )

    rubric = _rubric_stems(q)
    readings: list[Reading] = []
    specific: set[str] = set()
    for turn in answers:
        for start, end in sentences(turn.text):
            sentence = turn.text[start:end]
            own = set(content_stems(sentence)) - rubric - GENERIC - specific  # repeating oneself adds nothing
            specific |= own
            readings.append(
                Reading(turn, start, end, sentence_substance(_unname(sentence, rubric), len(own)))
            )
    all_stems = content_stems(text)
    rubric_only = _rubric_stems(q, question=False)  # the question's own words are fair to repeat
    rubric_share = sum(1 for s in all_stems if s in rubric_only) / max(1, len(all_stems))

    sims = meaning.similarity([r.text for r in readings], list(q.key_points))
    covered: list[tuple[str, int]] = []
    named: list[str] = []
    missing: list[str] = []
    credit = 0.0
    for k, kp in enumerate(q.key_points):
        # The most substantial of the sentences most about this key point: a sentence that merely names it
        # is the closest match and hides the substantive sentences elsewhere, which is the point.
        floor = max(_TOUCH, _NEAR_BEST * float(sims[:, k].max()))
        about = [i for i in range(len(readings)) if sims[i, k] >= floor]
        if not about:
            missing.append(kp)
            continue
        best = max(about, key=lambda i: (readings[i].substance.value, sims[i, k]))
        value = readings[best].substance.value
        if value >= _COVER_SUBSTANCE:
            covered.append((kp, best))
            credit += min(1.0, value / 0.8)
        elif sims[best, k] >= _NAMED or set(content_stems(kp)) & set(content_stems(readings[best].text)):
            named.append(kp)  # said, with nothing behind it
        else:
            missing.append(kp)  # only loosely related: not even named
    coverage = credit / len(q.key_points)
    # Sentences with next to no substance (greetings, labels, filler) add nothing, however many there are.
    substance = min(1.0, sum(max(0.0, r.substance.value - 0.15) / 0.85 for r in readings) / _FULL_SUBSTANCE)
    specifics = min(1.0, len(specific) / _FULL_SPECIFICS)
    labels = star_labels(text)

    points = 0.6 * substance + 0.2 * specifics + 0.2 * coverage
    # The rubric read back: its words, STAR labels, key points named without anything behind them.
    echo = max(0.0, rubric_share - 0.5) * 1.5 + 0.08 * labels + 0.1 * len(named) / len(q.key_points)
    points = max(0.0, points - echo)
    raw = 1.0 + 4.0 * min(1.0, points / 0.85) ** 0.8  # a little substance is worth more than none
    return AnswerReading(
        status="answered",
        words=words,
        sentences=tuple(readings),
        covered=tuple(covered),
        named_only=tuple(named),
        missing=tuple(missing),
        substance=substance,
        specifics=specifics,
        coverage=coverage,
        rubric_share=rubric_share,
        star_labels=labels,
        raw=raw,
        method=meaning.method,
    )


def _confidence(r: AnswerReading, score: int) -> float:
    if r.status != "answered":
        return 0.9
    boundary = 2.0 * abs(r.raw - round(r.raw))  # 1 at x.5 (a coin toss), 0 on a whole score
    agree = 1.0 - abs(r.substance - r.coverage) * 0.5  # substance without any key point, or the reverse
    short = 0.15 if r.words < 25 else 0.0
    conf = 0.95 - 0.35 * boundary - 0.3 * (1.0 - agree) - short
    if r.method == "word-overlap":
        conf -= 0.15
    if score >= 4 and r.rubric_share > 0.45:  # high score mostly in the rubric's words: look again
        conf -= 0.2
    return round(max(0.1, min(0.95, conf)), 2)


def _rationale(q: RubricQuestion, r: AnswerReading, score: int) -> str:
    if r.status == "request":
        return (
            "The candidate asked the interviewer for something instead of answering; not graded as an answer."
        )
    if r.status == "no_answer":
        return (
            "No answer was given to this question."
            if r.words == 0
            else (
                "The candidate said they could not answer this question: it counts as the lowest score, with "
                "no analysis of what was said."
            )
        )
    acts = sum(1 for s in r.sentences if s.substance.actor)
    figures = sum(1 for s in r.sentences if s.substance.figure)
    outcomes = sum(1 for s in r.sentences if s.substance.outcome)
    parts = [
        f"Backed {len(r.covered)} of {len(q.key_points)} key points with substance"
        + (f" ({'; '.join(kp for kp, _ in r.covered)})" if r.covered else "")
        + "."
    ]
    if r.named_only:
        parts.append(f"Named without substance: {'; '.join(r.named_only)}.")
    if r.missing:
        parts.append(f"Not addressed: {'; '.join(r.missing)}.")
    parts.append(
        f"{acts} sentence(s) say what the candidate did or would do, {figures} give figures, "
        f"{outcomes} describe an outcome; {r.words} words."
    )
    if r.rubric_share > 0.45 or r.star_labels:
        parts.append("Much of the answer repeats the rubric's own terms or STAR labels, which earn nothing.")
    if score in q.anchors:
        parts.append(f"Closest anchor ({score}): {q.anchors[score]}")
    return " ".join(parts)


def score_answer(q: RubricQuestion, answers: Sequence[Turn]) -> QuestionResult:
    """Score one question from the candidate's answer turns."""
    r = read_answer(q, answers)
    score = 1 if r.status != "answered" else max(1, min(5, round(r.raw)))
    result = QuestionResult(
        question_id=q.id,
        competency=q.competency,
        score=score,
        rationale=_rationale(q, r, score),
        confidence=_confidence(r, score),
        status=r.status,
    )
    covered = {kp: r.sentences[i].text for kp, i in r.covered}
    result.key_points = [
        {"key_point": kp, "covered": kp in covered, "named": kp in r.named_only, "quote": covered.get(kp, "")}
        for kp in q.key_points
    ]
    if r.status != "answered":
        result.weaknesses.append(f"{q.competency}: no answer to '{q.text}'")
        result.improvements.append(
            f"'{q.text}' went unanswered. Even a short example of something you did would have given the "
            "interviewer something to go on."
        )
        return result
    ranked = sorted(range(len(r.sentences)), key=lambda i: -r.sentences[i].substance.value)
    picks = [i for _, i in r.covered] + ranked
    for i in dict.fromkeys(picks):
        s = r.sentences[i]
        ev = Evidence(s.turn.id, s.start, s.end, s.text)
        if ev not in result.evidence:
            result.evidence.append(ev)
        if len(result.evidence) >= 3:
            break
    if r.covered:
        result.strengths.append(f"{q.competency}: {'; '.join(kp for kp, _ in r.covered)}")
    gaps = list(r.named_only) + list(r.missing)
    if gaps:
        result.weaknesses.append(f"{q.competency}: nothing concrete on {'; '.join(gaps)}")
    from ._coach import coach_answer  # coaching reads the same measurements

    result.improvements.extend(coach_answer(q, r, score))
    return result
