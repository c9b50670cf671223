"""The end-of-turn options side by side on the real-speech corpus, without a call: what each would wait.

For every decision point of every corpus answer (each pause inside it, and its end) we take what a
session has at that moment: the audio up to the end of speech (16 kHz, and the 8 kHz μ-law phone version
upsampled), the transcript so far, made the way a session makes it (whisper tiny.en on each stretch of
speech between pauses the VAD splits on, >= 0.6 s), and the pauses of this answer the candidate has
already come back from. Each option turns that into a wait (seconds of silence after the end of speech
before the turn ends). A pause inside an answer is *cut* when the wait is shorter than the pause; at the
end of an answer the wait is the endpointing part of the response time.

The corpus is split in two so that a rule tuned on it can be checked on answers it was not tuned on
(``HELD_OUT``): by speaker for the spontaneous answers and short replies (the meeting speaker and three
short phrases are tuning data, JFK and two other short phrases are held out) and by answer for the
LibriVox reader (``sentence-pauses`` and ``thinking-pauses`` tune; ``hesitations`` — other sentences
first, other pause layout, mid-sentence stops — is held out). Every option's parameters were chosen on
the tuning part; the report gives both parts and the whole.

Options (``context`` is ``agent._turns.decide``: quick / answer / hold):
- ``words``: the rule before issue 13 (trailing word → ``max_delay``, else ``min_delay``).
- ``smart`` / ``eot``: Smart Turn v3.2 (last 8 s) / LiveKit's turn detector (``livekit-local-inference``,
  last 1.2 s) after the trailing-word rule: P < 0.5 → ``max_delay``, else ``min_delay``.
- ``context``: the context rule, no audio model.
- ``context+short``: + Smart Turn on short turns (<= 6 words): one that does not sound finished gets the
  answer wait (the rule shipped before ``rhythm``).
- ``context+finish``: ``context+short``, and a longer turn that sounds clearly finished (P >= 0.9) waits
  only 1.2 s (a faster reply after long answers, if the model could tell the end from a pause).
- ``context+both``: as ``context+finish``, but only when both audio models say finished (>= 0.9).
- ``context+unfinished``: ``context+short``, and a longer turn that sounds clearly unfinished (P < 0.15)
  is held ``max_delay``.
- ``runtime``: ``context+short`` with an answer wait that grows with how long the answer has run
  (1.5 s, + 1 s per 20 s of answer, up to ``max_delay``).
- ``rhythm`` (shipped): ``context+short`` with the preface rule, and a finished sentence inside an
  answer waits at least ``answer_pause_rhythm`` (1.75) × the longest pause this candidate has already come
  back from in this answer (up to ``max_delay``): a speaker who has paused 2 s and gone on is given room
  for a longer pause next time. ``rhythm (no preface)`` without the preface rule, ``rhythm x1.25`` and
  ``rhythm x2`` with other factors.
- ``context+short+preface``: ``context+short``, and a short turn to an open question that opens like an
  account ("And so...", "Well,", "Okay.") waits like an answer.
- ``rhythm@1.5``: ``rhythm`` on a 1.5 s answer wait (faster replies to fluent answers).
- ``rhythm+extend P<0.5`` / ``P<0.2``: ``rhythm``, and a finished sentence inside a long turn that Smart
  Turn hears as unfinished (P below the bound) waits up to the hold: the audio model asked whether a
  thinker keeps the floor after the answer wait. (On this corpus Smart Turn scores the sentence, not what
  follows it: the same sentence gets the same P at a sentence pause, a thinking pause and an answer's end.)

``--smart-tail S`` (default 0): Smart Turn hears S seconds of what follows the end of speech (the pause's
own audio; digital silence after an answer's end), as a session's tap does when the verdict comes a
little into the pause. It says finished much more readily then: "We had a long discussion about" on the
phone band is P 0.11 at the end of speech, 0.66 after 0.35 s of the pause and 0.98 after 0.6 s
(BENCHMARKS.md, "A short first stretch that stops on a preposition").

The wait floor is swept last: ``rhythm`` for each answer wait in ``FLOOR_WAITS`` × factor in
``FLOOR_FACTORS``, with the 2-4 s pauses cut or kept by less than ``MARGIN_S`` (a wait equal to a pause
is a cut on a real transport). Pause lengths are the corpus's whole silences (``tests/audio/corpus.py``),
so the buckets are by what was measured: a nominal 1.5 s pause is up to 1.57 s, a 4 s one 4.09 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptionsResult", "render", "run_turn_options"]

SPLIT_S = 0.6  # the VAD's min_silence_duration on the web: shorter pauses do not end a segment
QUESTION = "Tell me about a project you are proud of. What was your part in it?"
HELD_OUT = frozenset({"hesitations", "jfk", "jfk+thinking", "cards_003", "something"})
FINISH_S = 1.2
BUCKETS = ("<0.8 s", "0.8-1.6 s", "2-2.6 s", "3-4.1 s", "5-6.6 s")
MARGIN_S = 0.25  # a wait this close to the pause is a coin toss on a real transport


@dataclass
class Point:
    answer: str
    kind: str  # the answer's kind
    split: str  # "tune" or "held-out"
    pause_kind: str  # "end" or the pause's kind
    length_s: float  # pause length (0 at the end)
    at_s: float  # how long the answer has run at this end of speech
    text: str  # transcript so far
    before: tuple[float, ...]  # pauses >= SPLIT_S in this answer the speaker came back from
    p_smart: float = 0.0
    p_eot: float = 1.0


@dataclass
class OptionsResult:
    band: str
    # option → split ("tune", "held-out", "all") → bucket → [cut, pauses]
    cuts: dict[str, dict[str, dict[str, list[int]]]] = field(default_factory=dict)
    # option → split → "answer" / "short" → median wait at the end (long and medium answers together)
    end_wait: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    # option → answer wait → split → bucket or "end answer"/"end short"
    sweep: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # "answer wait × rhythm factor" → the "all" split's cuts by bucket and median waits at the end
    floor: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)


def bucket(length_s: float) -> str:
    """By the whole silence the corpus labels (a nominal 1.5 s pause measures up to 1.57 s, 4 s 4.09 s)."""
    if length_s < 0.8:
        return "<0.8 s"
    if length_s <= 1.75:
        return "0.8-1.6 s"
    if length_s <= 2.75:
        return "2-2.6 s"
    if length_s <= 4.25:
        return "3-4.1 s"
    return "5-6.6 s"


def thinking(length_s: float) -> bool:
    """A thinking pause "up to 4 s" (the issue's target): 2-4.1 s of whole silence on this corpus."""
    return bucket(length_s) in BUCKETS[2:4]


def _points(answer: Any, transcribe: Any) -> list[Point]:
    """Decision points of one answer, with transcripts of each VAD segment."""
    audio = answer.samples.astype(np.float32) / 32768.0
    rate = answer.rate
    splits = [p for p in answer.pauses if p.length_s >= SPLIT_S]
    split = "held-out" if answer.name in HELD_OUT else "tune"
    points: list[Point] = []
    text, seg_start, before = "", 0.0, list[float]()
    for p in [*splits, None]:
        end = p.start_s if p is not None else answer.duration_s
        seg = audio[int(seg_start * rate) : int(end * rate)]
        text = f"{text} {transcribe(seg)}".strip()
        points.append(
            Point(
                answer=answer.name,
                kind=answer.kind,
                split=split,
                pause_kind=p.kind if p is not None else "end",
                length_s=p.length_s if p is not None else 0.0,
                at_s=end,
                text=text,
                before=tuple(before),
            )
        )
        if p is not None:
            seg_start = p.end_s
            before.append(p.length_s)
    return points


Rule = Callable[[Point, Any], float]


def _context(pt: Point, tuning: Any, *, short_audio: bool = True, prefaces: bool = False) -> Any:
    from agent._turns import decide, needs_audio

    finished = pt.p_smart if short_audio and needs_audio(pt.text) else None
    return decide(question=QUESTION, answer=pt.text, finished=finished, prefaces=prefaces)


def _long(pt: Point) -> bool:
    from agent._turns import needs_audio

    return not needs_audio(pt.text)


def _words(pt: Point, t: Any) -> float:
    from agent._turns import trails_off

    return t.max_endpointing_delay if trails_off(pt.text) else t.min_endpointing_delay


def _audio(model: str) -> Rule:
    def rule(pt: Point, t: Any) -> float:
        from agent._turns import trails_off

        p = pt.p_smart if model == "smart" else pt.p_eot
        return t.max_endpointing_delay if trails_off(pt.text) or p < 0.5 else t.min_endpointing_delay

    return rule


def _short(prefaces: bool) -> Rule:
    def rule(pt: Point, t: Any) -> float:
        return float(_context(pt, t, prefaces=prefaces).seconds(t))

    return rule


def _finish(both: bool) -> Rule:
    def rule(pt: Point, t: Any) -> float:
        v = _context(pt, t)
        sure = pt.p_smart >= 0.9 and (pt.p_eot >= 0.9 if both else True)
        if v.wait == "answer" and _long(pt) and sure:
            return min(FINISH_S, v.seconds(t))
        return float(v.seconds(t))

    return rule


def _unfinished(pt: Point, t: Any) -> float:
    v = _context(pt, t)
    if v.wait == "answer" and _long(pt) and pt.p_smart < 0.15:
        return float(t.max_endpointing_delay)
    return float(v.seconds(t))


def _runtime(pt: Point, t: Any) -> float:
    v = _context(pt, t)
    if v.wait == "answer":
        return min(t.max_endpointing_delay, 1.5 + pt.at_s / 20.0)
    return float(v.seconds(t))


def _rhythm(factor: float | None = None, prefaces: bool = True) -> Rule:
    def rule(pt: Point, t: Any) -> float:
        from agent._turns import answer_wait

        v = _context(pt, t, prefaces=prefaces)
        if v.wait != "answer":
            return float(v.seconds(t))
        kw = {} if factor is None else {"factor": factor}
        return answer_wait(t, resumed=pt.before, **kw)

    return rule


def _extend(below: float, cap: float | None = None) -> Rule:
    """``rhythm``, and a finished sentence inside a long turn that Smart Turn hears as unfinished
    (P < ``below``) waits up to ``cap`` (default: the hold)."""

    def rule(pt: Point, t: Any) -> float:
        from agent._turns import answer_wait

        v = _context(pt, t, prefaces=True)
        if v.wait != "answer":
            return float(v.seconds(t))
        wait = answer_wait(t, resumed=pt.before)
        if _long(pt) and pt.p_smart < below:
            wait = max(wait, cap if cap is not None else t.max_endpointing_delay)
        return wait

    return rule


OPTIONS: dict[str, Rule] = {
    "words": _words,
    "smart": _audio("smart"),
    "eot": _audio("eot"),
    "context": lambda pt, t: float(_context(pt, t, short_audio=False).seconds(t)),
    "context+short": _short(prefaces=False),
    "context+short+preface": _short(prefaces=True),
    "context+finish": _finish(both=False),
    "context+both": _finish(both=True),
    "context+unfinished": _unfinished,
    "runtime": _runtime,
    "rhythm (no preface)": _rhythm(prefaces=False),
    "rhythm": _rhythm(),
    "rhythm x1.25": _rhythm(1.25),
    "rhythm x2": _rhythm(2.0),
    "rhythm@1.5": _rhythm(),  # swept below; the row uses answer_pause_delay 1.5
    "rhythm+extend P<0.5": _extend(0.5),
    "rhythm+extend P<0.2": _extend(0.2),
}
SWEPT = ("context+short+preface", "rhythm")
SWEEP = (1.2, 1.5, 1.8, 2.0, 2.5, 3.0, 4.0)
# the wait floor: the answer wait a first long pause meets, and the rhythm factor for the pauses after it
FLOOR_WAITS = (2.5, 2.8, 3.0, 3.5, 3.8, 4.0)
FLOOR_FACTORS = (1.5, 1.75, 2.0)
SPLITS = ("tune", "held-out", "all")


def _tally(points: list[Point], rule: Rule, tuning: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    cuts: dict[str, dict[str, list[int]]] = {
        s: {b: [0, 0] for b in (*BUCKETS, "2-4 s close")} for s in SPLITS
    }
    ends: dict[str, dict[str, list[float]]] = {
        s: {"answer": [], "short": [], "fluent": [], "thinker": []} for s in SPLITS
    }
    for pt in points:
        wait = rule(pt, tuning)
        for s in (pt.split, "all"):
            if pt.pause_kind == "end":
                if pt.kind == "short":
                    ends[s]["short"].append(wait)
                    continue
                ends[s]["answer"].append(wait)
                ends[s]["thinker" if max(pt.before, default=0.0) > 1.75 else "fluent"].append(wait)
            else:
                row = cuts[s][bucket(pt.length_s)]
                row[0] += int(wait < pt.length_s)
                row[1] += 1
                if thinking(pt.length_s):
                    close = cuts[s]["2-4 s close"]
                    close[0] += int(wait < pt.length_s + MARGIN_S)
                    close[1] += 1
    medians = {
        s: {k: round(float(np.median(v)), 2) if v else 0.0 for k, v in e.items()} for s, e in ends.items()
    }
    return cuts, medians


def evaluate(points: list[Point], tuning: Any, band: str) -> OptionsResult:
    result = OptionsResult(band=band)
    for name, rule in OPTIONS.items():
        t = tuning.model_copy(update={"answer_pause_delay": 1.5}) if name.endswith("@1.5") else tuning
        result.cuts[name], result.end_wait[name] = _tally(points, rule, t)
    for name in SWEPT:
        result.sweep[name] = {}
        for w in SWEEP:
            cuts, ends = _tally(points, OPTIONS[name], tuning.model_copy(update={"answer_pause_delay": w}))
            result.sweep[name][str(w)] = {
                s: {**cuts[s], **{f"end {k}": v for k, v in ends[s].items()}} for s in SPLITS
            }
    for w in FLOOR_WAITS:
        for factor in FLOOR_FACTORS:
            t = tuning.model_copy(update={"answer_pause_delay": w, "answer_pause_rhythm": factor})
            cuts, ends = _tally(points, _rhythm(), t)
            result.floor[f"{w} s × {factor}"] = {
                **cuts["all"],
                **{f"end {k}": v for k, v in ends["all"].items()},
            }
    result.points = [
        {
            "answer": p.answer,
            "pause": p.pause_kind,
            "length_s": p.length_s,
            "at_s": round(p.at_s, 2),
            "p_smart": round(p.p_smart, 3),
            "p_eot": round(p.p_eot, 3),
            "text_end": p.text[-40:],
        }
        for p in points
    ]
    return result


def _cell(cut: list[int]) -> str:
    return f"{cut[0]}/{cut[1]}" if cut[1] else "–"


def _sum(cuts: dict[str, list[int]], buckets: tuple[str, ...]) -> list[int]:
    return [sum(cuts[b][0] for b in buckets), sum(cuts[b][1] for b in buckets)]


def render(result: OptionsResult) -> str:
    """Markdown: one row per option and split; the target columns first."""
    lines = [
        f"{result.band}",
        "",
        "| option | part | cut ≤1.5 s (target ≤ 2 %) | cut 2–4 s (target ≤ 5 %) "
        "| 2–4 s cut or < 0.25 s spare | " + " | ".join(BUCKETS) + " "
        "| median wait at the end: answer (fluent / thinker) / short |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in OPTIONS:
        for s in SPLITS:
            c = result.cuts[name][s]
            e = result.end_wait[name][s]
            lines.append(
                f"| {name} | {s} | {_cell(_sum(c, BUCKETS[:2]))} | {_cell(_sum(c, BUCKETS[2:4]))} | "
                + f"{_cell(c['2-4 s close'])} | "
                + " | ".join(_cell(c[b]) for b in BUCKETS)
                + f" | {e['answer']} ({e['fluent']} / {e['thinker']}) / {e['short']} s |"
            )
    for name, rows in result.sweep.items():
        lines += [
            "",
            f"answer wait swept for `{name}` (tune / held-out):",
            "",
            "| answer wait | cut ≤1.5 s | cut 2–4 s | cut 5 s "
            "| median wait at an answer's end (fluent / thinker) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for w, by_split in rows.items():
            cells = []
            for group in (BUCKETS[:2], BUCKETS[2:4], BUCKETS[4:]):
                cells.append(" / ".join(_cell(_sum(by_split[s], group)) for s in ("tune", "held-out")))
            ends = " / ".join(
                f"{by_split[s]['end answer']} ({by_split[s]['end fluent']} / {by_split[s]['end thinker']})"
                for s in ("tune", "held-out")
            )
            lines.append(f"| {w} s | " + " | ".join(cells) + f" | {ends} s |")
    lines += [
        "",
        "the wait floor: `rhythm` by answer wait × rhythm factor (all answers; close = cut or kept by "
        f"< {MARGIN_S} s):",
        "",
        "| answer wait × factor | cut ≤1.5 s | cut 2–4 s | 2–4 s close | cut 5 s "
        "| median wait at an answer's end (fluent / thinker) | short replies |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, c in result.floor.items():
        lines.append(
            f"| {name} | {_cell(_sum(c, BUCKETS[:2]))} | {_cell(_sum(c, BUCKETS[2:4]))} | "
            f"{_cell(c['2-4 s close'])} | {_cell(c[BUCKETS[4]])} | "
            f"{c['end answer']} ({c['end fluent']} / {c['end thinker']}) s | {c['end short']} s |"
        )
    return "\n".join(lines)


async def collect_points(*, phone: bool = False, smart_tail: float = 0.0) -> list[Point]:
    from agent._smart_turn import SmartTurnModel
    from agent.providers import SpeechSettings, WhisperEngine
    from tests.audio import corpus

    settings = SpeechSettings()
    engine = await asyncio.to_thread(WhisperEngine.load, settings)
    smart = SmartTurnModel()
    try:
        from livekit.local_inference import EOT

        eot: Any = EOT()
    except Exception:  # pragma: no cover - not installed
        eot = None
    loop = asyncio.get_running_loop()

    def transcribe(seg: np.ndarray) -> str:
        if seg.size < 1600:
            return ""
        fut = asyncio.run_coroutine_threadsafe(engine.transcribe(seg, beam_size=settings.stt_beam_size), loop)
        return fut.result().text.strip()

    out: list[Point] = []
    for answer in corpus.answers():
        if phone:
            narrow = corpus.phone(answer)
            from telephony.codec import resample_pcm16

            answer = corpus.Answer(
                answer.name, answer.kind, resample_pcm16(narrow.samples, from_rate=8000, to_rate=16000),
                16000, answer.text, answer.pauses,
            )  # fmt: skip
        audio = answer.samples.astype(np.float32) / 32768.0
        for pt in await asyncio.to_thread(_points, answer, transcribe):
            upto = audio[: int(pt.at_s * answer.rate)]
            heard = audio[: int((pt.at_s + smart_tail) * answer.rate)]
            heard = np.pad(heard, (0, max(0, int(smart_tail * answer.rate) - (heard.size - upto.size))))
            pt.p_smart = smart.probability(heard)
            if eot is not None:
                pt.p_eot = float(eot.predict((upto[-19200:] * 32767).astype(np.int16)))
            out.append(pt)
    return out


async def run_turn_options(*, phone: bool = False, smart_tail: float = 0.0) -> OptionsResult:
    from agent import AgentSettings

    points = await collect_points(phone=phone, smart_tail=smart_tail)
    tuning = AgentSettings().tuning(telephony=phone)
    band = "phone 8 kHz μ-law" if phone else "web 16 kHz"
    return evaluate(
        points, tuning, band + (f", Smart Turn {smart_tail} s into the pause" if smart_tail else "")
    )
