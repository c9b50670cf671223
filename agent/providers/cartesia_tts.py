"""Cartesia streaming TTS (cloud), with the offline voice as its fallback.

``MOCKLINE_TTS=cartesia`` selects it (``CARTESIA_API_KEY``, ``CARTESIA_VOICE_ID``, ``CARTESIA_MODEL``,
``CARTESIA_BASE_URL``). It is the ``livekit-plugins-cartesia`` TTS (websocket pool, options, the
``/tts/bytes`` path) with one part replaced: the websocket receive loop. Plugin 1.8.9 treats every frame
with ``done: true`` as the end of the reply, and Cartesia's ``error`` frames carry ``done: true``, so an
error mid-reply silently cuts the reply short and no fallback runs. Here an error frame, a dropped socket
or a stall (``CARTESIA_STALL_TIMEOUT_SECONDS`` without a message) fails the attempt, and then:

- before any audio of the reply: the error propagates, and ``tts.FallbackAdapter([cartesia, offline])``
  speaks the whole reply with the offline voice and probes Cartesia in the background;
- after some audio: the reply is finished with the offline voice from the first sentence the candidate has
  not fully heard (known from Cartesia's word timestamps), in the same audio segment.

Both paths count ``mockline_provider_fallbacks_total`` and log one WARNING line (no transcript text).

Errors::

    livekit.agents.APIError
    ├── APIConnectionError   socket dropped or unreachable (retryable)
    ├── APITimeoutError      no message for CARTESIA_STALL_TIMEOUT_SECONDS (retryable)
    └── CartesiaStreamError  an ``error`` frame from Cartesia (retryable for 429 and 5xx)
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIError,
    APITimeoutError,
    tokenize,
    tts,
    utils,
)
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS
from livekit.agents.voice.io import TimedString
from livekit.plugins import cartesia as lk_cartesia
from prometheus_client import Counter
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "PROVIDER_FALLBACKS",
    "CartesiaSettings",
    "CartesiaStreamError",
    "CartesiaTTS",
    "build_cartesia_tts",
    "get_cartesia_settings",
    "load_cartesia_tts",
]

logger = logging.getLogger("mockline.agent.providers")

PROVIDER_FALLBACKS = Counter(
    "mockline_provider_fallbacks",
    "Times a cloud provider failed and the offline fallback took over.",
    ["kind", "provider", "stage"],
)


class CartesiaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARTESIA_", extra="ignore")

    api_key: SecretStr = SecretStr("")
    voice_id: str = "f786b574-daa5-4673-aa0c-cbe3e8534c02"  # the plugin's default English voice
    model: str = "sonic-3"
    language: str = "en"
    base_url: str = "https://api.cartesia.ai"
    sample_rate: int = 24000
    # A reply whose websocket is silent this long fails over to the offline voice.
    stall_timeout_seconds: float = Field(default=3.0, gt=0)


@functools.lru_cache(maxsize=1)
def get_cartesia_settings() -> CartesiaSettings:
    return CartesiaSettings()


class CartesiaStreamError(APIError):
    def __init__(self, *, status_code: int, error_code: str | None) -> None:
        super().__init__(
            f"Cartesia error frame (status {status_code}, {error_code or 'no code'})",
            retryable=status_code == 429 or status_code >= 500,
        )
        self.status_code = status_code
        self.error_code = error_code


class CartesiaTTS(lk_cartesia.TTS):
    """The plugin TTS with a receive loop that fails over instead of truncating (see module docstring)."""

    def __init__(self, *, settings: CartesiaSettings, resume_tts: tts.TTS | None = None) -> None:
        if not settings.api_key.get_secret_value():
            raise ValueError("CARTESIA_API_KEY is required when MOCKLINE_TTS=cartesia")
        super().__init__(
            api_key=settings.api_key.get_secret_value(),
            model=settings.model,
            voice=settings.voice_id,
            language=settings.language,
            sample_rate=settings.sample_rate,
            base_url=settings.base_url.rstrip("/"),
        )
        self._settings = settings
        # The fallback voice, made streaming if it synthesizes whole sentences (piper, espeak).
        self._resume_tts: tts.TTS | None = resume_tts
        self._resume_label = resume_tts.label if resume_tts is not None else ""
        if resume_tts is not None and not resume_tts.capabilities.streaming:
            self._resume_tts = tts.StreamAdapter(
                tts=resume_tts, sentence_tokenizer=tokenize.blingfire.SentenceTokenizer(retain_format=True)
            )
        self._own_session: aiohttp.ClientSession | None = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        # Inside a LiveKit job the worker's shared session; elsewhere (the embedded runtime) our own.
        if self._session is None:
            try:
                self._session = utils.http_context.http_session()
            except RuntimeError:
                self._session = self._own_session = aiohttp.ClientSession()
        return self._session

    async def aclose(self) -> None:
        await super().aclose()
        if isinstance(self._resume_tts, tts.StreamAdapter):
            await self._resume_tts.aclose()
        if self._own_session is not None:
            await self._own_session.close()
            self._session = self._own_session = None

    def stream(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> _ResilientStream:
        stream = _ResilientStream(tts=self, conn_options=conn_options)
        self._streams.add(stream)
        return stream


@dataclass
class _Progress:
    sentences: list[str] = field(default_factory=list)  # sent to Cartesia, in order
    audio_seconds: float = 0.0
    word_ends: list[float] = field(default_factory=list)
    all_sent: bool = False  # the sender has taken the end-of-input marker off the queue

    def unheard_text(self) -> str:
        """The sentences from the first one the candidate has not fully heard."""
        heard = sum(1 for end in self.word_ends if end <= self.audio_seconds + 1e-6)
        for i, sentence in enumerate(self.sentences):
            words = len(sentence.split())
            if heard < words:
                return " ".join(self.sentences[i:])
            heard -= words
        return ""


_END = object()


class _ResilientStream(lk_cartesia.tts.SynthesizeStream):
    _tts: CartesiaTTS

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        cfg = self._tts._settings
        context_id = utils.shortuuid()
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=cfg.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=context_id)
        sentences: asyncio.Queue[object] = asyncio.Queue()
        pump = asyncio.create_task(self._pump_sentences(sentences))
        progress = _Progress()
        try:
            try:
                async with self._tts._pool.connection(timeout=self._conn_options.timeout) as ws:
                    await self._speak(ws, context_id, sentences, progress, output_emitter)
            except TimeoutError as e:
                raise APITimeoutError("Cartesia stalled") from e
            except aiohttp.ClientError as e:
                raise APIConnectionError(type(e).__name__) from e
        except APIError as e:
            if progress.audio_seconds == 0.0 or self._tts._resume_tts is None:
                raise
            await self._finish_with_fallback(e, sentences, progress, output_emitter)
        finally:
            await utils.aio.cancel_and_wait(pump)

    async def _pump_sentences(self, out: asyncio.Queue[object]) -> None:
        splitter = self._tts._sentence_tokenizer.stream()

        async def feed() -> None:
            async for data in self._input_ch:
                if isinstance(data, self._FlushSentinel):
                    splitter.flush()
                else:
                    splitter.push_text(data)
            splitter.end_input()

        feeder = asyncio.create_task(feed())
        try:
            async for ev in splitter:
                out.put_nowait(ev.token)
            out.put_nowait(_END)
        finally:
            await utils.aio.cancel_and_wait(feeder)
            await splitter.aclose()

    def _packet(self, context_id: str, transcript: str, *, more: bool) -> str:
        opts = self._opts
        return json.dumps(
            {
                "model_id": opts.model,
                "voice": {"mode": "id", "id": opts.voice},
                "output_format": {
                    "container": "raw",
                    "encoding": "pcm_s16le",
                    "sample_rate": opts.sample_rate,
                },
                "language": opts.language.language if opts.language else None,
                "add_timestamps": True,
                "max_buffer_delay_ms": 0,
                "context_id": context_id,
                "transcript": transcript,
                "continue": more,
            }
        )

    async def _speak(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        context_id: str,
        sentences: asyncio.Queue[object],
        progress: _Progress,
        emitter: tts.AudioEmitter,
    ) -> None:
        async def send() -> None:
            while (item := await sentences.get()) is not _END:
                progress.sentences.append(str(item))
                self._mark_started()
                await ws.send_str(self._packet(context_id, f"{item} ", more=True))
            progress.all_sent = True
            await ws.send_str(self._packet(context_id, " ", more=False))

        sender = asyncio.create_task(send())
        try:
            await self._receive(ws, context_id, progress, emitter)
        finally:
            await utils.aio.cancel_and_wait(sender)

    async def _receive(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        context_id: str,
        progress: _Progress,
        emitter: tts.AudioEmitter,
    ) -> None:
        timeout = min(self._conn_options.timeout, self._tts._settings.stall_timeout_seconds)
        while True:
            msg = await ws.receive(timeout=timeout)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                raise APIConnectionError(f"Cartesia closed the socket (code {ws.close_code})")
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("context_id") not in (None, context_id):
                continue  # audio of an earlier, interrupted reply on a pooled socket
            kind = data.get("type")
            if kind == "error":
                if not progress.sentences:
                    return  # Cartesia refuses an empty transcript; an empty reply is not a failure
                raise CartesiaStreamError(
                    status_code=int(data.get("status_code") or 500), error_code=data.get("error_code")
                )
            if kind == "chunk" and data.get("data"):
                pcm = base64.b64decode(data["data"])
                emitter.push(pcm)
                progress.audio_seconds += len(pcm) / 2 / self._opts.sample_rate
            elif kind == "timestamps" and (stamps := data.get("word_timestamps")):
                for word, start, end in zip(stamps["words"], stamps["start"], stamps["end"], strict=False):
                    progress.word_ends.append(float(end))
                    emitter.push_timed_transcript(
                        TimedString(text=f"{word} ", start_time=start, end_time=end)
                    )
            elif kind == "done":
                emitter.end_input()
                return

    async def _finish_with_fallback(
        self,
        error: APIError,
        sentences: asyncio.Queue[object],
        progress: _Progress,
        emitter: tts.AudioEmitter,
    ) -> None:
        resume = self._tts._resume_tts
        assert resume is not None
        PROVIDER_FALLBACKS.labels(kind="tts", provider="cartesia", stage="mid_reply").inc()
        logger.warning(
            "cartesia failed mid-reply; finishing the reply with %s",
            self._tts._resume_label,
            extra={"error": type(error).__name__, "retryable": error.retryable},
        )
        stream = resume.stream()
        resampler = (
            rtc.AudioResampler(
                input_rate=resume.sample_rate, output_rate=self._opts.sample_rate, num_channels=1
            )
            if resume.sample_rate != self._opts.sample_rate
            else None
        )

        async def feed() -> None:
            if text := progress.unheard_text():
                stream.push_text(text + " ")
            while not progress.all_sent and (item := await sentences.get()) is not _END:
                stream.push_text(f"{item} ")
            stream.end_input()

        feeder = asyncio.create_task(feed())
        try:
            async with stream:
                async for ev in stream:
                    frames = resampler.push(ev.frame) if resampler else [ev.frame]
                    if resampler and ev.is_final:
                        frames += resampler.flush()
                    for frame in frames:
                        emitter.push(bytes(frame.data))
        finally:
            await utils.aio.cancel_and_wait(feeder)
        if resampler:
            for frame in resampler.flush():
                emitter.push(bytes(frame.data))
        emitter.end_input()


class _CartesiaFallback(tts.FallbackAdapter):
    """Owns the Cartesia instance (closed with it); the offline voice is shared and stays open."""

    async def aclose(self) -> None:
        await super().aclose()
        await self._tts_instances[0].aclose()


def build_cartesia_tts(*, fallback: tts.TTS, settings: CartesiaSettings | None = None) -> tts.FallbackAdapter:
    """Cartesia first, ``fallback`` (piper or espeak) when it fails; both paths are logged and counted."""
    settings = settings or get_cartesia_settings()
    primary = CartesiaTTS(settings=settings, resume_tts=fallback)
    adapter = _CartesiaFallback([primary, fallback], max_retry_per_tts=0)

    def on_availability(ev: tts.AvailabilityChangedEvent) -> None:
        if ev.tts is not primary:
            return
        if ev.available:
            logger.info("cartesia is available again")
        else:
            PROVIDER_FALLBACKS.labels(kind="tts", provider="cartesia", stage="before_audio").inc()
            logger.warning("cartesia unavailable; speaking with %s until it recovers", fallback.label)

    adapter.on("tts_availability_changed", on_availability)
    return adapter


def load_cartesia_tts(speech: Any = None) -> tts.TTS:
    """The ``MOCKLINE_TTS=cartesia`` backend (blocking: loads the offline fallback voice first)."""
    from ._errors import ProviderConfigError, ProviderUnavailableError
    from ._espeak import EspeakTTS
    from ._piper import PiperTTS

    settings = get_cartesia_settings()
    if not settings.api_key.get_secret_value():
        raise ProviderConfigError("MOCKLINE_TTS=cartesia needs CARTESIA_API_KEY")
    try:
        fallback: tts.TTS = PiperTTS.load(speech)
    except ProviderUnavailableError:
        logger.warning("piper is not available; cartesia falls back to espeak-ng")
        fallback = EspeakTTS.load(speech)
    return build_cartesia_tts(fallback=fallback, settings=settings)
