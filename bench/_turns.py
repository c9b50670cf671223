"""``python -m bench turns``: turn-taking on real speech, over a real transport, on the offline stack.

One call per transport. The caller says every answer of the real-speech corpus (``tests/audio/corpus.py``)
with its pauses, waiting after each for the agent's reply to it to finish (``AwaitTurn``: the agent's
turn ended on the transport and nothing followed; never "any audio, then some quiet", which a reply cut
off half-way or piper's gaps also give, and which let the next answer speak over a reply still coming),
and a second call barges in once with each real barge-in clip (``bench/_bargein_clips.py``: the corpus's
short replies and the first seconds of its spontaneous answers) 0.5-1.5 s into a reply (mid-call); more
calls barge in 0.3 s or 1.5 s into the greeting (the start of a call), a clip each. A wait that runs out
is counted and named in the result; the call stops at the interview's end. From the caller's timeline:

- false cut-off: the agent's audio *begins* (a voiced frame after >= 0.2 s of quiet) inside a pause of
  an answer or up to 0.5 s after it (the reply was decided in the pause and reached the caller as the
  candidate went on); counted per pause, by pause length.
- response after a finished answer: the end of the answer's speech → the first agent audio (long and
  medium answers together as "long", short replies apart); answers cut off before their end are left
  out of this number (they are in the cut-off count).
- barge-in: the start of the interruption's first word (``BargeClip.word_s``, as ``bench bargein
  --speech real`` counts it; its first sound, a breath or a click before the word, is reported beside)
  → the last agent frame before ``STOPPED_S`` of quiet (and, phone, → ``clear``). The agent here is
  piper, whose speech has its own gaps between words and sentences (up to ~0.5 s), so the bargein
  bench's 0.2 s gap would count a comma as a stop; an agent that was between two words when the caller
  began and never went on counts 0 ms.
- questions heard only in part: question turns (greet/ask/probe/follow-up) stored interrupted before
  the question itself was heard (the stored text is what the caller heard; it has no "?").
- questions scored without being heard: plan questions the scorer counts as asked (``scoring/_snapshot.py``:
  an agent turn carries the question's id, or an answer was attached to it) none of whose agent turns
  was heard through its "?" (stored whole, or interrupted after the question mark).
"""

from __future__ import annotations

import bisect
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._calls import run_call
from ._latency import fresh_db
from ._proc import ServerProcess
from ._script import FRAME_S, GAP_S, AwaitAudio, AwaitTurn, Pause, Say, Step, Timeline
from ._stats import Dist, dist
from ._turn_options import bucket as option_bucket
from ._voice import Clip

__all__ = ["TurnsResult", "render_stages", "run_turns", "short_stages"]

LATE_S = 0.5  # agent audio this soon after a pause ended was still decided inside it
STOPPED_S = 0.8  # quiet this long in the agent's (piper) speech means it stopped


@dataclass
class TurnsResult:
    stack: str
    profile: str
    transport: str
    cuts: dict[str, tuple[int, int]] = field(default_factory=dict)  # pause bucket → (cut, pauses)
    response_long: Dist = field(default_factory=lambda: dist([]))
    response_short: Dist = field(default_factory=lambda: dist([]))
    # barge-in, from the first word: mid-call, and in the greeting's first seconds
    bargein_stop: Dist = field(default_factory=lambda: dist([]))
    bargein_clear: Dist = field(default_factory=lambda: dist([]))
    bargein_start_stop: Dist = field(default_factory=lambda: dist([]))
    bargein_start_clear: Dist = field(default_factory=lambda: dist([]))
    # the same stops from the clip's first sound (a breath or click before the word counts as speaking)
    bargein_stop_sound: Dist = field(default_factory=lambda: dist([]))
    bargein_start_stop_sound: Dist = field(default_factory=lambda: dist([]))
    bargein_by_clip: dict[str, list[float]] = field(default_factory=dict)  # clip → stops from its first word
    bargein_skipped: int = 0
    partly_heard_questions: int = 0
    unheard_scored: int = 0
    scored_questions: int = 0
    # server side, every reply to the candidate: end of speech → turn committed, and → first audio out
    server_eou: Dist = field(default_factory=lambda: dist([]))
    server_v2v: Dist = field(default_factory=lambda: dist([]))
    short_stages: list[dict[str, Any]] = field(default_factory=list)  # one row per short reply
    answers: int = 0
    timeouts: int = 0
    timed_out: list[str] = field(default_factory=list)  # which waits ran out (step, after what)
    ended_early: bool = False  # the interview closed before the script's end
    notes: list[str] = field(default_factory=list)


