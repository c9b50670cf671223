"""``python -m bench bargein --speech real``: barge-ins spoken by real people, broken down by stage.

The caller answers (espeak, so the agent replies), then speaks one of the real-speech barge clips
(``bench._bargein_clips``: the corpus's short replies and the openings of its spontaneous answers) 0.5,
1.0 or 1.5 s into the reply; the call's first barge-in is 0.3 s into the greeting (the start of a call).
Backchannels are the same as the espeak run's. Per barge-in, on the caller's clock (``perf_counter``,
which on Linux is the same monotonic clock in the server process):

- ``stop``: the caller's first voiced sample (any 10 ms over RMS 300, the bench's definition) → the
  end of the last agent frame it received before a gap (what ``bench bargein`` always reports);
- ``stop_word``: the same from the start of the clip's first word (``BargeClip.word_s``: real recordings
  carry a click or breath 100-230 ms before some first words, which is not the candidate speaking);
  the headline since BENCHMARKS.md "First window";
- ``to_pause``: first voiced sample → the server's output paused (``PacedAudioOutput.pause``; the early
  pause or livekit's, whichever came first), ``word_to_pause`` the same from the first word: on WebRTC
  the server stops sending there (the track is pulled: the next frame after the pause is silence); and
  ``after_pause``: that pause → the last agent frame at the caller (the outbound leg: queued frames,
  Twilio ``clear``, the caller's receive path — on WebRTC, aiortc's jitter buffer holds 4 packets);
- WebRTC, the caller honours the server's "hold" as the join page does (it mutes the agent when the hold
  arrives on the data channel, skipping its jitter buffer): ``stop``/``stop_word``/``after_pause`` are
  what it *hears*; ``stop_word_wire``/``after_pause_wire`` the last agent frame aiortc decoded, held or
  not (the figure before the hold existed), ``stop_word_packet`` when that frame's packet arrived, and
  ``after_pause_hold`` the pause → the hold's arrival (the data-channel leg);
- ``vad``: the audio time silero needs on that clip to make the pause decision (CPU-independent), so
  ``to_pause − vad`` is the inbound leg plus the VAD's lag behind real time.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ._bargein_clips import barge_clips, vad_stages, word_onset_s
from ._calls import rate_of
from ._script import FRAME_S, AwaitAudio, AwaitReply, Pause, Say, Step, Timeline
from ._stats import Dist, dist
from ._voice import answer, backchannels

__all__ = ["RealBargeIn", "analyse", "real_bargein_script", "render"]

INTO_S = (0.5, 1.0, 1.5)  # seconds into an agent reply
GREETING_S = 0.3


def real_bargein_script(*, transport: str, trials: int, backchannel_rounds: int) -> list[Step]:
    rate = rate_of(transport)
    clips = barge_clips(rate)
    steps: list[Step] = [AwaitAudio(timeout_s=90.0), Pause(GREETING_S)]
    steps += [Say(clips[0], "barge"), AwaitReply(timeout_s=45.0)]
    plan = [f"backchannel:{c.name}" for _ in range(backchannel_rounds) for c in backchannels(rate=rate)]
    plan += ["barge"] * trials
    bc = {f"backchannel:{c.name}": c for c in backchannels(rate=rate)}
    barges = 1
    for i, tag in enumerate(plan):
        if tag == "barge":
            clip, barges = clips[barges % len(clips)], barges + 1
        else:
            clip = bc[tag]
        steps += [
            Say(answer(i, rate=rate, speech=True), "answer"),
            AwaitAudio(timeout_s=45.0),
            Pause(INTO_S[i % len(INTO_S)] if tag == "barge" else 1.0),
            Say(clip, tag),
            AwaitReply(timeout_s=45.0),
        ]
    return steps


@dataclass
class RealBargeIn:
    transport: str
    stop: Dist
    stop_word: Dist
    to_pause: Dist
    word_to_pause: Dist
    after_pause: Dist
    # WebRTC: the same stop, at the moment the last agent packet *arrived* at the caller (before aiortc's
    # 4-packet jitter buffer and the decoder; ``Timeline.packet_arrival``)
    stop_word_packet: Dist = field(default_factory=lambda: dist([]))
    after_pause_packet: Dist = field(default_factory=lambda: dist([]))
    # WebRTC: the last agent frame aiortc decoded whether held or not (before the page muted on "hold")
    stop_word_wire: Dist = field(default_factory=lambda: dist([]))
    after_pause_wire: Dist = field(default_factory=lambda: dist([]))
    after_pause_hold: Dist = field(default_factory=lambda: dist([]))  # pause → "hold" at the caller
    # phone: the stop from the first word as the 300-3400 Hz band delivers it (``BargeClip.band_shift_s``)
    stop_band_word: Dist = field(default_factory=lambda: dist([]))
    vad_ms: dict[str, float | None] = field(default_factory=dict)  # clip → pause decision, audio ms
    vad_early_ms: dict[str, float | None] = field(default_factory=dict)
    word_ms: dict[str, float] = field(default_factory=dict)  # clip → its first word, after its first sound
    rows: list[dict[str, Any]] = field(default_factory=list)


def analyse(
    tl: Timeline,
    pauses: list[float],
    transport: str,
    *,
    min_interruption_s: float,
    early_s: float = 0.032,
    early_bar: float | None = None,
) -> RealBargeIn:
    """Not on a running event loop (silero runs on its own one here)."""
    rate = rate_of(transport)
    clips = {c.name: c for c in barge_clips(rate)}
    telephony = transport == "phone"
    vad = {
        n: vad_stages(
            c,
            telephony=telephony,
            min_interruption_s=min_interruption_s,
            early_s=early_s,
            early_bar=early_bar,
        )
        for n, c in clips.items()
    }
    voiced_wire = getattr(tl, "voiced_wire", None)  # (pickles from before it existed)
    wire = dataclasses.replace(tl, voiced=voiced_wire) if voiced_wire else tl
    held_at = sorted(t for t, held in getattr(tl, "holds", []) if held)
    rows = []
    for s in tl.said:
        if s.tag != "barge" or not tl.speaking_at(s.start):
            continue
        stop = tl.stop_after(s.start)
        if stop is None:
            continue
        stop_end = stop + FRAME_S
        name = _clip_at(tl, s.start, clips)
        # the callers stamp the start of the 20 ms frame that holds the clip's first voiced sample
        shift = 0.0 if name is None else word_onset_s(clips[name]) - _frame_start(clips[name])
        i = bisect.bisect_left(pauses, s.start - 0.05)
        pause = pauses[i] if i < len(pauses) and pauses[i] < stop_end + 0.5 else None
        stop_wire = wire.stop_after(s.start)
        wire_end = None if stop_wire is None else stop_wire + FRAME_S
        arrived = getattr(tl, "packet_arrival", {}).get(stop_wire)  # (pickles from before it existed)
        packet_end = None if arrived is None else arrived + FRAME_S
        j = bisect.bisect_left(held_at, pause) if pause is not None else len(held_at)
        hold = held_at[j] if j < len(held_at) and held_at[j] < stop_end + 0.5 else None
        rows.append(
            {
                "clip": name,
                "stop_word_packet_ms": None
                if packet_end is None
                else (packet_end - s.start - shift) * 1000.0,
                "after_pause_packet_ms": None
                if packet_end is None or pause is None
                else (packet_end - pause) * 1000.0,
                "stop_word_wire_ms": None if wire_end is None else (wire_end - s.start - shift) * 1000.0,
                "after_pause_wire_ms": None
                if wire_end is None or pause is None
                else (wire_end - pause) * 1000.0,
                "after_pause_hold_ms": None if hold is None or pause is None else (hold - pause) * 1000.0,
                "stop_ms": (stop_end - s.start) * 1000.0,
                "stop_word_ms": (stop_end - s.start - shift) * 1000.0,
                "stop_band_word_ms": None
                if name is None
                else (stop_end - s.start - shift - clips[name].band_shift_s) * 1000.0,
                "to_pause_ms": None if pause is None else (pause - s.start) * 1000.0,
                "word_to_pause_ms": None if pause is None else (pause - s.start - shift) * 1000.0,
                "after_pause_ms": None if pause is None else (stop_end - pause) * 1000.0,
            }
        )
    return RealBargeIn(
        transport=transport,
        stop=dist(r["stop_ms"] for r in rows),
        stop_word=dist(r["stop_word_ms"] for r in rows),
        to_pause=dist(r["to_pause_ms"] for r in rows if r["to_pause_ms"] is not None),
        word_to_pause=dist(r["word_to_pause_ms"] for r in rows if r["word_to_pause_ms"] is not None),
        stop_word_packet=dist(r["stop_word_packet_ms"] for r in rows),
        after_pause_packet=dist(r["after_pause_packet_ms"] for r in rows),
        after_pause=dist(r["after_pause_ms"] for r in rows if r["after_pause_ms"] is not None),
        stop_word_wire=dist(r["stop_word_wire_ms"] for r in rows) if voiced_wire else dist([]),
        after_pause_wire=dist(r["after_pause_wire_ms"] for r in rows) if voiced_wire else dist([]),
        after_pause_hold=dist(r["after_pause_hold_ms"] for r in rows),
        stop_band_word=dist(r["stop_band_word_ms"] for r in rows) if telephony else dist([]),
        vad_ms={n: v.pause_ms for n, v in vad.items()},
        vad_early_ms={n: v.early_ms for n, v in vad.items()},
        word_ms={n: v.word_ms for n, v in vad.items()},
        rows=rows,
    )


def _frame_start(clip: Any) -> float:
    return int(clip.voiced_bounds()[0] / FRAME_S) * FRAME_S


def _clip_at(tl: Timeline, start: float, clips: dict[str, Any]) -> str | None:
    """Which barge clip was said at ``start``: the script's order, recovered from the said list."""
    barges = [s for s in tl.said if s.tag == "barge"]
    names = list(clips)
    for k, s in enumerate(barges):
        if s.start == start:
            return names[k % len(names)]
    return None


