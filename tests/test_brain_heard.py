"""What the candidate heard decides what counts: a question cut off after its lead-in was not asked.

Scripts of the brain's accounting: the reply played in part (``played``, as livekit's transcript
synchronizer reports it), whether its action commits, and what the brain decides after the interjection.
"""

from __future__ import annotations

import pytest
from livekit.agents import llm

from agent.brain import BrainSettings, StaleActionError, build_brain, heard
from agent.plans import PlanSpec
from tests.test_brain_conductor import STRONG_IDEMPOTENCY, FakeClock, make_plan

pytestmark = pytest.mark.unit

MOTIVATION = "I want to grow as a backend engineer and I love payments infrastructure and your team. " * 2


@pytest.fixture
def plan() -> PlanSpec:
    return make_plan("be-idempotency", "gen-beh-conflict", "gen-hr-motivation")


class Call:
    """The conversation as the session keeps it, and the brain deciding on it."""

    def __init__(self, plan: PlanSpec) -> None:
        self.brain = build_brain(plan=plan, settings=BrainSettings(brain="offline"), clock=FakeClock())
        self.ctx = llm.ChatContext()
        self.unheard: set[str] = set()

    def agent_replies(self, *, played: str | None = None) -> tuple[object, bool]:
        """The brain decides and the reply plays (in full, or only ``played`` of it); returns the
        action and whether it counted."""
        _, action = self.brain.prepare_turn(self.ctx, unheard=self.unheard)
        text = action.text if played is None else played
        msg = self.ctx.add_message(role="assistant", content=text, interrupted=played is not None)
        if heard(action, spoken=action.text, played=text):
            self.brain.commit(action)
            return action, True
        self.unheard.add(msg.id)
        return action, False

    def candidate_says(self, text: str) -> None:
        self.ctx.add_message(role="user", content=text)

    @property
    def state(self) -> dict:
        return self.brain.conductor.snapshot()


def test_the_question_counts_only_when_its_own_words_were_heard(plan: PlanSpec) -> None:
    call = Call(plan)
    call.agent_replies()
    call.candidate_says(STRONG_IDEMPOTENCY)
    call.agent_replies()  # the harder follow-up
    call.candidate_says(STRONG_IDEMPOTENCY)
    _, ask = call.brain.prepare_turn(call.ctx)
    question = plan.questions[1].text
    assert ask.kind == "ask" and ask.essential == question
    lead_in = ask.text[: ask.text.index(question)].strip()
    half = " ".join(question.split()[: len(question.split()) // 2])
    assert lead_in  # "Thank you." and the round's introduction
    assert not heard(ask, spoken=ask.text, played="")
    assert not heard(ask, spoken=ask.text, played=lead_in.split()[0])  # "Got"
    assert not heard(ask, spoken=ask.text, played=lead_in)
    assert not heard(ask, spoken=ask.text, played=f"{lead_in} {half}")
    assert heard(ask, spoken=ask.text, played=ask.text)
    # the played text is paced from the audio position: a long question missing its last word was heard
    assert len(question.split()) >= 10
    assert heard(ask, spoken=ask.text, played=ask.text.rsplit(" ", 1)[0])


def test_a_reply_phrased_in_other_words_must_be_heard_to_its_end(plan: PlanSpec) -> None:
    call = Call(plan)
    _, greet = call.brain.prepare_turn(call.ctx)
    spoken = "Hello and welcome! To start, how would you stop a payment from being charged twice?"
    assert greet.essential not in spoken  # an LLM's own wording
    assert not heard(greet, spoken=spoken, played="Hello and welcome! To start, how would you stop")
    assert heard(greet, spoken=spoken, played=spoken)


def test_a_question_cut_off_in_its_lead_in_is_asked_again_after_the_interjection(plan: PlanSpec) -> None:
    call = Call(plan)
    call.agent_replies()
    call.candidate_says(STRONG_IDEMPOTENCY)
    call.agent_replies()  # the harder follow-up
    call.candidate_says(STRONG_IDEMPOTENCY)
    before = call.state
    cut, counted = call.agent_replies(played="Thank you.")
    assert cut.kind == "ask" and not counted
    assert call.state["seq"] == before["seq"] and call.state["index"] == 0  # nothing committed
    call.candidate_says("Sorry, could you repeat that?")
    # decided with everything said since the last reply the candidate heard: the answer and this
    again, counted = call.agent_replies()
    assert counted and again.kind == "ask" and again.question_id == plan.questions[1].id
    assert again.text == cut.text  # the same question, not the previous one repeated
    assert call.state["index"] == 1 and call.state["seq"] == before["seq"] + 1  # counted once
    with pytest.raises(StaleActionError):
        call.brain.commit(cut)  # the cut-off action can never count later


def test_nothing_heard_commits_nothing_and_the_greeting_comes_again(plan: PlanSpec) -> None:
    call = Call(plan)
    greet, counted = call.agent_replies(played="Hi, and thanks")  # the caller spoke over the first words
    assert greet.kind == "greet" and not counted and call.state["phase"] == "new"
    call.candidate_says("Hello? Can you hear me?")
    again, counted = call.agent_replies()
    assert counted and again.kind == "greet" and again.question_id == plan.questions[0].id
    assert call.state["phase"] == "asking" and call.state["seq"] == 1


def test_an_interrupted_closing_is_not_the_end_the_candidate_is_answered_then_it_closes() -> None:
    call = Call(make_plan("gen-hr-motivation"))
    call.agent_replies()
    call.candidate_says(MOTIVATION)
    closing, counted = call.agent_replies(played="Thank you. That was my last question.")
    assert closing.ends_interview and not counted
    assert not call.brain.conductor.finished  # the candidate is still owed a reply
    call.candidate_says("Sorry, when will I hear back from you?")
    again, counted = call.agent_replies()
    assert counted and again.kind == "close" and again.ends_interview
    assert "next steps" in again.text and call.brain.conductor.finished


def test_a_request_to_stop_said_over_a_reply_is_honoured_not_taken_for_more_answer(plan: PlanSpec) -> None:
    call = Call(plan)
    call.agent_replies()
    call.candidate_says(STRONG_IDEMPOTENCY)  # a long answer...
    _, counted = call.agent_replies(played="Thank you.")  # ...the next reply cut in its lead-in...
    assert not counted
    call.candidate_says("Can we stop the interview now please.")  # ...by a request to stop
    closing, counted = call.agent_replies()
    assert counted and closing.kind == "close" and call.brain.conductor.finished


def test_a_request_to_stop_after_an_answer_is_honoured_before_any_reply() -> None:
    call = Call(make_plan("gen-hr-motivation"))
    call.agent_replies()
    call.candidate_says(MOTIVATION)  # the answer, a turn of its own...
    call.candidate_says("Can we stop the interview now please.")  # ...then, before any reply, this
    closing, counted = call.agent_replies()
    assert counted and closing.kind == "close" and call.brain.conductor.finished


def test_a_closing_spoken_over_in_its_last_words_is_not_the_end_either() -> None:
    call = Call(make_plan("gen-hr-motivation"))
    call.agent_replies()
    call.candidate_says(MOTIVATION)
    _, closing = call.brain.prepare_turn(call.ctx)
    assert closing.ends_interview and len(closing.text.split()) >= 10
    assert not heard(closing, spoken=closing.text, played=closing.text.rsplit(" ", 1)[0])
    assert heard(closing, spoken=closing.text, played=closing.text)
