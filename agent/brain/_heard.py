"""Was an action heard? The rule that decides whether a reply cut short by the candidate counts.

```python
heard(action, spoken="Thank you. Tell me about a time you disagreed.", played="Thank you.")   # False
heard(action, spoken=..., played=spoken)                                                       # True
```

``spoken`` is the whole reply the brain phrased, ``played`` the part the candidate heard before they spoke
over it (livekit's ``TranscriptSynchronizer`` gives it, as the assistant message's text). An action counts
when the candidate heard its *essential words* (``Action.essential``: the question, probe or hint, not the
"Thank you." before it); nothing played counts for nothing. Where the essential words are not in the reply
word for word (an LLM phrased it in its own words) the whole reply must have been heard.

The played text is an estimate paced from the audio position, a word or so either way, so the last tenth
of the essential words (rounded down: none for a short question) may be missing; never of a closing,
which ends the call. Pure: no state, no I/O.
"""

from __future__ import annotations

import re

from ._action import Action

__all__ = ["heard"]

_WORD = re.compile(r"[a-z0-9']+")
TAIL_SHARE = 0.1  # of the essential words that may be missing at the end (the played text's imprecision)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _find(needle: list[str], haystack: list[str]) -> int:
    """Index of the last occurrence of ``needle`` in ``haystack`` (the question ends a reply), or -1."""
    n = len(needle)
    for i in range(len(haystack) - n, -1, -1):
        if haystack[i : i + n] == needle:
            return i
    return -1


def heard(action: Action, *, spoken: str, played: str) -> bool:
    """True when the candidate heard ``action``'s essential words in ``played`` (a prefix of ``spoken``)."""
    got = len(_words(played))
    if got == 0:
        return False
    reply = _words(spoken)
    essential = _words(action.essential)
    start = _find(essential, reply) if essential else -1
    if start < 0:  # no essential words given, or phrased differently: the whole reply
        start, essential = 0, reply
    # a closing ends the call: spoken over even in its last words, it is not the end (the candidate is
    # answered first), so none of it may be missing
    missing_ok = 0 if action.ends_interview else int(len(essential) * TAIL_SHARE)
    return got >= start + len(essential) - missing_ok