def render(results: list[RealBargeIn]) -> str:
    def fmt(d: Dist) -> str:
        return f"{d.median:.0f} / {d.p95:.0f} / {d.worst:.0f} ({d.n})" if d.n else "–"

    lines = [
        "| ms, median / p95 / worst (n) | " + " | ".join(r.transport for r in results) + " |",
        "| --- |" + " --- |" * len(results),
    ]
    for label, attr in (
        ("first voiced sample → agent audio stops at the caller", "stop"),
        (
            "**first word → agent audio stops at the caller** (WebRTC: muted on the server's hold)",
            "stop_word",
        ),
        (
            "first word → last agent frame aiortc decodes, hold ignored (WebRTC; before the hold)",
            "stop_word_wire",
        ),
        ("first word on the 300-3400 Hz band → agent audio stops (phone)", "stop_band_word"),
        ("first voiced sample → server output paused", "to_pause"),
        ("first word → server output paused (WebRTC: stops sending)", "word_to_pause"),
        ("server output paused → last agent frame at the caller", "after_pause"),
        ("server output paused → last frame decoded, hold ignored (WebRTC)", "after_pause_wire"),
        ("server output paused → the hold arrives (WebRTC data channel)", "after_pause_hold"),
        ("first word → the last agent packet arrives at the caller (WebRTC)", "stop_word_packet"),
        ("server output paused → that packet arrives (WebRTC)", "after_pause_packet"),
    ):
        lines.append(f"| {label} | " + " | ".join(fmt(getattr(r, attr)) for r in results) + " |")
    lines.append("")
    lines.append(
        "Silero's pause decision per clip, audio ms after its first voiced sample (livekit/early;"
        " the first word starts +N ms after that sample):"
    )
    for r in results:
        per = ", ".join(
            f"{n.removeprefix('real:')} {r.vad_ms[n]:.0f}/{r.vad_early_ms[n] or 0:.0f}"
            + (f" (+{r.word_ms[n]:.0f})" if r.word_ms.get(n) else "")
            for n in r.vad_ms
            if r.vad_ms[n] is not None
        )
        lines.append(f"- {r.transport}: {per}")
    return "\n".join(lines)
