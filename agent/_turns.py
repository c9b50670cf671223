"""Turn-taking: the session's ``TurnHandlingOptions`` and the end-of-turn detectors we can plug in.

``TextTurnDetector`` (default) reads the candidate's transcript so far: an utterance that trails off
("so the first thing I would do is...", "...and", "um") is unlikely to be the end of the answer, so the
session waits ``max_endpointing_delay`` instead of ``min_endpointing_delay`` before replying. It is
deterministic, costs microseconds and works the same on 8 kHz phone audio.

Why not the audio model by default: livekit's local ``turn-detector-v1-mini`` (``livekit-local-inference``)
runs offline, but on our espeak-ng and piper test voices it did not separate trailing-off from finished
sentences (P(end) 0.07-0.63 for both, no gap between the groups), so we could not verify it here; it stays
available as ``MOCKLINE_AGENT_TURN_DETECTOR=eot`` for real voices.
"""

from __future__ import annotations

import re
from typing import Any

from livekit.agents import llm
from livekit.agents.voice.turn import TurnHandlingOptions

from .settings import AgentSettings

__all__ = [
    "TextTurnDetector",
    "build_turn_detector",
    "end_of_turn_probability",
    "last_user_text",
    "turn_handling",
]

# Words a finished English sentence almost never ends on (conjunctions, articles, possessives, a few
# prepositions and auxiliaries, fillers); words that often end sentences ("it", "that", "with", "do") are
# left out on purpose. Whisper also writes a trailing "..." or "," when speech stops mid-phrase.
_DANGLING = frozenset(
    """
    and or but because although though whereas if than whether
    the a an my our your their
    to of into between
    is are was were am would could should will must
    um uh er erm hmm
    """.split()
)
_TRAILING = re.compile(r"(\.\.\.|…|,|-|—|:)\s*$")
_WORD = re.compile(r"[a-z']+")


class TextTurnDetector:
    """A livekit turn detector (``_TurnDetector`` protocol) over the last candidate message's text."""

    def __init__(self, *, unlikely: float = 0.5) -> None:
        self._unlikely = unlikely

    @property
    def model(self) -> str:
        return "trailing-words"

    @property
    def provider(self) -> str:
        return "mockline"

    async def unlikely_threshold(self, language: Any) -> float | None:
        return self._unlikely

    async def supports_language(self, language: Any) -> bool:
        return language is None or str(language).lower().startswith("en")

    async def predict_end_of_turn(
        self,
        chat_ctx: llm.ChatContext,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
    ) -> float:
        return end_of_turn_probability(last_user_text(chat_ctx))


def end_of_turn_probability(text: str) -> float:
    """0.1 when the utterance trails off, 0.9 when it could be a finished answer."""
    text = text.strip()
    if not text:
        return 0.9
    if _TRAILING.search(text):
        return 0.1
    words = _WORD.findall(text.lower())
    if words and words[-1] in _DANGLING:
        return 0.15
    return 0.9


def last_user_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return item.text_content or ""
    return ""


def build_turn_detector(settings: AgentSettings) -> Any:
    """The detector ``settings.turn_detector`` names (None: VAD silence alone)."""
    if settings.turn_detector == "text":
        return TextTurnDetector()
    if settings.turn_detector == "eot":
        from livekit.agents.inference.eot import TurnDetector
        from livekit.local_inference import init_eot

        init_eot()  # load the weights now (~0.2 s), not on the first turn
        return TurnDetector(version="v1-mini")
    if settings.turn_detector == "smart":
        from ._smart_turn import SmartTurn

        return SmartTurn()  # loads the model now (~0.1 s); sessions call .listen(input)
    return None


def turn_handling(
    settings: AgentSettings, *, telephony: bool, turn_detector: Any = None
) -> TurnHandlingOptions:
    """The session's turn-taking options; values and reasons are in ``agent.settings``."""
    t = settings.tuning(telephony=telephony)
    return TurnHandlingOptions(
        turn_detection=turn_detector if turn_detector is not None else "vad",
        endpointing={
            "mode": "fixed",
            "min_delay": t.min_endpointing_delay,
            "max_delay": t.max_endpointing_delay,
        },
        interruption={
            "enabled": True,
            "mode": "vad",
            "min_duration": t.min_interruption_duration,
            "min_words": t.min_interruption_words,
            "false_interruption_timeout": t.false_interruption_timeout,
            "resume_false_interruption": True,
        },
        preemptive_generation={
            "enabled": settings.preemptive_generation,
            "preemptive_tts": settings.preemptive_generation and settings.preemptive_tts,
        },
    )
