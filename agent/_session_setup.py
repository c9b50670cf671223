"""One interview's ``AgentSession``, built from its process's shared parts (``HandleDeps``).

Per session: views of the shared VAD/STT/TTS (``agent/_views.py``: the models are shared, the providers'
event listeners are not), the turn handling for its transport (``agent/_turns.py``), the echo canceller's
warm-up, the turn detector's tap on its input, and the early pause on its VAD (``agent/_pause_wiring.py``).
The I/O itself is the handle's: our transports' input and output are set on the session before it
starts; a LiveKit room's are made by ``session.start`` (RoomIO), and the room's input is bound to the
detector's tap afterwards (``SessionParts.bind_room_input``).
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import AgentSession, llm
from livekit.agents.voice import io

from ._early_pause import EarlyPause
from ._handle_deps import HandleDeps
from ._io import LateAudioInput
from ._pause_wiring import early_pause_for
from ._persist import LoadedInterview
from ._turns import turn_handling
from ._views import session_view

__all__ = ["SessionParts", "aec_warmup", "build_session", "chat_context"]


def aec_warmup(seconds: float | None, *, telephony: bool) -> float | None:
    """The browser echo canceller's warm-up, during which livekit ignores barge-in. A phone call has no
    browser canceller to adapt (the handset and the network cancel echo), so it gets none: a caller who
    speaks in the first second of the greeting stops it, and their words reach the recogniser."""
    return None if telephony else (seconds or None)


def chat_context(iv: LoadedInterview) -> llm.ChatContext:
    """The conversation so far (a resumed interview's stored turns), as the LLM sees it."""
    chat_ctx = llm.ChatContext()
    for t in iv.turns:
        chat_ctx.add_message(
            role="assistant" if t.speaker == "agent" else "user",
            content=t.text,
            interrupted=t.interrupted,
        )
    return chat_ctx


@dataclass(kw_only=True)
class SessionParts:
    session: AgentSession
    audio_input: io.AudioInput | None  # our transport's input, as the turn detector hears it
    early_pause: EarlyPause | None
    room_input: tuple[LateAudioInput, io.AudioInput] | None = None  # (the tap's source, the tap)

    def bind_room_input(self) -> None:
        """After ``session.start`` in a room: the detector's tap reads RoomIO's input, the session the tap."""
        session = self.session
        if self.room_input is not None and session.input.audio is not None:
            late, tapped = self.room_input
            late.bind(session.input.audio)
            session.input.audio = tapped


def build_session(
    deps: HandleDeps,
    *,
    llm_: llm.LLM,
    audio_input: io.AudioInput | None,
    audio_output: io.AudioOutput | None,
    telephony: bool,
    room: bool,
) -> SessionParts:
    settings = deps.settings
    audio_in, turn_detector = audio_input, deps.turn_detector
    room_input: tuple[LateAudioInput, io.AudioInput] | None = None
    if deps.turns_for_input is not None and audio_in is not None:
        audio_in, turn_detector = deps.turns_for_input(audio_in)  # per session: hears this input
    elif deps.turns_for_input is not None and room:
        # the room's input exists once session.start has made it: the detector hears it through a
        # tap bound to it then, so room candidates get the same silence timing, rhythm and audio model
        late = LateAudioInput(label="room")
        tapped, turn_detector = deps.turns_for_input(late)
        room_input = (late, tapped)
    vad_view = session_view(deps.phone_vad if telephony else deps.vad)
    wired = early_pause_for(vad_view, settings.tuning(telephony=telephony), output=audio_output, room=room)
    session: AgentSession = AgentSession(
        # per-session views: the models are shared, the providers' event listeners are not
        vad=vad_view,
        stt=session_view(deps.stt),
        tts=session_view(deps.tts),
        llm=llm_,
        turn_handling=turn_handling(settings, telephony=telephony, turn_detector=turn_detector),
        user_away_timeout=settings.user_away_timeout,
        aec_warmup_duration=aec_warmup(settings.aec_warmup_s, telephony=telephony),
    )
    early: EarlyPause | None = None
    if wired is not None:
        early, room_pause = wired
        early.attach(session)
        if room_pause is not None:
            room_pause.attach(session)  # the room's output, once session.start has made it
    return SessionParts(session=session, audio_input=audio_in, early_pause=early, room_input=room_input)
