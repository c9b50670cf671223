"""What did the candidate just do? Deterministic keyword and length heuristics, readable on purpose.

``classify`` looks at one utterance: asking to repeat, asking what we mean, thinking aloud, not knowing,
wanting to stop, going off topic — or answering. ``assess`` describes an answer: length, whether it
tells a concrete example, whether it states an outcome, and which rubric words it used: content words of
the rubric's key points that are not already in the question (echoing the question is no evidence).
A key point counts as touched when at least half of its content words were said.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from agent.plans import Question, keywords

__all__ = ["AnswerTraits", "Intent", "assess", "classify", "word_count"]


class Intent(StrEnum):
    EMPTY = "empty"
    REPEAT = "repeat"
    CLARIFY = "clarify"
    THINKING = "thinking"
    DONT_KNOW = "dont_know"
    STOP = "stop"
    OFF_TOPIC = "off_topic"
    ANSWER = "answer"


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_REPEAT = _rx(
    r"repeat",
    r"say (?:that|it|the question) again",
    r"come again",
    r"sorry,? what",
    r"pardon",
    r"didn'?t (?:catch|hear|get) (?:that|it|the question)",
    r"what was the question",
    r"one more time",
    r"what did you say",
)
_CLARIFY = _rx(
    r"what do you mean",
    r"clarify",
    r"rephrase",
    r"what exactly",
    r"not sure what you(?:'re| are) asking",
    r"do you mean",
    r"what are you asking",
    r"in what sense",
    r"could you explain the question",
)
_THINKING = _rx(
    r"let me think",
    r"give me a (?:second|sec|moment|minute)",
    r"one (?:second|sec|moment)",
    r"just a (?:second|sec|moment|minute)",
    r"hold on",
    r"h+m+",
    r"u+m+",
    r"u+h+",
    r"thinking",
    r"good question",
    r"let me see",
    r"bear with me",
)
_DONT_KNOW = _rx(
    r"i don'?t know",
    r"i do not know",
    r"no idea",
    r"not sure",
    r"no clue",
    r"i'?m not sure",
    r"i can'?t (?:remember|recall|think of)",
    r"never (?:done|did|used|had) (?:that|this|it)",
    r"i'?m stuck",
    r"pass",
    r"skip(?: this| that| it)?",
    r"i have no experience",
)
_STOP = _rx(
    r"(?:end|stop|finish) the interview",
    r"i (?:want|need|have) to (?:stop|leave|go|end)",
    r"can we (?:stop|end)",
    r"let'?s stop",
    r"i'?m done with (?:this|the) interview",
    r"hang up",
)
_OFF_TOPIC = _rx(
    r"weather",
    r"football",
    r"soccer",
    r"basketball",
    r"baseball",
    r"movies?",
    r"netflix",
    r"lunch",
    r"dinner",
    r"weekend",
    r"joke",
    r"politics",
    r"election",
    r"are you (?:a |an )?(?:robot|bot|ai|human|real)",
    r"what'?s your name",
    r"what is your name",
    r"how old are you",
    r"your favou?rite",
)
_EXAMPLE = _rx(
    r"for example",
    r"for instance",
    r"when i",
    r"at my (?:last|previous|current)",
    r"in my (?:last|previous|current)",
    r"i remember",
    r"there was a time",
    r"one time",
    r"last year",
    r"we had",
    r"i worked on",
    r"on a project",
    r"i (?:was|had|led|built|designed|wrote|noticed|decided|asked|found|worked|took|made)",
)
_OUTCOME = _rx(
    r"result",
    r"outcome",
    r"in the end",
    r"ended up",
    r"reduced",
    r"increased",
    r"improved",
    r"saved",
    r"cut",
    r"grew",
    r"dropped",
    r"percent",
    r"learn(?:ed|t)",
    r"shipped",
    r"launched",
    r"resolved",
    r"fixed",
    r"succeeded",
    r"worked out",
    r"the impact",
    r"afterwards",
    r"\d+ ?%",
)
_WORD = re.compile(r"[A-Za-z0-9']+")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _leftover_words(text: str, pattern: re.Pattern[str]) -> int:
    """Content words left once the matched phrase and fillers are removed."""
    return len(keywords(pattern.sub(" ", text)) - {"um", "uh", "hmm", "sorry", "really", "honestly", "think"})


def classify(text: str, *, question: Question | None) -> Intent:
    words = word_count(text)
    if words == 0:
        return Intent.EMPTY
    if words <= 25 and _STOP.search(text):
        return Intent.STOP
    if words <= 15 and _REPEAT.search(text):
        return Intent.REPEAT
    if words <= 20 and _CLARIFY.search(text):
        return Intent.CLARIFY
    if words <= 25 and _DONT_KNOW.search(text) and _leftover_words(text, _DONT_KNOW) <= 4:
        return Intent.DONT_KNOW
    if words <= 8 and _THINKING.search(text) and _leftover_words(text, _THINKING) <= 2:
        return Intent.THINKING
    if _OFF_TOPIC.search(text) and question is not None and not (keywords(text) & _terms(question)):
        return Intent.OFF_TOPIC
    return Intent.ANSWER


def _terms(q: Question) -> set[str]:
    terms = keywords(q.text) | keywords(" ".join(q.rubric.key_points))
    for tag in q.tags:
        terms |= keywords(tag)
    return terms


@dataclass(frozen=True)
class AnswerTraits:
    words: int
    has_example: bool
    has_outcome: bool
    key_points_hit: frozenset[int]  # indexes into question.rubric.key_points
    rubric_words: frozenset[str]  # key-point words said that the question itself does not contain


def assess(text: str, *, question: Question) -> AnswerTraits:
    said = keywords(text)
    hits = set()
    rubric_words: set[str] = set()
    for i, point in enumerate(question.rubric.key_points):
        words = keywords(point)
        if words and len(words & said) >= math.ceil(len(words) / 2):
            hits.add(i)
        rubric_words |= words & said
    return AnswerTraits(
        words=word_count(text),
        has_example=bool(_EXAMPLE.search(text)),
        has_outcome=bool(_OUTCOME.search(text)),
        key_points_hit=frozenset(hits),
        rubric_words=frozenset(rubric_words - keywords(question.text)),
    )
