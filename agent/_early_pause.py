"""Early pause: hold the agent's audio on the VAD's first windows of speech over it, before livekit decides.

livekit pauses a reply when the VAD's ``speech_duration`` reaches ``min_interruption_duration``, and that
duration stays 0 until the VAD has started speech (``min_speech_duration`` of windows over its
threshold): on real speech that is 160 ms (web) / 192 ms (phone) of audio after silero first hears the
candidate, most of the barge-in budget (BENCHMARKS.md "Barge-in on real speech, broken down").

``EarlyPause`` watches the same VAD stream (``tap_vad`` wraps the session's per-session VAD view) and
pauses the transport's output (``PacedAudioOutput.pause``, which also sends Twilio's ``clear``) as soon
as ``speech_s`` of audio is over the activation threshold while the agent speaks. The pause is only
held, never decided here:

- if the sound goes on, livekit pauses the reply itself a few windows later (its agent state leaves
  "speaking") and owns it from then: words interrupt, a backchannel or a noise resumes it
  (``agent/_backchannel.py``, livekit's false-interruption resume);
- if the sound stops first (a window under the threshold before the VAD started speech: a click, a
  knock) or livekit has not taken over within ``hold_s`` of audio, the output resumes where it paused.

``bar`` (default: the VAD's threshold) is the probability a window needs to count here; a lower bar
than silero's own threshold pauses a soft onset a window sooner (BENCHMARKS.md "Hold on the page"). The
same bar holds the pause (a window under it releases), so a rising onset between the two does not
flicker.

Not during the echo canceller's warm-up (livekit ignores sound over the agent then, and so do we), nor
for a reply that does not allow interruptions. In a LiveKit room the output is the session's own (RoomIO's;
``agent/_pause_wiring.py``).
Decisions are counted in audio windows, not wall time, so a loaded machine changes when they happen but
not what they decide.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from livekit.agents import vad

__all__ = ["EarlyPause", "tap_vad"]

logger = logging.getLogger("mockline.agent")


class EarlyPause:
    def __init__(
        self,
        *,
        output: Any,
        threshold: float,
        speech_s: float,
        hold_s: float,
        window_s: float = 0.032,
        bar: float | None = None,
    ) -> None:
        self._window_s = window_s  # silero: 512 samples at 16 kHz, 256 at 8 kHz
        self._output = output  # the transport's PacedAudioOutput (pause()/resume())
        self._bar = threshold if bar is None else bar
        self._run_s = 0.0  # windows over the bar in a row, before this one (as silero counts its own)
        self._speech_s = speech_s
        self._hold_s = hold_s
        self._session: Any = None
        self._held_s: float | None = None  # audio since our pause, while we hold it
        self._spent = False  # this run of speech already had its early pause
        self.pauses = 0  # early pauses made (for tests and metrics)
        self.resumed = 0  # of which resumed here (the sound stopped before livekit took over)

    def attach(self, session: Any) -> None:
        self._session = session

    @property
    def holding(self) -> bool:
        return self._held_s is not None

    def _agent_interruptible(self) -> bool:
        session = self._session
        if session is None or getattr(session, "agent_state", None) != "speaking":
            return False
        speech = getattr(session, "current_speech", None)
        if speech is None or speech.interrupted or not speech.allow_interruptions:
            return False
        # livekit ignores sound over the agent while the echo canceller warms up (agent_activity.py)
        warming = getattr(session, "_aec_warmup_remaining", 0) > 0
        return not (warming and getattr(session, "_aec_warmup_timer", None) is not None)

    def on_inference(self, ev: vad.VADEvent) -> None:
        """One VAD window. ``raw_accumulated_speech`` is the speech *before* this window (silero sends
        the event, then counts the window)."""
        if ev.type != vad.VADEventType.INFERENCE_DONE:
            return
        window = self._window_s
        over = ev.probability >= self._bar
        run_s, self._run_s = self._run_s, (self._run_s + window if over else 0.0)
        if not over:
            self._spent = False
        if self._held_s is not None:
            self._held_s += window
            if getattr(self._session, "agent_state", None) != "speaking":
                self._held_s = None  # livekit paused (or the reply ended): its call from here
                handed_over = getattr(self._output, "handed_over", None)
                if handed_over is not None:  # an output that can tell whether livekit really holds it
                    handed_over()
            elif (not over and not ev.speaking) or self._held_s >= self._hold_s:
                self._held_s = None
                self.resumed += 1
                logger.debug("early pause released: the sound stopped before an interruption")
                self._output.resume()
            return
        if ev.speaking or not over or self._spent or self._speech_s <= 0:
            return
        if run_s + window + 1e-6 < self._speech_s:
            return
        if not self._agent_interruptible():
            return
        self._held_s = 0.0
        self._spent = True
        self.pauses += 1
        self._output.pause()


class _TappedStream:
    """The VAD stream, unchanged, with each event shown to ``on_event`` before its consumer sees it."""

    def __init__(self, inner: Any, on_event: Any) -> None:
        self._inner = inner
        self._on_event = on_event

    def __getattr__(self, name: str) -> Any:  # push_frame, flush, end_input, aclose, …
        return getattr(self._inner, name)

    def __aiter__(self) -> AsyncIterator[vad.VADEvent]:
        return self

    async def __anext__(self) -> vad.VADEvent:
        ev = await self._inner.__anext__()
        try:
            self._on_event(ev)
        except Exception:  # never break the session's VAD over a pause
            logger.exception("early pause failed")
        return ev


def tap_vad(view: vad.VAD, on_event: Any) -> vad.VAD:
    """Make ``view`` (a per-session copy, ``agent._views.session_view``) show its events to ``on_event``."""
    make = view.stream
    view.stream = lambda: _TappedStream(make(), on_event)  # type: ignore[method-assign,assignment,return-value]
    return view
