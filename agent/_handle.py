"""``InterviewHandle``: one running interview - its ``AgentSession``, events, persistence and end.

Session events drive everything: ``conversation_item_added`` writes turns and per-reply metrics
(``agent/_turn_log.py``; an agent turn once the interviewer has committed its action, if it was heard),
``user_state_changed`` "away" asks the conductor for a check-in, ``close`` finishes the interview row.
Handlers never raise into the session: one interview's bug is logged and contained.

The handle takes what it needs from its process as one frozen ``HandleDeps`` (built by ``AgentRuntime``,
which imports this module; this module does not import the runtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from livekit import rtc
from livekit.agents import NOT_GIVEN, AgentSession, llm
from livekit.agents.stt import STT
from livekit.agents.tts import TTS
from livekit.agents.vad import VAD
from livekit.agents.voice import io, room_io
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    CloseEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from storage import Database, RecordingSettings, RecordingStore

from ._captions import CaptionOutput, InterviewListener, notify
from ._early_pause import EarlyPause
from ._interviewer import InterviewBrain, InterviewerAgent
from ._io import LateAudioInput, PacedAudioOutput, PushAudioInput
from ._pause_wiring import SessionAudioPause, early_pause_for
from ._persist import (
    InterviewWriter,
    LoadedInterview,
    finish_interview,
    load_interview,
)
from ._progress import progress_of, publish_progress
from ._recording import InterviewRecording
from ._speaking_rate import without_speaking_rate
from ._turn_log import TurnLog
from ._turns import turn_handling
from ._views import session_view
from .settings import AgentSettings, TurnTuning

__all__ = ["BrainFactory", "HandleDeps", "InterviewHandle", "InterviewListener", "TurnsForInput"]

logger = logging.getLogger("mockline.agent")


class BrainFactory(Protocol):
    def __call__(self, *, interview: LoadedInterview) -> InterviewBrain: ...


# A turn detector that must hear each session's own audio: wraps the input, returns it with the
# session's detector (``SmartTurn.listen``).
TurnsForInput = Callable[[io.AudioInput], tuple[io.AudioInput, Any]]


@dataclass(frozen=True, kw_only=True)
class HandleDeps:
    """What one interview takes from its process, fixed when it starts: the shared models, storage,
    how to build its brain, and whom to tell when it finishes. ``AgentRuntime`` builds it."""

    database: Database
    settings: AgentSettings
    vad: VAD
    phone_vad: VAD
    stt: STT
    tts: TTS
    turn_detector: Any  # livekit's ``turn_detection``: a detector, a mode name, or None
    turns_for_input: TurnsForInput | None  # set when ``turn_detector`` must hear each session's input
    brain_factory: BrainFactory
    recording_store: RecordingStore | None  # None: the process's store, read when the call starts
    recording_settings: RecordingSettings | None
    on_finished: Callable[[str], Any] | None  # the id of an interview that finished; may return an awaitable
    on_closed: Callable[[InterviewHandle], None]  # the handle is done with (the runtime forgets it)


def _aec_warmup(seconds: float | None, *, telephony: bool) -> float | None:
    """The browser echo canceller's warm-up, during which livekit ignores barge-in. A phone call has no
    browser canceller to adapt (the handset and the network cancel echo), so it gets none: a caller who
    speaks in the first second of the greeting stops it, and their words reach the recogniser."""
    return None if telephony else (seconds or None)


class InterviewHandle:
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
        self._room_pause: SessionAudioPause | None = None
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
        chat_ctx = llm.ChatContext()
        for t in iv.turns:
            chat_ctx.add_message(
                role="assistant" if t.speaker == "agent" else "user",
                content=t.text,
                interrupted=t.interrupted,
            )
        settings = deps.settings
        audio_in, turn_detector = self._input, deps.turn_detector
        room_input: tuple[LateAudioInput, io.AudioInput] | None = None
        if deps.turns_for_input is not None and audio_in is not None:
            audio_in, turn_detector = deps.turns_for_input(audio_in)  # per session: hears this input
        elif deps.turns_for_input is not None and self._room is not None:
            # the room's input exists once session.start has made it: the detector hears it through a
            # tap bound to it then, so room candidates get the same silence timing, rhythm and audio model
            late = LateAudioInput(label="room")
            tapped, turn_detector = deps.turns_for_input(late)
            room_input = (late, tapped)
        vad_view = session_view(deps.phone_vad if self._telephony else deps.vad)
        early = self._early_pause(vad_view, settings.tuning(telephony=self._telephony))
        session: AgentSession = AgentSession(
            # per-session views: the models are shared, the providers' event listeners are not
            vad=vad_view,
            stt=session_view(deps.stt),
            tts=session_view(deps.tts),
            llm=brain.llm,
            turn_handling=turn_handling(settings, telephony=self._telephony, turn_detector=turn_detector),
            user_away_timeout=settings.user_away_timeout,
            aec_warmup_duration=_aec_warmup(settings.aec_warmup_s, telephony=self._telephony),
        )
        self.session = session
        if early is not None:
            early.attach(session)
        if self._room_pause is not None:
            self._room_pause.attach(session)  # the room's output, once session.start has made it
        if self._room is None:
            assert self._input is not None and self._output is not None
            self._sync = TranscriptSynchronizer(
                next_in_chain_audio=self._output, next_in_chain_text=CaptionOutput(self._listener)
            )
            without_speaking_rate(self._sync)  # its STFT per agent audio chunk was the top CPU cost at scale
            session.input.audio = audio_in
            session.output.audio = self._sync.audio_output
            session.output.transcription = self._sync.text_output
        self.agent = InterviewerAgent(
            brain=brain,
            chat_ctx=chat_ctx,
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
                if room_input is not None and session.input.audio is not None:
                    room_input[0].bind(session.input.audio)
                    session.input.audio = room_input[1]
                if self._recording is not None:
                    self._recording.attach_session(session)
            finally:
                self.agent.io_ready.set()
        else:
            await session.start(self.agent, record=False)
        logger.info("interview started", extra={"interview_id": self.interview_id, "resumed": iv.resumed})
        self._tell_progress()

    def _early_pause(self, vad_view: VAD, tuning: TurnTuning) -> EarlyPause | None:
        """Pause the agent's audio on the VAD's first speech over it (``agent/_pause_wiring.py``)."""
        wired = early_pause_for(vad_view, tuning, output=self._output, room=self._room is not None)
        if wired is None:
            return None
        self.early_pause, self._room_pause = wired
        return self.early_pause

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

    # -- events ------------------------------------------------------------------------------------

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
