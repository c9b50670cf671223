"""Respell misheard interview terms: "item potency key" → "idempotency key", "cafca" → "Kafka".

Priming whisper with the interview's terms (``_whisper_engine``'s ``context``) makes it expect them, but a
small model still writes what the sounds spell in ordinary words. ``respell`` is the pure second half:
it finds runs of one to four transcript words that *sound* like one of the context's terms — the same
rough phonetic key (voicing and spelling variants folded: c/k/q, d/t, b/p, g/k, v/f, z/s, y/i, doubled
letters) — and writes the term instead. Exact key matches are replaced for any term of 4 letters or more;
a one-letter difference only for terms of 8 or more, and never a plural of the term, so ordinary words
("recoil", "decision") are not turned into terms (``python -m bench stt`` counts false insertions).
"""

from __future__ import annotations

import re

__all__ = ["phonetic_key", "respell"]

_MAX_SPAN = 4  # words of a misheard term
_MIN_EXACT = 4  # key letters of a term replaced on an exact key match
_MIN_FUZZY = 8  # key letters of a term replaced with one letter different
_FOLD = str.maketrans({"c": "k", "q": "k", "d": "t", "b": "p", "g": "k", "v": "f", "z": "s", "y": "i"})
_TOKEN = re.compile(r"[^\s-]+|[\s-]+")
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


def phonetic_key(text: str) -> str:
    """A rough sound key of ``text``: letters only, spelling and voicing variants folded."""
    s = re.sub(r"[^a-z]", "", text.lower())
    s = s.replace("ph", "f").replace("ck", "k").replace("x", "ks")
    s = re.sub(r"c(?=[eiy])", "s", s).translate(_FOLD)
    return re.sub(r"(.)\1+", r"\1", s)


def respell(text: str, context: str) -> str:
    """``text`` with runs of words that sound like one of ``context``'s comma-separated terms respelled."""
    terms = [(t, phonetic_key(t)) for t in (t.strip() for t in context.split(",")) if t]
    terms = [(t, k) for t, k in terms if len(k) >= _MIN_EXACT]
    if not terms or not text.strip():
        return text
    parts = _TOKEN.findall(text)
    words = [i for i, p in enumerate(parts) if not p.isspace() and p != "-" and not set(p) <= {"-", " "}]
    out: list[str] = []
    pos = 0  # next part index to copy
    w = 0
    while w < len(words):
        hit = _match(parts, words, w, terms)
        if hit is None:
            w += 1
            continue
        span, term = hit
        first, last = words[w], words[w + span - 1]
        lead = _EDGE.match(parts[first]).group(1)  # type: ignore[union-attr]
        trail = _EDGE.match(parts[last]).group(3)  # type: ignore[union-attr]
        out += parts[pos:first]
        core = _EDGE.match(parts[first]).group(2)  # type: ignore[union-attr]
        if core[:1].isupper() and term[:1].islower():
            term = term[0].upper() + term[1:]  # a sentence's first word stays capitalised
        out.append(f"{lead}{term}{trail}")
        pos = last + 1
        w += span
    out += parts[pos:]
    return "".join(out)


def _match(
    parts: list[str], words: list[int], w: int, terms: list[tuple[str, str]]
) -> tuple[int, str] | None:
    for span in range(min(_MAX_SPAN, len(words) - w), 0, -1):
        said = " ".join(parts[i] for i in words[w : w + span])
        key = phonetic_key(said)
        if not key:
            continue
        for term, tk in terms:
            if key == tk or (len(tk) >= _MIN_FUZZY and key != tk + "s" and _one_apart(key, tk)):
                if _letters(said) == _letters(term):
                    return None if span == 1 else (span, term)  # said right (maybe split): keep or join
                return span, term
    return None


def _letters(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _one_apart(a: str, b: str) -> bool:
    """One substitution, insertion or deletion apart."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return True
    return False
