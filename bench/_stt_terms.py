"""Speech recognition that knows the interview: term accuracy, false insertions, WER and cost per model.

For each model, band (clean 16 kHz, and phone: 8 kHz G.711 μ-law, as the STT receives it resampled)
and biasing (without, and with the interview's vocabulary as ``context``):

- **term accuracy**: share of the rubric/skill terms said in ``bench/_stt_set.TECHNICAL`` that appear in
  the transcript, per speaker family: espeak-ng voices, and Kokoro-82M neural voices
  (``bench/_stt_voices.py``), both unlike the interviewer's;
- **false insertions**: context terms that appear in a transcript of speech that did not say them (the
  ``NEUTRAL`` answers, the LibriVox clips read with a technical context, and 3 s of silence);
- **WER**: real read speech (the LibriVox clips, and the 55 s read of all three, three times over);
- **RTF**: decode time / audio duration of the technical answers, final path (beam search) and
  caption path (greedy), so the cost of priming each decode shows.

Decodes go through ``WhisperEngine.transcribe`` like a session's; numbers are noisy on shared cores.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ._proc import ROOT
from ._stats import Dist, dist
from ._stt_set import NEUTRAL, TECHNICAL, VOICES, Answer
from ._stt_voices import KOKORO_VOICES

__all__ = ["PrimingCost", "SttTermsResult", "mentions", "run_priming_cost", "run_stt_terms"]

DATA = ROOT / "tests" / "data" / "librivox"
_LIBRIVOX_CONTEXT = TECHNICAL[0].context  # a Kafka interview hearing a reading of Jane Austen


@dataclass
class SttTermsResult:
    model: str
    band: str  # "clean" or "phone"
    biased: bool
    speakers: str = "espeak"  # "espeak" or "kokoro"
    terms_said: int = 0
    terms_heard: int = 0
    false_insertions: int = 0
    insertion_chances: int = 0  # context terms that could have been inserted
    wer_technical: float = float("nan")
    wer_read: float = float("nan")  # LibriVox clips
    wer_long: float = float("nan")  # the 55 s continuous read
    rtf_final: Dist | None = None
    rtf_interim: Dist | None = None
    misses: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)

    @property
    def term_accuracy(self) -> float:
        return self.terms_heard / self.terms_said if self.terms_said else float("nan")


def _compact(text: str) -> list[str]:
    from tests.audio import words

    return [re.sub(r"'s$", "", w) for w in words(text)]


def mentions(text: str, term: str) -> bool:
    """``text`` says ``term``, however whisper spaced or hyphenated it ("A/B test" = "AB test",
    "fine-tuning" = "fine tuning", "PgBouncer" = "PG Bouncer")."""
    target = "".join(_compact(term))
    said = _compact(text)
    for i in range(len(said)):
        joined = ""
        for w in said[i:]:
            joined += w
            if joined == target:
                return True
            if not target.startswith(joined):
                break
    return False


def _librivox() -> list[tuple[np.ndarray, str]]:
    from tests.audio import read_wav

    out = []
    for line in (DATA / "transcripts.txt").read_text().splitlines():
        name, text = line.split("\t", 1)
        out.append((read_wav(DATA / f"{name}.wav")[0], text))
    return out


def _band(samples: np.ndarray, band: str) -> np.ndarray:
    from tests.audio import resample, telephone

    if band == "phone":
        samples = resample(telephone(samples), from_rate=8000, to_rate=16000)
    return samples.astype(np.float32) / 32768.0


def _wer_total(pairs: list[tuple[str, str]]) -> float:
    from tests.audio import wer, words

    errors = sum(wer(ref, hyp) * len(words(ref)) for ref, hyp in pairs)
    total = sum(len(words(ref)) for ref, _ in pairs)
    return errors / total if total else float("nan")


def _speech(answer: Answer, voice: str) -> np.ndarray:
    """``voice``: an espeak-ng voice name, or ``kokoro:<voice>`` for a Kokoro one."""
    from tests.audio import concat, silence, speak

    if voice.startswith("kokoro:"):
        from ._stt_voices import kokoro_speak

        spoken = kokoro_speak(answer.text, voice.removeprefix("kokoro:"))
    else:
        spoken = speak(answer.text, voice="espeak", espeak_voice=voice)
    return concat(silence(0.3), spoken, silence(0.3))


def speaker_voices(speakers: str, *, voices: int = len(VOICES), kokoro_voices: int = len(KOKORO_VOICES)
                   ) -> list[str]:  # fmt: skip
    if speakers == "kokoro":
        return [f"kokoro:{v}" for v, _ in KOKORO_VOICES[:kokoro_voices]]
    return list(VOICES[:voices])


async def run_stt_terms(*, models: list[str], bands: tuple[str, ...] = ("clean", "phone"),
                        beam_size: int = 5, voices: int = len(VOICES),
                        speakers: tuple[str, ...] = ("espeak",),
                        kokoro_voices: int = len(KOKORO_VOICES)) -> list[SttTermsResult]:  # fmt: skip
    """The LibriVox reads, the 55 s read and the silence are decoded with the first speaker family only
    (they do not depend on it)."""
    from agent.providers import SpeechSettings, WhisperEngine
    from tests.audio import concat

    sets = {}
    for family in speakers:
        spoken = speaker_voices(family, voices=voices, kokoro_voices=kokoro_voices)
        sets[family] = (
            [(a, _speech(a, v)) for a in TECHNICAL for v in spoken],
            [(a, _speech(a, v)) for a in NEUTRAL for v in spoken],
        )
    librivox = _librivox()
    long_read = (concat(*[s for s, _ in librivox] * 3), " ".join([t for _, t in librivox] * 3))
    results = []
    for model in models:
        engine = await asyncio.to_thread(WhisperEngine.load, SpeechSettings(stt_model=model))
        await engine.transcribe(_band(librivox[0][0], "clean"), beam_size=beam_size)  # warm-up
        for family, (technical, neutral) in sets.items():
            for band in bands:
                for biased in (False, True):
                    r = SttTermsResult(model=engine.name, band=band, biased=biased, speakers=family)
                    read = (librivox, long_read) if family == speakers[0] else None
                    await _measure(engine, r, technical, neutral, read, beam_size)
                    results.append(r)
                    print(f"{r.model} {family} {band} biased={biased}: terms {r.terms_heard}/{r.terms_said}, "
                          f"insertions {r.false_insertions}/{r.insertion_chances}, WER tech "
                          f"{r.wer_technical:.3f} read {r.wer_read:.3f} long {r.wer_long:.3f}",
                          file=sys.stderr, flush=True)  # fmt: skip
                    for inserted in r.inserted:  # what a primed decode wrote that the speaker did not say
                        print(f"  inserted: {inserted}", file=sys.stderr, flush=True)
    return results


async def _measure(engine, r: SttTermsResult, technical, neutral, read,  # type: ignore[no-untyped-def]
                   beam_size: int) -> None:  # fmt: skip
    def ctx(answer_context: str) -> str:
        return answer_context if r.biased else ""

    pairs = []
    final_rtf, interim_rtf = [], []
    for answer, samples in technical:
        audio = _band(samples, r.band)
        seconds = audio.size / 16000
        t0 = time.perf_counter()
        got = await engine.transcribe(audio, beam_size=beam_size, context=ctx(answer.context))
        final_rtf.append((time.perf_counter() - t0) / seconds)
        t0 = time.perf_counter()
        await engine.transcribe(audio, beam_size=1, context=ctx(answer.context))
        interim_rtf.append((time.perf_counter() - t0) / seconds)
        pairs.append((answer.text, got.text))
        for term in answer.terms:
            r.terms_said += 1
            if mentions(got.text, term):
                r.terms_heard += 1
            else:
                r.misses.append(f"{term} -> {got.text}")
        _count_insertions(r, answer.context, answer.text, got.text)
    r.wer_technical = _wer_total(pairs)
    r.rtf_final, r.rtf_interim = dist(final_rtf), dist(interim_rtf)
    for answer, samples in neutral:
        got = await engine.transcribe(
            _band(samples, r.band), beam_size=beam_size, context=ctx(answer.context)
        )
        _count_insertions(r, answer.context, answer.text, got.text)
    if read is None:
        return
    librivox, long_read = read
    heard = []
    for samples, text in librivox:
        got = await engine.transcribe(
            _band(samples, r.band), beam_size=beam_size, context=ctx(_LIBRIVOX_CONTEXT)
        )
        heard.append((text, got.text))
        _count_insertions(r, _LIBRIVOX_CONTEXT, text, got.text)
    r.wer_read = _wer_total(heard)
    quiet = np.zeros(3 * 16000, dtype=np.float32)
    got = await engine.transcribe(quiet, beam_size=beam_size, context=ctx(_LIBRIVOX_CONTEXT))
    _count_insertions(r, _LIBRIVOX_CONTEXT, "", got.text)
    samples, text = long_read
    got = await engine.transcribe(_band(samples, r.band), beam_size=beam_size, context=ctx(_LIBRIVOX_CONTEXT))
    r.wer_long = _wer_total([(text, got.text)])


@dataclass
class PrimingCost:
    """Decode cost with the interview's vocabulary over without, the same clip back to back, the order
    alternating (primed first on every other pass) so drifting load on shared cores hits both alike:
    median of the per-clip ratios, of wall time and of the process's CPU time (the decode's own work,
    which other jobs on the cores hardly change), and per pass over all clips the ratio of the summed CPU
    times (``passes``: their spread is the run-to-run noise)."""

    model: str
    beam_size: int
    pairs: int
    ratio: Dist  # wall time
    cpu_ratio: Dist | None = None
    passes: list[float] = field(default_factory=list)  # summed CPU primed / unprimed, one per pass
    prompt_tokens: list[int] = field(default_factory=list)  # per context: tokens primed


async def run_priming_cost(*, model: str = "", repeats: int = 2, voices: int = 1) -> list[PrimingCost]:
    from agent.providers import SpeechSettings, WhisperEngine

    engine = await asyncio.to_thread(WhisperEngine.load, SpeechSettings(stt_model=model))
    clips = [(a, _band(_speech(a, v), "clean")) for a in TECHNICAL for v in VOICES[:voices]]
    await engine.transcribe(clips[0][1], beam_size=1, context=clips[0][0].context)  # warm-up
    tokens = [len(engine._vocabulary(c)) for c in dict.fromkeys(a.context for a in TECHNICAL)]
    out = []
    for beam in (5, 1):  # final and caption decodes
        wall, cpu, passes = [], [], []
        for r in range(repeats):
            summed = {False: 0.0, True: 0.0}
            for answer, audio in clips:
                took: dict[bool, tuple[float, float]] = {}
                for primed in (False, True) if r % 2 == 0 else (True, False):
                    t0, c0 = time.perf_counter(), time.process_time()
                    await engine.transcribe(audio, beam_size=beam, context=answer.context if primed else "")
                    took[primed] = (time.perf_counter() - t0, time.process_time() - c0)
                    summed[primed] += took[primed][1]
                wall.append(took[True][0] / took[False][0])
                cpu.append(took[True][1] / took[False][1])
            passes.append(summed[True] / summed[False])
        out.append(PrimingCost(model=engine.name, beam_size=beam, pairs=len(wall), ratio=dist(wall),
                               cpu_ratio=dist(cpu), passes=passes, prompt_tokens=tokens))  # fmt: skip
    return out


def _count_insertions(r: SttTermsResult, context: str, said: str, heard: str) -> None:
    for term in (t.strip() for t in context.split(",")):
        if term and not mentions(said, term):
            r.insertion_chances += 1
            if mentions(heard, term):
                r.false_insertions += 1
                r.inserted.append(f"{term} -> {heard}")


def render(results: list[SttTermsResult]) -> str:
    """Markdown table, one row per model/band, biasing off and on side by side."""
    head = (
        "| model | voices | band | term accuracy (no bias → bias) | false insertions (no bias → bias) "
        "| WER technical | WER read | WER 55 s read | RTF final | RTF caption |"
    )
    lines = [head, "|" + " --- |" * 10]
    by_key: dict[tuple[str, str, str], dict[bool, SttTermsResult]] = {}
    for r in results:
        by_key.setdefault((r.model, r.speakers, r.band), {})[r.biased] = r
    for (model, speakers, band), pair in by_key.items():
        off, on = pair[False], pair[True]

        def both(f: str, a: float, b: float) -> str:
            return f"{f.format(a)} → {f.format(b)}"

        def rtf(d: Dist | None) -> str:
            return f"{d.median:.3f}" if d is not None and d.median is not None else "-"

        acc = both("{:.1%}", off.term_accuracy, on.term_accuracy)
        ins = f"{off.false_insertions} → {on.false_insertions} of {on.insertion_chances}"
        wers = " | ".join(
            both("{:.1%}", a, b)
            for a, b in ((off.wer_technical, on.wer_technical), (off.wer_read, on.wer_read),
                         (off.wer_long, on.wer_long))
        )  # fmt: skip
        rtfs = f"{rtf(off.rtf_final)} → {rtf(on.rtf_final)} | {rtf(off.rtf_interim)} → {rtf(on.rtf_interim)}"
        row = f"| {model} | {speakers} | {band} | {acc} ({on.terms_said} terms) | {ins} | {wers} | {rtfs} |"
        lines.append(row)
    return "\n".join(lines)


def main_models(names: str) -> list[str]:
    return ["" if n in ("", "tiny.en", "default") else n for n in names.split(",")]


if __name__ == "__main__":  # quick look: python -m bench._stt_terms [models]
    import sys

    res = asyncio.run(run_stt_terms(models=main_models(sys.argv[1] if len(sys.argv) > 1 else "tiny.en")))
    print(render(res))
    for r in res:
        print(r.model, r.band, r.biased, "misses:", *r.misses[:40], sep="\n  ")
        print("  inserted:", *r.inserted, sep="\n  ")
