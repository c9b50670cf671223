"""``InterviewHandle``: one running interview - its ``AgentSession``, its start and its end.

The session is built by ``agent/_session_setup.py``; its events write turns and tell the listener through
``agent/_handle_events.py`` (a mixin: handlers never raise into the session); the handle wires the I/O,
starts it, and ends it once: ``close``, the brain's closing, a hang-up, the watchdog or ``aclose`` all
finish the interview row the same way, then release what the interview held.

The handle takes what it needs from its process as one frozen ``HandleDeps`` (``agent/_handle_deps.py``,
built by ``AgentRuntime``, which imports this module; this module does not import the runtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, AgentSession
from livekit.agents.voice import io, room_io
from livekit.agents.voice.events import CloseEvent
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from ._captions import CaptionOutput, InterviewListener, notify
from ._early_pause import EarlyPause
from ._handle_deps import BrainFactory, HandleDeps, TurnsForInput
from ._handle_events import SessionEvents
from ._interviewer import InterviewBrain, InterviewerAgent
from ._io import PacedAudioOutput, PushAudioInput
from ._persist import InterviewWriter, finish_interview, load_interview
from ._recording import InterviewRecording
from ._session_setup import build_session, chat_context
from ._speaking_rate import without_speaking_rate
from ._turn_log import TurnLog

__all__ = ["BrainFactory", "HandleDeps", "InterviewHandle", "InterviewListener", "TurnsForInput"]

logger = logging.getLogger("mockline.agent")


class InterviewHandle(SessionEvents):
    """One running interview. ``wait()`` for its end reason, ``aclose(reason)`` to end it."""

    def __init__(
        self,
        *,
        deps: HandleDeps,
        interview_id: str,
        audio_input: io.AudioInput | None,
        audio_output: io.AudioOutput | None,
        listener: InterviewListener | None,
        telephony: bool,
        room: rtc.Room | None = None,  # livekit's RoomIO does the audio I/O and captions (room_options)
        room_options: room_io.RoomOptions | None = None,
    ) -> None:
        self.interview_id = interview_id
        self._room, self._room_options = room, room_options
        self._deps = deps
        self._input = audio_input
        self._output = audio_output
        self._listener = listener
        self._telephony = telephony
        self._writer = InterviewWriter(db=deps.database, interview_id=interview_id)
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reason: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finalize_task: asyncio.Task[None] | None = None
        self.session: AgentSession | None = None
        self.early_pause: EarlyPause | None = None  # agent/_early_pause.py, agent/_pause_wiring.py
        self.agent: InterviewerAgent | None = None
        self._brain: InterviewBrain | None = None
        self._sync: TranscriptSynchronizer | None = None
        self._turns = TurnLog(writer=self._writer, state=self._snapshot)
        self._recording: InterviewRecording | None = None

    @property
    def latencies(self) -> list[dict[str, Any]]:
        """Per agent reply: its turn's seq and the latency measures (``agent._metrics.TurnLatency``)."""
        return self._turns.latencies

    # -- lifecycle ---------------------------------------------------------------------------------

    async def _start(self, *, channel: str | None) -> None:
        deps = self._deps
        db = deps.database
        iv = await asyncio.to_thread(load_interview, db, self.interview_id, channel=channel)
        self._turns.start(started_at=iv.started_at.timestamp(), next_seq=iv.next_seq)
        self._brain = brain = deps.brain_factory(interview=iv)
        settings = deps.settings
        parts = build_session(
            deps,
            llm_=brain.llm,
            audio_input=self._input,
            audio_output=self._output,
            telephony=self._telephony,
            room=self._room is not None,
        )
        self.session = session = parts.session
        self.early_pause = parts.early_pause
        if self._room is None:
            assert self._input is not None and self._output is not None
            self._sync = TranscriptSynchronizer(
                next_in_chain_audio=self._output, next_in_chain_text=CaptionOutput(self._listener)
            )
            without_speaking_rate(self._sync)  # its STFT per agent audio chunk was the top CPU cost at scale
            session.input.audio = parts.audio_input
            session.output.audio = self._sync.audio_output
            session.output.transcription = self._sync.text_output
        self.agent = InterviewerAgent(
            brain=brain,
            chat_ctx=chat_context(iv),
            resumed=iv.resumed,
            on_finished=self._on_brain_finished,
            ignore_backchannels=settings.ignore_backchannels,
        )
        self.agent.on_words = self._on_words
        session.on("conversation_item_added", self._guard(self._on_item))
        session.on("user_input_transcribed", self._guard(self._on_transcribed))
        session.on("agent_state_changed", self._guard(self._on_agent_state))
        session.on("user_state_changed", self._guard(self._on_user_state))
        session.on("error", self._guard(self._on_error))
        session.on("close", self._guard(self._on_close))
        if isinstance(self._input, PushAudioInput):
            self._input.add_close_callback(self._on_input_closed)
        self._writer.start()
        self._recording = await InterviewRecording.open(
            db=db,
            interview_id=self.interview_id,
            interview_started_at=iv.started_at,
            store=deps.recording_store,
            settings=deps.recording_settings,
        )
        if self._recording is not None and self._room is None:
            self._recording.attach(self._input, self._output)
        self._spawn(self._watchdog(settings.max_session_minutes * 60.0))
        if self._room is not None:
            # RoomIO's audio output exists only once start() has made it; the greeting (on_enter) waits
            # until the recorder wraps it
            self.agent.io_ready = asyncio.Event()
            try:
                options = self._room_options if self._room_options is not None else NOT_GIVEN
                await session.start(self.agent, record=False, room=self._room, room_options=options)
                parts.bind_room_input()
                if self._recording is not None:
                    self._recording.attach_session(session)
            finally:
                self.agent.io_ready.set()
        else:
            await session.start(self.agent, record=False)
        logger.info("interview started", extra={"interview_id": self.interview_id, "resumed": iv.resumed})
        self._tell_progress()

    async def wait(self) -> str:
        """The end reason: "completed", "hangup", "dropped", "timeout" or "error"."""
        return await asyncio.shield(self._done)

    async def aclose(self, reason: str = "hangup") -> str:
        """End the interview from the transport side. Idempotent; returns the end reason."""
        if self._reason is None:
            self._reason = reason
        if self.session is not None and self._finalize_task is None:
            with contextlib.suppress(Exception):
                await self.session.aclose()
        if self._finalize_task is None:  # session never started or emitted no close
            self._finalize_task = asyncio.create_task(self._finalize())
        await asyncio.shield(self._finalize_task)
        return self._done.result()

    async def _abort(self) -> None:
        self._reason = self._reason or "error"
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.aclose()
        await self._cleanup()
        if not self._done.done():
            self._done.set_result(self._reason)

    # -- the end ---------------------------------------------------------------------------------

    def _on_close(self, ev: CloseEvent) -> None:
        if self._reason is None:
            self._reason = "error" if ev.error is not None else "hangup"
        if self._finalize_task is None:
            self._finalize_task = asyncio.create_task(self._finalize())

    def _on_brain_finished(self) -> None:
        """The closing utterance was played: end the interview."""
        if self._reason is None:
            self._reason = "completed"
        if self.session is not None:
            self.session.shutdown(drain=True)

    def _on_input_closed(self) -> None:
        if self._reason is None:  # the transport hung up without calling aclose()
            self._spawn(self.aclose("hangup"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watchdog(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._spawn(self.aclose("timeout"))

    async def _finalize(self) -> None:
        reason = self._reason or "error"
        try:
            finished = await self._writer.call(
                lambda: finish_interview(
                    self._deps.database, self.interview_id, reason=reason, state=self._snapshot()
                )
            )
        except Exception:
            finished = False
            logger.exception("could not record the interview end", extra={"interview_id": self.interview_id})
        await self._cleanup()
        logger.info("interview ended", extra={"interview_id": self.interview_id, "reason": reason})
        if self._listener is not None:
            notify(self._listener.on_ended, reason=reason)
        if finished and self._deps.on_finished is not None:
            try:
                result = self._deps.on_finished(self.interview_id)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                logger.exception("on_finished callback failed", extra={"interview_id": self.interview_id})
        if not self._done.done():
            self._done.set_result(reason)

    async def _cleanup(self) -> None:
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        await self._writer.aclose(drain_s=self._deps.settings.persist_drain_timeout)
        if self._sync is not None:
            with contextlib.suppress(Exception):
                await self._sync.aclose()
        if isinstance(self._output, PacedAudioOutput):
            await self._output.aclose()
        if self._recording is not None:
            await self._recording.aclose()
        if self._brain is not None:
            with contextlib.suppress(Exception):
                await self._brain.aclose()
        if isinstance(self._input, PushAudioInput):
            self._input.close()
        self._deps.on_closed(self)
