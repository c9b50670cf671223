"""A played reply commits the action that produced it: matched by the reply's id, not by its words.

A real ``AgentSession`` in text mode (no audio) with the real offline brain: the interviewer's ``llm_node``
gives each generation an id, livekit carries it onto the reply's ``ChatMessage`` when the reply is added
to the conversation (``ChoiceDelta.extra`` -> ``ChatMessage.extra``). This is also the contract test for
that livekit behaviour: on an upgrade that drops it, no reply would ever commit and this fails first.
"""

from __future__ import annotations

import asyncio

import pytest
from livekit.agents import AgentSession, ConversationItemAddedEvent, llm

from agent import InterviewerAgent
from agent.brain import Action, build_brain, get_brain_settings
from agent.plans import build_plan

pytestmark = pytest.mark.unit

ANSWER = (
    "Last spring our payment service started timing out. I read the traces, found a lock held during "
    "a slow network call, moved the call outside the lock, and the timeouts stopped the same day."
)


class Conversation:
    """The interviewer in a text-mode session; every reply added to the conversation is reported to it as
    played. ``copies_first``: a copy of each reply's words (a message no generation produced, as a
    transcript restored from an earlier connection would be) is reported first."""

    def __init__(self, *, copies_first: bool = False) -> None:
        plan = build_plan(role="backend engineer", question_count=2, seed=3, time_limit_minutes=20)
        offline = get_brain_settings().model_copy(update={"brain": "offline"})
        self.brain = build_brain(plan=plan, settings=offline)
        self.agent = InterviewerAgent(brain=self.brain, ignore_backchannels=False)
        self.agent.io_ready = asyncio.Event()  # no greeting on its own: the script opens the conversation
        self.session: AgentSession = AgentSession(llm=self.brain.llm)
        self.session.on("conversation_item_added", self._on_item)
        self.copies_first = copies_first
        self.committed: list[str | None] = []  # per reply: the kind of action it committed
        self.copies_committed: list[str | None] = []

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if not isinstance(item, llm.ChatMessage) or item.role != "assistant":
            return
        if self.copies_first:
            copy = llm.ChatMessage(role="assistant", content=[item.text_content or ""])
            self.copies_committed.append(_kind(self.agent.on_reply_played(copy)))
        self.committed.append(_kind(self.agent.on_reply_played(item)))

    def questions_asked(self) -> int:
        return int(self.brain.conductor.snapshot()["seq"])

    async def __aenter__(self) -> Conversation:
        await self.session.start(self.agent)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.agent.io_ready is not None
        self.agent.io_ready.set()  # the session waits for on_enter before it closes
        await self.session.aclose()
        await self.brain.aclose()


def _kind(action: Action | None) -> str | None:
    return action.kind if action is not None else None


async def test_each_played_reply_commits_the_action_that_produced_it() -> None:
    async with Conversation() as talk:
        await talk.session.run(user_input="Hello, I'm ready.")
        await talk.session.run(user_input=ANSWER)

        assert talk.committed[0] == "greet"
        assert len(talk.committed) == 2 and talk.committed[1] is not None  # the answer moved it on
        assert talk.questions_asked() == 2


async def test_the_same_words_not_played_by_this_interviewer_commit_nothing() -> None:
    async with Conversation(copies_first=True) as talk:
        await talk.session.run(user_input="Hello, I'm ready.")

        assert talk.copies_committed == [None]  # same words, but not the reply this generation played
        assert talk.committed == ["greet"]  # the reply itself still counts, once
        assert talk.questions_asked() == 1
