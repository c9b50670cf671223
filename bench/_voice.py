"""The candidate's side of the conversation: answers, a barge-in, and backchannels, as int16 clips.

With the fake providers the candidate's voice is a warble (the energy VAD's idea of speech); with silero
and whisper it is espeak-ng speech (``tests.audio.speak``, cached on disk). Backchannels are synthesised:
espeak "mm-hmm", a cough-like noise burst, and a door knock (two low thumps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fakes import ANSWERS, warble

__all__ = ["INTERRUPTION", "Clip", "answer", "backchannels", "interruption"]

INTERRUPTION = "Sorry, sorry, could you repeat the question please?"
_VOICED_RMS = 300.0  # a 10 ms window louder than this counts as voiced
_SEED = 20240


@dataclass(frozen=True)
class Clip:
    name: str
    samples: np.ndarray  # int16 mono
    rate: int

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate

    def voiced_bounds(self) -> tuple[float, float]:
        """Seconds from the clip start to its first and to the end of its last voiced 10 ms window."""
        win = self.rate // 100
        n = self.samples.size // win
        blocks = self.samples[: n * win].astype(np.float64).reshape(n, win)
        voiced = np.flatnonzero(np.sqrt((blocks**2).mean(axis=1)) > _VOICED_RMS)
        if not voiced.size:
            return 0.0, 0.0
        return float(voiced[0] * win / self.rate), float((voiced[-1] + 1) * win / self.rate)


def _speak(text: str, rate: int) -> np.ndarray:
    from tests.audio import speak

    return speak(text, voice="espeak", sample_rate=rate, words_per_minute=165)


def answer(index: int, *, rate: int, speech: bool) -> Clip:
    """The candidate's ``index``-th answer: espeak speech, or a 2.4 s warble for the energy VAD."""
    if speech:
        return Clip(f"answer-{index % len(ANSWERS)}", _speak(ANSWERS[index % len(ANSWERS)], rate), rate)
    return Clip("answer-warble", warble(2.4, sample_rate=rate), rate)


def interruption(*, rate: int, speech: bool) -> Clip:
    if speech:
        return Clip("interruption", _speak(INTERRUPTION, rate), rate)
    return Clip("interruption-warble", warble(2.0, sample_rate=rate), rate)


def backchannels(*, rate: int) -> list[Clip]:
    """Short sounds that must not stop the agent: "mm-hmm", a cough, a door knock."""
    rng = np.random.default_rng(_SEED)
    t_cough = np.arange(int(0.25 * rate)) / rate
    envelope = np.exp(-t_cough * 14.0) * np.minimum(1.0, t_cough * 200.0)
    cough = (rng.standard_normal(t_cough.size) * envelope * 9000).clip(-32768, 32767)
    t_thump = np.arange(int(0.06 * rate)) / rate
    thump = np.sin(2 * np.pi * 110 * t_thump) * np.exp(-t_thump * 60.0) * 16000
    gap = np.zeros(int(0.16 * rate))
    knock = np.concatenate([thump, gap, thump, gap, thump])
    return [
        Clip("mm-hmm", _speak("mm-hmm", rate), rate),
        Clip("cough", cough.astype(np.int16), rate),
        Clip("door-knock", knock.astype(np.int16), rate),
    ]
