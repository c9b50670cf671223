"""``Brain``: the conductor plus the ``llm.LLM`` that phrases its actions, as the runtime uses them.

```python
brain = build_brain(plan=plan, settings=get_brain_settings(), state=interview.state or None)

# inside Agent.llm_node(self, chat_ctx, tools, model_settings):
chat_ctx2, action = brain.prepare_turn(chat_ctx)      # pure: safe under preemptive generation
async for chunk in Agent.default.llm_node(self, chat_ctx2, tools, model_settings): yield chunk
# (the session must use brain.llm as its LLM)

if heard(action, spoken=reply_text, played=message.text_content):   # its question, not just "Thanks."
    brain.commit(action)        # then persist brain.conductor.snapshot()
else:                           # not heard: decided again, with the candidate's words so far
    unheard.add(message.id)     # ...and brain.prepare_turn(chat_ctx, unheard=unheard) next time
if action.ends_interview: ...   # hang up after the closing plays

if (check := brain.conductor.on_silence(seconds)) is not None:   # runtime-originated actions
    chat_ctx2, action = brain.prepare_turn(chat_ctx, action=check)
await brain.aclose()
```

With ``MOCKLINE_BRAIN=llm`` ``brain.llm`` is ``FallbackAdapter([OpenAIBrain, OfflineBrain])``: a failed
or slow LLM turn is spoken by the offline brain (the same action, so the interview stays on track);
the adapter probes the LLM in the background and uses it again once it answers. After a mid-stream
failure the words already streamed stay, followed by the offline rendering.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Container
from typing import Any

from livekit.agents import llm

from agent.plans import PlanSpec

from ._action import Action
from ._audience import Audience
from ._conductor import Conductor
from ._detect import Intent, classify
from ._errors import BrainConfigError
from ._offline import OfflineBrain
from ._openai import OpenAIBrain
from ._prompt import attach_directive, render_system_prompt
from ._settings import BrainSettings, get_brain_settings

__all__ = ["Brain", "build_brain"]

log = logging.getLogger("mockline.brain")


class _OwnedFallbackAdapter(llm.FallbackAdapter):
    """FallbackAdapter that closes the LLMs it was given and its background recovery probes on ``aclose``
    (livekit-agents 1.8.9 leaves both running).

    The probes are only reachable through the adapter's private ``_status`` list: livekit-agents is pinned
    to that exact version in pyproject.toml and ``tests/test_library_contracts.py`` fails on an upgrade
    that changes it."""

    def __init__(self, instances: list[llm.LLM], **options: Any) -> None:
        super().__init__(instances, **options)
        self._owned = list(instances)

    def recovery_tasks(self) -> list[asyncio.Task[None]]:
        """The background probes still running (private to livekit-agents; see the class docstring)."""
        return [t for s in self._status if (t := s.recovering_task) is not None and not t.done()]

    async def aclose(self) -> None:
        tasks = self.recovery_tasks()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await super().aclose()
        for instance in self._owned:
            await instance.aclose()


class Brain:
    def __init__(self, *, plan: PlanSpec, conductor: Conductor, llm: llm.LLM, name: str) -> None:
        self.plan = plan
        self.conductor = conductor
        self.llm = llm
        self.name = name

    def prepare_turn(
        self, chat_ctx: llm.ChatContext, *, action: Action | None = None, unheard: Container[str] = ()
    ) -> tuple[llm.ChatContext, Action]:
        """Decide the reply to the candidate's words since our last reply and return a copy of
        ``chat_ctx`` carrying it, with the action to commit. A conversation without any reply of ours
        and nothing said yet gets the opening (the greeting, or "welcome back" after a resume).
        ``unheard``: ids of our replies the candidate cut off before their essential words (never
        committed): they do not count as replies, so the candidate's words before and after them are
        decided on together, from the state before them (a request to stop, though, is honoured on its
        own: "can we stop?" said over a reply is not more of the answer before it)."""
        if action is None:
            pending = _pending_user_text(chat_ctx, unheard)
            spoke = any(m.role == "assistant" and m.id not in unheard for m in chat_ctx.messages())
            if self.conductor.snapshot()["phase"] == "new" or (not spoke and not pending.strip()):
                action = self.conductor.opening()
            else:
                action = self.conductor.decide(_said_over(chat_ctx, pending, unheard))
        prompt = render_system_prompt(self.plan, action)
        return attach_directive(chat_ctx, action=action, system_prompt=prompt), action

    def commit(self, action: Action) -> None:
        self.conductor.commit(action)
        log.debug("brain committed an action", extra={"kind": action.kind, "question_id": action.question_id})

    async def aclose(self) -> None:
        await self.llm.aclose()


def _pending_user_text(chat_ctx: llm.ChatContext, unheard: Container[str] = ()) -> str:
    """Everything the candidate said after our last reply that they heard."""
    parts: list[str] = []
    for item in reversed(chat_ctx.items):
        if not isinstance(item, llm.ChatMessage):
            continue
        if item.role == "assistant" and item.id not in unheard:
            break
        if item.role == "user" and item.text_content:
            parts.append(item.text_content)
    return " ".join(reversed(parts))


def _said_over(chat_ctx: llm.ChatContext, pending: str, unheard: Container[str]) -> str:
    """What to decide on: ``pending`` (the words since the last reply the candidate heard), unless their
    last turn, or what they said since our last reply of any kind (heard or not), asks to stop."""
    last_turn = next((m.text_content or "" for m in reversed(chat_ctx.messages()) if m.role == "user"), "")
    for latest in (_pending_user_text(chat_ctx), last_turn):
        if latest and latest != pending and classify(latest, question=None) is Intent.STOP:
            return latest
    return pending


def build_brain(
    *,
    plan: PlanSpec,
    settings: BrainSettings | None = None,
    state: dict[str, Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
    audience: Audience | None = None,
) -> Brain:
    """The brain for one interview. Raises ``BrainConfigError`` when ``MOCKLINE_BRAIN=llm`` has no
    ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL``, and ``ConductorStateError`` for a bad ``state``.
    ``audience``: the names the greeting says (candidate, company)."""
    settings = settings or get_brain_settings()
    conductor = Conductor(plan, state=state, clock=clock, audience=audience)
    if settings.brain == "offline":
        return Brain(plan=plan, conductor=conductor, llm=OfflineBrain(), name="offline")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key and not settings.openai_base_url:
        raise BrainConfigError(
            "MOCKLINE_BRAIN=llm needs OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (for a local "
            "OpenAI-compatible server such as vLLM or Ollama); or set MOCKLINE_BRAIN=offline"
        )
    primary = OpenAIBrain(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=key or None,
        first_token_timeout=settings.llm_timeout,
        temperature=settings.llm_temperature,
    )
    adapter = _OwnedFallbackAdapter(
        [primary, OfflineBrain()],
        attempt_timeout=settings.llm_timeout,
        max_retry_per_llm=0,
        retry_on_chunk_sent=True,  # a stream that broke mid-reply is finished by the offline brain
    )
    return Brain(plan=plan, conductor=conductor, llm=adapter, name=f"llm:{settings.llm_model}")
