"""Real-speech barge-in clips, and where silero's pause decision falls in each (audio time, no CPU).

The clips: the corpus's five short replies, and the first 2.5 s of its spontaneous answers (JFK, the
meeting speaker) and of a LibriVox sentence — the ways a real candidate starts talking over the agent,
soft onsets included. ``vad_stages`` runs the product's silero VAD (``agent.providers.load_vad``, the
phone variant on the 8 kHz μ-law band) over a clip after 0.5 s of silence and says, in milliseconds of
*audio* after the clip's first voiced 10 ms (the bench's "candidate starts speaking": RMS > 300), when

- ``threshold``: silero's smoothed probability first reaches the activation threshold;
- ``start``: START_OF_SPEECH (``min_speech_duration`` of windows over the threshold);
- ``pause``: livekit pauses the agent: the first inference whose ``speech_duration`` reaches
  ``min_interruption_duration`` (counted from START_OF_SPEECH, so one window after it at best);
- ``early``: ``agent/_early_pause.py`` pauses it: ``early_pause_speech`` of windows over its bar
  (``early_bar``; None: silero's threshold);
- ``sustained``: where a *sustained* onset is (the first of 3 voiced 10 ms windows in a row): real
  recordings have a click or a breath 100-230 ms before the first word, which the bench's definition
  counts as the start of speech.

**When the candidate starts speaking** (``BargeClip.word_s``, BENCHMARKS.md "First window"): the start of
the first *word*, its first consonant included ("s" of "seven", the "t" burst of "ten"), not a click or a
breath before it. Where the recording ships a forced word alignment (the LibriVox sentences, pocketsphinx's
``.json``) it is the aligner's start of the first word; otherwise the sustained onset above. Checked by
hand on all seven clips against the energy envelope and a periodicity (voicing) track: the three clips
with a sound before the word have 80-250 ms of quiet (RMS 40-250, the recording's floor) between it and
the word; on the others the first sound is the word.

These do not depend on the machine's load; a real call adds the transport legs and the VAD's lag
behind real time on top.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._voice import _VOICED_RMS, Clip

__all__ = ["BargeClip", "VadStages", "barge_clips", "telephone_channel", "vad_stages", "word_onset_s"]

_LEAD_S = 0.5  # silence before the clip (the VAD has settled on silence, as over an agent reply)
_ONSET_S = 2.5  # of a longer answer, its first seconds are enough to barge in


@dataclass(frozen=True)
class BargeClip(Clip):
    word_s: float = 0.0  # seconds from the clip start to the start of its first word (module docstring)
    # how much later the word starts in what a phone line delivers: the sustained onset of the recording
    # through a telephone channel (300-3400 Hz, G.712's passband; ``telephone_channel``) minus the
    # wideband one (cards_003: its "s" is above the band). Reported beside, never instead.
    band_shift_s: float = 0.0


# recordings that ship a forced word alignment: the corpus's LibriVox sentence number
_ALIGNED = {"librivox_0880": "0880"}


def barge_clips(rate: int) -> list[BargeClip]:
    """Real speech a candidate might say over the agent, at ``rate`` (8000: the μ-law phone band)."""
    from tests.audio import corpus, resample

    picked = [a for a in corpus.answers() if a.kind == "short" or a.name in ("jfk", "meeting_chan3")]
    out = []
    for a in picked:
        src = a if rate != 8000 else corpus.phone(a)
        pcm = src.samples if a.kind == "short" else src.samples[: int(_ONSET_S * src.rate)]
        start = Clip(a.name, pcm, src.rate).voiced_bounds()[0]
        cut = max(0, int((start - 0.2) * src.rate))  # the answers' leading silence is not the point
        pcm = pcm[cut:]
        if src.rate != rate:
            pcm = resample(pcm, from_rate=src.rate, to_rate=rate)
        clip = Clip(f"real:{a.name}", np.asarray(pcm, dtype=np.int16), rate)
        aligned = _ALIGNED.get(a.name)
        if aligned is not None:
            word = corpus.first_word_s(aligned) - cut / src.rate
        else:
            word = sustained_onset_s(clip)
        head = a.samples[: int(_ONSET_S * a.rate)]
        band = Clip(a.name, telephone_channel(head, a.rate), 8000)
        shift = max(0.0, sustained_onset_s(band) - sustained_onset_s(Clip(a.name, head, a.rate)))
        out.append(BargeClip(clip.name, clip.samples, rate, word_s=word, band_shift_s=shift))
    return out


def telephone_channel(pcm: np.ndarray, rate: int) -> np.ndarray:
    """``pcm`` as a phone line delivers it: 300-3400 Hz (an ideal band-pass, G.712's passband), 8 kHz,
    μ-law. (``tests.audio.corpus.phone``, which the bench's phone clips use, decimates without an
    anti-aliasing filter: a 4-8 kHz "s" folds into the band as hiss instead of going away.)"""
    from telephony.codec import pcm16_to_ulaw, ulaw_to_pcm16

    x = np.asarray(pcm, dtype=np.float64)
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / rate)
    spectrum[(f < 300) | (f > 3400)] = 0
    y = np.fft.irfft(spectrum, n=x.size)
    y = (
        y[:: rate // 8000]
        if rate % 8000 == 0
        else np.interp(np.arange(0, x.size, rate / 8000), np.arange(x.size), y)
    )
    narrow = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return ulaw_to_pcm16(pcm16_to_ulaw(narrow))


def word_onset_s(clip: Clip) -> float:
    """Seconds from the clip start to its first word (``BargeClip.word_s``; another clip: its sustained
    onset)."""
    return clip.word_s if isinstance(clip, BargeClip) else sustained_onset_s(clip)


@dataclass(frozen=True)
class VadStages:
    clip: str
    threshold_ms: float | None
    start_ms: float | None
    pause_ms: float | None
    early_ms: float | None = None
    sustained_ms: float = 0.0
    word_ms: float = 0.0  # the first word's start, after the first voiced sample


def sustained_onset_s(clip: Clip, *, run: int = 3) -> float:
    """Seconds from the clip start to the first of ``run`` voiced 10 ms windows in a row."""
    win = clip.rate // 100
    n = clip.samples.size // win
    rms = np.sqrt((clip.samples[: n * win].astype(np.float64).reshape(n, win) ** 2).mean(axis=1))
    voiced = rms > _VOICED_RMS
    for i in range(n - run + 1):
        if voiced[i : i + run].all():
            return i * win / clip.rate
    return clip.voiced_bounds()[0]


def vad_stages(
    clip: Clip,
    *,
    telephony: bool,
    min_interruption_s: float,
    early_s: float = 0.032,
    early_bar: float | None = None,
) -> VadStages:
    return asyncio.run(
        _vad_stages(
            clip, telephony=telephony, min_interruption_s=min_interruption_s, early_s=early_s, bar=early_bar
        )
    )


async def _vad_stages(
    clip: Clip, *, telephony: bool, min_interruption_s: float, early_s: float, bar: float | None
) -> VadStages:
    from livekit import rtc
    from livekit.agents import vad as lk_vad

    from agent.providers import load_vad
    from agent.providers._settings import speech_settings

    s = speech_settings(None)
    threshold = s.vad_phone_activation_threshold if telephony else s.vad_activation_threshold
    bar = threshold if bar is None else bar
    model = load_vad(telephony=telephony)
    lead = np.zeros(int(_LEAD_S * clip.rate), dtype=np.int16)
    tail = np.zeros(int(0.5 * clip.rate), dtype=np.int16)
    pcm = np.concatenate([lead, clip.samples.astype(np.int16), tail])
    onset_s = _LEAD_S + clip.voiced_bounds()[0]
    stream = model.stream()
    step = clip.rate // 50
    for i in range(0, pcm.size - step + 1, step):
        stream.push_frame(rtc.AudioFrame(pcm[i : i + step].tobytes(), clip.rate, 1, step))
    stream.end_input()
    found: dict[str, float] = {}
    rate = 8000 if telephony else 16000
    run_s = 0.0
    async for ev in stream:
        t = ev.samples_index / rate  # end of the window that produced the event
        if ev.type == lk_vad.VADEventType.INFERENCE_DONE:
            run_s = run_s + 0.032 if ev.probability >= bar else 0.0
            if run_s + 1e-6 >= early_s and "start" not in found:
                found.setdefault("early", t)
            if ev.probability >= threshold:
                found.setdefault("threshold", t)
            if ev.speech_duration >= min_interruption_s and ev.speaking:
                found.setdefault("pause", t)
        elif ev.type == lk_vad.VADEventType.START_OF_SPEECH:
            found.setdefault("start", t)
    await stream.aclose()

    def ms(key: str) -> float | None:
        return None if key not in found else (found[key] - onset_s) * 1000.0

    sustained = (sustained_onset_s(clip) - clip.voiced_bounds()[0]) * 1000.0
    word = (word_onset_s(clip) - clip.voiced_bounds()[0]) * 1000.0
    return VadStages(clip.name, ms("threshold"), ms("start"), ms("pause"), ms("early"), sustained, word)


def _main(args: Any = None) -> None:  # pragma: no cover - a bench
    for telephony in (False, True):
        rate = 8000 if telephony else 16000
        for c in barge_clips(rate):
            print(telephony, vad_stages(c, telephony=telephony, min_interruption_s=0.15))
        from ._voice import backchannels

        for c in backchannels(rate=rate):
            print(telephony, vad_stages(c, telephony=telephony, min_interruption_s=0.15))


if __name__ == "__main__":  # pragma: no cover
    _main()
