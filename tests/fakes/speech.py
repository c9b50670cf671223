"""Fake VAD / STT / TTS that subclass livekit's real base classes and replay a scripted timeline.

The candidate's "speech" is synthetic audio whose sample value encodes which scripted utterance it is:
``Timeline.audio(i)`` is a constant-amplitude tone at ``code(i)``, silence is zeros. ``EnergyVAD`` finds
speech by amplitude (with silero's event shape: INFERENCE_DONE per frame, START/END_OF_SPEECH),
``ScriptSTT`` (non-streaming, so the session wraps it in livekit's ``StreamAdapter`` driven by the VAD)
reads the code back and returns the scripted text, and ``ToneTTS`` synthesises a reply as a tone whose
length follows the word count, so interruptions land mid-sentence at a predictable place.

Everything else (turn detection, endpointing, interruptions, transcript sync, playout) is the real
livekit-agents pipeline.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, tts, utils, vad
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer

__all__ = ["EnergyVAD", "Microphone", "ScriptSTT", "Timeline", "ToneTTS", "frames_of"]

SAMPLE_RATE = 16000
FRAME_MS = 20
_BASE_CODE = 4000
_STEP = 200


@dataclass
class Timeline:
    """The candidate's scripted utterances; ``audio(i)`` is how utterance ``i`` sounds."""

    utterances: list[str]
    ms_per_word: int = 120
    recognised: list[str] = field(default_factory=list)  # what the STT returned, in order

    def code(self, index: int) -> int:
        return _BASE_CODE + index * _STEP

    def index_of(self, value: float) -> int | None:
        i = round((value - _BASE_CODE) / _STEP)
        return i if 0 <= i < len(self.utterances) else None

    def audio(self, index: int, *, ms: int | None = None) -> list[rtc.AudioFrame]:
        words = len(self.utterances[index].split())
        return frames_of(ms if ms is not None else max(300, words * self.ms_per_word), self.code(index))


def frames_of(ms: int, value: int = 0, *, sample_rate: int = SAMPLE_RATE) -> list[rtc.AudioFrame]:
    """``ms`` of constant audio (``value`` 0 = silence) as 20 ms frames."""
    n = sample_rate * FRAME_MS // 1000
    out = []
    for _ in range(max(1, ms // FRAME_MS)):
        data = np.full(n, value, dtype=np.int16)
        out.append(rtc.AudioFrame(data.tobytes(), sample_rate, 1, n))
    return out


class EnergyVAD(vad.VAD):
    def __init__(
        self, *, threshold: int = 500, min_speech_s: float = 0.06, min_silence_s: float = 0.3
    ) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_MS / 1000))
        self.threshold = threshold
        self.min_speech_s = min_speech_s
        self.min_silence_s = min_silence_s

    @property
    def model(self) -> str:
        return "energy"

    @property
    def provider(self) -> str:
        return "tests"

    def stream(self) -> vad.VADStream:
        return _EnergyVADStream(self)


class _EnergyVADStream(vad.VADStream):
    def __init__(self, owner: EnergyVAD) -> None:
        self._owner = owner
        super().__init__(owner)

    async def _main_task(self) -> None:
        o = self._owner
        speaking = False
        speech_s = silence_s = 0.0
        t = 0.0
        samples = 0
        buf: list[rtc.AudioFrame] = []
        prefix: collections.deque[rtc.AudioFrame] = collections.deque(maxlen=5)
        async for frame in self._input_ch:
            if isinstance(frame, vad.VADStream._FlushSentinel):
                continue
            d = frame.duration
            t += d
            samples += frame.samples_per_channel
            loud = bool(np.abs(np.frombuffer(frame.data, dtype=np.int16)).max(initial=0) >= o.threshold)
            if speaking:
                buf.append(frame)
            if loud:
                speech_s += d
                silence_s = 0.0
            else:
                silence_s += d
                if not speaking:
                    speech_s = 0.0
            self._event_ch.send_nowait(
                vad.VADEvent(
                    type=vad.VADEventType.INFERENCE_DONE,
                    samples_index=samples,
                    timestamp=t,
                    speech_duration=speech_s if speaking else 0.0,
                    silence_duration=silence_s,
                    frames=[frame],
                    probability=1.0 if loud else 0.0,
                    speaking=speaking,
                    raw_accumulated_silence=silence_s,
                    raw_accumulated_speech=speech_s,
                )
            )
            if not speaking:
                prefix.append(frame)
                if loud and speech_s >= o.min_speech_s:
                    speaking = True
                    buf = list(prefix)
                    self._event_ch.send_nowait(
                        vad.VADEvent(
                            type=vad.VADEventType.START_OF_SPEECH,
                            samples_index=samples,
                            timestamp=t,
                            speech_duration=speech_s,
                            silence_duration=0.0,
                            frames=[utils.merge_frames(buf)],
                            speaking=True,
                        )
                    )
            elif silence_s >= o.min_silence_s:
                speaking = False
                self._event_ch.send_nowait(
                    vad.VADEvent(
                        type=vad.VADEventType.END_OF_SPEECH,
                        samples_index=samples,
                        timestamp=t,
                        speech_duration=speech_s,
                        silence_duration=silence_s,
                        frames=[utils.merge_frames(buf)],
                        speaking=False,
                    )
                )
                speech_s = 0.0
                buf = []
                prefix.clear()


