"""What a real browser adds after the server stops sending: Chromium's receive jitter buffer on loopback.

``python -m bench._browser_playout``: headless Chromium joins a fakes-stack interview through the real
join page (``/i/<token>``), and while the interviewer speaks we read the page's ``RTCPeerConnection``
``getStats()``: per inbound audio stream, ``jitterBufferDelay / jitterBufferEmittedCount`` (the mean time
a sample waited in NetEq's buffer before playout) and NetEq's target and minimum delays, and Chrome's
``media-playout`` delay where it reports one. The bench's aiortc caller instead holds a fixed 4 packets
(80 ms) before decoding (``JitterBuffer(capacity=16, prefetch=4)``), which is why BENCHMARKS.md reports the
WebRTC barge-in stop both at the packet's arrival and at the aiortc caller's decode.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["measure_browser_playout"]

# Keeps each RTCPeerConnection the page makes, so the bench can read its stats (the page does not expose it).
_KEEP_PCS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""

_READ_STATS = """
async () => {
  const out = [];
  for (const pc of window.__pcs) {
    const report = await pc.getStats();
    report.forEach(s => {
      if ((s.type === 'inbound-rtp' && s.kind === 'audio') || s.type === 'media-playout') out.push(s);
    });
  }
  return JSON.stringify(out);
}
"""


async def measure_browser_playout(*, seconds: float = 12.0, samples: int = 6) -> list[dict[str, Any]]:
    from tests.test_browser_join_support import chromium, warble_wav

    from ._latency import fresh_db
    from ._proc import ServerProcess

    readings: list[dict[str, Any]] = []
    async with ServerProcess(
        stack="fakes", profile="product", database_url=fresh_db("browser-playout")
    ) as srv:
        creds = (await srv.setup("webrtc", 1))[0]
        with tempfile.TemporaryDirectory() as tmp:
            wav = warble_wav(Path(tmp) / "mic.wav", silence_s=30.0, speech_s=0.1)  # a quiet candidate
            async with chromium(Path(tmp) / "profile", wav) as browser:
                page = await browser.new_page()
                await page.add_init_script(_KEEP_PCS)
                await page.goto(f"{srv.url}/i/{creds['token']}")
                await page.check("#consent")
                await page.click("#consent-continue")
                await page.wait_for_selector("#start:not([disabled])", timeout=30_000)
                await page.click("#start")
                await page.wait_for_function(
                    "() => window.mocklineJoin.remoteLevelMax > 0.05", timeout=60_000
                )
                for _ in range(samples):
                    await asyncio.sleep(seconds / samples)
                    readings.append({"stats": json.loads(await page.evaluate(_READ_STATS))})
    return readings


def summarise(readings: list[dict[str, Any]]) -> list[str]:
    """Per reading, the mean over the samples played since the previous reading (NetEq's counters are
    cumulative), so the first reading's warm-up does not weigh on the rest."""
    lines = []
    prev: dict[str, dict[str, Any]] = {}
    for r in readings:
        for s in r["stats"]:
            key = s["id"]
            last = prev.get(key, {})
            prev[key] = s

            def delta(name: str, s: dict[str, Any] = s, last: dict[str, Any] = last) -> float:
                return float(s.get(name) or 0.0) - float(last.get(name) or 0.0)

            if s["type"] == "inbound-rtp":
                n = delta("jitterBufferEmittedCount")
                mean, target, minimum = (
                    1000.0 * delta(name) / n if n else float("nan")
                    for name in ("jitterBufferDelay", "jitterBufferTargetDelay", "jitterBufferMinimumDelay")
                )
                lines.append(
                    f"inbound audio: {n:.0f} samples played, jitter buffer mean {mean:.1f} ms, target"
                    f" {target:.1f} ms, minimum {minimum:.1f} ms; packets {s.get('packetsReceived')},"
                    f" lost {s.get('packetsLost')}"
                )
            else:
                n = delta("totalSamplesCount")
                delay = 1000.0 * delta("totalPlayoutDelay") / n if n else float("nan")
                lines.append(f"media-playout: {n:.0f} samples, mean playout delay {delay:.1f} ms")
    return lines


if __name__ == "__main__":  # pragma: no cover - a bench
    import sys

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    print("\n".join(summarise(asyncio.run(measure_browser_playout()))))
