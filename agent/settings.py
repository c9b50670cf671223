"""Agent runtime settings (``MOCKLINE_AGENT_`` prefix).

Turn-taking values, and why (an interview is not a customer-service call):

- ``min_endpointing_delay`` 0.9 s (phone 1.0 s): silence after the VAD's end of speech before a clear,
  finished answer is taken as the end of the turn. livekit's 0.5 s default answers people who are still
  composing a sentence; 0.9 s still feels prompt after "...and that's how we shipped it."
- ``max_endpointing_delay`` 3.5 s: the longest the agent waits when the turn detector thinks the candidate
  is not done ("so the first thing I would... hmm"). A 2.5 s thinking pause fits inside it.
- ``turn_detector`` "text" (default): an answer whose transcript trails off ("so the first thing I'd do
  is...", "...and", "um") gets ``max_endpointing_delay``, anything else ``min_endpointing_delay``
  (``agent/_turns.py``, with why livekit's local audio model "eot" is not the default). "vad" uses
  ``min_endpointing_delay`` alone. Either way the brain's ``wait`` action ("hmm, let me think") keeps the
  floor with the candidate: the agent says nothing and the next words continue the same answer.
- ``min_interruption_duration`` 0.8 s (phone 0.9 s): a cough, "mm-hmm" or "right" while the agent speaks
  must not cut it off; a real barge-in ("sorry, can I ask...") lasts longer than that.
- ``false_interruption_timeout`` 1.5 s: if an apparent barge-in is followed by silence, the agent resumes
  (``PacedAudioOutput`` pauses on speech and resumes, so a cough costs a short gap, not the sentence).
- ``preemptive_generation``: on; the brain is deterministic and cheap, and the LLM path saves ~TTFT.
- ``user_away_timeout`` 12 s: after this long of silence while the agent is listening, the interviewer
  checks in ("take your time — would a hint help?").
- Phone: 8 kHz narrow-band audio makes the VAD end speech later and less reliably, so the delays are
  slightly longer. VAD thresholds are the providers' concern (``agent/providers/_vad.py``).
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AgentSettings", "TurnTuning", "get_agent_settings"]


class TurnTuning(BaseSettings):
    """One set of turn-taking values (web or phone)."""

    model_config = SettingsConfigDict(extra="ignore")

    min_endpointing_delay: float = 0.9
    max_endpointing_delay: float = 3.5
    min_interruption_duration: float = 0.8
    min_interruption_words: int = 0
    false_interruption_timeout: float = 1.5


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_AGENT_", extra="ignore", env_nested_delimiter="__")

    # "text": trailing-off transcript → max delay (agent/_turns.py); "eot": livekit's local audio model;
    # "vad": VAD silence + min delay only.
    turn_detector: Literal["text", "eot", "vad"] = "text"
    preemptive_generation: bool = True
    user_away_timeout: float = 12.0
    # Interruptions are ignored for the first seconds of the agent's first words while the candidate's echo
    # canceller adapts (livekit default 3 s). None/0 where there is no echo path (simulate, tests).
    aec_warmup_s: float | None = 3.0
    # Hard cap on one interview's wall-clock length (the plan's time limit is the brain's business).
    max_session_minutes: float = 90.0
    web: TurnTuning = TurnTuning()
    phone: TurnTuning = TurnTuning(
        min_endpointing_delay=1.0,
        max_endpointing_delay=3.8,
        min_interruption_duration=0.9,
    )
    # Where `mockline simulate` and the transports write recordings (relative to the working directory).
    recordings_dir: str = "var/recordings"
    # Persist writes run in a worker thread; this bounds how long shutdown waits for the last ones.
    persist_drain_timeout: float = 10.0

    def tuning(self, *, telephony: bool) -> TurnTuning:
        return self.phone if telephony else self.web


@functools.lru_cache(maxsize=1)
def get_agent_settings() -> AgentSettings:
    return AgentSettings()
