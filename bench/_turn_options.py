"""The end-of-turn options side by side on the real-speech corpus, without a call: what each would wait.

For every decision point of every corpus answer (each pause inside it, and its end) we take what a
session has at that moment: the audio up to the end of speech (16 kHz, and the 8 kHz μ-law phone version
upsampled), and the transcript so far, made the way a session makes it (whisper tiny.en on each stretch
of speech between pauses the VAD splits on, >= 0.6 s). Each option turns that into a wait (seconds of
silence after the end of speech before the turn ends). A pause inside an answer is *cut* when the wait
is shorter than the pause; at the end of an answer the wait is the endpointing part of the response time.

Options:
- ``words``: the previous rule (trailing word → ``max_delay`` 3.5 s, else ``min_delay`` 0.5 s).
- ``context``: ``agent._turns.decide`` (quick / answer / hold) without an audio model.
- ``smart``: Smart Turn v3.2 on the last 8 s after the trailing-word rule (P < 0.5 → hold, else quick),
  the previous ``smart`` detector.
- ``eot``: LiveKit's local audio end-of-turn model (``livekit-local-inference``, last 1.2 s) after the
  trailing-word rule, same thresholds.
- ``context+smart``: ``decide`` with Smart Turn's P(finished): a short reply that does not sound
  finished gets the answer wait, a sentence that sounds clearly unfinished is held.
- ``context+short``: ``decide`` with Smart Turn's P(finished) for short turns only (<= 6 words): a short
  turn that does not sound finished gets the answer wait; longer turns are judged on the transcript.
- ``context+finish``: ``context+short``, and a longer turn that sounds clearly finished (P >= 0.9) waits
  only ``FINISH_S`` instead of the answer wait (a faster reply after long answers, if the model can tell).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptionsResult", "run_turn_options"]

SPLIT_S = 0.6  # the VAD's min_silence_duration on the web: shorter pauses do not end a segment
QUESTION = "Tell me about a project you are proud of. What was your part in it?"
OPTIONS = ("words", "context", "smart", "eot", "context+smart", "context+short", "context+finish")


@dataclass
class Point:
    answer: str
    kind: str  # the answer's kind
    pause_kind: str  # "end" or the pause's kind
    length_s: float  # pause length (0 at the end)
    audio: np.ndarray  # float32 16 kHz up to the end of speech
    text: str  # transcript so far


@dataclass
class OptionsResult:
    band: str
    # option → bucket → (cut, pauses)
    cuts: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    # option → answer kind → mean wait at the end of the answer (s)
    end_wait: dict[str, dict[str, float]] = field(default_factory=dict)
    probabilities: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # model → where → P
    # the answer wait swept for ``SWEPT``: wait → bucket → (cut, pauses), and "end long" → mean wait
    sweep: dict[str, dict[str, Any]] = field(default_factory=dict)


def bucket(length_s: float) -> str:
    if length_s <= 0.75:
        return "<=0.75 s"
    if length_s <= 1.5:
        return "0.8-1.5 s"
    if length_s <= 2.5:
        return "2-2.5 s"
    if length_s <= 4.0:
        return "3-4 s"
    return "5 s"


def _points(answer: Any, transcribe: Any) -> list[Point]:
    """Decision points of one answer, with transcripts of each VAD segment."""
    audio = answer.samples.astype(np.float32) / 32768.0
    rate = answer.rate
    splits = [p for p in answer.pauses if p.length_s >= SPLIT_S]
    points, text, seg_start = [], "", 0.0
    for p in [*splits, None]:
        end = p.start_s if p is not None else answer.duration_s
        seg = audio[int(seg_start * rate) : int(end * rate)]
        text = f"{text} {transcribe(seg)}".strip()
        points.append(
            Point(
                answer.name,
                answer.kind,
                p.kind if p is not None else "end",
                p.length_s if p is not None else 0.0,
                audio[: int(end * rate)],
                text,
            )
        )
        if p is not None:
            seg_start = p.end_s
    return points


SWEEP = (1.2, 1.5, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0)
FINISH_S = 1.2
SWEPT = "context+short"  # the option whose answer wait is swept


def _wait(option: str, pt: Point, probs: dict[str, float], tuning: Any) -> float:
    from agent._turns import _SHORT_WORDS, _WORD, decide, end_of_turn_probability

    trailing = end_of_turn_probability(pt.text) < 0.5
    if option == "words":
        return 3.5 if trailing else 0.5
    if option in ("smart", "eot"):
        return (
            tuning.max_endpointing_delay if trailing or probs[option] < 0.5 else tuning.min_endpointing_delay
        )
    finished = probs["smart"] if option == "context+smart" else None
    short = len(_WORD.findall(pt.text.lower())) <= _SHORT_WORDS
    if option in ("context+short", "context+finish") and short:
        finished = probs["smart"]
    verdict = decide(question=QUESTION, answer=pt.text, finished=finished)
    if option == "context+finish" and verdict.wait == "answer" and not short and probs["smart"] >= 0.9:
        return min(FINISH_S, verdict.seconds(tuning))
    return verdict.seconds(tuning)


async def run_turn_options(*, phone: bool = False) -> OptionsResult:
    from agent import AgentSettings
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
    tuning = AgentSettings().tuning(telephony=phone)
    loop = asyncio.get_running_loop()

    def transcribe(seg: np.ndarray) -> str:
        if seg.size < 1600:
            return ""
        fut = asyncio.run_coroutine_threadsafe(engine.transcribe(seg, beam_size=settings.stt_beam_size), loop)
        return fut.result().text.strip()

    result = OptionsResult(band="phone 8 kHz μ-law" if phone else "web 16 kHz")
    for option in OPTIONS:
        result.cuts[option] = {}
        result.end_wait[option] = {}
    ends: dict[str, dict[str, list[float]]] = {o: {} for o in OPTIONS}
    for answer in corpus.answers():
        if phone:
            narrow = corpus.phone(answer)
            from telephony.codec import resample_pcm16

            answer = corpus.Answer(
                answer.name, answer.kind, resample_pcm16(narrow.samples, from_rate=8000, to_rate=16000),
                16000, answer.text, answer.pauses,
            )  # fmt: skip
        points = await asyncio.to_thread(_points, answer, transcribe)
        for pt in points:
            probs = {"smart": smart.probability(pt.audio)}
            if eot is not None:
                pcm = (pt.audio[-19200:] * 32767).astype(np.int16)
                probs["eot"] = float(eot.predict(pcm))
            else:
                probs["eot"] = 1.0
            where = "end" if pt.pause_kind == "end" else "pause"
            for model in ("smart", "eot"):
                result.probabilities.setdefault(model, {}).setdefault(f"{answer.kind}:{where}", []).append(
                    round(probs[model], 3)
                )
            for w in SWEEP:
                wait = _wait(SWEPT, pt, probs, tuning.model_copy(update={"answer_pause_delay": w}))
                row = result.sweep.setdefault(str(w), {})
                if pt.pause_kind == "end":
                    row.setdefault(f"end {answer.kind}", []).append(wait)
                    continue
                b = f"{bucket(pt.length_s)}"
                cut, total = row.get(b, (0, 0))
                row[b] = (cut + int(wait < pt.length_s), total + 1)
            for option in OPTIONS:
                wait = _wait(option, pt, probs, tuning)
                if pt.pause_kind == "end":
                    ends[option].setdefault(answer.kind, []).append(wait)
                    continue
                b = f"{bucket(pt.length_s)} {'thinking' if pt.length_s > 1.5 else 'sentence'}"
                cut, total = result.cuts[option].get(b, (0, 0))
                result.cuts[option][b] = (cut + int(wait < pt.length_s), total + 1)
    for option in OPTIONS:
        result.end_wait[option] = {k: round(float(np.mean(v)), 2) for k, v in ends[option].items()}
    for row in result.sweep.values():
        for k in [k for k in row if k.startswith("end ")]:
            row[k] = round(float(np.median(row[k])), 2)
    return result
