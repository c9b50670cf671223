"""``Action``: what the interviewer does next, decided by the ``Conductor`` and phrased by a brain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTION_KINDS", "Action"]

ACTION_KINDS = (
    "greet",  # greeting + first question
    "ask",  # acknowledge + next planned question
    "probe_example",  # very short / abstract answer: ask for a concrete example
    "probe_outcome",  # story without a result: ask how it turned out
    "follow_up",  # adaptive follow-up: harder after a strong answer, easier after a weak one
    "repeat",  # "can you repeat that?"
    "clarify",  # "what do you mean?" (or an empty utterance: "sorry, I didn't catch that")
    "encourage",  # "I don't know": a hint once, then move on kindly
    "redirect",  # off topic: back to the question
    "wrap_up",  # rambling: thank and move on
    "check_in",  # long silence after a question
    "wait",  # thinking pause: "take your time"
    "close",  # thank-you and next steps; ends the interview
)


@dataclass
class Action:
    kind: str
    text: str  # the offline rendering, ready to speak
    instruction: str  # what an LLM should do, in plain words
    question_id: str | None
    ends_interview: bool = False
    # The words the candidate must hear for the action to count as done: the question (or probe, hint)
    # inside the reply, not its lead-in ("Thank you."). Empty: the whole reply. See ``agent.brain.heard``.
    essential: str = ""
    # Bookkeeping for Conductor.commit(); not part of the public contract.
    _next_state: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _base_seq: int = field(default=-1, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "instruction": self.instruction,
            "question_id": self.question_id,
            "ends_interview": self.ends_interview,
            "essential": self.essential,
        }
