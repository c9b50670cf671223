"""One barge-in trial through LiveKit, judged from what the caller heard.

The caller records when each loud 20 ms frame of the interviewer's track arrived (``LiveKitCaller.loud``).
It starts its interruption at ``started``, right after a loud frame arrived (the interviewer audible then),
and its last frame leaves at ``said_end``. The interviewer's audio *stops* at the last loud frame followed
by at least ``STOPPED_S`` of quiet: longer than the pauses inside one reply (piper pauses ~0.3–0.5 s after a
comma or a sentence, which is why a 300 ms quiet rule saw a reply "end" at its first comma), shorter than the
quiet after a real barge-in, which lasts at least the rest of the caller's sentence and the turn wait.

Outcomes:

- ``stopped``: the figure, ``stop - started`` in ms.
- ``not playing``: no loud frame in the ``AUDIBLE_S`` before the caller started: the interviewer was between
  words or done, so there was nothing to interrupt. Invalid: no figure.
- ``missed``: the interviewer was still talking when the caller's sentence ended (it did not give way, or
  stopped so late that its reply to the interruption followed within ``STOPPED_S``). No figure; counted.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["AUDIBLE_S", "STOPPED_S", "BargeTrial", "judge_barge_in"]

AUDIBLE_S = 0.1  # the interviewer counts as audible at the start if a loud frame arrived this recently
STOPPED_S = 1.0  # quiet this long after a loud frame: the interviewer's audio stopped there

Outcome = Literal["stopped", "not playing", "missed"]


@dataclass(frozen=True, slots=True)
class BargeTrial:
    outcome: Outcome
    stop_ms: float | None = None  # caller starts talking → the interviewer's last loud frame (stopped only)


def judge_barge_in(
    loud: Sequence[float], started: float, said_end: float, *, audible_s: float = AUDIBLE_S,
    stopped_s: float = STOPPED_S,
) -> BargeTrial:  # fmt: skip
    """The trial's outcome from the arrival times of the interviewer's loud frames (ascending), given when
    the caller started and finished talking. ``loud`` must cover at least ``stopped_s`` past ``said_end``."""
    i = bisect.bisect_right(loud, started)
    if i == 0 or started - loud[i - 1] > audible_s:
        return BargeTrial("not playing")
    last = loud[i - 1]
    for t in loud[i:]:
        if t - last >= stopped_s:
            break
        last = t
    if last > said_end:
        return BargeTrial("missed")
    return BargeTrial("stopped", (last - started) * 1000.0)
