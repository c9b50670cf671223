"""Misheard interview terms are respelled; ordinary words are left alone (agent/providers/_respell.py)."""

from __future__ import annotations

import pytest

from agent.providers._respell import respell

pytestmark = pytest.mark.unit

KAFKA = (
    "Kafka, idempotency key, duplicate invoices, consumer group, Postgres, PgBouncer, A/B test, fine-tuning"
)


def test_terms_whisper_spelled_in_ordinary_words_are_respelled() -> None:
    heard = "We moved onto cafca, and every consumer checks an item potency key."
    assert respell(heard, KAFKA) == "We moved onto Kafka, and every consumer checks an idempotency key."


def test_a_term_split_or_spaced_differently_is_joined() -> None:
    heard = "We added PG Bouncer in front of post-gress and ran an AB test."
    assert respell(heard, KAFKA) == "We added PgBouncer in front of Postgres and ran an A/B test."


def test_a_sentence_keeps_its_capital() -> None:
    assert respell("Fine tuning helped.", KAFKA) == "Fine-tuning helped."


def test_ordinary_words_and_plurals_are_not_turned_into_terms() -> None:
    said = "I recall the decision; the indexes were stale, the consumer groups lagged, and I made a copy."
    context = "recall, precision, index, consumer group, Kafka, coffee"
    assert respell(said, context) == said
    assert respell("Honestly I would ask a colleague.", KAFKA) == "Honestly I would ask a colleague."


def test_without_context_nothing_changes() -> None:
    assert respell("item potency key", "") == "item potency key"


def test_long_terms_are_found_two_sounds_off() -> None:
    context = "duplicate invoices, cache invalidation, Debezium, Salesforce"
    heard = "A retry never creates duplicating voices, and we used nebezium with cash in validation."
    assert respell(heard, context) == (
        "A retry never creates duplicate invoices, and we used Debezium with cache invalidation."
    )


def test_the_words_around_a_term_are_kept() -> None:
    context = "Salesforce, dead letter queue, user interviews"
    assert respell("Logged in sales force.", context) == "Logged in Salesforce."
    assert respell("It went to a dead ladder queue.", context) == "It went to a dead letter queue."
    assert respell("I ran 20 user interviews.", context) == "I ran 20 user interviews."


def test_a_symbol_in_a_term_matches_its_spoken_word() -> None:
    assert respell("We ran a slash V test.", KAFKA) == "We ran A/B test."


def test_short_terms_are_not_matched_loosely() -> None:
    context = "pricing, deadlock, churn, recall, precision, data drift"
    said = "Prices kept rising, the dead luck of it, a church, a decision, and a data shift."
    assert respell(said, context) == said
