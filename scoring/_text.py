"""Text normalisation for the offline scorer: tokens with character spans, light stemming, sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "content_stems", "sentences", "stem", "tokens"]

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")

STOPWORDS = frozenset(
    """a an the and or but if so of to in on at by for with from into onto over under about as is are was were
    be been being am do does did doing have has had having i me my we our us you your he she it its they them
    their this that these those there here what which who whom how why when where would could should can will
    just very really also then than too not no yes okay ok well um uh like know mean sort kind basically get
    got make made some any all each more most other such only own same s t one thing things way lot""".split()
)

# Longest first; each rule is (suffix, replacement, minimum stem length).
_SUFFIXES = (
    ("ational", "ate", 3),
    ("ization", "ize", 3),
    ("isation", "ize", 3),
    ("ations", "ate", 3),
    ("ation", "ate", 3),
    ("ments", "", 4),
    ("ment", "", 4),
    ("ness", "", 4),
    ("ency", "", 4),
    ("ence", "", 4),
    ("ent", "", 5),
    ("ings", "", 3),
    ("ing", "", 3),
    ("ies", "y", 2),
    ("ied", "y", 2),
    ("ise", "ize", 3),
    ("ed", "", 3),
    ("es", "", 4),
    ("ly", "", 4),
    ("s", "", 3),
)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    stem: str
    start: int
    end: int


def stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    if "'" in w:
        w = w.split("'", 1)[0]
    for suffix, repl, min_len in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= min_len:
            w = w[: -len(suffix)] + repl
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":  # "stopped" -> "stopp" -> "stop"
        w = w[:-1]
    if w.endswith("e") and len(w) > 4:  # "cache"/"caching" -> "cach"
        w = w[:-1]
    return w


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), stem(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (stopwords dropped), in order, with duplicates."""
    return [t.stem for t in tokens(text) if t.text.lower() not in STOPWORDS and len(t.stem) > 1]


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences (and clauses split at ';'), trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans
