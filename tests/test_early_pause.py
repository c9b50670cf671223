"""The early pause: the agent's audio is held on the VAD's first windows of speech over it, and released
when the sound stops before livekit decides it is an interruption (``agent/_early_pause.py``).

Driven with silero-shaped VAD events (one per 32 ms window) against a session and an output that only
record what happens; the session-level behaviour (backchannels, noise, real barge-ins) is covered by
``tests/test_agent_turns_backchannel.py`` and the heard-accounting tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from livekit.agents import vad

from agent import AgentSettings
from agent._early_pause import EarlyPause, tap_vad

pytestmark = pytest.mark.unit


@dataclass
class Output:
    calls: list[str] = field(default_factory=list)

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")


@dataclass
class Speech:
    interrupted: bool = False
    allow_interruptions: bool = True


@dataclass
class Session:
    agent_state: str = "speaking"
    current_speech: Any = field(default_factory=Speech)
    _aec_warmup_remaining: float = 0.0
    _aec_warmup_timer: Any = None


class Mic:
    """Feeds windows the way silero reports them: the event carries the speech counted *before* it."""

    def __init__(self, early: EarlyPause) -> None:
        self.early = early
        self.run = 0.0
        self.speaking = False

    def window(self, p: float) -> None:
        self.early.on_inference(
            vad.VADEvent(
                type=vad.VADEventType.INFERENCE_DONE,
                samples_index=0,
                timestamp=0.0,
                speech_duration=0.0,
                silence_duration=0.0,
                probability=p,
                speaking=self.speaking,
                raw_accumulated_speech=self.run,
            )
        )
        self.run = self.run + 0.032 if p >= 0.5 else 0.0

    def say(self, *ps: float) -> None:
        for p in ps:
            self.window(p)


def make(
    session: Session | None = None,
    *,
    telephony: bool = False,
    speech_s: float | None = None,
    bar: float | None = None,
) -> tuple[Session, Output, Mic]:
    """The product's early pause (``AgentSettings`` defaults for the transport) unless ``speech_s``/``bar``
    (silero's threshold is 0.5 here)."""
    session = session or Session()
    out = Output()
    tuning = AgentSettings().tuning(telephony=telephony)
    early = EarlyPause(
        output=out,
        threshold=0.5,
        speech_s=tuning.early_pause_speech if speech_s is None else speech_s,
        hold_s=tuning.early_pause_hold,
        bar=(tuning.early_pause_bar or None) if bar is None else bar,
    )
    early.attach(session)
    return session, out, Mic(early)


@pytest.mark.parametrize("telephony", [False, True], ids=["webrtc", "phone"])
def test_the_agent_pauses_on_the_first_window_of_speech_over_it_and_livekit_takes_it_from_there(
    telephony: bool,
) -> None:
    session, out, mic = make(telephony=telephony)
    mic.say(0.1, 0.29)
    assert out.calls == []
    mic.say(0.9)  # silero's first 32 ms window over the bar: the candidate is talking
    assert out.calls == ["pause"]
    mic.say(0.95)
    assert out.calls == ["pause"]
    session.agent_state = "listening"  # livekit paused the reply itself: its decision from now on
    mic.say(0.9, 0.1, 0.1, 0.1)
    assert out.calls == ["pause"]
    assert not mic.early.holding


def test_when_the_agent_stops_speaking_under_a_hold_the_output_is_asked_whether_livekit_has_it() -> None:
    # a room's output (agent/_pause_wiring.py) stays paused until resumed: it checks livekit's own hold
    session, out, mic = make()
    asked: list[str] = []
    out.handed_over = lambda: asked.append("handed over")  # type: ignore[attr-defined]
    mic.say(0.9)
    session.agent_state = "listening"
    mic.say(0.9)
    assert out.calls == ["pause"] and asked == ["handed over"] and not mic.early.holding


def test_a_click_pauses_the_agent_for_a_moment_and_it_goes_on_where_it_stopped() -> None:
    _session, out, mic = make()
    mic.say(0.9, 0.2)
    assert out.calls == ["pause", "resume"]
    assert mic.early.resumed == 1


def test_each_new_sound_over_the_agent_gets_its_own_pause_and_release() -> None:
    _session, out, mic = make()
    mic.say(0.9, 0.2, 0.9, 0.1)
    assert out.calls == ["pause", "resume", "pause", "resume"]


def test_on_the_second_window_setting_a_single_window_over_the_threshold_does_not_pause_the_agent() -> None:
    _session, out, mic = make(speech_s=0.064)
    mic.say(0.9, 0.2, 0.9, 0.1)
    assert out.calls == []
    mic.say(0.9, 0.9)
    assert out.calls == ["pause"]


def test_on_the_phone_a_soft_onset_under_silero_s_threshold_pauses_the_agent_a_window_sooner() -> None:
    """A breathy "He": silero's probability climbs through 0.3-0.55 for a window before it crosses its
    threshold; the phone's bar (0.3) pauses there, and the climb does not release it."""
    _session, out, mic = make(telephony=True)
    mic.say(0.05, 0.35)
    assert out.calls == ["pause"]
    mic.say(0.45, 0.7, 0.9)
    assert out.calls == ["pause"]


def test_on_the_web_the_first_window_needs_silero_s_own_threshold() -> None:
    _session, out, mic = make(telephony=False)
    mic.say(0.05, 0.35, 0.45)
    assert out.calls == []
    mic.say(0.7)
    assert out.calls == ["pause"]


def test_noise_under_the_bar_pauses_nothing() -> None:
    """The repo's hiss, hum, cough, knock and the clicks before first words stay under 0.11 (BENCHMARKS.md
    "Hold on the page"): nothing of that pauses the agent, on the phone's lower bar either."""
    _session, out, mic = make(telephony=True)
    mic.say(*[0.02, 0.11, 0.07, 0.29, 0.1] * 10)
    assert out.calls == []


def test_a_lone_soft_window_is_released_when_the_sound_stops() -> None:
    _session, out, mic = make(telephony=True)
    mic.say(0.31, 0.12)
    assert out.calls == ["pause", "resume"]


def test_speech_while_the_agent_is_listening_pauses_nothing() -> None:
    _session, out, mic = make(Session(agent_state="listening"))
    mic.say(0.9, 0.9, 0.9)
    assert out.calls == []


def test_a_reply_that_does_not_allow_interruptions_is_not_paused() -> None:
    _session, out, mic = make(Session(current_speech=Speech(allow_interruptions=False)))
    mic.say(0.9, 0.9, 0.9)
    assert out.calls == []


def test_no_early_pause_while_the_echo_canceller_warms_up() -> None:
    _session, out, mic = make(Session(_aec_warmup_remaining=2.0, _aec_warmup_timer=object()))
    mic.say(0.9, 0.9, 0.9)
    assert out.calls == []


def test_a_hold_livekit_never_takes_over_is_released() -> None:
    _session, out, mic = make()
    mic.say(*[0.9] * 20)  # livekit never pauses (say its rule needs words): the agent must not stay silent
    assert out.calls == ["pause", "resume"]


async def test_the_tapped_vad_shows_every_event_and_passes_it_on_unchanged() -> None:
    seen: list[Any] = []
    events = [vad.VADEvent(type=vad.VADEventType.INFERENCE_DONE, samples_index=i, timestamp=0.0,
                           speech_duration=0.0, silence_duration=0.0) for i in range(3)]  # fmt: skip

    class Stream:
        def __init__(self) -> None:
            self.pushed: list[Any] = []
            self._it = iter(events)

        def push_frame(self, frame: Any) -> None:
            self.pushed.append(frame)

        async def __anext__(self) -> Any:
            try:
                return next(self._it)
            except StopIteration:
                raise StopAsyncIteration from None

    class VAD:
        def stream(self) -> Stream:
            return Stream()

    stream = tap_vad(VAD(), seen.append).stream()  # type: ignore[arg-type]
    stream.push_frame("frame")
    got = [ev async for ev in stream]
    assert got == events and seen == events and stream.pushed == ["frame"]


async def test_the_livekit_and_silero_names_the_early_pause_reads_are_still_there() -> None:
    """Contract: the VAD's threshold (silero keeps it in ``_opts``) and the session's echo-canceller
    warm-up state, which the early pause reads as livekit's own interruption rule does."""
    from livekit.agents import AgentSession

    from agent.providers import load_vad

    silero = load_vad(telephony=True)
    assert silero._opts.activation_threshold == pytest.approx(0.55)  # type: ignore[attr-defined]
    session = AgentSession(aec_warmup_duration=3.0)
    assert session._aec_warmup_remaining == pytest.approx(3.0)
    assert session._aec_warmup_timer is None
    await session.aclose()
