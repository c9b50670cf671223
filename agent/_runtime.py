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
import logging
from collections.abc import Callable
from typing import Any, Protocol

from livekit import rtc
from livekit.agents import NOT_GIVEN, stt, tts, vad
from livekit.agents.voice import io, room_io

from storage import Database, RecordingSettings, RecordingStore, get_database

try:  # livekit plugins must register on the main thread; AgentRuntime.load() often runs in a worker thread
    import livekit.plugins.silero  # noqa: F401
except ImportError:  # pragma: no cover - a base dependency
    pass

from ._handle import InterviewHandle, InterviewListener, _CaptionOutput
from ._interviewer import Brain
from ._persist import LoadedInterview
from ._smart_turn import build_turn_detector
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
        recording_store: RecordingStore | None = None,
        recording_settings: RecordingSettings | None = None,
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
        # None: the process's store and settings (``storage.get_recording_store``), read when a call starts
        self.recording_store = recording_store
        self.recording_settings = recording_settings

    @classmethod
    def load(
        cls, settings: AgentSettings | None = None, *, speech: Any = None, **kwargs: Any
    ) -> AgentRuntime:
        """Blocking: load VAD, STT, TTS (and the turn detector) once for the whole process.

        ``speech``: an ``agent.providers.SpeechSettings`` (default: from the environment)."""
        settings = settings or get_agent_settings()
        try:
            from agent import providers

            built: dict[str, Any] = dict(
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

    @property
    def live_interview_ids(self) -> set[str]:
        """Interviews with a running session in this process."""
        return {h.interview_id for h in self._handles}

    async def start_interview(
        self,
        *,
        interview_id: str,
        audio_input: io.AudioInput | None = None,
        audio_output: io.AudioOutput | None = None,
        listener: InterviewListener | None = None,
        telephony: bool = False,
        channel: str | None = None,
        room: rtc.Room | None = None,
        participant: str | None = None,
        room_options: room_io.RoomOptions | None = None,
    ) -> InterviewHandle:
        """Start (or resume) an interview. Raises ``PersistError`` subclasses for bad ids/finished ones.

        Either ``audio_input`` + ``audio_output`` (our own transports), or ``room``: a LiveKit room, wired by
        livekit's public ``RoomIO`` (``AgentSession.start(room=..., room_options=...)``): the microphone of
        ``participant`` (identity) in, a published ``interviewer`` track out, both sides' transcripts on
        the standard ``lk.transcription`` text streams. ``room_options`` replaces :meth:`room_options`."""
        if room is None and (audio_input is None or audio_output is None):
            raise ValueError("start_interview needs audio_input and audio_output, or room")
        if room is not None and (audio_input is not None or audio_output is not None):
            raise ValueError("start_interview takes a room or audio_input/audio_output, not both")
        if room is not None and room_options is None:
            room_options = self.room_options(participant=participant, listener=listener)
        handle = InterviewHandle(
            runtime=self,
            interview_id=interview_id,
            audio_input=audio_input,
            audio_output=audio_output,
            listener=listener,
            telephony=telephony,
            room=room,
            room_options=room_options,
        )
        self._handles.add(handle)
        try:
            await handle._start(channel=channel or ("phone" if telephony else None))
        except BaseException:
            self._handles.discard(handle)
            await handle._abort()
            raise
        return handle

    def room_options(
        self, *, participant: str | None, listener: InterviewListener | None = None
    ) -> room_io.RoomOptions:
        """livekit ``RoomOptions`` for an interview in a room: only ``participant``'s microphone (16 kHz
        mono, what VAD/STT use), the agent's voice as track ``interviewer``, transcripts of both sides
        to the room (agent text paced with its audio; also to ``listener``), no typed chat input, and
        the session stays open when the candidate leaves: the transport decides the end reason."""
        return room_io.RoomOptions(
            audio_input=room_io.AudioInputOptions(
                sample_rate=16000, num_channels=1, frame_size_ms=20, pre_connect_audio=False
            ),
            audio_output=room_io.AudioOutputOptions(
                sample_rate=24000,
                num_channels=1,
                track_publish_options=rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE),
                track_name="interviewer",
            ),
            text_output=room_io.TextOutputOptions(
                sync_transcription=True,
                next_in_chain=_CaptionOutput(listener) if listener is not None else None,
            ),
            text_input=False,
            participant_identity=participant if participant else NOT_GIVEN,
            close_on_disconnect=False,
            delete_room_on_close=False,
        )

    async def aclose(self) -> None:
        """End every running interview ("dropped": they stay resumable)."""
        await asyncio.gather(*(h.aclose("dropped") for h in list(self._handles)), return_exceptions=True)

    def _forget(self, handle: InterviewHandle) -> None:
        self._handles.discard(handle)
