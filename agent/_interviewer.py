"""``InterviewerAgent``: the livekit ``Agent`` that runs a brain through the voice pipeline.

The brain decides what to say; the agent decides when. Per candidate turn, ``llm_node`` asks the brain to
``prepare_turn`` (which may rewrite the chat context for the LLM and returns an action), then streams the
reply through the brain's ``llm`` (the default llm_node). A ``wait`` action says nothing: the candidate is
mid-thought and keeps the floor. The action is committed to the brain only when the reply was actually
played (``on_reply_played``), so a preemptive generation that gets discarded changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from livekit.agents import Agent, ModelSettings, llm

__all__ = ["Brain", "InterviewerAgent", "action_text"]

logger = logging.getLogger("mockline.agent")

INSTRUCTIONS = (
    "You are a friendly, professional job interviewer speaking on a voice call. Ask one question at a "
    "time, keep every reply to two or three short spoken sentences, never use lists or markdown."
)


class Brain(Protocol):
    """What the runtime needs from ``agent.brain.build_brain(...)``."""

    llm: llm.LLM
    conductor: Any  # .opening(), .on_silence(seconds), .finished, .snapshot()

    def prepare_turn(self, chat_ctx: llm.ChatContext) -> tuple[llm.ChatContext, Any]: ...
    def commit(self, action: Any) -> None: ...


def action_text(action: Any) -> str | None:
    """The fixed text of an action or utterance (str, or an object with ``.text``/``.say``), if any."""
    if action is None:
        return None
    if isinstance(action, str):
        return action
    for attr in ("text", "say", "utterance"):
        value = getattr(action, attr, None)
        if isinstance(value, str) and value.strip():
            return value
    return None


@dataclass
class _Prepared:
    action: Any
    text: str = ""


class InterviewerAgent(Agent):
    def __init__(
        self,
        *,
        brain: Brain,
        chat_ctx: llm.ChatContext | None = None,
        resumed: bool = False,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(instructions=INSTRUCTIONS, chat_ctx=chat_ctx)
        self._brain = brain
        self._resumed = resumed
        self._on_finished = on_finished
        self._prepared: list[_Prepared] = []
        self._finished_signalled = False

    @property
    def brain(self) -> Brain:
        return self._brain

    # -- speaking ----------------------------------------------------------------------------------

    async def on_enter(self) -> None:
        if self._resumed:
            # the brain's restored state knows where we stopped; let it produce the next line
            self.session.generate_reply()
            return
        self.say_action(self._brain.conductor.opening())

    def say_action(self, action: Any) -> bool:
        """Speak a fixed utterance from the conductor (opening, check-in). Returns False if nothing to say."""
        text = action_text(action)
        if not text:
            return False
        self._prepared.append(_Prepared(action=action, text=text))
        self.session.say(text)
        return True

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterable[llm.ChatChunk | str]:
        chat_ctx2, action = self._brain.prepare_turn(chat_ctx)
        if getattr(action, "kind", None) == "wait":
            return  # keep listening: the candidate has not finished
        entry = _Prepared(action=action)
        self._prepared.append(entry)
        del self._prepared[:-8]  # discarded preemptive attempts never play; keep the list short
        async for chunk in Agent.default.llm_node(self, chat_ctx2, tools, model_settings):
            if isinstance(chunk, str):
                entry.text += chunk
            elif isinstance(chunk, llm.ChatChunk) and chunk.delta and chunk.delta.content:
                entry.text += chunk.delta.content
            yield chunk

    # -- committing --------------------------------------------------------------------------------

    def on_reply_played(self, message: llm.ChatMessage) -> Any:
        """Called for every assistant message added to the conversation (it was heard, maybe only in
        part). Commits the action that produced it and returns it (None if unknown)."""
        heard = _norm(message.text_content or "")
        match: _Prepared | None = None
        for entry in reversed(self._prepared):
            full = _norm(entry.text)
            if full and (full.startswith(heard) or heard.startswith(full)):
                match = entry
                break
        if match is None:
            return None
        self._prepared.remove(match)
        try:
            self._brain.commit(match.action)
        except Exception:
            logger.exception("brain commit failed")
        if getattr(self._brain.conductor, "finished", False) and not self._finished_signalled:
            self._finished_signalled = True
            if self._on_finished is not None:
                self._on_finished()
        return match.action

    def check_in(self, silence_s: float) -> bool:
        """The candidate has been silent for ``silence_s``: let the conductor decide whether to check in."""
        on_silence = getattr(self._brain.conductor, "on_silence", None)
        if on_silence is None:
            return False
        return self.say_action(on_silence(silence_s))


def _norm(text: str) -> str:
    return " ".join(text.split()).strip().lower()
