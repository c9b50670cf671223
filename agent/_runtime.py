"""``AgentRuntime``: shared models, one ``AgentSession`` per interview, wired to storage and a listener.

See ``docs/agent-runtime.md`` for the contract transports use.

Errors::

    AgentRuntimeError            (base; ``retryable`` says whether trying again may help)
    ├── ProvidersUnavailable     VAD/STT/TTS could not be loaded (missing extra or model package)
    └── PersistError             (from ``agent._persist``) the interview cannot be run
        ├── InterviewNotFound    no such interview row
        └── InterviewClosed      it already finished; start a new interview instead
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from livekit.agents import AgentSession, llm, stt, tts, vad
from livekit.agents.voice import io
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    CloseEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from storage import Database, get_database

try:  # livekit plugins must register on the main thread; AgentRuntime.load() often runs in a worker thread
    import livekit.plugins.silero  # noqa: F401
except ImportError:  # pragma: no cover - a base dependency
    pass

from ._interviewer import Brain, InterviewerAgent
from ._io import PacedAudioOutput, PushAudioInput
from ._metrics import latency_from_messages
from ._persist import (
    InterviewWriter,
    LoadedInterview,
    MetricRecord,
    PersistError,
    TurnRecord,
    finish_interview,
    load_interview,
)
from ._turns import build_turn_detector, turn_handling
from .settings import AgentSettings, get_agent_settings

__all__ = [
    "AgentRuntime",
    "AgentRuntimeError",
    "BrainFactory",
    "InterviewHandle",
    "InterviewListener",
    "ProvidersUnavailable",
]

logger = logging.getLogger("mockline.agent")


class AgentRuntimeError(Exception):
    retryable = False


class ProvidersUnavailable(AgentRuntimeError):
    pass


class InterviewListener(Protocol):
    def on_caption(self, *, speaker: str, text: str, final: bool) -> None: ...
    def on_state(self, *, agent: str | None = None, user: str | None = None) -> None: ...
    def on_ended(self, *, reason: str) -> None: ...


class BrainFactory(Protocol):
    def __call__(self, *, interview: LoadedInterview) -> Brain: ...


def _default_brain_factory(*, interview: LoadedInterview) -> Brain:
    """``build_brain`` for the interview's plan; ``Interview.brain`` "offline" forces the offline brain."""
    from agent.brain import build_brain, get_brain_settings
    from agent.plans import PlanSpec

    settings = get_brain_settings()
    if interview.brain == "offline" and settings.brain != "offline":
        settings = settings.model_copy(update={"brain": "offline"})
    plan = PlanSpec.from_json(interview.plan_spec)
    return build_brain(plan=plan, settings=settings, state=interview.state or None)


class _CaptionOutput(io.TextOutput):
    """Agent captions, paced by the TranscriptSynchronizer, to the listener."""

    def __init__(self, listener: InterviewListener | None) -> None:
        super().__init__(label="captions", next_in_chain=None)
        self._listener = listener
        self._text = ""

    async def capture_text(self, text: str) -> None:
        self._text += text
        if self._listener is not None:
            _safe(self._listener.on_caption, speaker="agent", text=self._text, final=False)

    def flush(self) -> None:
        if self._listener is not None and self._text:
            _safe(self._listener.on_caption, speaker="agent", text=self._text, final=True)
        self._text = ""


def _safe(fn: Callable[..., Any], /, **kwargs: Any) -> None:
    try:
        fn(**kwargs)
    except Exception:
        logger.exception("interview listener raised")


