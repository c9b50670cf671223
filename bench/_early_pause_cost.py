"""``python -m bench._early_pause_cost``: what a lower first-window bar for the early pause buys and costs.

Offline, no CPU timing in it: the product's silero (``agent.providers.load_vad``, the phone variant on the
8 kHz μ-law band) runs over each clip after 0.5 s of silence, and its events drive the real
``agent._early_pause.EarlyPause`` over an agent that is speaking the whole time. Per bar (silero's own
threshold, the product today, and lower ones):

- **barge clips** (``bench._bargein_clips``): audio ms after the first word until the pause;
- **noise** (must pause nothing): the bench's cough and door knock, white hiss at RMS 300/1000/3000,
  50 Hz hum with its third harmonic, and the clicks and breaths before the real first words (the clip's
  audio before its first word);
- **backchannels**: espeak's "mm-hmm" (it is speech: livekit's backchannel filter decides, the pause is
  only held and released);
- **echo**: the interviewer's piper voice replayed clean at RMS 30…2000 (speech to silero at any bar:
  the echo canceller's job);
- **real speech**: every recording of the turns corpus, as a candidate talking over the agent: pauses
  per minute (each is a hold that is released when the sound stops before silero starts speech, or
  livekit's pause takes over).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._bargein_clips import barge_clips, word_onset_s

__all__ = ["main", "pauses"]

_LEAD_S = 0.5


@dataclass
class _Speaking:
    agent_state: str = "speaking"
    current_speech: Any = None
    _aec_warmup_remaining: float = 0.0
    _aec_warmup_timer: Any = None


@dataclass
class _Speech:
    interrupted: bool = False
    allow_interruptions: bool = True


class _Out:
    def __init__(self) -> None:
        self.paused_at: list[int] = []  # event index of each pause
        self.i = 0

    def pause(self) -> None:
        self.paused_at.append(self.i)

    def resume(self) -> None:
        pass


async def _events(pcm: np.ndarray, rate: int, telephony: bool) -> list[Any]:
    from livekit import rtc
    from livekit.agents import vad as lk_vad

    from agent.providers import load_vad

    model = load_vad(telephony=telephony)
    lead = np.zeros(int(_LEAD_S * rate), dtype=np.int16)
    pcm = np.concatenate([lead, pcm.astype(np.int16), np.zeros(int(0.5 * rate), dtype=np.int16)])
    stream = model.stream()
    step = rate // 50
    for i in range(0, pcm.size - step + 1, step):
        stream.push_frame(rtc.AudioFrame(pcm[i : i + step].tobytes(), rate, 1, step))
    stream.end_input()
    out = [ev async for ev in stream if ev.type == lk_vad.VADEventType.INFERENCE_DONE]
    await stream.aclose()
    return out


def pauses(events: list[Any], *, threshold: float, bar: float | None, speech_s: float = 0.032) -> list[float]:
    """Seconds of audio (from the start of the clip, after the lead) at which the early pause fires."""
    from agent._early_pause import EarlyPause

    out = _Out()
    early = EarlyPause(output=out, threshold=threshold, speech_s=speech_s, hold_s=0.5, bar=bar)
    early.attach(_Speaking(current_speech=_Speech()))
    for i, ev in enumerate(events):
        out.i = i
        early.on_inference(ev)
    return [events[i].samples_index for i in out.paused_at]


def _noise(rate: int) -> dict[str, np.ndarray]:
    from ._voice import backchannels

    rng = np.random.default_rng(7)
    n = 3 * rate
    t = np.arange(n) / rate
    clips = {f"hiss {r}": rng.standard_normal(n) * r for r in (300, 1000, 3000)}
    clips["hum 50+150 Hz"] = (np.sin(2 * np.pi * 50 * t) + 0.3 * np.sin(2 * np.pi * 150 * t)) * 1400
    for c in backchannels(rate=rate):
        if c.name != "mm-hmm":
            clips[c.name] = c.samples
    for c in barge_clips(rate):
        word = int(word_onset_s(c) * rate)
        if word_onset_s(c) - c.voiced_bounds()[0] > 0.05:  # a click or breath before the word
            clips[f"before the word: {c.name.removeprefix('real:')}"] = c.samples[:word]
    return {k: np.clip(v, -32768, 32767).astype(np.int16) for k, v in clips.items()}


def _phone(pcm: np.ndarray, rate: int) -> np.ndarray:
    """μ-law at 8 kHz (band-limited by a proper resampler when it comes from 16 kHz)."""
    from tests.audio import telephone

    return telephone(pcm, rate)


async def _run(bars: list[float | None]) -> None:
    from agent.providers._settings import speech_settings
    from tests.audio import corpus, speak

    from ._voice import backchannels

    s = speech_settings(None)
    for telephony in (False, True):
        rate = 8000 if telephony else 16000
        threshold = s.vad_phone_activation_threshold if telephony else s.vad_activation_threshold
        label = "phone" if telephony else "web"
        names = ["threshold" if b is None else f"{b:g}" for b in bars]
        print(f"\n## {label} (silero threshold {threshold}); bars: {', '.join(names)}")

        async def count(
            pcm: np.ndarray, rate: int = rate, telephony: bool = telephony, threshold: float = threshold
        ) -> list[int]:
            evs = await _events(pcm, rate, telephony)
            return [len(pauses(evs, threshold=threshold, bar=b)) for b in bars]

        print("barge clips, ms after the first word until the pause:")
        for c in barge_clips(rate):
            evs = await _events(c.samples, rate, telephony)
            word = _LEAD_S + word_onset_s(c)
            firsts = []
            for b in bars:
                p = [x / (8000 if telephony else 16000) for x in pauses(evs, threshold=threshold, bar=b)]
                after = [x - word for x in p if x - word > -0.2]
                firsts.append(f"{after[0] * 1000:.0f}" if after else "–")
            print(f"- {c.name.removeprefix('real:')}: {' / '.join(firsts)}")
        print("noise, pauses (must be 0):")
        for name, pcm in _noise(rate).items():
            if telephony and not name.startswith("before"):
                pcm = _phone(pcm, 8000)
            print(f"- {name}: {' / '.join(map(str, await count(pcm)))}")
        mm = next(c for c in backchannels(rate=rate) if c.name == "mm-hmm")
        print(f"backchannel mm-hmm, pauses: {' / '.join(map(str, await count(mm.samples)))}")
        line = "Thank you. Could you tell me about a project where you had to make a hard trade-off?"
        voice = speak(line, voice="piper", sample_rate=16000).astype(np.float64)
        voice /= max(1.0, float(np.sqrt(np.mean(voice**2))))
        print("echo of the interviewer (piper, clean), pauses:")
        for r in (30, 100, 300, 1000, 2000):
            pcm = np.clip(voice * r, -32768, 32767).astype(np.int16)
            pcm = _phone(pcm, 16000) if telephony else pcm
            print(f"- RMS {r}: {' / '.join(map(str, await count(pcm)))}")
        total = [0] * len(bars)
        secs = 0.0
        for a in corpus.answers():
            src = corpus.phone(a) if telephony else a
            pcm = src.samples
            if src.rate != rate:
                from tests.audio import resample

                pcm = resample(pcm, from_rate=src.rate, to_rate=rate)
            total = [x + y for x, y in zip(total, await count(pcm), strict=True)]
            secs += pcm.size / rate
        print(f"real speech ({secs:.0f} s, every corpus recording), pauses: {' / '.join(map(str, total))}")


def main(bars: list[float | None] | None = None) -> None:  # pragma: no cover - a bench
    asyncio.run(_run(bars or [None, 0.4, 0.3]))


if __name__ == "__main__":  # pragma: no cover
    main()