_KINDS = {"<0.8 s": "0.3-0.8 s (speaker's own)", "0.8-1.6 s": "0.8-1.6 s (sentence)"}


def bucket(length_s: float) -> str:
    """The decision bench's buckets (``bench/_turn_options.py``, by the whole silence the corpus labels),
    named with the kind of pause: the speaker's own, sentence, or thinking."""
    name = option_bucket(length_s)
    return _KINDS.get(name, f"{name} (thinking)")


def _rate(transport: str) -> int:
    return 8000 if transport == "phone" else 48000


def _clip(answer: Any, transport: str) -> Clip:
    from tests.audio import resample

    rate = _rate(transport)
    return Clip(answer.name, resample(answer.samples, from_rate=answer.rate, to_rate=rate), rate)


def chosen_answers(names: str = "all") -> list[Any]:
    """The corpus answers a run says: ``all``, ``short`` (the short replies, ``SHORT_ROUNDS`` times over),
    or comma-separated names."""
    from tests.audio import corpus

    if names == SHORT:
        return list(corpus.short_replies()) * SHORT_ROUNDS
    return [a for a in corpus.answers() if names == "all" or a.name in names.split(",")]


def script(transport: str, names: str = "all") -> tuple[list[Step], list[Any]]:
    """The call's steps and the answers said in it (the barge-ins are calls of their own)."""
    chosen = chosen_answers(names)
    steps: list[Step] = [AwaitTurn(timeout_s=90.0, settle_s=SETTLE_S)]
    for a in chosen:
        steps += [
            Say(_clip(a, transport), f"answer:{a.kind}:{a.name}"),
            AwaitTurn(timeout_s=60.0, settle_s=SETTLE_S),
        ]
    return steps, chosen


def barge_script(transport: str) -> list[Step]:
    """Mid-call barge-ins: the caller gives a short reply, the agent answers it, and the caller speaks
    over that answer 0.5-1.5 s in, once with each real barge-in clip."""
    from tests.audio import corpus

    setup = _clip(corpus.short_replies()[0], transport)
    steps: list[Step] = [AwaitTurn(timeout_s=90.0, settle_s=SETTLE_S)]
    for i, clip in enumerate(barge_clips(_rate(transport))):
        steps += [Say(setup, "answer:short:barge-setup"), AwaitAudio(45.0)]
        steps += [
            Pause(MID_BARGE_S[i % len(MID_BARGE_S)]),
            Say(clip, f"barge:{clip.name}"),
            AwaitTurn(timeout_s=60.0, settle_s=SETTLE_S),
        ]
    return steps


def start_barge_scripts(transport: str) -> list[list[Step]]:
    """The start of a call: one call per real barge-in clip, speaking over the greeting 0.3 or 1.5 s in."""
    return [
        [
            AwaitAudio(90.0),
            Pause(START_BARGE_S[i % len(START_BARGE_S)]),
            Say(clip, f"barge:{clip.name}"),
            AwaitTurn(60.0, settle_s=SETTLE_S),
        ]
        for i, clip in enumerate(barge_clips(_rate(transport)))
    ]


def barge_clips(rate: int) -> list[Any]:
    from ._bargein_clips import barge_clips as real_clips

    return real_clips(rate)


def word_after_sound_s(transport: str) -> dict[str, float]:
    """Barge-in tag → seconds from the clip's first voiced sample (``Said.start``) to its first word."""
    return {f"barge:{c.name}": c.word_s - c.voiced_bounds()[0] for c in barge_clips(_rate(transport))}


SHORT = "short"  # ``--answers short``: only the short replies, no barge-ins (a few minutes a transport)
SHORT_ROUNDS = 2
SETTLE_S = 1.5  # after the agent's turn ended, this much quiet before the caller speaks again
QUESTIONS = 18  # the plan's length: longer than the script, so the interview does not close mid-script