class ScriptSTT(stt.STT):
    """Batch STT: returns the scripted text of the utterance the audio encodes."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.timeline = timeline
        self.fail_next = False

    @property
    def model(self) -> str:
        return "script"

    @property
    def provider(self) -> str:
        return "tests"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frame = utils.merge_frames(buffer) if isinstance(buffer, list) else buffer
        pcm = np.abs(np.frombuffer(frame.data, dtype=np.int16).astype(np.int32))
        loud = pcm[pcm >= 500]
        seen: list[int] = []
        if loud.size:
            values, counts = np.unique(loud, return_counts=True)
            for v in values[np.argsort(-counts)]:
                i = self.timeline.index_of(float(v))
                if i is not None and i not in seen and counts[list(values).index(v)] * 10 >= loud.size:
                    seen.append(i)
        text = " ".join(self.timeline.utterances[i] for i in sorted(seen))
        self.timeline.recognised.append(text)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text=text, confidence=1.0 if text else 0.0)],
        )


class ToneTTS(tts.TTS):
    """Non-streaming TTS: ``ms_per_word`` of tone per word, delivered in 100 ms chunks."""

    def __init__(self, *, ms_per_word: int = 150, sample_rate: int = 24000, value: int = 3000) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1
        )
        self.ms_per_word = ms_per_word
        self.value = value
        self.spoken: list[str] = []

    @property
    def model(self) -> str:
        return "tone"

    @property
    def provider(self) -> str:
        return "tests"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: ToneTTS = self._tts  # type: ignore[assignment]
        owner.spoken.append(self._input_text)
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=owner.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        words = len(self._input_text.split())
        total = owner.sample_rate * owner.ms_per_word * words // 1000
        chunk = owner.sample_rate // 10
        pcm = np.full(total, owner.value, dtype=np.int16)
        for start in range(0, total, chunk):
            output_emitter.push(pcm[start : start + chunk].tobytes())
            await asyncio.sleep(0)
        output_emitter.flush()


class Microphone:
    """The candidate's microphone: pushes 20 ms frames at wall-clock pace into a ``PushAudioInput``,
    silence when nothing is being said (like a real transport). ``say`` returns once the words went out."""

    def __init__(self, target: object, *, sample_rate: int = SAMPLE_RATE) -> None:
        self._target = target
        self._silence = frames_of(FRAME_MS, 0, sample_rate=sample_rate)[0]
        self._queue: collections.deque[tuple[rtc.AudioFrame, asyncio.Event | None]] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fake-microphone")

    async def say(self, frames: Sequence[rtc.AudioFrame]) -> None:
        done = asyncio.Event()
        for i, f in enumerate(frames):
            self._queue.append((f, done if i == len(frames) - 1 else None))
        await asyncio.wait_for(done.wait(), 60)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        n = 0
        while True:
            frame, done = self._queue.popleft() if self._queue else (self._silence, None)
            self._target.push_frame(frame)  # type: ignore[attr-defined]
            if done is not None:
                done.set()
            n += 1
            delay = t0 + n * FRAME_MS / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
