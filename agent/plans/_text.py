"""Keyword matching used to steer question choice by a job description and a résumé.

Deliberately simple and explainable: text is lower-cased and split into words, common English and
job-ad filler words are dropped, and plurals are folded ("payments" → "payment"). A question's keywords
are its tags plus the content words of its text and key points.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["ResumeHighlights", "keywords", "resume_highlights"]

_STOP = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else etc ever every few for from
    further had has have having he her here hers how i if in into is it its itself just like make made many
    may me might more most much must my no nor not now of off on once only or other our ours out over own per
    please same she should so some such than that the their them then there these they this those through to
    too under until up upon us use used using very via was we well were what when where which while who whom
    why will with within without would yes you your yours tell describe walk time times way ways thing things
    one two three first second new good great best really want wants need needs
    experience experienced team teams work working worked role roles year years strong ability able skill
    skills responsibilities responsible requirements required preferred plus bonus candidate candidates
    company join looking ideal including include includes across help helping ensure day days knowledge
    understanding excellent solid proven track record environment opportunity run lot lots
    """.split()
)

_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[./-][a-z0-9+#]+)*")


_NO_FOLD = frozenset(
    {"kubernetes", "pandas", "jenkins", "postgres", "analytics", "sales", "devops", "windows"}
)


def _fold(word: str) -> str:
    if len(word) <= 4 or word in _NO_FOLD or word.endswith(("ss", "is", "us")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def keywords(text: str) -> set[str]:
    """Content words of ``text``: lower-cased, stop words removed, plurals folded."""
    words = _WORD.findall(text.lower())
    return {_fold(w) for w in words if len(w) > 1 and w not in _STOP and not w.isdigit()}


def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(term.lower()) + r"(?![a-z0-9])")


@dataclass(frozen=True)
class ResumeHighlights:
    projects: list[str]  # named projects, most specific first
    skills: list[str]  # known skills mentioned, most mentioned first


# "built Atlas", "led the Payments Gateway migration", "Project: Falcon"
_VERBS = (
    r"(?i:built|build|led|lead|developed|created|designed|launched|shipped|architected|implemented"
    r"|founded|owned)"
)
_NAME = r"([A-Z][\w+#.-]*(?:\s+(?:[A-Z][\w+#.-]*|of|for|and))*)"
_PROJECT_AFTER_VERB = re.compile(_VERBS + r"\s+(?:an?\s+|the\s+|our\s+)?" + _NAME)
_PROJECT_LINE = re.compile(r"(?im)^\s*(?:[-*•]\s*)?project(?:\s+name)?\s*[:—-]\s*([^\n,.;]{2,60})")
_NOT_NAMES = {"I", "We", "The", "A", "An", "Our", "My", "In", "At", "And"}


def resume_highlights(text: str, *, known_skills: list[str]) -> ResumeHighlights:
    """Named projects and known skills found in a résumé (a project is a capitalised name after a verb
    such as "built" or "led", or a "Project: …" line)."""
    projects: list[str] = []
    for m in _PROJECT_LINE.finditer(text):
        projects.append(m.group(1).strip())
    for m in _PROJECT_AFTER_VERB.finditer(text):
        name = m.group(1).strip().rstrip(".")
        name = re.sub(r"\s+(?:of|for|and)$", "", name)
        if name and name.split()[0] not in _NOT_NAMES and len(name) >= 3:
            projects.append(name)
    unique: list[str] = []
    for name in projects:
        if name.lower() not in {u.lower() for u in unique}:
            unique.append(name)

    lowered = text.lower()
    counts: Counter[str] = Counter()
    for skill in dict.fromkeys(s.lower() for s in known_skills):
        n = len(_term_pattern(skill).findall(lowered))
        if n:
            counts[skill] = n
    skills = [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ResumeHighlights(projects=unique, skills=skills)
