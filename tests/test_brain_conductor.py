"""The conductor as conversation scripts: (candidate says, expected action kind, expected words)."""

from __future__ import annotations

import json

import pytest

from agent.brain import Action, Conductor, Intent, StaleActionError, classify
from agent.plans import PlanSpec, load_question_bank

pytestmark = pytest.mark.unit

STRONG_IDEMPOTENCY = (
    "The client sends an idempotency key with each payment request. The server stores the key with the "
    "result atomically in the same transaction, and on a retry it returns the original response instead "
    "of charging again. Keys expire after a day, and a unique constraint handles concurrent duplicates."
)
STORY_WITH_OUTCOME = (
    "At my last job I disagreed with a teammate about splitting our monolith. I listened to her concerns, "
    "we looked at the deploy data together and agreed on a compromise, and in the end we cut deploy time "
    "by forty percent."
)
STORY_WITHOUT_OUTCOME = (
    "At my last job I disagreed with a teammate about splitting our monolith. I set up a meeting, I "
    "listened to her concerns and we went through the deploy data together over a couple of sessions."
)
FILLER = "I think it depends on the situation and the people involved and what everyone wants to do next."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_plan(*ids: str, mode: str = "recruiter", minutes: int = 20) -> PlanSpec:
    bank = load_question_bank([])
    by_id = {q.id: q for e in bank.roles.values() for q in e.questions} | {q.id: q for q in bank.generic}
    questions = [by_id[i] for i in ids]
    comps = sorted({q.competency for q in questions})
    weights = {c: 1 / len(comps) for c in comps}
    return PlanSpec(
        role="Backend engineer", role_key="backend_engineer", rounds=["greeting", "technical", "behavioural",
        "hr", "closing"], question_count=len(questions), time_limit_minutes=minutes, mode=mode,
        questions=questions, weights=weights,
    )  # fmt: skip


@pytest.fixture
def plan() -> PlanSpec:
    return make_plan("be-idempotency", "gen-beh-conflict", "gen-hr-motivation")


def started(plan: PlanSpec, clock: FakeClock | None = None) -> Conductor:
    c = Conductor(plan, clock=clock or FakeClock())
    greeting = c.opening()
    assert greeting.kind == "greet" and greeting.question_id == plan.questions[0].id
    c.commit(greeting)
    return c


def run(c: Conductor, script: list[tuple[str, str, str | None]]) -> list[Action]:
    done = []
    for said, kind, contains in script:
        action = c.decide(said)
        assert action.kind == kind, f"{said[:40]!r}: expected {kind}, got {action.kind}: {action.text}"
        if contains is not None:
            assert contains in action.text, f"{said[:40]!r}: {contains!r} not in {action.text!r}"
        c.commit(action)
        done.append(action)
    return done


def test_greets_asks_in_order_and_closes_with_next_steps(plan: PlanSpec) -> None:
    c = Conductor(plan, clock=FakeClock())
    greeting = c.opening()
    assert "Backend engineer" in greeting.text and "20 minutes" in greeting.text
    assert greeting.text.endswith(plan.questions[0].text)
    c.commit(greeting)
    actions = run(
        c,
        [
            (STRONG_IDEMPOTENCY, "follow_up", plan.questions[0].harder_follow_up),
            (STRONG_IDEMPOTENCY, "ask", plan.questions[1].text),
            (STORY_WITH_OUTCOME, "follow_up", None),
            (STORY_WITH_OUTCOME, "ask", plan.questions[2].text),
            ("I want to grow as a backend engineer and I love payments infrastructure and your team. " * 2,
             "close", "be in touch"),
        ],
    )  # fmt: skip
    assert [a.question_id for a in actions[:4]] == [plan.questions[i].id for i in (0, 1, 1, 2)]
    assert actions[-1].ends_interview and c.finished
    assert "#" not in "".join(a.text for a in actions) and "*" not in "".join(a.text for a in actions)
    assert c.decide("hello?").kind == "close"  # after the end, only a goodbye


def test_practice_mode_closing_promises_the_coaching_report() -> None:
    c = started(make_plan("gen-hr-motivation", mode="practice"))
    close = run(c, [("I'm excited about the product and the team, and I want to grow into a lead role " * 2,
                     "close", "coaching report will be ready shortly")])[0]  # fmt: skip
    assert close.ends_interview


def test_short_answers_get_an_example_probe_then_at_most_two_probes(plan: PlanSpec) -> None:
    c = started(plan)
    run(
        c,
        [
            ("Use a key.", "probe_example", "more"),
            ("I guess the client just tries again.", "follow_up", plan.questions[0].easier_follow_up),  # weak
            ("The server checks if it saw the request.", "ask", plan.questions[1].text),  # budget spent
        ],
    )


def test_story_without_a_result_is_probed_for_the_outcome(plan: PlanSpec) -> None:
    c = started(make_plan("gen-beh-conflict", "gen-hr-motivation"))
    run(c, [(STORY_WITHOUT_OUTCOME, "probe_outcome", None)])
    c2 = started(make_plan("gen-beh-conflict", "gen-hr-motivation"))
    assert c2.decide(STORY_WITH_OUTCOME).kind != "probe_outcome"


def test_repeat_requests_repeat_the_current_prompt(plan: PlanSpec) -> None:
    c = started(plan)
    run(
        c,
        [
            ("Sorry, can you repeat that?", "repeat", plan.questions[0].text),
            ("Sorry, what?", "repeat", plan.questions[0].text),
            ("Use a key.", "probe_example", None),
        ],
    )
    probe = c.snapshot()["prompt"]
    run(c, [("Could you say that again?", "repeat", probe)])