MID_BARGE_S = (0.5, 1.0, 1.5)  # seconds into a reply, in turn
START_BARGE_S = (0.3, 1.5)  # seconds into the greeting, in turn, one call each


def _onsets(tl: Timeline) -> list[float]:
    """Arrival times of the first voiced agent frame after >= GAP_S of quiet."""
    out, prev = [], None
    for v in tl.voiced:
        if prev is None or v - prev > GAP_S:
            out.append(v)
        prev = v
    return out


def analyse(
    tl: Timeline, chosen: list[Any], transport: str
) -> tuple[dict[str, tuple[int, int]], list[float], list[float]]:
    """(pause bucket → (cut, pauses), response ms after long/medium answers, after short replies)."""
    by_name = {a.name: a for a in chosen}
    offset = {
        a.name: _clip(a, transport).voiced_bounds()[0] for a in chosen
    }  # Said.start is the voiced start
    onsets = _onsets(tl)
    cuts: dict[str, tuple[int, int]] = {}
    long_ms: list[float] = []
    short_ms: list[float] = []
    for s in tl.said:
        if not s.tag.startswith("answer:"):
            continue
        _, kind, name = s.tag.split(":", 2)
        answer = by_name.get(name)
        if answer is None:
            continue
        start = s.start - offset[name]
        cut_any = False
        for p in answer.pauses:
            a, b = start + p.start_s, start + p.end_s + LATE_S
            i = bisect.bisect_left(onsets, a)
            hit = i < len(onsets) and onsets[i] <= b
            cut_any |= hit
            key = bucket(p.length_s)
            n_cut, n = cuts.get(key, (0, 0))
            cuts[key] = (n_cut + int(hit), n + 1)
        if cut_any:
            continue
        i = bisect.bisect_right(onsets, s.end)
        if i < len(onsets) and onsets[i] - s.end < 30.0:
            (short_ms if kind == "short" else long_ms).append((onsets[i] - s.end) * 1000.0)
    return cuts, long_ms, short_ms


STAGES = ("caller_ms", "v2v_ms", "eou_delay_ms", "after_vad_ms", "stt_ms", "tts_ttfb_ms", "transport_ms")


def short_stages(
    tl: Timeline, server: dict[str, Any], chosen: list[Any], transport: str
) -> list[dict[str, Any]]:
    """Every short reply's response, by stage: the caller's (end of its speech → first agent audio
    heard), and the server's for the reply to it (``agent/_metrics.py``; from the VAD's back-dated end of
    speech): → final transcript (``stt_ms``), → turn committed (``eou_delay_ms``; ``after_vad_ms`` is the
    part after the VAD reported the end, its ``min_silence_duration`` taken off), → first frame sent
    (``v2v_ms``); ``transport_ms`` is the caller's number less ``v2v_ms`` (the way out, jitter buffer
    included, give or take the two ends' different reading of the end of speech). An answer's turn is
    the stored candidate turn that began within 1 s of it (none: the server columns are empty)."""
    from agent.providers._settings import get_speech_settings

    s = get_speech_settings()
    vad_silence_ms = 1000.0 * (s.vad_phone_min_silence if transport == "phone" else s.vad_min_silence)
    metrics = {m.get("seq"): m for m in server.get("metrics", [])}
    turns = server.get("turns", [])
    said = [x for x in tl.said if x.tag.startswith("answer:")]
    # a turn's seq is its place + 1, the reply to it is the next turn; the two clocks are lined up on the
    # first answer (the server stores a turn's start as when its speech began)
    starts = [(t["started_at"], i + 2) for i, t in enumerate(turns) if t.get("speaker") == "candidate"]
    shift = said[0].start - starts[0][0] if said and starts else 0.0
    onsets = _onsets(tl)
    rows = []
    for x in said:
        _, kind, name = x.tag.split(":", 2)
        if kind != "short":
            continue
        i = bisect.bisect_right(onsets, x.end)
        caller = (onsets[i] - x.end) * 1000.0 if i < len(onsets) else None
        near = min(starts, key=lambda st: abs(st[0] + shift - x.start), default=None)
        m = metrics.get(near[1], {}) if near and abs(near[0] + shift - x.start) < 1.0 else {}
        eou, v2v = m.get("eou_delay_ms"), m.get("v2v_ms")
        rows.append(
            {
                "name": name,
                "caller_ms": caller,
                "v2v_ms": v2v,
                "eou_delay_ms": eou,
                "after_vad_ms": None if eou is None else eou - vad_silence_ms,
                "stt_ms": m.get("stt_ms"),
                "tts_ttfb_ms": m.get("tts_ttfb_ms"),
                "transport_ms": None if caller is None or v2v is None else caller - v2v,
            }
        )
    return rows


