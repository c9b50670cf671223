"""Word error rate for transcript checks: a tiny edit distance over normalised words."""

from __future__ import annotations

import re

__all__ = ["normalize", "wer", "words"]

_SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor", "ok": "okay"}
# whisper writes small numbers either way ("four engineers" / "4 engineers"): the same word
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
_SPOKEN |= {
    str(n): word for n, word in enumerate((_NUMBERS + " sixteen seventeen eighteen nineteen twenty").split())
}
_CONTRACTIONS = [("n't", " not"), ("'re", " are"), ("'m", " am"), ("'ve", " have"), ("'ll", " will")]


def words(text: str) -> list[str]:
    """Lower-case words, no punctuation; hyphens split words; abbreviations and contractions spelled out."""
    text = text.lower().replace("-", " ").replace("’", "'").replace("can't", "cannot")
    for short, full in _CONTRACTIONS:
        text = text.replace(short, full)
    tokens = re.sub(r"[^a-z0-9' ]+", " ", text).split()
    return [_SPOKEN.get(t.strip("'"), t.strip("'")) for t in tokens if t.strip("'")]


def normalize(text: str) -> str:
    return " ".join(words(text))


def wer(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return float(bool(hyp))
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)