class AgentRuntime:
    """Models shared by every interview in the process. Build once; ``start_interview`` per call."""

    def __init__(
        self,
        *,
        vad: vad.VAD,
        stt: stt.STT,
        tts: tts.TTS,
        settings: AgentSettings | None = None,
        database: Database | None = None,
        brain_factory: BrainFactory | None = None,
        turn_detector: Any = None,
        phone_vad: vad.VAD | None = None,
        on_finished: Callable[[str], Any] | None = None,
    ) -> None:
        self.vad = vad
        self.phone_vad = phone_vad or vad
        self.stt = stt
        self.tts = tts
        self.settings = settings or get_agent_settings()
        self.turn_detector = turn_detector
        self._database = database
        self._brain_factory = brain_factory or _default_brain_factory
        self._on_finished = on_finished
        self._handles: set[InterviewHandle] = set()

    @classmethod
    def load(
        cls, settings: AgentSettings | None = None, *, speech: Any = None, **kwargs: Any
    ) -> AgentRuntime:
        """Blocking: load VAD, STT, TTS (and the turn detector) once for the whole process.

        ``speech``: an ``agent.providers.SpeechSettings`` (default: from the environment)."""
        settings = settings or get_agent_settings()
        try:
            from agent import providers

            built = dict(
                vad=providers.load_vad(speech),
                phone_vad=providers.load_vad(speech, telephony=True),
                stt=providers.build_stt(speech),
                tts=providers.build_tts(speech),
            )
        except ImportError as e:
            raise ProvidersUnavailable(f"speech providers are not available: {e}") from e
        if "turn_detector" not in kwargs:
            kwargs["turn_detector"] = build_turn_detector(settings)
        return cls(settings=settings, **built, **kwargs)

    @property
    def database(self) -> Database:
        return self._database or get_database()

    @property
    def active(self) -> int:
        return len(self._handles)

    async def start_interview(
        self,
        *,
        interview_id: str,
        audio_input: io.AudioInput,
        audio_output: io.AudioOutput,
        listener: InterviewListener | None = None,
        telephony: bool = False,
        channel: str | None = None,
    ) -> InterviewHandle:
        """Start (or resume) an interview. Raises ``PersistError`` subclasses for bad ids/finished ones."""
        handle = InterviewHandle(
            runtime=self,
            interview_id=interview_id,
            audio_input=audio_input,
            audio_output=audio_output,
            listener=listener,
            telephony=telephony,
        )
        self._handles.add(handle)
        try:
            await handle._start(channel=channel or ("phone" if telephony else None))
        except BaseException:
            self._handles.discard(handle)
            await handle._abort()
            raise
        return handle

    async def aclose(self) -> None:
        """End every running interview ("dropped": they stay resumable)."""
        await asyncio.gather(*(h.aclose("dropped") for h in list(self._handles)), return_exceptions=True)

    def _forget(self, handle: InterviewHandle) -> None:
        self._handles.discard(handle)


