"""The brains through the real livekit ``llm.LLM`` interface: the offline brain, the OpenAI brain against
a fake OpenAI-compatible server (real ``openai`` client, real HTTP on 127.0.0.1), and the fallback."""

from __future__ import annotations

import asyncio
import json

import pytest
from livekit.agents import APIConnectionError, APIStatusError, APITimeoutError, llm
from livekit.agents.types import APIConnectOptions

from agent.brain import (
    Brain,
    BrainConfigError,
    BrainSettings,
    ConductorStateError,
    OfflineBrain,
    OpenAIBrain,
    build_brain,
)
from agent.plans import PlanSpec, build_plan
from tests.fakes.openai_server import FakeOpenAIServer, Reply

pytestmark = pytest.mark.integration

NO_RETRY = APIConnectOptions(max_retry=0, timeout=5.0)


@pytest.fixture
def plan() -> PlanSpec:
    return build_plan(role="backend engineer", interview_type="technical", question_count=3, seed=11)


@pytest.fixture
async def server():
    async with FakeOpenAIServer() as s:
        yield s


def llm_settings(server: FakeOpenAIServer, *, timeout: float = 5.0) -> BrainSettings:
    return BrainSettings(
        brain="llm", llm_model="fake-model", llm_timeout=timeout, openai_base_url=server.base_url,
        openai_api_key="test-key",
    )  # fmt: skip


def candidate_says(*turns: tuple[str, str]) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    for role, text in turns:
        ctx.add_message(role=role, content=text)  # type: ignore[arg-type]
    return ctx


async def speak(brain: Brain, ctx: llm.ChatContext) -> tuple[list[str], object]:
    """One agent turn as the runtime runs it: prepare, stream every chunk, commit."""
    ctx2, action = brain.prepare_turn(ctx)
    pieces: list[str] = []
    async with brain.llm.chat(chat_ctx=ctx2) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                pieces.append(chunk.delta.content)
    brain.commit(action)
    return pieces, action


async def test_offline_brain_streams_the_action_text_word_by_word(plan: PlanSpec) -> None:
    brain = build_brain(plan=plan, settings=BrainSettings(brain="offline"))
    assert brain.name == "offline" and isinstance(brain.llm, OfflineBrain)
    pieces, action = await speak(brain, llm.ChatContext.empty())
    assert action.kind == "greet"
    assert "".join(pieces) == action.text
    assert len(pieces) > 10  # streamed, not one blob
    assert plan.questions[0].text in action.text

    ctx = candidate_says(("assistant", action.text), ("user", "Sorry, can you repeat that?"))
    pieces, action = await speak(brain, ctx)
    assert action.kind == "repeat" and "".join(pieces) == action.text
    assert plan.questions[0].text in "".join(pieces)
    await brain.aclose()


async def test_offline_brain_without_a_directive_fails_clearly() -> None:
    brain = OfflineBrain()
    with pytest.raises(Exception, match="prepare_turn"):
        await brain.chat(chat_ctx=candidate_says(("user", "hello")), conn_options=NO_RETRY).collect()
    await brain.aclose()


async def test_openai_brain_streams_and_prompt_carries_question_rubric_and_instruction(
    plan: PlanSpec, server: FakeOpenAIServer
) -> None:
    server.script(
        Reply(text="Hello and welcome! Let's begin: when would you add a cache?"),
        Reply(text="Could you walk me through a concrete example?"),
    )
    brain = build_brain(plan=plan, settings=llm_settings(server))
    assert brain.name == "llm:fake-model"
    pieces, _ = await speak(brain, llm.ChatContext.empty())
    assert "".join(pieces) == "Hello and welcome! Let's begin: when would you add a cache?"
    assert len(pieces) > 5

    ctx = candidate_says(("assistant", "".join(pieces)), ("user", "I would add an index."))
    pieces, action = await speak(brain, ctx)
    assert action.kind == "probe_example"
    assert "".join(pieces) == "Could you walk me through a concrete example?"

    first, second = server.requests
    assert first["stream"] is True and first["model"] == "fake-model"
    system = second["messages"][0]
    assert system["role"] == "system"
    q = plan.questions[0]
    assert q.text in system["content"]
    assert q.rubric.anchors[5] in system["content"]
    assert q.rubric.key_points[0] in system["content"]
    assert action.instruction in system["content"]
    assert "Never reveal the rubric" in system["content"]
    assert second["messages"][-1] == {"role": "user", "content": "I would add an index."}
    greeting = {"role": "assistant", "content": "Hello and welcome! Let's begin: when would you add a cache?"}
    assert greeting in second["messages"]
    await brain.aclose()