def render_stages(transport: str, rows: list[dict[str, Any]]) -> str:
    """A table of ``short_stages`` with the medians of the replies that got the quick wait (``caller_ms``
    under 2 s: ``librivox_0880`` waits like an answer)."""
    quick = [r for r in rows if r["caller_ms"] is not None and r["caller_ms"] < 2000.0]
    lines = [f"{transport}: " + " | ".join(("reply", *STAGES))]
    for r in rows:
        cells = [r["name"], *("-" if r[k] is None else f"{r[k]:.0f}" for k in STAGES)]
        lines.append("  " + " | ".join(cells))
    med = []
    for k in STAGES:
        v = dist([float(r[k]) for r in quick if r[k] is not None])
        med.append("-" if v.median is None else f"{v.median:.0f}")
    lines.append(f"  median of {len(quick)} quick | " + " | ".join(med))
    return "\n".join(lines)


def unheard_scored(turns: list[dict[str, Any]]) -> tuple[int, int]:
    """(questions the scorer counts as asked that were never heard through their "?", questions asked)."""
    asked: set[str] = set()
    heard: set[str] = set()
    current = None
    for t in turns:
        qid = t.get("question_id")
        if t.get("speaker") == "agent":
            if qid:
                current = qid
                asked.add(qid)
                if not t.get("interrupted") or "?" in (t.get("text") or ""):
                    heard.add(qid)
            continue
        if (qid or current) and (t.get("text") or "").strip():
            asked.add(qid or current)
    return len(asked - heard), len(asked)


@dataclass
class BargeIns:
    stops: list[float] = field(default_factory=list)  # ms from the first word to the agent's audio stopping
    clears: list[float] = field(default_factory=list)  # ms from the first word to Twilio's ``clear``
    stops_sound: list[float] = field(default_factory=list)  # ms from the clip's first sound to the stop
    by_clip: dict[str, list[float]] = field(default_factory=dict)
    skipped: int = 0  # barge-ins while the agent was not speaking

    def __add__(self, other: BargeIns) -> BargeIns:
        by_clip = {k: list(v) for k, v in self.by_clip.items()}
        for k, v in other.by_clip.items():
            by_clip.setdefault(k, []).extend(v)
        return BargeIns(
            self.stops + other.stops,
            self.clears + other.clears,
            self.stops_sound + other.stops_sound,
            by_clip,
            self.skipped + other.skipped,
        )


def barge_ins(tl: Timeline, word_after: dict[str, float]) -> BargeIns:
    """Every ``barge:<clip>`` the caller said over the agent: how long until the agent's audio stopped,
    from the clip's first word (``word_after``: tag → seconds from its first sound to its first word)."""
    out = BargeIns()
    for s in tl.said:
        if not s.tag.startswith("barge"):
            continue
        word = word_after.get(s.tag, 0.0)
        i = bisect.bisect_right(tl.voiced, s.start)
        if i == 0 or s.start - tl.voiced[i - 1] > STOPPED_S:
            out.skipped += 1
            continue
        prev = tl.voiced[i - 1]
        for v in tl.voiced[i:]:
            if v - prev > STOPPED_S:
                break
            prev = v
        stopped = prev + FRAME_S
        ms = max(0.0, (stopped - s.start - word) * 1000.0)
        out.stops.append(ms)
        out.stops_sound.append(max(0.0, (stopped - s.start) * 1000.0))
        out.by_clip.setdefault(s.tag.removeprefix("barge:"), []).append(round(ms))
        nxt = min((x.start for x in tl.said if x.start > s.start), default=float("inf"))
        later = [c for c in tl.clears if s.start <= c < nxt]
        if later:
            out.clears.append((later[0] - s.start - word) * 1000.0)
    return out


