"""``TurnStarts``: when did a candidate turn begin? When the speech whose words opened it began.

livekit stamps a user turn with the first voice activity since the last committed turn. Sound that never
became words - an echo, a cough or an "mm-hmm" over the agent (withheld by ``agent/_backchannel.py``),
speech in the echo canceller's warm-up - starts that clock too, and nothing resets it until a turn is
committed, so a turn that began at 89.1 s was stored as starting at 70.7 s.

Here the first final transcript with words after a committed turn opens the next turn, and the turn
starts where that transcript's speech started: the recogniser's own start of speech when it reports one
(``WhisperSTT``'s segments do); otherwise the session's voice activity, kept as runs
(``user_state_changed``: "speaking" carries the backdated start of speech, "listening" its backdated end),
gives it: the run whose end matches the transcript's end of speech (livekit's ``StreamAdapter``
transcribes a run after it ended, maybe after the next began), else the run in progress or last started
when the transcript arrived. Pure bookkeeping, no I/O; times are ``time.time()`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TurnStarts"]

MAX_RUNS = 64
MATCH_S = 0.5  # how far a transcript's end of speech may be from its run's end (two VAD streams' jitter)


@dataclass
class _Run:
    start: float
    end: float | None = None


class TurnStarts:
    def __init__(self) -> None:
        self._runs: list[_Run] = []
        self._turn_start: float | None = None

    def speech_started(self, at: float) -> None:
        if self._runs and self._runs[-1].end is None:
            return  # still the same run
        self._runs.append(_Run(start=at))
        del self._runs[:-MAX_RUNS]

    def speech_ended(self, at: float) -> None:
        if self._runs and self._runs[-1].end is None:
            self._runs[-1].end = max(at, self._runs[-1].start)

    def words(
        self, *, arrived_at: float, speech_start: float | None = None, speech_end: float | None = None
    ) -> None:
        """A final transcript with words reached the session (it will be part of the next turn).
        ``speech_start``/``speech_end``: the recogniser's own times for that speech, when it gives them."""
        if self._turn_start is not None:
            return
        if speech_start is not None:
            self._turn_start = speech_start
            return
        run = self._run_for(arrived_at, speech_end)
        if run is not None:
            self._turn_start = run.start

    def take(self) -> float | None:
        """The start of the turn being committed (None when unknown); the next words open a new one."""
        start, self._turn_start = self._turn_start, None
        return start

    def _run_for(self, arrived_at: float, speech_end: float | None) -> _Run | None:
        if speech_end is not None:
            ended = [r for r in self._runs if r.end is not None and r.start <= speech_end + MATCH_S]
            if ended:
                best = min(ended, key=lambda r: abs((r.end or 0.0) - speech_end))
                if abs((best.end or 0.0) - speech_end) <= MATCH_S:
                    return best
        started = [r for r in self._runs if r.start <= arrived_at]
        return started[-1] if started else None
