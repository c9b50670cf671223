"""What a benchmark caller does, and what it saw, the same for the phone and the browser caller.

A script is a list of steps; each caller records a ``Timeline``: when each clip was said (its voiced part,
on the caller's clock as frames left), when each voiced 20 ms frame of agent audio arrived, and (phone)
when a ``clear`` arrived. The measurements are pure functions of the timeline.

- voice-to-voice: end of the caller's voiced audio → the first voiced agent frame after it.
- barge-in: start of the caller's interruption → the last voiced agent frame before a gap of
  ``GAP_S`` (the agent went quiet); on the phone also → the ``clear`` message.
- backchannel pause: a backchannel during agent speech is followed, within ``FALSE_WINDOW_S``, by a
  gap of ``GAP_S`` in the agent's audio (the agent paused, maybe to resume, or stopped).
- the end of a reply (``AwaitTurn``): the agent spoke after the caller's last words, the transport then
  said its turn ended (WebRTC: the events channel's agent state back to ``listening``; phone: Twilio's
  ``mark`` after the reply's last frame, which our output sends once per played reply) after the last
  stretch of its audio began, and nothing followed for ``settle_s``. Any agent audio followed by quiet is
  not enough: piper's sentence gaps and a reply cut off half-way look the same (``reply_finished``).
- false interruption (turn cut): the agent reply the backchannel landed on was stored *interrupted* by
  the server, its end within ``CUT_WINDOW_S`` of the backchannel. Server turn times are offsets from the
  interview start; they are put on the caller's clock by aligning the greeting's start with the first
  agent audio the caller heard (off by the transport delay, 0-0.4 s, far below the window).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ._voice import Clip

__all__ = [
    "AwaitAudio",
    "AwaitReply",
    "AwaitTurn",
    "Pause",
    "Said",
    "Say",
    "Step",
    "Timeline",
    "backchannel_pauses",
    "barge_ins",
    "false_interruptions",
    "reply_finished",
    "voice_to_voice",
]

GAP_S = 0.2  # silence inside agent speech longer than this means the agent stopped
FALSE_WINDOW_S = 2.0  # a backchannel "stopped the agent" if a gap starts this soon after it began
FRAME_S = 0.02
CUT_WINDOW_S = 6.0  # an interrupted agent turn ending this soon after a backchannel began was cut by it


@dataclass(frozen=True)
class Say:
    clip: Clip
    tag: str  # "answer" | "barge" | "backchannel:<name>"


@dataclass(frozen=True)
class AwaitReply:
    """Silence until agent audio arrived after this step began and then stopped for ``quiet_s``."""

    timeout_s: float = 30.0
    quiet_s: float = 1.2


@dataclass(frozen=True)
class AwaitTurn:
    """Silence until the agent's reply to what the caller said last has finished (``reply_finished``).

    Running out of ``timeout_s`` is counted in ``Timeline.timeouts`` and named in ``Timeline.timed_out``."""

    timeout_s: float = 60.0
    settle_s: float = 1.0


@dataclass(frozen=True)
class AwaitAudio:
    """Silence until agent audio arrives after this step began."""

    timeout_s: float = 30.0


@dataclass(frozen=True)
class Pause:
    seconds: float


Step = Say | AwaitReply | AwaitTurn | AwaitAudio | Pause


@dataclass(frozen=True)
class Said:
    tag: str
    start: float  # clock time of the first voiced sample leaving the caller
    end: float  # clock time just after the last voiced sample left


@dataclass
class Timeline:
    said: list[Said] = field(default_factory=list)
    voiced: list[float] = field(default_factory=list)  # arrival times of voiced agent frames
    # WebRTC: voiced frame's time in ``voiced`` → when its RTP packet reached the caller, before aiortc's
    # jitter buffer (it holds 4 packets) and the decoder: the server-to-caller leg without the caller's own
    # playout buffering
    packet_arrival: dict[float, float] = field(default_factory=dict)
    # WebRTC: every voiced agent frame aiortc decoded, held or not — what a listener that ignores the
    # server's "hold" (or the wire) carries; ``voiced`` leaves out the frames decoded while held, as the
    # join page mutes them (empty on the phone: there ``voiced`` is all of it)
    voiced_wire: list[float] = field(default_factory=list)
    holds: list[tuple[float, bool]] = field(default_factory=list)  # WebRTC: (arrival, held) of "hold"
    clears: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)  # the transport said the agent's turn ended
    ended: float | None = None  # the interview ended (the agent said goodbye and hung up)
    notes: list[tuple[float, str]] = field(default_factory=list)  # what else the transport said (WebRTC
    # captions and agent states), for reading a run afterwards
    timeouts: int = 0  # await steps that ran out of time
    timed_out: list[str] = field(default_factory=list)  # the step and what the caller said before it

    def timeout(self, step: str) -> None:
        self.timeouts += 1
        self.timed_out.append(f"{step} after {self.said[-1].tag if self.said else 'the start'}")

    def since_said(self) -> float:
        """End of the caller's last words (start of the call if none): a reply comes after it."""
        return self.said[-1].end if self.said else float("-inf")

    def last_voiced(self) -> float | None:
        return self.voiced[-1] if self.voiced else None

    def voiced_after(self, t: float) -> float | None:
        i = bisect.bisect_right(self.voiced, t)
        return self.voiced[i] if i < len(self.voiced) else None

    def speaking_at(self, t: float) -> bool:
        """Agent audio arrived within ``GAP_S`` before ``t``."""
        i = bisect.bisect_right(self.voiced, t)
        return i > 0 and t - self.voiced[i - 1] <= GAP_S

    def stop_after(self, t: float, *, until: float | None = None) -> float | None:
        """Arrival time of the last voiced frame after ``t`` that is followed by a gap > ``GAP_S``."""
        i = bisect.bisect_right(self.voiced, t)
        prev = self.voiced[i - 1] if i > 0 else t
        for v in self.voiced[i:]:
            if until is not None and prev > until:
                return None
            if v - prev > GAP_S:
                return prev
            prev = v
        if until is not None and prev > until:
            return None
        return prev


