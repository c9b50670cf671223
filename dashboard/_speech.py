"""Speech metrics (from the scorer's ``ScoreReport.speech_metrics``) as labelled, formatted values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["speech_metrics"]

# key: (label, format) in the order shown; keys the scorer adds later show with a generic label.
_KNOWN: dict[str, tuple[str, str]] = {
    "words_per_minute": ("Speaking rate", "{:.0f} words/min"),
    "talk_ratio": ("Candidate talk share", "{:.0%}"),
    "response_latency_median_s": ("Response latency (median)", "{:.1f} s"),
    "response_latency_p90_s": ("Response latency (90th percentile)", "{:.1f} s"),
    "filler_count": ("Filler words", "{:.0f}"),
    "fillers_per_minute": ("Filler words per minute", "{:.1f}"),
    "long_pause_count": ("Long pauses", "{:.0f}"),
    "interruptions": ("Times the candidate interrupted", "{:.0f}"),
    "candidate_words": ("Candidate words", "{:.0f}"),
    "candidate_speaking_s": ("Candidate speaking time", "{:.0f} s"),
    "agent_speaking_s": ("Interviewer speaking time", "{:.0f} s"),
    "response_count": ("Answers", "{:.0f}"),
}
_HIDDEN = {"long_pause_threshold_s"}


def speech_metrics(metrics: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) pairs for the numbers in ``metrics``; lists and dicts are summarised elsewhere."""
    metrics = metrics or {}
    out = []
    for key, (label, fmt) in _KNOWN.items():
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append((label, fmt.format(value)))
    for key, value in metrics.items():
        if key in _KNOWN or key in _HIDDEN or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out.append((key.replace("_", " ").capitalize(), f"{value:.2f}".rstrip("0").rstrip(".")))
    fillers = metrics.get("fillers")
    if isinstance(fillers, Mapping) and fillers:
        top = ", ".join(f"“{word}” ×{count}" for word, count in list(fillers.items())[:5])
        out.append(("Most used fillers", top))
    return out
