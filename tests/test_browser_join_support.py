"""Helpers for the browser tests (no tests here): headless Chromium with a fake microphone playing a WAV."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from playwright.async_api import BrowserContext, async_playwright

CHROMIUM = "/usr/bin/chromium"


def chromium_args(wav: Path | None, *, grant_mic: bool = True) -> list[str]:
    args = [
        "--use-fake-device-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if grant_mic:
        args.append("--use-fake-ui-for-media-stream")
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}")
    return args


@asynccontextmanager
async def chromium(
    profile: Path, wav: Path | None, *, grant_mic: bool = True
) -> AsyncIterator[BrowserContext]:
    """Real headless Chromium with a fresh ``--user-data-dir`` (Playwright's persistent context)."""
    async with async_playwright() as p:
        ctx = await p.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(wav, grant_mic=grant_mic),
            viewport={"width": 1100, "height": 900},
        )
        try:
            yield ctx
        finally:
            await ctx.close()


def write_wav(path: Path, pcm: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return path


def warble_wav(path: Path, *, silence_s: float = 2.5, speech_s: float = 1.2, rate: int = 48000) -> Path:
    """Silence, a speech-like warble, silence: Chromium loops it as the microphone."""
    t = np.arange(int(speech_s * rate)) / rate
    burst = np.sin(2 * np.pi * (300 + 80 * np.sin(2 * np.pi * 3 * t)) * t) * 12000
    gap = np.zeros(int(silence_s * rate))
    return write_wav(path, np.concatenate([gap, burst, gap]), rate)


async def start_call(page: Any, url: str, *, timeout_ms: float = 60_000) -> None:
    """Open an invitation link in ``page``, consent, and start the interview once the microphone is ready."""
    await page.goto(url)
    await page.check("#consent")
    await page.click("#consent-continue")
    await page.wait_for_selector("#start:enabled", timeout=timeout_ms)
    await page.click("#start")
