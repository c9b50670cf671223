"""Charts as inline SVG, drawn on the server: competency bars, a talk/silence timeline, latency bars.

Each function returns markup-safe SVG text with a title for screen readers; no JavaScript is needed to see
them (the interview page's script only makes timeline segments seek the recording).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "Bar",
    "LatencyStages",
    "Segment",
    "competency_bars",
    "latency_bars",
    "latency_legend",
    "talk_timeline",
]

_AGENT = "#5b6b8c"
_CANDIDATE = "#2f8f6b"
_STAGE_COLOURS = {"eou": "#8da0cb", "stt": "#66c2a5", "llm": "#fc8d62", "tts": "#e78ac3"}
_STAGE_NAMES = {
    "eou": "end of utterance",
    "stt": "speech recognition",
    "llm": "first LLM token",
    "tts": "first TTS audio",
}


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    original: float
    effective: float


@dataclass(frozen=True, slots=True)
class Segment:
    speaker: str  # agent | candidate
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class LatencyStages:
    label: str
    eou: float | None
    stt: float | None
    llm: float | None
    tts: float | None
    total: float | None  # voice-to-voice when measured


def _svg(width: int, height: int, title: str, body: list[str], css_class: str) -> Markup:
    t = escape(title)
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" '
        f'aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>{"".join(body)}</svg>'
    )


def competency_bars(bars: Sequence[Bar], *, scale_max: float = 5.0) -> Markup:
    """Horizontal bars on the 1–5 scale; an overridden score shows the original as a dashed outline."""
    label_w, bar_w, row_h, top = 170, 300, 30, 22
    width, height = label_w + bar_w + 60, top + row_h * max(1, len(bars)) + 6
    body = []
    for tick in range(0, int(scale_max) + 1):
        x = label_w + bar_w * tick / scale_max
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 4}" class="grid"/>')
        body.append(f'<text x="{x:.1f}" y="{top - 8}" class="tick" text-anchor="middle">{tick}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h + 6
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" class="label">{escape(bar.label)}</text>'
        )
        w = bar_w * max(0.0, min(bar.effective, scale_max)) / scale_max
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="18" rx="3" fill="{_CANDIDATE}">'
            f"<title>{escape(bar.label)}: {bar.effective:.1f} of {scale_max:.0f}</title></rect>"
        )
        value = f"{bar.effective:.1f}"
        if abs(bar.original - bar.effective) > 1e-9:
            ow = bar_w * max(0.0, min(bar.original, scale_max)) / scale_max
            body.append(
                f'<rect x="{label_w}" y="{y}" width="{ow:.1f}" height="18" rx="3" class="original">'
                f"<title>scorer's original: {bar.original:.1f}</title></rect>"
            )
            value += f" (was {bar.original:.1f})"
        body.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" class="value">{value}</text>')
    return _svg(width, height, "Scores per competency, 1 to 5", body, "chart-bars")


def _tick_step(duration: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if duration / step <= 10:
            return step
    return 3600


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def talk_timeline(segments: Sequence[Segment], *, duration: float) -> Markup:
    """Who spoke when: one lane per speaker; the gaps are silence. Segments carry data-at to seek."""
    label_w, lane_w, lane_h, top = 90, 560, 22, 8
    width, height = label_w + lane_w + 10, top + 2 * (lane_h + 8) + 22
    duration = max(duration, max((s.end for s in segments), default=0.0), 1.0)
    lanes = {"agent": ("Interviewer", _AGENT, top), "candidate": ("Candidate", _CANDIDATE, top + lane_h + 8)}
    body = []
    for name, _colour, y in lanes.values():
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="label">{name}</text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{lane_w}" height="{lane_h}" class="lane"/>')
    for seg in segments:
        lane = lanes.get(seg.speaker)
        if lane is None:
            continue
        x = label_w + lane_w * seg.start / duration
        w = max(1.0, lane_w * (seg.end - seg.start) / duration)
        body.append(
            f'<rect x="{x:.1f}" y="{lane[2]}" width="{w:.1f}" height="{lane_h}" fill="{lane[1]}" '
            f'class="seek" data-at="{seg.start:.2f}"><title>{lane[0]} {_mmss(seg.start)}–{_mmss(seg.end)}'
            f"</title></rect>"
        )
    step = _tick_step(duration)
    axis_y = top + 2 * (lane_h + 8) + 12
    t = 0.0
    while t <= duration + 1e-6:
        x = label_w + lane_w * t / duration
        body.append(f'<text x="{x:.1f}" y="{axis_y}" class="tick" text-anchor="middle">{_mmss(t)}</text>')
        t += step
    return _svg(
        width, height, "Talk and silence timeline of interviewer and candidate", body, "chart-timeline"
    )


def latency_bars(rows: Sequence[LatencyStages]) -> Markup:
    """Per agent reply: stacked stage latencies (ms) with the measured voice-to-voice total on top."""
    left, plot_h, top, bottom = 44, 150, 16, 22
    bar_w, gap = 18, 8
    width = left + max(1, len(rows)) * (bar_w + gap) + 20
    height = top + plot_h + bottom
    totals = [r.total or sum(v or 0.0 for v in (r.eou, r.stt, r.llm, r.tts)) for r in rows]
    peak = max([*totals, 100.0])
    scale = plot_h / peak
    body = []
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h - plot_h * frac
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>')
        body.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" class="tick" text-anchor="end">{peak * frac:.0f}</text>'
        )
    for i, row in enumerate(rows):
        x = left + 6 + i * (bar_w + gap)
        y = top + plot_h
        for stage in ("eou", "stt", "llm", "tts"):
            value = getattr(row, stage)
            if not value:
                continue
            h = value * scale
            y -= h
            body.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" fill="{_STAGE_COLOURS[stage]}">'
                f"<title>{escape(row.label)}: {_STAGE_NAMES[stage]} {value:.0f} ms</title></rect>"
            )
        if row.total:
            ty = top + plot_h - row.total * scale
            body.append(
                f'<line x1="{x - 2}" y1="{ty:.1f}" x2="{x + bar_w + 2}" y2="{ty:.1f}" class="total">'
                f"<title>{escape(row.label)}: voice to voice {row.total:.0f} ms</title></line>"
            )
        body.append(
            f'<text x="{x + bar_w / 2}" y="{top + plot_h + 14}" class="tick" text-anchor="middle">'
            f"{escape(row.label)}</text>"
        )
    return _svg(width, height, "Response latency per agent reply, milliseconds", body, "chart-latency")


def latency_legend() -> Markup:
    """The colour key for :func:`latency_bars`, as an HTML list (readable at any chart width)."""
    items = [
        f'<li><span class="swatch" style="background:{colour}"></span>{_STAGE_NAMES[stage]}</li>'
        for stage, colour in _STAGE_COLOURS.items()
    ]
    items.append('<li><span class="swatch total"></span>voice to voice (measured)</li>')
    return Markup(f'<ul class="legend">{"".join(items)}</ul>')