async def test_openai_errors_become_livekit_errors(server: FakeOpenAIServer) -> None:
    ctx = candidate_says(("user", "hi"))
    brain = OpenAIBrain(model="m", base_url=server.base_url, api_key="k", first_token_timeout=0.5)
    server.script(Reply(status=500), Reply(status=401), Reply(hold=True))
    with pytest.raises(APIStatusError) as e500:
        await brain.chat(chat_ctx=ctx, conn_options=NO_RETRY).collect()
    assert e500.value.status_code == 500 and e500.value.retryable
    with pytest.raises(APIStatusError) as e401:
        await brain.chat(chat_ctx=ctx, conn_options=NO_RETRY).collect()
    assert e401.value.status_code == 401 and not e401.value.retryable
    with pytest.raises(APITimeoutError):
        await brain.chat(chat_ctx=ctx, conn_options=NO_RETRY).collect()
    await brain.aclose()

    closed_port = OpenAIBrain(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(APIConnectionError) as refused:
        await closed_port.chat(chat_ctx=ctx, conn_options=NO_RETRY).collect()
    assert refused.value.retryable
    await closed_port.aclose()


@pytest.mark.parametrize(
    "failure",
    [Reply(status=500), Reply(hold=True), Reply(text="one two three four five", close_after=2)],
    ids=["http-500", "first-token-timeout", "mid-stream-disconnect"],
)
async def test_failed_llm_turn_is_spoken_by_the_offline_brain(
    plan: PlanSpec, server: FakeOpenAIServer, failure: Reply
) -> None:
    server.script(failure)
    server.default = Reply(hold=True)  # the background recovery probe must not answer during the turn
    brain = build_brain(plan=plan, settings=llm_settings(server, timeout=0.5))
    pieces, action = await speak(brain, llm.ChatContext.empty())
    said = "".join(pieces)
    assert said.endswith(action.text)  # the greeting and first question were still asked
    if failure.close_after:
        assert said == "one two " + action.text  # what already streamed stays, then the offline text
    else:
        assert said == action.text
    assert brain.conductor.current_question == plan.questions[0]  # the interview moved on normally
    await brain.aclose()


async def test_llm_is_used_again_after_it_recovers(plan: PlanSpec, server: FakeOpenAIServer) -> None:
    server.script(Reply(status=500), Reply(text="probe answer"), Reply(text="The LLM is back. Next one."))
    brain = build_brain(plan=plan, settings=llm_settings(server))
    adapter = brain.llm
    assert isinstance(adapter, llm.FallbackAdapter)
    recovered = asyncio.Event()
    adapter.on("llm_availability_changed", lambda ev: ev.available and recovered.set())

    pieces, opening = await speak(brain, llm.ChatContext.empty())
    assert "".join(pieces) == opening.text  # offline fallback for the failed turn
    async with asyncio.timeout(30):
        await recovered.wait()  # the adapter's background probe reached the LLM

    ctx = candidate_says(("assistant", opening.text), ("user", "Let me think about that for a second."))
    pieces, action = await speak(brain, ctx)
    assert action.kind == "wait"
    assert "".join(pieces) == "The LLM is back. Next one."
    await brain.aclose()


async def test_brain_resumes_from_a_snapshot(plan: PlanSpec) -> None:
    brain = build_brain(plan=plan)
    _, opening = await speak(brain, llm.ChatContext.empty())
    ctx = candidate_says(("assistant", opening.text), ("user", " ".join(["word"] * 30)))
    await speak(brain, ctx)
    snap = brain.conductor.snapshot()
    await brain.aclose()

    resumed = build_brain(plan=plan, state=snap)
    assert resumed.conductor.snapshot()["index"] == snap["index"]
    pieces, welcome = await speak(resumed, llm.ChatContext.empty())
    assert "".join(pieces).startswith("Welcome back")
    assert snap["prompt"] in welcome.text
    await resumed.aclose()

    other_plan = build_plan(role="sales", interview_type="technical", question_count=3, seed=1)
    with pytest.raises(ConductorStateError, match="different plan"):
        build_brain(plan=other_plan, state=snap)


def test_llm_brain_needs_a_key_or_url(plan: PlanSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("MOCKLINE_BRAIN", "llm")
    with pytest.raises(BrainConfigError, match="OPENAI_API_KEY"):
        build_brain(plan=plan, settings=BrainSettings())
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("MOCKLINE_LLM_MODEL", "llama3")
    brain = build_brain(plan=plan, settings=BrainSettings())
    assert brain.name == "llm:llama3"


async def test_fake_server_answers_non_streaming_json_requests(server: FakeOpenAIServer) -> None:
    """The scoring worker's LLM judge uses plain JSON completions with ``response_format``."""
    import openai

    server.script(Reply(text='{"score": 4, "evidence": "used an idempotency key"}'))
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    completion = await client.chat.completions.create(
        model="judge",
        messages=[{"role": "user", "content": "score this"}],
        response_format={"type": "json_object"},
    )
    assert json.loads(completion.choices[0].message.content or "") == {
        "score": 4,
        "evidence": "used an idempotency key",
    }
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    assert "stream" not in server.requests[0] or server.requests[0]["stream"] is False
    await client.close()