def test_i_dont_know_gets_one_hint_then_moves_on_kindly(plan: PlanSpec) -> None:
    c = started(plan)
    run(
        c,
        [
            ("I don't know.", "encourage", plan.questions[0].hints[0]),
            ("No idea, honestly.", "encourage", plan.questions[1].text),
        ],
    )
    assert c.current_question == plan.questions[1]


def test_off_topic_is_redirected_then_moved_on(plan: PlanSpec) -> None:
    c = started(plan)
    run(
        c,
        [
            ("What's the weather like where you are?", "redirect", plan.questions[0].text),
            ("Are you a robot?", "redirect", plan.questions[0].text),
            ("Did you watch the football last night?", "ask", plan.questions[1].text),
        ],
    )


def test_rambling_is_thanked_and_moved_on(plan: PlanSpec) -> None:
    c = started(plan)
    run(c, [(FILLER * 12, "wrap_up", plan.questions[1].text)])


def test_thinking_pause_waits_without_moving_on(plan: PlanSpec) -> None:
    c = started(plan)
    before = c.snapshot()
    run(c, [("Hmm, give me a second.", "wait", "take"), ("Let me think.", "wait", None)])
    assert c.current_question == plan.questions[0]
    assert c.snapshot()["probes"] == before["probes"]
    run(c, [(STRONG_IDEMPOTENCY, "follow_up", None)])  # the answer after the pause is handled normally


def test_time_limit_skips_to_the_closing_and_stops_probing_near_it() -> None:
    clock = FakeClock()
    plan = make_plan("be-idempotency", "gen-beh-conflict", "gen-hr-motivation", minutes=10)
    c = started(plan, clock)
    clock.now += 9 * 60  # 90 % of the time used: no more probes
    run(c, [("Use a key.", "ask", plan.questions[1].text)])
    clock.now += 61  # past the limit
    close = run(c, [(STORY_WITHOUT_OUTCOME, "close", "at time")])[0]
    assert close.ends_interview and c.finished


def test_silence_after_a_question_checks_in_once(plan: PlanSpec) -> None:
    c = started(plan)
    assert c.on_silence(3.0) is None
    check = c.on_silence(15.0)
    assert check is not None and check.kind == "check_in"
    c.commit(check)
    assert c.on_silence(30.0) is None  # only once per question
    run(c, [(STRONG_IDEMPOTENCY, "follow_up", None), (STRONG_IDEMPOTENCY, "ask", None)])
    again = c.on_silence(15.0)
    assert again is not None and again.kind == "check_in"


def test_decide_is_pure_and_stale_commits_are_refused(plan: PlanSpec) -> None:
    c = started(plan)
    before = c.snapshot()
    first = c.decide("Use a key.")
    for _ in range(3):  # preemptive generation may decide several times for one turn
        assert c.decide("Use a key.").text == first.text
    assert c.snapshot() == before
    c.commit(first)
    c.commit(first)  # the same action twice: no-op
    assert c.snapshot()["seq"] == before["seq"] + 1
    stale = Conductor(plan, state=before, clock=FakeClock()).decide("x")
    with pytest.raises(Exception, match="not decided"):
        c.commit(Action(kind="ask", text="x", instruction="x", question_id=None))
    late = c.decide("Still thinking about it.")
    c.commit(c.decide("Store it in the database."))
    with pytest.raises(StaleActionError):
        c.commit(late)
    assert stale.kind  # decided from another conductor's state, never committed here


def test_snapshot_resumes_mid_question(plan: PlanSpec) -> None:
    c = started(plan)
    run(c, [("I don't know.", "encourage", plan.questions[0].hints[0])])
    snap = json.loads(json.dumps(c.snapshot()))  # stored as JSON in Interview.state
    resumed = Conductor(plan, state=snap, clock=FakeClock())
    welcome = resumed.opening()
    assert welcome.text.startswith("Welcome back") and plan.questions[0].text in welcome.text
    resumed.commit(welcome)
    run(resumed, [("No idea.", "encourage", plan.questions[1].text)])  # the hint was already given


def test_acknowledgements_vary() -> None:
    plan = make_plan("gen-hr-motivation", "gen-hr-environment", "gen-hr-availability", "gen-beh-learning")
    c = started(plan)
    answer = "I enjoy teams that write things down, give direct feedback and help each other ship. " * 2
    leads = []
    for _ in range(3):
        action = c.decide(answer)
        c.commit(action)
        leads.append(action.text.split(".")[0])
    assert len(set(leads)) >= 2


def test_candidate_can_ask_to_stop(plan: PlanSpec) -> None:
    c = started(plan)
    close = run(c, [("I'm sorry, I need to stop the interview now.", "close", "we can stop here")])[0]
    assert close.ends_interview


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("Can you repeat the question?", Intent.REPEAT),
        ("Sorry, I didn't catch that.", Intent.REPEAT),
        ("What do you mean by retry?", Intent.CLARIFY),
        ("Hmm.", Intent.THINKING),
        ("Give me a moment.", Intent.THINKING),
        ("I have no idea.", Intent.DONT_KNOW),
        ("I'm not sure, but I'd store an idempotency key with the result and return it on retries.",
         Intent.ANSWER),
        ("What's your favourite movie?", Intent.OFF_TOPIC),
        ("The weather service retries are a good example of idempotency keys.", Intent.ANSWER),
        ("", Intent.EMPTY),
    ],
)  # fmt: skip
def test_classification(plan: PlanSpec, said: str, intent: Intent) -> None:
    assert classify(said, question=plan.questions[0]) is intent
