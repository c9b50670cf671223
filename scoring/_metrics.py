"""Speech metrics from the timed transcript: pace, fillers, pauses, talk ratio, response latency, barge-ins.

All times are seconds from the interview start as stored on ``TranscriptTurn``. Turn-level timing is all we
have (no word timings), so "long pauses" are the silences between consecutive candidate turns that no agent
turn separates (the candidate stopped, the endpointing committed a turn, and they carried on), longer than
``LONG_PAUSE_S``. Percentiles use linear interpolation between closest ranks.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ._snapshot import Turn
from ._text import tokens

__all__ = ["FILLERS", "LONG_PAUSE_S", "count_fillers", "percentile", "speech_metrics"]

LONG_PAUSE_S = 3.0

# "like" is only a filler where it is set off by a pause (a comma, the start of a sentence) or doubled;
# "I'd like to" and "looks like" are not fillers.
FILLERS: dict[str, re.Pattern[str]] = {
    "um": re.compile(r"\b(?:um+|umm+|erm+|em)\b", re.I),
    "uh": re.compile(r"\b(?:uh+|er+|ah+)\b", re.I),
    "like": re.compile(r"(?:^|[,.!?;]\s*)like\b|\blike,|\blike\s+like\b", re.I),
    "you know": re.compile(r"\byou know\b(?!\s+(?:how|what|why|when|where|that|if|whether)\b)", re.I),
    "sort of": re.compile(r"\bsort of\b", re.I),
    "kind of": re.compile(r"\bkind of\b(?!\s+(?:a|an|the)\b)", re.I),
    "basically": re.compile(r"\bbasically\b", re.I),
    "actually": re.compile(r"\bactually\b", re.I),
    "literally": re.compile(r"\bliterally\b", re.I),
    "i mean": re.compile(r"\bi mean\b(?!\s+(?:that|it)\b)", re.I),
}


def count_fillers(text: str) -> Counter[str]:
    return Counter({name: n for name, rx in FILLERS.items() if (n := len(rx.findall(text)))})


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def speech_metrics(turns: Sequence[Turn]) -> dict[str, Any]:
    """The ``ScoreReport.speech_metrics`` dictionary for one interview."""
    ordered = sorted(turns, key=lambda t: (t.start, t.seq))
    cand = [t for t in ordered if t.speaker == "candidate" and t.text.strip()]
    agent = [t for t in ordered if t.speaker == "agent"]

    words = sum(len(tokens(t.text)) for t in cand)
    cand_time = sum(t.duration for t in cand)
    agent_time = sum(t.duration for t in agent)
    fillers: Counter[str] = Counter()
    for t in cand:
        fillers.update(count_fillers(t.text))
    filler_total = sum(fillers.values())

    pauses: list[dict[str, Any]] = []
    latencies: list[float] = []
    for prev, nxt in itertools.pairwise(ordered):
        gap = nxt.start - prev.end
        if prev.speaker == "candidate" and nxt.speaker == "candidate" and gap > LONG_PAUSE_S:
            pauses.append({"after_turn_id": prev.id, "start": _r(prev.end), "duration_s": _r(gap)})
        if prev.speaker == "agent" and nxt.speaker == "candidate" and not prev.interrupted:
            latencies.append(max(0.0, gap))

    minutes = cand_time / 60.0
    return {
        "candidate_words": words,
        "candidate_speaking_s": _r(cand_time),
        "agent_speaking_s": _r(agent_time),
        "words_per_minute": _r(words / minutes if minutes > 0 else None, 1),
        "filler_count": filler_total,
        "fillers": dict(sorted(fillers.items(), key=lambda kv: (-kv[1], kv[0]))),
        "fillers_per_100_words": _r(100.0 * filler_total / words if words else None),
        "fillers_per_minute": _r(filler_total / minutes if minutes > 0 else None),
        "long_pause_threshold_s": LONG_PAUSE_S,
        "long_pauses": pauses,
        "long_pause_count": len(pauses),
        "talk_ratio": _r(cand_time / (cand_time + agent_time) if cand_time + agent_time > 0 else None, 3),
        "response_latency_median_s": _r(percentile(latencies, 50)),
        "response_latency_p90_s": _r(percentile(latencies, 90)),
        "response_count": len(latencies),
        "interruptions": sum(1 for t in agent if t.interrupted),
    }