class InterviewHandle:
    """One running interview. ``wait()`` for its end reason, ``aclose(reason)`` to end it."""

    def __init__(
        self,
        *,
        runtime: AgentRuntime,
        interview_id: str,
        audio_input: io.AudioInput,
        audio_output: io.AudioOutput,
        listener: InterviewListener | None,
        telephony: bool,
    ) -> None:
        self.interview_id = interview_id
        self._rt = runtime
        self._input = audio_input
        self._output = audio_output
        self._listener = listener
        self._telephony = telephony
        self._writer = InterviewWriter(db=runtime.database, interview_id=interview_id)
        self._done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reason: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finalize_task: asyncio.Task[None] | None = None
        self.session: AgentSession | None = None
        self.agent: InterviewerAgent | None = None
        self._brain: Brain | None = None
        self._sync: TranscriptSynchronizer | None = None
        self._interview: LoadedInterview | None = None
        self._seq = 1
        self._open_answer: TurnRecord | None = None  # candidate turn not yet answered by the agent
        self._answered: llm.ChatMessage | None = None
        self.latencies: list[dict[str, Any]] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    async def _start(self, *, channel: str | None) -> None:
        db = self._rt.database
        self._interview = iv = await asyncio.to_thread(load_interview, db, self.interview_id, channel=channel)
        self._seq = iv.next_seq
        self._brain = brain = self._rt._brain_factory(interview=iv)
        chat_ctx = llm.ChatContext()
        for t in iv.turns:
            chat_ctx.add_message(
                role="assistant" if t.speaker == "agent" else "user",
                content=t.text,
                interrupted=t.interrupted,
            )
        settings = self._rt.settings
        session: AgentSession = AgentSession(
            vad=self._rt.phone_vad if self._telephony else self._rt.vad,
            stt=self._rt.stt,
            tts=self._rt.tts,
            llm=brain.llm,
            turn_handling=turn_handling(
                settings, telephony=self._telephony, turn_detector=self._rt.turn_detector
            ),
            user_away_timeout=settings.user_away_timeout,
            aec_warmup_duration=settings.aec_warmup_s or None,
        )
        self.session = session
        self._sync = TranscriptSynchronizer(
            next_in_chain_audio=self._output, next_in_chain_text=_CaptionOutput(self._listener)
        )
        session.input.audio = self._input
        session.output.audio = self._sync.audio_output
        session.output.transcription = self._sync.text_output
        self.agent = InterviewerAgent(
            brain=brain, chat_ctx=chat_ctx, resumed=iv.resumed, on_finished=self._on_brain_finished
        )
        session.on("conversation_item_added", self._guard(self._on_item))
        session.on("user_input_transcribed", self._guard(self._on_transcribed))
        session.on("agent_state_changed", self._guard(self._on_agent_state))
        session.on("user_state_changed", self._guard(self._on_user_state))
        session.on("error", self._guard(self._on_error))
        session.on("close", self._guard(self._on_close))
        if isinstance(self._input, PushAudioInput):
            self._input.add_close_callback(self._on_input_closed)
        self._writer.start()
        self._spawn(self._watchdog(settings.max_session_minutes * 60.0))
        await session.start(self.agent, record=False)
        logger.info("interview started", extra={"interview_id": self.interview_id, "resumed": iv.resumed})

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

    def _offset(self, t: float | None) -> float:
        assert self._interview is not None
        base = self._interview.started_at.timestamp()
        return round(max(0.0, (t or 0.0) - base), 3)

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        msg = ev.item
        if not isinstance(msg, llm.ChatMessage) or msg.role not in ("user", "assistant"):
            return
        text = (msg.text_content or "").strip()
        m = dict(msg.metrics or {})
        start = self._offset(m.get("started_speaking_at") or msg.created_at)
        end = self._offset(m.get("stopped_speaking_at") or msg.created_at)
        assert self.agent is not None
        if msg.role == "user":
            if not text:
                return
            rec = self._open_answer
            if rec is not None:  # the agent stayed silent (wait): the same answer continues
                rec.text = f"{rec.text} {text}"
                rec.ended_at = max(rec.ended_at, end)
            else:
                rec = TurnRecord(
                    seq=self._next_seq(), speaker="candidate", text=text, started_at=start, ended_at=end
                )
                self._open_answer = rec
            if self._answered is None:
                self._answered = msg
            else:  # latency counts from the end of the last part of the answer
                self._answered = msg.model_copy(
                    update={"metrics": {**dict(self._answered.metrics or {}), **m}}
                )
            rec.state = self._snapshot()
            self._writer.turn(rec)
            return
        action = self.agent.on_reply_played(msg)
        if not text:
            return
        rec = TurnRecord(
            seq=self._next_seq(),
            speaker="agent",
            text=text,
            started_at=start,
            ended_at=max(start, end),
            interrupted=bool(msg.interrupted),
            question_id=getattr(action, "question_id", None),
            kind=getattr(action, "kind", None),
            state=self._snapshot(),
        )
        self._writer.turn(rec)
        lat = latency_from_messages(msg, self._answered)
        if isinstance(self._output, PacedAudioOutput):
            lat.extra["underruns_total"] = self._output.stats.underruns
        self.latencies.append({"seq": rec.seq, **lat.as_dict()})
        self._writer.metric(
            MetricRecord(
                seq=rec.seq,
                turn=rec,
                eou_delay_ms=lat.eou_delay_ms,
                stt_ms=lat.stt_ms,
                llm_ttft_ms=lat.llm_ttft_ms,
                tts_ttfb_ms=lat.tts_ttfb_ms,
                v2v_ms=lat.v2v_ms,
                extra=lat.extra,
            )
        )
        self._open_answer = None
        self._answered = None

    def _next_seq(self) -> int:
        seq, self._seq = self._seq, self._seq + 1
        return seq

    def _snapshot(self) -> dict[str, Any] | None:
        conductor = getattr(self.agent.brain, "conductor", None) if self.agent else None
        snap = getattr(conductor, "snapshot", None)
        if snap is None:
            return None
        try:
            state = snap()
        except Exception:
            logger.exception("brain snapshot failed", extra={"interview_id": self.interview_id})
            return None
        return dict(state) if state is not None else None

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if self._listener is not None:
            _safe(self._listener.on_caption, speaker="candidate", text=ev.transcript, final=ev.is_final)

    def _on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        if self._listener is not None:
            _safe(self._listener.on_state, agent=ev.new_state)

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if self._listener is not None:
            _safe(self._listener.on_state, user=ev.new_state)
        if ev.new_state == "away" and self.agent is not None and self._reason is None:
            self.agent.check_in(self._rt.settings.user_away_timeout)

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
                    self._rt.database, self.interview_id, reason=reason, state=self._snapshot()
                )
            )
        except Exception:
            finished = False
            logger.exception("could not record the interview end", extra={"interview_id": self.interview_id})
        await self._cleanup()
        logger.info("interview ended", extra={"interview_id": self.interview_id, "reason": reason})
        if self._listener is not None:
            _safe(self._listener.on_ended, reason=reason)
        if finished and self._rt._on_finished is not None:
            try:
                result = self._rt._on_finished(self.interview_id)
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
        await self._writer.aclose(drain_s=self._rt.settings.persist_drain_timeout)
        if self._sync is not None:
            with contextlib.suppress(Exception):
                await self._sync.aclose()
        if isinstance(self._output, PacedAudioOutput):
            await self._output.aclose()
        if self._brain is not None:
            with contextlib.suppress(Exception):
                await self._brain.aclose()
        if isinstance(self._input, PushAudioInput):
            self._input.close()
        self._rt._forget(self)


_ = PersistError  # re-exported through agent/__init__
