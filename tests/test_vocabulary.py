"""What the speech recogniser is told to expect while a question is answered (agent/_vocabulary.py)."""

from __future__ import annotations

import pytest

from agent._vocabulary import interview_vocabulary, prime_stt
from agent.plans import build_plan

pytestmark = pytest.mark.unit

JOB = "We run Kafka and Postgres on AWS; you will own our payments API. Python and SQL required."


def _terms(context: str) -> list[str]:
    return [t.strip() for t in context.split(",")]


def test_the_question_being_answered_comes_first_then_the_job_then_the_other_questions() -> None:
    plan = build_plan(role="backend engineer", question_count=3, seed=1, interview_type="technical",
                      job_description=JOB)  # fmt: skip
    q = next(q for q in plan.questions if "idempotency" in q.tags)
    terms = _terms(interview_vocabulary(plan, q))
    short_points = [p for p in q.rubric.key_points if len(p.split()) <= 4]
    assert q.text.startswith("How would you make a payment API safe")
    # its own names ("API"), then its short key points ("idempotency key from the client" is a sentence)
    assert terms[: 1 + len(short_points)] == ["API", *short_points]
    assert "idempotency" in terms and "kafka" in terms and "sql" in terms  # its tag, the job's keywords
    others = [t for other in plan.questions if other is not q for t in other.tags]
    assert terms.index("idempotency") < min(terms.index(t) for t in others if t in terms)
    assert len(terms) == len({t.lower() for t in terms})  # each term once


def test_names_in_the_question_count_but_a_capitalised_sentence_start_does_not() -> None:
    plan = build_plan(role="backend engineer", question_count=1, seed=3)
    q = plan.questions[0].model_copy(
        update={"text": "We moved to Kafka last year. How did the PgBouncer and S3 setup change? I wonder."}
    )
    terms = _terms(interview_vocabulary(plan, q))
    assert terms[:3] == ["Kafka", "PgBouncer", "S3"]
    assert "How" not in terms and "We" not in terms and "I" not in terms


def test_between_questions_the_role_skills_remain() -> None:
    plan = build_plan(role="backend engineer", question_count=2, seed=3)
    terms = _terms(interview_vocabulary(plan, None))
    assert set(plan.questions[0].tags) <= set(terms) and set(plan.questions[1].tags) <= set(terms)


def test_a_recogniser_without_a_context_is_left_alone() -> None:
    plan = build_plan(role="backend engineer", question_count=1, seed=3)

    class Conductor:
        def __init__(self) -> None:
            self.plan, self.current_question = plan, plan.questions[0]

    class Primable:
        context = ""

        def set_context(self, context: str) -> None:
            self.context = context

    primable = Primable()
    prime_stt(primable, Conductor())
    assert primable.context == interview_vocabulary(plan, plan.questions[0])
    prime_stt(object(), Conductor())  # a cloud STT without set_context: nothing to do, no error
