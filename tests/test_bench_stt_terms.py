"""``python -m bench stt``'s term accounting: a term counts however whisper spaced or hyphenated it."""

from __future__ import annotations

import pytest

from bench._stt_set import NEUTRAL, TECHNICAL
from bench._stt_terms import mentions

pytestmark = pytest.mark.unit


def test_a_term_is_recognised_however_it_was_spaced_or_hyphenated() -> None:
    assert mentions("We ran an AB test on pricing.", "A/B test")
    assert mentions("fine tuning the embeddings", "fine-tuning")
    assert mentions("we added PG Bouncer", "PgBouncer")
    assert mentions("Postgres's planner", "Postgres")


def test_a_near_miss_is_not_the_term() -> None:
    assert not mentions("every consumer checks an item potency key", "idempotency key")
    assert not mentions("the indexes were stale", "index")
    assert not mentions("on-cafca", "Kafka")


def test_the_set_says_its_terms_and_the_neutral_answers_say_none() -> None:
    for answer in TECHNICAL:
        assert answer.terms and all(mentions(answer.text, t) for t in answer.terms), answer.text
        assert all(t in answer.context for t in answer.terms)
    for answer in NEUTRAL:
        terms = [t.strip() for t in answer.context.split(",")]
        assert not any(mentions(answer.text, t) for t in terms), answer.text
