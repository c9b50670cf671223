"""Which output the early pause holds, and wiring it to a session's VAD (``agent/_early_pause.py``).

- Our transports (phone, WebRTC through aiortc): their ``PacedAudioOutput``. A pause sends Twilio's
  ``clear`` / drops what the browser buffered, and a resume sends that audio again: nothing is lost.
- A LiveKit room: ``SessionAudioPause``, the session's audio output chain (RoomIO's output behind the
  transcript synchronizer and the recorder), the same object livekit pauses for its own false-interruption
  resume. It exists only once ``session.start`` has made it, so the pause looks it up when it happens.
  RoomIO drops the audio its ``rtc.AudioSource`` had queued for the room (up to 200 ms) when it pauses, and
  a resume goes on after it, as livekit's own resume does: a sound released by the early pause costs the
  candidate up to ~0.2 s of the reply, and the stored turn stays whole (the synchroniser is told).

The threshold is the VAD's own (silero keeps it in ``_opts``); a VAD without one gets no early pause.
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents.vad import VAD

from ._early_pause import EarlyPause, tap_vad
from ._io import PacedAudioOutput
from .settings import TurnTuning

__all__ = ["SessionAudioPause", "early_pause_for"]

logger = logging.getLogger("mockline.agent")


class SessionAudioPause:
    """``pause()``/``resume()`` on the session's current audio output, when it can pause (RoomIO's can)."""

    def __init__(self) -> None:
        self._session: Any = None
        self.pauses = 0  # made on the output (tests, logs)
        self.resumes = 0

    def attach(self, session: Any) -> None:
        self._session = session

    def _output(self) -> Any:
        out = getattr(getattr(self._session, "output", None), "audio", None)
        return out if out is not None and out.can_pause else None

    def pause(self) -> None:
        out = self._output()
        if out is None:
            return
        out.pause()
        self.pauses += 1
        logger.info("agent audio paused early")

    def resume(self, why: str = "the sound stopped before an interruption") -> None:
        out = self._output()
        if out is None:
            return
        out.resume()
        self.resumes += 1
        logger.info("early pause released: %s", why)

    def handed_over(self) -> None:
        """The agent left "speaking" while we held its output. RoomIO's output stays paused until someone
        resumes it, whatever plays next; if livekit did not pause this reply itself (its false-interruption
        hold, which resumes or interrupts it), nobody would, and the candidate would hear nothing more."""
        if livekit_holds_a_reply(self._session):
            logger.info("early pause handed over to livekit's own pause")
            return
        self.resume("the agent stopped speaking without livekit holding its reply")


def livekit_holds_a_reply(session: Any) -> bool:
    """livekit-agents paused a reply for a possible false interruption (``AgentActivity._paused_speech``,
    pinned in ``tests/test_library_contracts.py``): it will resume or interrupt that reply itself."""
    activity = getattr(session, "_activity", None)
    return getattr(activity, "_paused_speech", None) is not None


def early_pause_for(
    vad_view: VAD, tuning: TurnTuning, *, output: Any, room: bool
) -> tuple[EarlyPause, SessionAudioPause | None] | None:
    """An early pause on ``vad_view`` (tapped here) holding ``output`` (a ``PacedAudioOutput``) or, in a
    room, the session's output (``SessionAudioPause``, to attach to the session). None: no early pause
    (turned off, a VAD without a threshold, or an output that cannot pause)."""
    threshold = getattr(getattr(vad_view, "_opts", None), "activation_threshold", None)
    if threshold is None or tuning.early_pause_speech <= 0:
        return None
    room_output = SessionAudioPause() if room else None
    target = room_output if room_output is not None else output
    if not isinstance(target, (PacedAudioOutput, SessionAudioPause)):
        return None
    early = EarlyPause(
        output=target,
        threshold=float(threshold),
        speech_s=tuning.early_pause_speech,
        hold_s=tuning.early_pause_hold,
        bar=tuning.early_pause_bar or None,  # the first window's own bar (phone 0.3; web: the VAD's)
    )
    tap_vad(vad_view, early.on_inference)
    return early, room_output
