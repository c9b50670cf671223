"""What an interview's session events write and tell (a mixin of ``InterviewHandle``).

``conversation_item_added`` writes turns and per-reply metrics (``agent/_turn_log.py``; an agent turn once
the interviewer has committed its action, if it was heard), transcripts and states go to the listener
(captions, the page's state) and the turn log, ``user_state_changed`` "away" asks the conductor for a
check-in. Every handler is wrapped by ``_guard``: it never raises into the session, one interview's bug
is logged and contained. The end of the interview (``close``, the brain's closing, a hang-up) is the
handle's own (``agent/_handle.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents import llm
from livekit.agents.voice import io
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

from ._captions import InterviewListener, notify
from ._handle_deps import HandleDeps
from ._interviewer import InterviewBrain, InterviewerAgent
from ._io import PacedAudioOutput
from ._progress import progress_of, publish_progress
from ._turn_log import TurnLog

__all__ = ["SessionEvents"]

logger = logging.getLogger("mockline.agent")


class SessionEvents:
    """The handlers; the handle owns the state they read (declared here for the type checker)."""

    interview_id: str
    agent: InterviewerAgent | None
    _deps: HandleDeps
    _output: io.AudioOutput | None
    _listener: InterviewListener | None
    _room: rtc.Room | None
    _brain: InterviewBrain | None
    _turns: TurnLog
    _reason: str | None

    def _spawn(self, coro: Any) -> None:
        raise NotImplementedError

    def _guard(self, fn: Callable[[Any], None]) -> Callable[[Any], None]:
        def wrapped(ev: Any) -> None:
            try:
                fn(ev)
            except Exception:
                logger.exception("interview event handler failed", extra={"interview_id": self.interview_id})

        return wrapped

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        msg = ev.item
        if not isinstance(msg, llm.ChatMessage):
            return
        if msg.role == "user":
            self._turns.candidate_said(msg)
        elif msg.role == "assistant":
            self._on_agent_said(msg)

    def _on_agent_said(self, msg: llm.ChatMessage) -> None:
        """A reply was played (maybe in part): the agent commits its action if the candidate heard it."""
        assert self.agent is not None
        action = self.agent.on_reply_played(msg)
        if action is not None:
            self._tell_progress()
        paced = self._output if isinstance(self._output, PacedAudioOutput) else None
        self._turns.agent_said(msg, action=action, underruns=paced.stats.underruns if paced else None)

    def _tell_progress(self) -> None:
        """The candidate's page shows "Question 2 of 4" and the time left (``agent/_progress.py``)."""
        progress = progress_of(self._brain.conductor if self._brain is not None else None)
        if progress is None:
            return
        tell = getattr(self._listener, "on_progress", None)
        if tell is not None:
            notify(tell, progress=progress)
        if self._room is not None:
            self._spawn(publish_progress(self._room, progress))

    def _snapshot(self) -> dict[str, Any] | None:
        """The conductor's state, stored with every turn (None before the agent runs)."""
        if self.agent is None:
            return None
        try:
            return dict(self.agent.brain.conductor.snapshot())
        except Exception:
            logger.exception("brain snapshot failed", extra={"interview_id": self.interview_id})
            return None

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final:
            self._turns.final_transcript(ev.created_at)
        if self._listener is not None:
            notify(self._listener.on_caption, speaker="candidate", text=ev.transcript, final=ev.is_final)

    def _on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        if self._listener is not None:
            notify(self._listener.on_state, agent=ev.new_state)

    def _on_words(self, speech_start: float | None, speech_end: float | None) -> None:
        self._turns.words(arrived_at=time.time(), speech_start=speech_start, speech_end=speech_end)

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.new_state == "speaking":
            self._turns.speech_started(ev.created_at)
        elif ev.old_state == "speaking":
            self._turns.speech_ended(ev.created_at)
        if self._listener is not None:
            notify(self._listener.on_state, user=ev.new_state)
        if ev.new_state == "away" and self.agent is not None and self._reason is None:
            self.agent.check_in(self._deps.settings.user_away_timeout)

    def _on_error(self, ev: ErrorEvent) -> None:
        err = ev.error
        logger.warning(
            "session error",
            extra={
                "interview_id": self.interview_id,
                "error_type": type(getattr(err, "error", err)).__name__,
                "recoverable": getattr(err, "recoverable", None),
            },
        )
