"""``PushSchedule``: when the next frame of a pushed segment may leave (a pure decision, no clock of its own).

Each segment has its own schedule: frame *k* is due at ``anchor + k·frame_s`` and leaves up to ``lead_s``
early (the far end buffers it), so a late tick costs nothing as long as it is less than ``lead_s`` late. A
frame that leaves more than ``max_gap_s − frame_s`` after its slot means the listener's buffer ran dry
mid-segment: an *underrun*; the schedule then restarts from now (no catch-up burst). Pauses, a change of
clock and the gaps between segments restart the schedule (``restart``) without counting.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PushSchedule", "Slot"]

_EPS = 1e-9


@dataclass(frozen=True)
class Slot:
    at: float  # the frame's playout slot (the pacing clock's time)
    underrun: bool  # it left so late the listener's buffer ran dry: the schedule restarted at it


class PushSchedule:
    def __init__(self, *, frame_s: float, max_gap_s: float, lead_s: float) -> None:
        self.frame_s = frame_s
        self.lead_s = lead_s
        self._tolerance = max_gap_s - frame_s
        self._anchor: float | None = None  # slot of frame 0 of the current schedule
        self._sent = 0

    def restart(self) -> None:
        """The next frame starts a new schedule (after a pause, a gap between segments, a clock change)."""
        self._anchor = None

    def due(self, now: float) -> Slot | None:
        """The next frame's slot if it may leave at ``now`` (None: not yet); call ``sent`` once it left."""
        if self._anchor is None:
            self._anchor, self._sent = now, 0
        slot = self._anchor + self._sent * self.frame_s
        if slot > now + self.lead_s + _EPS:
            return None
        if now - slot > self._tolerance + _EPS:
            underrun = self._sent > 0  # the listener's buffer ran dry mid-segment
            self._anchor, self._sent = now, 0  # restart the schedule, never burst
            return Slot(now, underrun)
        return Slot(slot, False)

    def sent(self) -> None:
        self._sent += 1
