"""Measure the offline speech providers on this machine (numbers for the report, not test assertions).

    .venv/bin/python -m tests.audio.measure_providers

Prints model load times, TTS first-audio latency and real-time factor, STT latency per utterance
(batch ``recognize``) and streaming final latency (speech fed in real time; time from the end of the
speech to the final transcript).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

from livekit.agents import stt

from agent.providers import EspeakTTS, PiperTTS, SpeechSettings, WhisperSTT, load_vad
from tests.audio import concat, read_wav, silence, speak, to_frames, wer

REPLIES = [
    "Thanks for joining today. Let's start with a short introduction. Tell me about your current role.",
    "That sounds like a hard problem. How did you decide which part to fix first?",
    "Good. Now a technical question. How would you design a rate limiter for a public API?",
    "Let me give you a hint. Think about what happens when many servers share one limit.",
    "Thank you, that was the last question. You will hear from us within a week.",
]
ANSWERS = [
    "I worked on the payments team where I owned the billing service",
    "We measured the slowest queries first and fixed the worst one",
    "I would use a token bucket per customer stored in a shared cache",
]


def _stats(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"median {statistics.median(values):.3f}  p90 {p90:.3f}  max {max(values):.3f}  (n={len(values)})"


async def _tts(name: str, engine: object) -> None:
    first, rtf = [], []
    for text in REPLIES * 2:
        start = time.perf_counter()
        t_first, duration = None, 0.0
        async with engine.synthesize(text) as stream:  # type: ignore[attr-defined]
            async for ev in stream:
                t_first = t_first or time.perf_counter() - start
                duration += ev.frame.duration
        first.append(t_first or 0.0)
        rtf.append((time.perf_counter() - start) / duration)
    print(f"TTS {name}: first audio s  {_stats(first)}")
    print(f"TTS {name}: RTF           {_stats(rtf)}")


async def _stt_batch(whisper: WhisperSTT) -> None:
    clips = [read_wav(p) for p in sorted((Path(__file__).parents[1] / "data" / "librivox").glob("*.wav"))]
    clips += [(speak(a, voice="piper"), 16000) for a in ANSWERS]
    latency = []
    for samples, rate in clips * 2:
        start = time.perf_counter()
        await whisper.recognize(to_frames(samples, rate))
        latency.append(time.perf_counter() - start)
    print(f"STT recognize() per utterance s (1.5-7 s clips): {_stats(latency)}")


async def _stt_stream(whisper: WhisperSTT) -> None:
    finals, preflights, errors = [], [], []
    for answer in ANSWERS * 2:
        speech = speak(answer, voice="piper", sample_rate=48000)
        audio = concat(silence(0.5, 48000), speech, silence(1.5, 48000))
        speech_end = (0.5 * 48000 + len(speech)) / 48000
        stream = whisper.stream()
        t0 = time.perf_counter()
        marks: dict[str, float] = {}
        final_text = ""

        async def feed(s: stt.RecognizeStream = stream, a=audio, t0: float = t0) -> None:
            for i, frame in enumerate(to_frames(a, 48000)):
                s.push_frame(frame)
                await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.perf_counter()))
            s.end_input()

        feeder = asyncio.create_task(feed())
        async for ev in stream:
            now = time.perf_counter() - t0
            if ev.type == stt.SpeechEventType.PREFLIGHT_TRANSCRIPT:
                marks["preflight"] = now
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                marks.setdefault("final", now)
                final_text += ev.alternatives[0].text
        await feeder
        await stream.aclose()
        finals.append(marks["final"] - speech_end)
        preflights.append(marks.get("preflight", marks["final"]) - speech_end)
        errors.append(wer(answer, final_text))
    print(f"STT stream: end of speech -> preflight s {_stats(preflights)}")
    print(f"STT stream: end of speech -> final s     {_stats(finals)}  (includes the 0.5 s segment silence)")
    print(f"STT stream: WER per answer {_stats(errors)}")


async def main() -> None:
    print(f"cpus {os.cpu_count()}  load average {os.getloadavg()}")
    settings = SpeechSettings()
    t = time.perf_counter()
    piper = PiperTTS.load(settings)
    print(f"load piper {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    whisper = WhisperSTT.load(settings)
    print(f"load whisper tiny.en + segmenter VAD {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    detector = load_vad(settings)
    print(f"load silero VAD {time.perf_counter() - t:.3f} s")
    vad_stream = detector.stream()
    for frame in to_frames(concat(silence(1), speak(ANSWERS[0]), silence(1)), 16000):
        vad_stream.push_frame(frame)
    vad_stream.end_input()
    infer = [ev.inference_duration async for ev in vad_stream if ev.inference_duration]
    await vad_stream.aclose()
    print(f"VAD inference per 32 ms window ms: {_stats([x * 1000 for x in infer])}")
    await _tts("piper", piper)
    await _tts("espeak", EspeakTTS.load(settings))
    await _stt_batch(whisper)
    await _stt_stream(whisper)
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
