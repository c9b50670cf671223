"""A cut-off does not end the candidate's answer. When the agent's reply to their last words starts and
the candidate resumes over it before its question was heard, what they say next continues that answer:
it waits like an answer (not a short reply's quick response), and the rhythm rule still remembers the
pauses of the answer, counting the silence the agent spoke into. Before, one knife-edge cut cascaded:
the continuation ("and the queue stopped growing.") was a "short complete reply", and its next pause was
cut too."""

from __future__ import annotations

import pytest
from livekit.agents import llm

from agent import _smart_turn
from agent._smart_turn import _SessionTurns
from agent._turns import judge, turn_context

pytestmark = pytest.mark.unit

QUESTION = "Tell me about a time you had to fix a production incident under pressure."
FIRST_PART = (
    "We had a queue in front of the billing database and one night the workers fell behind. "
    "I paged the on-call engineer and we started to look at the metrics."
)
RESUMED = "Then the queue stopped growing."


def conversation(*turns: tuple[str, str] | tuple[str, str, bool]) -> llm.ChatContext:
    ctx = llm.ChatContext()
    for role, text, *cut in turns:
        ctx.add_message(role=role, content=text, interrupted=bool(cut and cut[0]))  # type: ignore[arg-type]
    return ctx


def test_words_after_cutting_the_agents_lead_in_continue_the_answer_and_wait_like_one():
    ctx = conversation(
        ("assistant", QUESTION),
        ("user", FIRST_PART),
        ("assistant", "Thank you.", True),  # the candidate resumed 0.19 s into the reply
        ("user", RESUMED),
    )
    turn = turn_context(ctx)
    assert turn.continues and turn.question == QUESTION
    assert turn.answer.startswith(FIRST_PART) and turn.answer.endswith(RESUMED)
    assert judge(turn).wait == "answer"


def test_the_same_words_as_a_turn_of_their_own_would_get_the_quick_response():
    # what the cut continuation was judged as before: a short complete reply
    ctx = conversation(("assistant", QUESTION), ("user", RESUMED))
    turn = turn_context(ctx)
    assert not turn.continues
    assert judge(turn).wait == "quick"


def test_a_reply_cut_before_anything_played_leaves_two_candidate_messages_that_are_one_answer():
    ctx = conversation(("assistant", QUESTION), ("user", FIRST_PART), ("user", RESUMED))
    turn = turn_context(ctx)
    assert turn.continues and turn.question == QUESTION
    assert judge(turn).wait == "answer"


def test_a_reply_whose_question_was_heard_starts_a_new_turn():
    asked = "Thanks. How did you make sure it would not happen again?"
    ctx = conversation(
        ("assistant", QUESTION),
        ("user", FIRST_PART),
        ("assistant", asked, True),  # cut after the question: the candidate is answering it
        ("user", "Alerts."),
    )
    turn = turn_context(ctx)
    assert not turn.continues and turn.question == asked and turn.answer == "Alerts."


def test_asking_for_a_repeat_after_a_cut_still_gets_the_quick_response():
    ctx = conversation(
        ("assistant", QUESTION),
        ("user", FIRST_PART),
        ("assistant", "Got", True),
        ("user", "Sorry, could you repeat that?"),
    )
    assert judge(turn_context(ctx)).wait == "quick"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tap:
    """The session's input tap, reduced to what the detector asks: pauses the candidate came back from."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._resumed: list[tuple[float, float]] = []

    def resumed_after(self, pause_s: float) -> None:
        self._clock.now += pause_s
        self._resumed.append((self._clock.now, pause_s))

    def pauses_since(self, since: float) -> tuple[float, ...]:
        return tuple(length for at, length in self._resumed if at > since)

    def silence_s(self) -> float:
        return 0.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(_smart_turn.time, "monotonic", c)
    return c


def test_the_rhythm_remembers_the_answers_pauses_and_the_silence_the_agent_cut_into(clock: Clock):
    tap = Tap(clock)
    turns = _SessionTurns(None, tap)  # type: ignore[arg-type]
    ctx = conversation(("assistant", QUESTION), ("user", FIRST_PART))
    assert turns.resumed_pauses(ctx) == ()  # the first end of speech: the answer starts here
    tap.resumed_after(2.0)  # a thinking pause inside the answer
    assert turns.resumed_pauses(ctx) == (2.0,)
    tap.resumed_after(2.5)  # the agent began its reply at 2.5 s; the candidate went on at 2.69 s
    clock.now += 1.0
    ctx.add_message(role="assistant", content="Thank you.", interrupted=True)
    ctx.add_message(role="user", content=RESUMED)
    assert turns.resumed_pauses(ctx) == (2.0, 2.5)


def test_after_a_question_the_candidate_heard_the_rhythm_starts_again(clock: Clock):
    tap = Tap(clock)
    turns = _SessionTurns(None, tap)  # type: ignore[arg-type]
    ctx = conversation(("assistant", QUESTION), ("user", FIRST_PART))
    turns.resumed_pauses(ctx)
    tap.resumed_after(2.0)
    clock.now += 1.0
    ctx.add_message(role="assistant", content="Thanks. What did you change afterwards?")
    ctx.add_message(role="user", content="We added alerts on the queue length.")
    assert turns.resumed_pauses(ctx) == ()
