"""Which output the early pause holds (``agent/_pause_wiring.py``): a LiveKit room's is the session's own
audio output, looked up when the pause happens (RoomIO makes it in ``session.start``); our transports'
is their paced output. The real room is in tests/test_livekit_real.py (a blip paused and released)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc
from livekit.agents.voice import io

from agent import AgentSettings
from agent._pause_wiring import SessionAudioPause, early_pause_for

pytestmark = pytest.mark.unit


class RoomOutput(io.AudioOutput):
    """Stands in for RoomIO's output: records what it is told."""

    def __init__(self, *, can_pause: bool = True) -> None:
        super().__init__(label="room", capabilities=io.AudioOutputCapabilities(pause=can_pause))
        self.calls: list[str] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None: ...

    def flush(self) -> None: ...

    def clear_buffer(self) -> None: ...

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")


@dataclass
class Session:
    output: Any = field(default_factory=lambda: SimpleNamespace(audio=None))


def silero_view() -> Any:
    return SimpleNamespace(_opts=SimpleNamespace(activation_threshold=0.5), stream=lambda: None)


def test_a_room_pause_holds_whatever_output_the_session_has_when_the_candidate_speaks() -> None:
    session = Session()
    hold = SessionAudioPause()
    hold.attach(session)
    hold.pause()  # before session.start made the room's output: nothing to hold
    wrapped = RoomOutput()
    session.output.audio = wrapped
    hold.pause()
    hold.resume()
    assert wrapped.calls == ["pause", "resume"] and (hold.pauses, hold.resumes) == (1, 1)


def test_an_output_that_cannot_pause_is_left_playing() -> None:
    session = Session(output=SimpleNamespace(audio=RoomOutput(can_pause=False)))
    hold = SessionAudioPause()
    hold.attach(session)
    hold.pause()
    assert session.output.audio.calls == [] and hold.pauses == 0


def test_rooms_get_an_early_pause_on_the_session_output_and_unpausable_outputs_none() -> None:
    tuning = AgentSettings().tuning(telephony=False)
    wired = early_pause_for(silero_view(), tuning, output=None, room=True)
    assert wired is not None and isinstance(wired[1], SessionAudioPause)
    # our transports: only a paced output can pause (a plain output gets no early pause)
    assert early_pause_for(silero_view(), tuning, output=RoomOutput(), room=False) is None
    # turned off, or a VAD without a threshold (the fakes' energy VAD): none
    off = tuning.model_copy(update={"early_pause_speech": 0.0})
    assert early_pause_for(silero_view(), off, output=None, room=True) is None
    assert early_pause_for(SimpleNamespace(stream=lambda: None), tuning, output=None, room=True) is None


def test_a_room_pause_left_when_the_agent_stops_speaking_is_released_unless_livekit_holds_the_reply() -> None:
    # the agent left "speaking" while the early pause held RoomIO's output: RoomIO stays paused until
    # someone resumes it, so unless livekit paused that reply itself, the early pause lets go
    session = Session()
    session.output.audio = RoomOutput()
    hold = SessionAudioPause()
    hold.attach(session)
    hold.pause()
    hold.handed_over()
    assert session.output.audio.calls == ["pause", "resume"]

    session = Session()
    session.output.audio = RoomOutput()
    session._activity = SimpleNamespace(_paused_speech=object())  # livekit's false-interruption hold
    hold = SessionAudioPause()
    hold.attach(session)
    hold.pause()
    hold.handed_over()
    assert session.output.audio.calls == ["pause"]  # livekit resumes or interrupts it, not us
