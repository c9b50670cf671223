"""What one interview takes from its process: ``HandleDeps`` (built by ``AgentRuntime``), and the shapes
of the two callables in it (``BrainFactory``, ``TurnsForInput``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from livekit.agents.stt import STT
from livekit.agents.tts import TTS
from livekit.agents.vad import VAD
from livekit.agents.voice import io

from storage import Database, RecordingSettings, RecordingStore

from ._interviewer import InterviewBrain
from ._persist import LoadedInterview
from .settings import AgentSettings

if TYPE_CHECKING:
    from ._handle import InterviewHandle

__all__ = ["BrainFactory", "HandleDeps", "TurnsForInput"]


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
