"""Respell misheard interview terms: "item potency key" → "idempotency key", "cafca" → "Kafka".

Priming whisper with the interview's terms (``_whisper_engine``'s ``context``) makes it expect them, but a
small model still writes what the sounds spell in ordinary words. ``respell`` is the pure second half:
it finds runs of one to four transcript words that *sound* like one of the context's terms — the same
rough phonetic key (voicing and spelling variants folded: c/k/q, d/t, b/p, g/k, v/f, z/s, y/i, doubled
letters) — and writes the term instead. Exact key matches are replaced for any term of 4 letters or more;
near misses only for long terms, in proportion to their length: one letter different for 8-11 key
letters ("nebezium"), two for 12 or more ("duplicating voices" → "duplicate invoices", "cash in
validation" → "cache invalidation"). Never a plural of the term, never a run that starts or ends with a
word the term does not need (the nearest run wins: "in sales force" keeps its "in"), never across a
number ("20 user interviews"), so ordinary words ("recoil", "decision", "raising") are not turned into
terms (``python -m bench stt`` counts false insertions). A term's symbols also match spoken
("A/B test" = "A slash B test").
"""

from __future__ import annotations

import functools
import re

__all__ = ["phonetic_key", "respell"]

_MAX_SPAN = 4  # words of a misheard term
_MIN_EXACT = 4  # key letters of a term replaced on an exact key match
_MIN_FUZZY = 8  # key letters of a term replaced with one letter different...
_MIN_FUZZY2 = 12  # ...and with two
_SPOKEN = (("/", " slash "), ("&", " and "), ("+", " plus "))  # a term's symbols as whisper writes them said
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
    terms = _terms(context)
    if not terms or not text.strip():
        return text
    parts = _TOKEN.findall(text)
    words = [i for i, p in enumerate(parts) if not p.isspace() and p != "-" and not set(p) <= {"-", " "}]
    keys = [phonetic_key(parts[i]) for i in words]
    out: list[str] = []
    pos = 0  # next part index to copy
    w = 0
    while w < len(words):
        hit = _match(parts, words, keys, w, terms)
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


@functools.lru_cache(maxsize=64)
def _terms(context: str) -> tuple[tuple[str, str], ...]:
    """``context``'s terms with each of their sound keys, those long enough to be matched."""
    terms = ((t, k) for t in (t.strip() for t in context.split(",")) if t for k in _keys(t))
    return tuple((t, k) for t, k in terms if len(k) >= _MIN_EXACT)


def _keys(term: str) -> set[str]:
    """The sound keys of ``term`` as written and with its symbols spoken."""
    spoken = term
    for symbol, word in _SPOKEN:
        spoken = spoken.replace(symbol, word)
    return {phonetic_key(term), phonetic_key(spoken)}


def _allowed(key: str) -> int:
    """How many letters a run's key may differ from a term's ``key`` and still be that term."""
    return 2 if len(key) >= _MIN_FUZZY2 else 1 if len(key) >= _MIN_FUZZY else 0


def _match(
    parts: list[str], words: list[int], word_keys: list[str], w: int, terms: tuple[tuple[str, str], ...]
) -> tuple[int, str] | None:
    keys: list[str] = []
    for word_key in word_keys[w : w + _MAX_SPAN]:
        if not word_key:
            break  # a number or a symbol: a term is not said across it
        keys.append(word_key)
    best: tuple[int, int, str] | None = None  # (distance, span, term)
    for span in range(1, len(keys) + 1):
        key = "".join(keys[:span])
        for term, tk in terms:
            d = _distance(key, tk, _allowed(tk))
            if d is None or (d and key == tk + "s") or (best is not None and (d, span) >= best[:2]):
                continue
            if span > 1 and _distance("".join(keys[1:span]), tk, d) is not None:
                continue  # the first word is not part of it: the run starting at the next word is nearer
            best = (d, span, term)
    if best is None:
        return None
    _, span, term = best
    said = " ".join(parts[i] for i in words[w : w + span])
    if _letters(said) == _letters(term):
        return None if span == 1 else (span, term)  # said right (maybe split): keep or join
    return span, term


def _letters(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


@functools.lru_cache(maxsize=4096)
def _pairs(s: str) -> frozenset[str]:
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


def _distance(a: str, b: str, limit: int) -> int | None:
    """Edit distance of ``a`` and ``b`` (substitutions, insertions, deletions) if at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return None
    if limit == 0:
        return 0 if a == b else None
    if len(_pairs(a) - _pairs(b)) > 2 * limit:
        return None  # an edit changes at most two letter pairs: a cheap test before the full one
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        if min(cur) > limit:
            return None
        prev = cur
    return prev[-1] if prev[-1] <= limit else None