def _ended_early(tl: Timeline, steps: list[Step]) -> bool:
    """The interview closed before the caller had said everything in the script."""
    return tl.ended is not None and len(tl.said) < sum(isinstance(s, Say) for s in steps)


def _save(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj))


def _server(server: dict[str, Any], key: str) -> list[float]:
    return [float(r[key]) for r in server.get("metrics", []) if r.get(key) is not None]


QUESTION_KINDS = ("greet", "ask", "probe_example", "probe_outcome", "follow_up", "repeat")


def partly_heard_questions(turns: list[dict[str, Any]]) -> int:
    """Question turns the caller heard only in part (stored interrupted, without the question's "?")."""
    return sum(
        1
        for t in turns
        if t.get("speaker") == "agent"
        and t.get("kind") in QUESTION_KINDS
        and t.get("interrupted")
        and "?" not in (t.get("text") or "")
    )


async def run_turns(
    *, stack: str, profile: str, transport: str, answers: str = "all", save: Path | None = None
) -> list[TurnsResult]:
    """``save``: also pickle each call's caller timeline and server record there (for re-analysis)."""
    transports = ("phone", "webrtc") if transport == "both" else (transport,)
    out = []
    async with ServerProcess(stack=stack, profile=profile, database_url=fresh_db(f"turns-{stack}")) as srv:
        for t in transports:
            steps, chosen = script(t, answers)
            rec = await run_call(srv, t, steps, deadline_s=1500.0, questions=QUESTIONS)
            records = [rec]
            cuts, long_ms, short_ms = analyse(rec.timeline, chosen, t)
            word_after = word_after_sound_s(t)
            timed_out: list[str] = list(rec.timeline.timed_out)
            timeouts = rec.timeline.timeouts
            partly = partly_heard_questions(rec.server.get("turns", []))
            unheard, scored = unheard_scored(rec.server.get("turns", []))
            mid, start = BargeIns(), BargeIns()
            # mid-call: a call of short replies, each answered and spoken over; then the start of a call:
            # speak over the greeting's first seconds
            calls = [] if answers == SHORT else [(barge_script(t), 600.0, True)]
            calls += [] if answers == SHORT else [(st, 300.0, False) for st in start_barge_scripts(t)]
            for call_steps, deadline_s, is_mid in calls:
                rec2 = await run_call(srv, t, call_steps, deadline_s=deadline_s, questions=QUESTIONS)
                records.append(rec2)
                got = barge_ins(rec2.timeline, word_after)
                mid, start = (mid + got, start) if is_mid else (mid, start + got)
                partly += partly_heard_questions(rec2.server.get("turns", []))
                u, n = unheard_scored(rec2.server.get("turns", []))
                unheard, scored = unheard + u, scored + n
                timeouts += rec2.timeline.timeouts
                timed_out += rec2.timeline.timed_out
            if save is not None:
                raw = [(r.timeline, r.server) for r in records]
                _save(save / f"turns-{t}.pickle", (raw, [a.name for a in chosen]))
            out.append(
                TurnsResult(
                    stack=stack,
                    profile=profile,
                    transport=t,
                    cuts=dict(sorted(cuts.items())),
                    response_long=dist(long_ms),
                    response_short=dist(short_ms),
                    bargein_stop=dist(mid.stops),
                    bargein_clear=dist(mid.clears),
                    bargein_start_stop=dist(start.stops),
                    bargein_start_clear=dist(start.clears),
                    bargein_stop_sound=dist(mid.stops_sound),
                    bargein_start_stop_sound=dist(start.stops_sound),
                    bargein_by_clip=(mid + start).by_clip,
                    bargein_skipped=mid.skipped + start.skipped,
                    partly_heard_questions=partly,
                    unheard_scored=unheard,
                    scored_questions=scored,
                    answers=len(chosen),
                    server_eou=dist(_server(rec.server, "eou_delay_ms")),
                    server_v2v=dist(_server(rec.server, "v2v_ms")),
                    short_stages=short_stages(rec.timeline, rec.server, chosen, t),
                    timeouts=timeouts,
                    timed_out=timed_out,
                    ended_early=_ended_early(rec.timeline, steps),
                )
            )
    return out
