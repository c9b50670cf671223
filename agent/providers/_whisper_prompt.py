"""The tokens of the interview's terms that prime a whisper decode (whisper's "previous text" slot).

Priming is not free: every prompt token runs through the decoder before the first word, and a beam search
carries the longer context at every step, so a decode's cost grows with the prompt's length (``python -m
bench stt --priming-cost``). The terms are kept whole and in the interview's order (most important first)
until the budget is spent, and the list is ended with a full stop: without it whisper took an answer's
first words for the list's and dropped them.

Every term is primed, ordinary words included. Priming only the terms whisper would not spell on its own
(a word it splits into pieces or writes as a name: "idempotency", "Kafka") halves the prompt, takes about
3 points off a final decode's cost and read the Kokoro voices as well, but lost 8-15 points of term
accuracy on the espeak-ng voices, whose unclear words need the whole list to sound like the domain
(BENCHMARKS.md, issue 17, fourth pass).

A primed beam search is one beam narrower (``primed_beam``): the prompt already steers it, and the
narrower search pays for the prompt (tiny.en, primed beam 4 over unprimed beam 5: 1.03-1.05 of the CPU
time, against 1.08-1.11 at beam 5; the same terms on the Kokoro voices, 0-3 fewer of 210 on the espeak-ng
ones, within their run-to-run noise; BENCHMARKS.md, issue 17, fifth pass). Greedy decodes stay greedy.

``prompt_tokens`` and ``primed_beam`` are pure: the tokenizer's ``encode`` is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["primed_beam", "prompt_tokens"]

Encode = Callable[[str], Sequence[int]]


def prompt_tokens(context: str, encode: Encode, budget: int) -> list[int]:
    """The tokens priming a decode with ``context`` (comma-separated terms, most important first): as many
    whole terms as fit ``budget`` tokens, comma separated, ended with a full stop; none for no terms."""
    end = list(encode("."))
    tokens: list[int] = []
    for term in (t.strip() for t in context.split(",")):
        if not term:
            continue
        piece = list(encode((", " if tokens else " ") + term))
        if len(tokens) + len(piece) + len(end) > budget:
            break
        tokens += piece
    return [*tokens, *end] if tokens else []


def primed_beam(beam_size: int) -> int:
    """The beam of a decode primed with the interview's terms, asked for ``beam_size``: one narrower, at
    least 1."""
    return max(1, beam_size - 1)
