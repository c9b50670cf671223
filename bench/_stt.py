"""Offline STT accuracy and speed: faster-whisper (the shipped model) on real human speech.

The clips are LibriVox recordings in ``tests/data/librivox`` (see its README); WER is word-level edit
distance against the reader's actual words, RTF is decode time / audio duration (one warm-up decode
first, not counted). Decodes go through ``WhisperEngine.transcribe``, the path sessions' streaming
decodes use: the encoder window is the clip plus 1 s (``full_window=True``: whisper's whole 30 s window,
as batch ``recognize()`` uses).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from ._proc import ROOT
from ._stats import Dist, dist

__all__ = ["SttResult", "run_stt"]

DATA = ROOT / "tests" / "data" / "librivox"


@dataclass
class SttResult:
    model: str
    beam_size: int
    clips: int
    audio_s: float
    wer: float  # over all clips: total errors / total reference words
    rtf: Dist
    decode_ms: Dist
    window: str = "utterance"  # "utterance" (streaming decodes) or "30 s" (batch recognize)


def _clips() -> list[tuple[Path, str]]:
    out = []
    for line in (DATA / "transcripts.txt").read_text().splitlines():
        if "\t" not in line:
            continue
        name, text = line.split("\t", 1)
        path = DATA / (name if name.endswith(".wav") else f"{name}.wav")
        if path.is_file():
            out.append((path, text))
    return out


async def run_stt(*, repeats: int, full_window: bool = False, model: str = "") -> SttResult:
    from agent.providers import SpeechSettings, WhisperEngine
    from tests.audio import read_wav, words
    from tests.audio import wer as word_error_rate

    settings = SpeechSettings(stt_model=model)
    engine = await asyncio.to_thread(WhisperEngine.load, settings)
    clips = [(read_wav(p)[0].astype("float32") / 32768.0, text) for p, text in _clips()]
    if not clips:
        raise RuntimeError(f"no clips found in {DATA}")
    await engine.transcribe(clips[0][0], beam_size=settings.stt_beam_size, full_window=full_window)  # warm-up
    errors = ref_words = 0.0
    rtf, decode = [], []
    for r in range(repeats):
        for audio, text in clips:
            t0 = time.perf_counter()
            got = await engine.transcribe(audio, beam_size=settings.stt_beam_size, full_window=full_window)
            took = time.perf_counter() - t0
            decode.append(took * 1000)
            rtf.append(took / (audio.size / 16000))
            if r == 0:
                n = len(words(text))
                errors += word_error_rate(text, got.text) * n
                ref_words += n
    return SttResult(
        model=engine.name,
        beam_size=settings.stt_beam_size,
        clips=len(clips),
        audio_s=round(sum(a.size for a, _ in clips) / 16000, 2),
        wer=errors / ref_words if ref_words else float("nan"),
        rtf=dist(rtf),
        decode_ms=dist(decode),
        window="30 s" if full_window else "utterance",
    )
