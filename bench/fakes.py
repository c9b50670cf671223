"""Providers with fixed latencies, for measuring our own overhead (the real livekit pipeline runs them).

- ``EnergyVAD`` (from ``tests.fakes.speech``): speech = loud frames; the candidate's voice is a warble.
- :class:`FixedLatencySTT`: a *streaming* STT that hears the end of speech itself (the last loud frame it
  receives) and emits the final transcript exactly ``latency_s`` (150 ms) later, like a cloud STT with its
  own endpointing. The text is the next line of a script (the candidate's answers).
- :class:`DelayedLLM`: any ``llm.LLM`` (the offline brain) whose first token is held back ``ttft_s``
  (300 ms); :func:`delayed_brain_factory` plugs it into ``AgentRuntime`` so the real conductor still runs.
- :class:`FixedLatencyTTS`: first audio ``ttfb_s`` (100 ms) after the text arrives, then a warble tone
  whose length follows the word count, delivered faster than real time in 100 ms chunks.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from livekit.agents import APIConnectOptions, llm, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer

from tests.fakes.speech import EnergyVAD

__all__ = [
    "ANSWERS",
    "DelayedLLM",
    "EnergyVAD",
    "FixedLatencySTT",
    "FixedLatencyTTS",
    "delayed_brain_factory",
    "warble",
]

ANSWERS = (
    "At my last job the checkout service was slow, so I profiled it, found repeated database calls, "
    "batched them and added a cache, and latency went down by half.",
    "I would start by agreeing on the goal with the team, then split the work into small steps, "
    "ship the first one within a week and measure whether it helped before going further.",
    "We had a disagreement about the schema, so I wrote down both options with their costs, we tested "
    "them against real traffic, and the data made the decision for us.",
)


def warble(seconds: float, *, sample_rate: int, amplitude: int = 9000, base_hz: float = 300.0) -> np.ndarray:
    """A speech-like warble (a tone sweeping ±80 Hz three times a second), int16."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = np.sin(2 * np.pi * (base_hz + 80 * np.sin(2 * np.pi * 3 * t)) * t)
    return (wave * amplitude).astype(np.int16)


class FixedLatencySTT(stt.STT):
    """Streaming STT: FINAL ``latency_s`` after the last loud frame it received; text from ``texts``."""

    def __init__(
        self, *, latency_s: float = 0.15, texts: Iterable[str] = ANSWERS, threshold: int = 500
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.latency_s = latency_s
        self.threshold = threshold
        self._texts = itertools.cycle(list(texts))
        self.finals = 0

    @property
    def model(self) -> str:
        return "fixed-latency"

    @property
    def provider(self) -> str:
        return "bench"

    def next_text(self) -> str:
        self.finals += 1
        return next(self._texts)

    async def _recognize_impl(
        self, buffer: AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        return _event(stt.SpeechEventType.FINAL_TRANSCRIPT, self.next_text())

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _FixedLatencyStream(stt=self, conn_options=conn_options)


def _event(kind: stt.SpeechEventType, text: str = "") -> stt.SpeechEvent:
    alternatives = [stt.SpeechData(language="en", text=text, confidence=1.0)] if text else []
    return stt.SpeechEvent(type=kind, alternatives=alternatives)


class _FixedLatencyStream(stt.RecognizeStream):
    def __init__(self, *, stt: FixedLatencySTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options)
        self._owner = stt
        self._timer: asyncio.TimerHandle | None = None
        self._speaking = False

    def _final(self) -> None:
        self._timer = None
        self._speaking = False
        self._event_ch.send_nowait(_event(stt.SpeechEventType.FINAL_TRANSCRIPT, self._owner.next_text()))
        self._event_ch.send_nowait(_event(stt.SpeechEventType.END_OF_SPEECH))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for item in self._input_ch:
                if isinstance(item, stt.RecognizeStream._FlushSentinel):
                    continue
                pcm = np.frombuffer(item.data, dtype=np.int16)
                if not pcm.size or int(np.abs(pcm).max()) < self._owner.threshold:
                    continue
                if self._timer is not None:
                    self._timer.cancel()
                if not self._speaking:
                    self._speaking = True
                    self._event_ch.send_nowait(_event(stt.SpeechEventType.START_OF_SPEECH))
                # the end of this frame is the latest end of speech heard so far
                self._timer = loop.call_later(self._owner.latency_s, self._final)
        finally:
            if self._timer is not None:
                self._timer.cancel()


class DelayedLLM(llm.LLM):
    """Wraps an ``llm.LLM``: nothing for ``ttft_s``, then the inner stream's chunks."""

    def __init__(self, *, inner: llm.LLM, ttft_s: float = 0.3) -> None:
        super().__init__()
        self.inner = inner
        self.ttft_s = ttft_s

    @property
    def model(self) -> str:
        return f"delayed:{self.inner.model}"

    @property
    def provider(self) -> str:
        return "bench"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _DelayedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _DelayedStream(llm.LLMStream):
    async def _run(self) -> None:
        owner: DelayedLLM = self._llm  # type: ignore[assignment]
        await asyncio.sleep(owner.ttft_s)
        async with owner.inner.chat(
            chat_ctx=self._chat_ctx, tools=self._tools, conn_options=self._conn_options
        ) as inner:
            async for chunk in inner:
                self._event_ch.send_nowait(chunk)


def delayed_brain_factory(*, ttft_s: float = 0.3) -> Callable[..., Any]:
    """An ``AgentRuntime`` brain factory: the offline brain for the plan, first token after ``ttft_s``."""
    from agent.brain import BrainSettings, build_brain
    from agent.plans import PlanSpec

    def factory(*, interview: Any) -> Any:
        plan = PlanSpec.from_json(interview.plan_spec)
        brain = build_brain(
            plan=plan,
            settings=BrainSettings(brain="offline"),
            state=interview.state or None,
            audience=getattr(interview, "audience", None),  # the greeting names the candidate and company
        )
        brain.llm = DelayedLLM(inner=brain.llm, ttft_s=ttft_s)
        return brain

    return factory


class FixedLatencyTTS(tts.TTS):
    """Non-streaming TTS: first audio ``ttfb_s`` after the text, ``ms_per_word`` of warble per word."""

    def __init__(
        self, *, ttfb_s: float = 0.1, ms_per_word: int = 160, max_s: float = 4.0, sample_rate: int = 24000
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1
        )
        self.ttfb_s = ttfb_s
        self.ms_per_word = ms_per_word
        self.max_s = max_s

    @property
    def model(self) -> str:
        return "fixed-latency"

    @property
    def provider(self) -> str:
        return "bench"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: FixedLatencyTTS = self._tts  # type: ignore[assignment]
        started = time.perf_counter()
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=owner.sample_rate, num_channels=1, mime_type="audio/pcm"
        )
        seconds = min(owner.max_s, max(0.3, len(self._input_text.split()) * owner.ms_per_word / 1000))
        pcm = warble(seconds, sample_rate=owner.sample_rate, amplitude=6000, base_hz=440.0)
        await asyncio.sleep(max(0.0, owner.ttfb_s - (time.perf_counter() - started)))
        chunk = owner.sample_rate // 10
        for start in range(0, pcm.size, chunk):
            output_emitter.push(pcm[start : start + chunk].tobytes())
            await asyncio.sleep(0)
        output_emitter.flush()
