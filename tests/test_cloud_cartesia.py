"""Cartesia TTS: the real livekit Cartesia plugin client against a local server speaking Cartesia's wire
protocol (tests/fakes/cartesia_server.py), with the real piper voice as the fallback.

The fake speaks a pure 440 Hz tone, so every test can tell which provider a stretch of the reply came from.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import numpy as np
import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions, tts
from livekit.plugins import cartesia as lk_cartesia

from agent.providers import PiperTTS, ProviderConfigError, SpeechSettings, WhisperSTT, build_tts
from agent.providers.cartesia_tts import (
    PROVIDER_FALLBACKS,
    CartesiaSettings,
    CartesiaTTS,
    build_cartesia_tts,
    get_cartesia_settings,
)
from tests.audio import wer, words
from tests.fakes.cartesia_server import (
    CHUNK_SECONDS,
    TONE_HZ,
    WORD_SECONDS,
    CartesiaScript,
    FakeCartesiaServer,
)

pytestmark = pytest.mark.integration

TIMEOUT = 120
FIRST = "Thanks for walking me through that design."
SECOND = "Tell me about a project you are proud of."
REPLY = f"{FIRST} {SECOND}"
CHUNKS_PER_WORD = round(WORD_SECONDS / CHUNK_SECONDS)


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS.load(SpeechSettings())


@pytest.fixture(scope="module")
def whisper() -> WhisperSTT:
    return WhisperSTT.load(SpeechSettings())


def settings(fake: FakeCartesiaServer, **kw: object) -> CartesiaSettings:
    return CartesiaSettings(api_key="test-key", base_url=fake.base_url, voice_id="voice-123", **kw)


def fallbacks(stage: str) -> float:
    return PROVIDER_FALLBACKS.labels(kind="tts", provider="cartesia", stage=stage)._value.get()


async def speak(engine: tts.TTS, text: str) -> np.ndarray:
    """Stream ``text`` as the session does (pushed, then end of input); all audio as int16."""
    stream = engine.stream()
    try:
        stream.push_text(text)
        stream.end_input()
        async with asyncio.timeout(TIMEOUT):
            frames = [ev.frame async for ev in stream]
    finally:
        await stream.aclose()
    assert {f.sample_rate for f in frames} == {engine.sample_rate}
    return np.frombuffer(rtc.combine_audio_frames(frames).data, dtype=np.int16)


def is_tone(window: np.ndarray, rate: int) -> bool:
    """Nearly all the energy of this window sits at the fake's tone frequency."""
    spectrum = np.abs(np.fft.rfft(window.astype(np.float64))) ** 2
    peak = int(np.argmax(spectrum))
    freq = peak * rate / window.size
    return abs(freq - TONE_HZ) < 30 and spectrum[max(0, peak - 2) : peak + 3].sum() > 0.8 * spectrum.sum()


def tone_prefix_seconds(audio: np.ndarray, rate: int) -> float:
    """How long the reply starts with the fake's tone (in 20 ms windows)."""
    n = rate // 50
    count = 0
    while (count + 1) * n <= audio.size and is_tone(audio[count * n : (count + 1) * n], rate):
        count += 1
    return count * n / rate


async def test_reply_streams_from_cartesia_with_configured_voice(piper: PiperTTS) -> None:
    async with FakeCartesiaServer() as fake:
        engine = build_cartesia_tts(fallback=piper, settings=settings(fake, model="sonic-2"))
        try:
            audio = await speak(engine, REPLY)
        finally:
            await engine.aclose()
    rate = engine.sample_rate
    assert audio.size / rate == pytest.approx(len(REPLY.split()) * WORD_SECONDS, abs=0.05)
    assert tone_prefix_seconds(audio, rate) == pytest.approx(audio.size / rate, abs=0.03)
    sent = [r for r in fake.requests if r.get("transcript", "").strip()]
    assert " ".join(r["transcript"].strip() for r in sent) == REPLY
    assert {r["voice"]["id"] for r in sent} == {"voice-123"}
    assert {r["model_id"] for r in sent} == {"sonic-2"}
    assert fake.requests[-1]["continue"] is False
    assert fake.contexts_done == 1


async def test_error_mid_reply_finishes_the_reply_with_piper(
    piper: PiperTTS, whisper: WhisperSTT, caplog: pytest.LogCaptureFixture
) -> None:
    """Cartesia fails inside the second sentence: the candidate heard the first sentence from Cartesia and
    hears the second one, whole, from piper; the reply ends normally (no exception reaches the session)."""
    heard_chunks = (len(FIRST.split()) + 1) * CHUNKS_PER_WORD + 1  # one chunk into the 9th word
    before = fallbacks("mid_reply")
    caplog.set_level(logging.INFO, logger="mockline")
    async with FakeCartesiaServer(script=CartesiaScript(error_after_chunks=heard_chunks)) as fake:
        engine = build_cartesia_tts(fallback=piper, settings=settings(fake))
        try:
            audio = await speak(engine, REPLY)
        finally:
            await engine.aclose()
    rate = engine.sample_rate
    assert fake.errors_sent == 1
    head = tone_prefix_seconds(audio, rate)
    assert head == pytest.approx(heard_chunks * CHUNK_SECONDS, abs=0.03)
    tail = audio[int(head * rate) :]
    assert tail.size / rate > 1.0  # a spoken sentence followed the tone
    frames = [rtc.AudioFrame(tail.tobytes(), rate, 1, tail.size)]
    heard = (await whisper.recognize(frames)).alternatives[0].text
    # piper samples noise (VITS), so whisper tiny's reading varies a little from run to run: allow up to
    # 3 of the 9 words wrong, and require it to be closer to the second sentence than to the first.
    assert wer(SECOND, heard) <= 0.34 and wer(SECOND, heard) < wer(FIRST, heard)
    assert "design" not in words(heard)  # resumed at the unfinished sentence, not from the start
    assert fallbacks("mid_reply") == before + 1
    lines = [r for r in caplog.records if r.name.startswith("mockline")]
    assert any("mid-reply" in r.getMessage() for r in lines)
    assert not any(w in r.getMessage() for r in lines for w in ("project", "design"))  # no transcript text


