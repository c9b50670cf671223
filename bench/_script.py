"""What a benchmark caller does, and what it saw, the same for the phone and the browser caller.

A script is a list of steps; each caller records a ``Timeline``: when each clip was said (its voiced part,
on the caller's clock as frames left), when each voiced 20 ms frame of agent audio arrived, and (phone)
when a ``clear`` arrived. The measurements are pure functions of the timeline.

- voice-to-voice: end of the caller's voiced audio → the first voiced agent frame after it.
- barge-in: start of the caller's interruption → the last voiced agent frame before a gap of
  ``GAP_S`` (the agent went quiet); on the phone also → the ``clear`` message.
- backchannel pause: a backchannel during agent speech is followed, within ``FALSE_WINDOW_S``, by a
  gap of ``GAP_S`` in the agent's audio (the agent paused, maybe to resume, or stopped).
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
    "Pause",
    "Said",
    "Say",
    "Step",
    "Timeline",
    "backchannel_pauses",
    "barge_ins",
    "false_interruptions",
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
class AwaitAudio:
    """Silence until agent audio arrives after this step began."""

    timeout_s: float = 30.0


@dataclass(frozen=True)
class Pause:
    seconds: float


Step = Say | AwaitReply | AwaitAudio | Pause


@dataclass(frozen=True)
class Said:
    tag: str
    start: float  # clock time of the first voiced sample leaving the caller
    end: float  # clock time just after the last voiced sample left


@dataclass
class Timeline:
    said: list[Said] = field(default_factory=list)
    voiced: list[float] = field(default_factory=list)  # arrival times of voiced agent frames
    clears: list[float] = field(default_factory=list)
    timeouts: int = 0  # await steps that ran out of time

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
