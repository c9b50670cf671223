"""``InterviewerAgent``: the livekit ``Agent`` that runs a brain through the voice pipeline.

The brain decides what to say; the agent decides when. Per candidate turn, ``llm_node`` asks the brain to
``prepare_turn`` (which may rewrite the chat context for the LLM and returns an action), then streams the
reply through the brain's ``llm`` (the default llm_node). A ``wait`` action says nothing: the candidate is
mid-thought and keeps the floor. The action is committed to the brain only when the candidate heard its
essential words (``on_reply_played``, ``agent.brain.heard``): a preemptive generation that gets discarded
changes nothing, and a reply cut off after its lead-in ("Thank you.") is not a question asked: the
candidate's interjection is decided on together with what they said before it, from the same state, so
the question comes again once the interjection is handled. The closing is no exception: spoken over, it
is not the end; the candidate is answered, then the interview closes.
``stt_node`` withholds backchannels spoken over the agent ("mm-hmm", a cough), so they never become a turn
and the paused reply resumes (``agent/_backchannel.py``). The session's speech recogniser is primed with
the interview's vocabulary (``agent/_vocabulary.py``) when the agent starts and after every committed
action, so the question the candidate is answering is the one whose words whisper expects.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Container
from dataclasses import dataclass
from typing import Protocol

from livekit import rtc
from livekit.agents import Agent, ModelSettings, llm, stt
from livekit.agents.llm import LLM as _LLM
from livekit.agents.llm import ChatContext as _ChatContext
from livekit.agents.types import FlushSentinel

from ._backchannel import BackchannelFilter
from ._vocabulary import prime_stt
from .brain import Action, Conductor, heard

__all__ = ["InterviewBrain", "InterviewerAgent"]

logger = logging.getLogger("mockline.agent")

_FORCED = "mockline-action:"
INSTRUCTIONS = (
    "You are a friendly, professional job interviewer speaking on a voice call. Ask one question at a "
    "time, keep every reply to two or three short spoken sentences, never use lists or markdown."
)


class InterviewBrain(Protocol):
    """What the interviewer needs from a brain: ``agent.brain.Brain`` (``build_brain(...)``) is one."""

    llm: _LLM
    conductor: Conductor

    def prepare_turn(
        self, chat_ctx: _ChatContext, *, action: Action | None = None, unheard: Container[str] = ()
    ) -> tuple[_ChatContext, Action]: ...
    def commit(self, action: Action) -> None: ...
    async def aclose(self) -> None: ...


# The key, in a reply's ``ChatMessage.extra``, of the id of the generation that produced it: llm_node's
# first chunk carries it (``ChoiceDelta.extra``) and livekit stores it on the message it adds once the
# reply has played, so a played reply is matched to its action by id, whatever part of it was heard.
REPLY_ID_KEY = "mockline_reply_id"


@dataclass
class _Prepared:
    action: Action
    reply_id: str
    text: str = ""


class InterviewerAgent(Agent):
    def __init__(
        self,
        *,
        brain: InterviewBrain,
        chat_ctx: llm.ChatContext | None = None,
        resumed: bool = False,
        on_finished: Callable[[], None] | None = None,
        ignore_backchannels: bool = True,
    ) -> None:
        super().__init__(instructions=INSTRUCTIONS, chat_ctx=chat_ctx)
        # "mm-hmm" / a cough over the agent: not a turn, the paused reply resumes (agent/_backchannel.py)
        self.backchannels: BackchannelFilter | None = BackchannelFilter() if ignore_backchannels else None
        self._brain = brain
        self._resumed = resumed
        self._on_finished = on_finished
        self._prepared: list[_Prepared] = []
        self._forced: dict[str, Action] = {}
        self._unheard: set[str] = set()  # ids of our replies cut off before their essential words
        # told of every final transcript with words that reaches the session (backchannels withheld),
        # with the recogniser's start and end of that speech when it gives them (agent/_speech_times.py)
        self.on_words: Callable[[float | None, float | None], None] | None = None
        self._finished_signalled = False
        # set by the owner when the session's I/O is complete (a LiveKit room's recorder taps are attached
        # after AgentSession.start returns): the greeting waits for it so it is recorded from its first word
        self.io_ready: asyncio.Event | None = None

    @property
    def brain(self) -> InterviewBrain:
        return self._brain

    # -- listening -------------------------------------------------------------------------------

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterator[stt.SpeechEvent | str]:
        events: AsyncIterable[stt.SpeechEvent | str] = Agent.default.stt_node(self, audio, model_settings)
        if self.backchannels is not None:
            self.backchannels.attach(self.session)
            events = self.backchannels.filter(events)
        segment_start: float | None = None  # the recogniser's own start of the speech it transcribes
        async for ev in events:
            if isinstance(ev, stt.SpeechEvent):
                if ev.type == stt.SpeechEventType.START_OF_SPEECH:
                    segment_start = ev.speech_start_time
                elif (
                    ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
                    and self.on_words is not None
                    and ev.alternatives
                    and ev.alternatives[0].text.strip()
                ):
                    try:
                        self.on_words(segment_start, ev.speech_end_time)
                    except Exception:
                        logger.exception("on_words callback failed")
            yield ev

    # -- speaking ----------------------------------------------------------------------------------

    async def on_enter(self) -> None:
        if self.io_ready is not None:
            await self.io_ready.wait()
        self._prime_stt()
        if self._resumed and not self._candidate_spoke_last():
            # reconnect after our last reply: "welcome back" + the question the candidate still owes us
            self.run_action(self._brain.conductor.opening())
            return
        # new interview: the brain opens; resumed after an answer we never replied to: it replies now
        self.session.generate_reply()

    def _candidate_spoke_last(self) -> bool:
        for item in reversed(self.chat_ctx.items):
            if isinstance(item, llm.ChatMessage) and item.role in ("user", "assistant"):
                return item.role == "user"
        return False

    def run_action(self, action: Action | None) -> bool:
        """Speak a runtime-originated action (resume greeting, check-in) through the brain's LLM, so an
        LLM brain phrases it too. Returns False when there is nothing to say."""
        if action is None:
            return False
        key = uuid.uuid4().hex
        self._forced[key] = action
        self.session.generate_reply(instructions=f"{_FORCED}{key}")
        return True

    def _take_forced(self, chat_ctx: llm.ChatContext) -> tuple[llm.ChatContext, Action | None]:
        for item in reversed(chat_ctx.items):
            if isinstance(item, llm.ChatMessage) and item.role == "system":
                text = item.text_content or ""
                if text.startswith(_FORCED):
                    ctx = chat_ctx.copy()
                    ctx.items = [i for i in ctx.items if i.id != item.id]
                    return ctx, self._forced.pop(text[len(_FORCED) :], None)
                break
        return chat_ctx, None

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterable[llm.ChatChunk | str | FlushSentinel]:
        chat_ctx, forced = self._take_forced(chat_ctx)
        if forced is not None:
            chat_ctx2, action = self._brain.prepare_turn(chat_ctx, action=forced)
        else:
            chat_ctx2, action = self._brain.prepare_turn(chat_ctx, unheard=self._unheard)
        if action.kind == "wait":
            # thinking aloud ("hmm, let me think"): say nothing, keep listening, commit nothing, so the
            # rest of the answer is decided on together with this part
            return
        entry = _Prepared(action=action, reply_id=uuid.uuid4().hex)
        self._prepared.append(entry)
        del self._prepared[:-8]  # discarded preemptive attempts never play; keep the list short
        yield llm.ChatChunk(id=entry.reply_id, delta=llm.ChoiceDelta(extra={REPLY_ID_KEY: entry.reply_id}))
        async for chunk in Agent.default.llm_node(self, chat_ctx2, tools, model_settings):
            if isinstance(chunk, str):
                entry.text += chunk
            elif isinstance(chunk, llm.ChatChunk) and chunk.delta and chunk.delta.content:
                entry.text += chunk.delta.content
            yield chunk

    # -- committing --------------------------------------------------------------------------------

    def on_reply_played(self, message: llm.ChatMessage) -> Action | None:
        """Called for every assistant message added to the conversation (it was played, maybe only in
        part: its text is what the candidate heard). Commits the action of the generation that produced
        it (matched by ``REPLY_ID_KEY``) when the candidate heard its essential words and returns it;
        returns None when nothing was committed (an unknown reply, or one cut off before its question:
        then it is decided again)."""
        played = _norm(message.text_content or "")
        reply_id = message.extra.get(REPLY_ID_KEY)
        match = next((e for e in self._prepared if e.reply_id == reply_id), None)
        if match is None or not played:
            return None
        self._prepared.remove(match)
        if not heard(match.action, spoken=match.text, played=played):
            self._unheard.add(message.id)
            logger.debug("reply cut off before its essential words; not committed",
                         extra={"kind": match.action.kind})  # fmt: skip
            return None
        try:
            self._brain.commit(match.action)
        except Exception:
            logger.exception("brain commit failed")
        self._prime_stt()
        if self._brain.conductor.finished and not self._finished_signalled:
            self._finished_signalled = True
            if self._on_finished is not None:
                self._on_finished()
        return match.action

    def _prime_stt(self) -> None:
        """Point the session's recogniser at the words of the question being answered now."""
        try:
            prime_stt(self.session.stt, self._brain.conductor)
        except Exception:
            logger.exception("priming the speech recogniser failed")

    def check_in(self, silence_s: float) -> bool:
        """The candidate has been silent for ``silence_s``: the conductor decides whether to check in."""
        return self.run_action(self._brain.conductor.on_silence(silence_s))


def _norm(text: str) -> str:
    return " ".join(text.split()).strip().lower()