REPLY_GAP_S = 0.8  # quiet in the agent's audio this long starts a new stretch (piper's own gaps are shorter)


def reply_finished(tl: Timeline, *, since: float, now: float, settle_s: float) -> bool:
    """The agent's reply to words that ended at ``since`` has finished by ``now``.

    It spoke after ``since``; an end of turn arrived after the latest stretch of its audio began (a
    reply that went quiet for a while and goes on, or a second reply, needs its own end); and neither
    audio nor an end came for ``settle_s`` since."""
    i = bisect.bisect_right(tl.voiced, since)
    if i == len(tl.voiced):
        return False
    stretch = tl.voiced[i]
    for prev, v in zip(tl.voiced[i:], tl.voiced[i + 1 :], strict=False):
        if v - prev > REPLY_GAP_S:
            stretch = v
    ends = [e for e in tl.ends if e > stretch]
    if not ends:
        return False
    return now - max(ends[-1], tl.voiced[-1]) >= settle_s


def _next_said_start(tl: Timeline, after: float) -> float:
    later = [s.start for s in tl.said if s.start > after]
    return min(later) if later else float("inf")


def voice_to_voice(tl: Timeline) -> list[float]:
    """Milliseconds from the end of each answer to the first agent audio the caller heard after it."""
    out = []
    for s in tl.said:
        if s.tag != "answer":
            continue
        first = tl.voiced_after(s.end)
        if first is not None and first < _next_said_start(tl, s.end):
            out.append((first - s.end) * 1000.0)
    return out


def barge_ins(tl: Timeline) -> tuple[list[float], list[float], int]:
    """(ms to agent audio stopping, ms to ``clear``, trials where the agent was not speaking)."""
    stops, clears, skipped = [], [], 0
    for s in tl.said:
        if s.tag != "barge":
            continue
        if not tl.speaking_at(s.start):
            skipped += 1
            continue
        stop = tl.stop_after(s.start)
        if stop is not None:
            stops.append((stop + FRAME_S - s.start) * 1000.0)
        later = [c for c in tl.clears if c >= s.start]
        if later and later[0] < _next_said_start(tl, s.start):
            clears.append((later[0] - s.start) * 1000.0)
    return stops, clears, skipped


def _backchannels_over_agent(tl: Timeline) -> list[Said]:
    return [s for s in tl.said if s.tag.startswith("backchannel:") and tl.speaking_at(s.start)]


def backchannel_pauses(tl: Timeline) -> dict[str, tuple[int, int]]:
    """Per backchannel kind: (trials where the agent's audio paused or stopped, valid trials)."""
    out: dict[str, tuple[int, int]] = {}
    for s in _backchannels_over_agent(tl):
        kind = s.tag.split(":", 1)[1]
        paused, total = out.get(kind, (0, 0))
        hit = tl.stop_after(s.start, until=s.start + FALSE_WINDOW_S) is not None
        out[kind] = (paused + int(hit), total + 1)
    return out


def false_interruptions(tl: Timeline, turns: list[dict]) -> dict[str, tuple[int, int]]:
    """Per backchannel kind: (trials where the agent's turn was cut, valid trials).

    ``turns``: the server's stored turns in order, with ``speaker``, ``interrupted`` and ``started_at``/
    ``ended_at`` (seconds from the interview start); the first is the greeting."""
    out: dict[str, tuple[int, int]] = {}
    agent = [t for t in turns if t.get("speaker") == "agent" and t.get("started_at") is not None]
    first = tl.voiced[0] if tl.voiced else None
    shift = first - float(agent[0]["started_at"]) if agent and first is not None else None
    for s in _backchannels_over_agent(tl):
        kind = s.tag.split(":", 1)[1]
        cut, total = out.get(kind, (0, 0))
        hit = shift is not None and any(
            t["interrupted"] and s.start - 0.5 <= float(t["ended_at"]) + shift <= s.start + CUT_WINDOW_S
            for t in agent
        )
        out[kind] = (cut + int(hit), total + 1)
    return out
