"""Interview progress for the candidate's page: "Question 2 of 4" and the time left.

:func:`progress_of` reads it from the conductor (pure); the handle tells it to the transport when the
interview starts and after every reply the candidate heard (a question counts once it was heard, like the
conductor's own accounting). The browser transport sends it on its events data channel
(``{"type": "progress", ...}``, ``signaling/_events.py``); a LiveKit room carries it as the interviewer's
participant attribute :data:`PROGRESS_ATTRIBUTE` (JSON), next to livekit's own ``lk.agent.state``, so a
page that joins late reads the current value. The phone has no page: nothing is said about progress there.

Wire shape (both transports)::

    {"question": 2, "of": 4, "remaining_s": 540, "finished": false}

``question`` is 0 before the first question is asked; ``remaining_s`` counts down from the plan's time
limit at the moment of sending (the page counts down on its own between updates).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PROGRESS_ATTRIBUTE", "Progress", "progress_of", "publish_progress"]

logger = logging.getLogger("mockline.agent")

PROGRESS_ATTRIBUTE = "mockline.progress"


@dataclass(frozen=True, slots=True)
class Progress:
    question: int  # 1-based number of the question being answered; 0 before the first one
    of: int
    remaining_s: int
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))

    def later(self, seconds: float) -> Progress:
        """The same progress ``seconds`` later (the clock runs on between updates)."""
        left = max(0, round(self.remaining_s - seconds))
        return Progress(question=self.question, of=self.of, remaining_s=left, finished=self.finished)


def progress_of(conductor: Any) -> Progress | None:
    """The conductor's progress, or None for a brain without a plan-driven conductor."""
    plan = getattr(conductor, "plan", None)
    snapshot = getattr(conductor, "snapshot", None)
    elapsed = getattr(conductor, "elapsed", None)
    if plan is None or snapshot is None or elapsed is None:
        return None
    try:
        state = snapshot()
        spent = float(elapsed())
    except Exception:
        logger.exception("could not read the interview's progress")
        return None
    total = len(plan.questions)
    phase = state.get("phase")
    index = int(state.get("index", 0))
    question = 0 if phase == "new" else min(index + 1, total)
    left = max(0, round(plan.time_limit_minutes * 60 - spent))
    return Progress(question=question, of=total, remaining_s=left, finished=phase == "closed")


async def publish_progress(room: Any, progress: Progress, *, timeout_s: float = 5.0) -> None:
    """Set the interviewer's :data:`PROGRESS_ATTRIBUTE` in a LiveKit room (best effort: the page then
    shows the previous value until the next update)."""
    if not room.isconnected():
        return
    try:
        await asyncio.wait_for(
            room.local_participant.set_attributes({PROGRESS_ATTRIBUTE: progress.to_json()}), timeout_s
        )
    except Exception as e:
        logger.warning("could not publish the interview progress", extra={"error": type(e).__name__})