@pytest.mark.parametrize(
    "script",
    [
        CartesiaScript(api_key="another-key"),  # handshake refused (401)
        CartesiaScript(error_after_chunks=0),  # error frame before any audio
        CartesiaScript(close_after_chunks=0),  # socket dropped before any audio
        CartesiaScript(first_chunk_delay=30.0),  # stalls past CARTESIA_STALL_TIMEOUT_SECONDS
    ],
    ids=["unauthorised", "error-frame", "socket-dropped", "stall"],
)
async def test_failure_before_audio_speaks_the_whole_reply_with_piper(
    piper: PiperTTS, whisper: WhisperSTT, script: CartesiaScript
) -> None:
    before = fallbacks("before_audio")
    async with FakeCartesiaServer(script=script) as fake:
        engine = build_cartesia_tts(fallback=piper, settings=settings(fake, stall_timeout_seconds=0.5))
        try:
            audio = await speak(engine, REPLY)
        finally:
            await engine.aclose()
    rate = engine.sample_rate
    assert tone_prefix_seconds(audio, rate) == 0.0
    heard = (await whisper.recognize([rtc.AudioFrame(audio.tobytes(), rate, 1, audio.size)])).alternatives[0]
    assert wer(REPLY, heard.text) <= 0.2
    assert fallbacks("before_audio") == before + 1


async def test_socket_dropped_mid_reply_is_finished_by_piper(piper: PiperTTS) -> None:
    async with FakeCartesiaServer(script=CartesiaScript(close_after_chunks=4)) as fake:
        engine = build_cartesia_tts(fallback=piper, settings=settings(fake))
        try:
            audio = await speak(engine, REPLY)
            # the adapter still believes in Cartesia: the next reply goes to it again, and it answers
            fake.script.close_after_chunks = None
            again = await speak(engine, SECOND)
        finally:
            await engine.aclose()
    rate = engine.sample_rate
    assert tone_prefix_seconds(audio, rate) == pytest.approx(4 * CHUNK_SECONDS, abs=0.03)
    assert audio.size / rate > 2.0
    assert tone_prefix_seconds(again, rate) == pytest.approx(again.size / rate, abs=0.03)
    assert fake.connections == 2  # the broken socket left the pool; a fresh one was opened


async def test_stock_plugin_truncates_on_error_frame_which_is_why_the_loop_is_replaced() -> None:
    """Canary for the upstream behaviour: livekit-plugins-cartesia 1.8.9 ends the reply at an ``error``
    frame (``done: true``) without raising, so no fallback can run. When this fails, upstream fixed it."""
    async with (
        FakeCartesiaServer(script=CartesiaScript(error_after_chunks=5)) as fake,
        aiohttp.ClientSession() as http,
    ):
        stock = lk_cartesia.TTS(api_key="test-key", base_url=fake.base_url, http_session=http)
        stream = stock.stream(conn_options=APIConnectOptions(max_retry=0, timeout=5))
        try:
            stream.push_text(REPLY)
            stream.end_input()
            async with asyncio.timeout(TIMEOUT):
                frames = [ev.frame async for ev in stream]
        finally:
            await stream.aclose()
            await stock.aclose()
    assert sum(f.duration for f in frames) == pytest.approx(5 * CHUNK_SECONDS, abs=0.01)


async def test_bytes_endpoint_for_one_shot_synthesis(piper: PiperTTS) -> None:
    async with FakeCartesiaServer() as fake:
        engine = CartesiaTTS(settings=settings(fake), resume_tts=piper)
        try:
            async with asyncio.timeout(TIMEOUT), engine.synthesize(SECOND) as stream:
                frames = [ev.frame async for ev in stream]
        finally:
            await engine.aclose()
    assert sum(f.duration for f in frames) == pytest.approx(len(SECOND.split()) * WORD_SECONDS, abs=0.02)
    assert fake.http_requests[0]["transcript"] == SECOND


def test_selected_by_configuration_and_refuses_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKLINE_TTS", "cartesia")
    monkeypatch.delenv("CARTESIA_API_KEY", raising=False)
    get_cartesia_settings.cache_clear()
    try:
        with pytest.raises(ProviderConfigError, match="CARTESIA_API_KEY"):
            build_tts(SpeechSettings())
        monkeypatch.setenv("CARTESIA_API_KEY", "k")
        monkeypatch.setenv("CARTESIA_BASE_URL", "http://127.0.0.1:9")
        get_cartesia_settings.cache_clear()
        engine = build_tts(SpeechSettings())
        assert isinstance(engine, tts.FallbackAdapter)
        primary, fallback = engine._tts_instances
        assert isinstance(primary, CartesiaTTS) and isinstance(fallback, PiperTTS)
        assert primary._opts.base_url == "http://127.0.0.1:9"
    finally:
        get_cartesia_settings.cache_clear()
