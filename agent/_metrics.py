"""Per-reply latency: what the candidate waited for, split by stage.

For each agent reply (an assistant ``ChatMessage``) and the candidate turn it answers:

- ``eou_delay_ms``: VAD end of speech → the session decided the turn was over (endpointing/turn detector)
- ``stt_ms``: VAD end of speech → final transcript
- ``llm_ttft_ms``: ``llm_node`` start → first token (the brain, or OpenAI-compatible LLM)
- ``tts_ttfb_ms``: first text to the TTS → first audio chunk
- ``v2v_ms``: voice-to-voice, VAD end of speech (back-dated by the VAD's silence window) → the first
  20 ms frame left ``PacedAudioOutput`` (its ``playback_started`` time)

The framework fills ``ChatMessage.metrics``; the output stamps ``playback_started`` itself, so v2v includes
every queue up to the transport. Barge-in (candidate starts over the agent → agent audio stops) is
measured from ``user_state_changed`` to the output's clear.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm

__all__ = ["LatencySummary", "TurnLatency", "latency_from_messages", "summarise"]


@dataclass
class TurnLatency:
    eou_delay_ms: float | None = None
    stt_ms: float | None = None
    llm_ttft_ms: float | None = None
    tts_ttfb_ms: float | None = None
    v2v_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eou_delay_ms": self.eou_delay_ms,
            "stt_ms": self.stt_ms,
            "llm_ttft_ms": self.llm_ttft_ms,
            "tts_ttfb_ms": self.tts_ttfb_ms,
            "v2v_ms": self.v2v_ms,
            **self.extra,
        }


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000.0, 1)


def latency_from_messages(reply: llm.ChatMessage, answered: llm.ChatMessage | None) -> TurnLatency:
    """Latency of ``reply``; ``answered`` is the candidate message it responds to (None for the opening
    and check-ins, which have no v2v)."""
    rm: dict[str, Any] = dict(reply.metrics or {})
    um: dict[str, Any] = dict(answered.metrics or {}) if answered is not None else {}
    out = TurnLatency(
        eou_delay_ms=_ms(um.get("end_of_turn_delay")),
        stt_ms=_ms(um.get("transcription_delay")),
        llm_ttft_ms=_ms(rm.get("llm_node_ttft")),
        tts_ttfb_ms=_ms(rm.get("tts_node_ttfb")),
    )
    stopped = um.get("stopped_speaking_at")
    started = rm.get("started_speaking_at")
    if stopped is not None and started is not None:
        out.v2v_ms = _ms(max(0.0, started - stopped))
    if "playback_latency" in rm:
        out.extra["playback_latency_ms"] = _ms(rm["playback_latency"])
    if "e2e_latency" in rm:
        out.extra["framework_e2e_ms"] = _ms(rm["e2e_latency"])
    out.extra["interrupted"] = bool(reply.interrupted)
    return out


@dataclass(frozen=True)
class LatencySummary:
    stage: str
    count: int
    median_ms: float | None
    worst_ms: float | None


STAGES = ("eou_delay_ms", "stt_ms", "llm_ttft_ms", "tts_ttfb_ms", "v2v_ms")


def summarise(rows: Iterable[dict[str, Any]]) -> list[LatencySummary]:
    """Median and worst per stage over rows shaped like ``TurnLatency.as_dict()``."""
    rows = list(rows)
    out = []
    for stage in STAGES:
        vals = [float(r[stage]) for r in rows if r.get(stage) is not None]
        out.append(
            LatencySummary(
                stage=stage,
                count=len(vals),
                median_ms=round(statistics.median(vals), 1) if vals else None,
                worst_ms=round(max(vals), 1) if vals else None,
            )
        )
    return out
