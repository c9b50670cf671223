"""Which of the interview's terms prime a whisper decode, as the tokens of whisper's "previous text" slot.

Priming is not free: every prompt token runs through the decoder before the first word, and a beam search
carries (and reorders) the longer context at every step, so a decode's cost grows with the prompt's length
(``python -m bench stt --priming-cost``). It pays only for a term whisper would not spell on its own. A term
written in ordinary words ("partition", "consumer group", "churn") is already in whisper's vocabulary as
single tokens: priming it buys nothing a respelling (``_respell``, which still sees every term) does not,
and on unclear phone audio it is what whisper copies into an answer that did not say it ("churn" for
"shared"). So only terms with a word whisper splits into pieces ("idempotency", "Debezium", "PgBouncer") or
writes as a name ("Kafka", "HubSpot", "S3") are primed, most important first, as many whole ones as fit the
budget, the list ended with a full stop (without it whisper took an answer's first words for the list's).

``prompt_terms`` and ``prompt_tokens`` are pure: the tokenizer's ``encode`` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = ["needs_priming", "prompt_terms", "prompt_tokens"]

Encode = Callable[[str], Sequence[int]]

_NAME = re.compile(r"[A-Z0-9]")  # a capital or a digit anywhere: "Kafka", "PgBouncer", "S3", "OKRs"
_EDGES = ".,;:?!()\"'"


def needs_priming(term: str, encode: Encode) -> bool:
    """True when whisper may not spell ``term`` unprimed: one of its words is written as a name, or is
    not a single token of whisper's vocabulary (said after a space, as in running text). A word written
    with a hyphen or a slash is several tokens, so "exactly-once" and "A/B" are primed: tiny.en heard
    "exactly wants delivery" without it."""
    for raw in term.split():
        word = raw.strip(_EDGES)
        if word and (_NAME.search(word) or len(encode(" " + word)) > 1):
            return True
    return False


def prompt_terms(context: str, encode: Encode) -> list[str]:
    """``context``'s comma-separated terms worth priming, in their order (most important first)."""
    terms = (t.strip() for t in context.split(","))
    return [t for t in terms if t and needs_priming(t, encode)]


def prompt_tokens(context: str, encode: Encode, budget: int) -> list[int]:
    """The tokens priming a decode: as many whole ``prompt_terms`` as fit ``budget`` tokens, comma
    separated, ended with a full stop; none when no term needs priming."""
    end = list(encode("."))
    tokens: list[int] = []
    for term in prompt_terms(context, encode):
        piece = list(encode((", " if tokens else " ") + term))
        if len(tokens) + len(piece) + len(end) > budget:
            break
        tokens += piece
    return [*tokens, *end] if tokens else []
