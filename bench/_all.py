"""``python -m bench all [--quick]``: every measurement, one after another, then BENCHMARKS.md.

Parts run one at a time (each starts its own server process) so they do not disturb each other. A part
that fails is reported in BENCHMARKS.md with its error and the rest still run.
"""

from __future__ import annotations

import logging
import pickle
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._machine import load_average, machine
from ._proc import ROOT

__all__ = ["SIZES", "Sizes", "run_all"]

logger = logging.getLogger("mockline.bench")


@dataclass(frozen=True)
class Sizes:
    fake_turns: int
    offline_turns: int
    barge_trials: int
    backchannel_rounds: int
    phone_steps: tuple[int, ...]
    webrtc_steps: tuple[int, ...]
    call_s: float
    ramp_s: float
    stt_repeats: int
    scoring_interviews: int
    together: bool  # latency parts: the phone and the browser call at the same time
    fake_profiles: tuple[str, ...] = ("product", "fast")  # turn-taking profiles measured on the fakes


SIZES = {
    "full": Sizes(5, 3, 4, 2, (1, 10, 25, 50), (1, 10, 25), 30.0, 10.0, 3, 6, False),
    # about 7 min: the fakes' 0.2 s endpointing comparison left out, two capacity steps of 20 s calls each
    "quick": Sizes(3, 2, 2, 1, (1, 10), (1, 5), 20.0, 2.0, 1, 2, True, ("product",)),
}


async def run_all(*, quick: bool, out: Path, command: str) -> dict[str, Any]:
    from ._capacity import run_capacity
    from ._latency import run_bargein, run_v2v
    from ._report import write
    from ._scoring import run_scoring_bench
    from ._stt import run_stt

    size = SIZES["quick" if quick else "full"]
    started = time.monotonic()
    r: dict[str, Any] = {
        "command": command,
        "machine": machine(),
        "load_before": load_average(),
        "v2v": [],
        "bargein": [],
        "capacity": {},
        "scoring": [],
        "errors": {},
        "together": size.together,
    }

    async def part(name: str, coro: Any) -> Any:
        t0 = time.monotonic()
        print(f"[bench] {name} …", flush=True)
        try:
            result = await coro
        except Exception as e:
            r["errors"][name] = f"{type(e).__name__}: {e}"[:300]
            traceback.print_exc()
            return None
        print(f"[bench] {name} done in {time.monotonic() - t0:.0f} s", flush=True)
        return result

    for profile in size.fake_profiles:
        got = await part(
            f"v2v fakes/{profile}",
            run_v2v(stack="fakes", profile=profile, turns=size.fake_turns, together=size.together),
        )
        r["v2v"] += got or []
    got = await part("v2v offline", run_v2v(stack="offline", profile="product", turns=size.offline_turns))
    r["v2v"] += got or []
    got = await part(
        "barge-in",
        run_bargein(
            stack="hybrid",
            profile="product",
            trials=size.barge_trials,
            rounds=size.backchannel_rounds,
            together=size.together,
        ),
    )
    r["bargein"] = got or []
    for transport, steps in (("phone", size.phone_steps), ("webrtc", size.webrtc_steps)):
        got = await part(
            f"capacity {transport}",
            run_capacity(transport=transport, steps=steps, ramp_s=size.ramp_s, call_s=size.call_s),
        )
        if got:
            r["capacity"][transport] = got
    r["stt"] = await part("stt", run_stt(repeats=size.stt_repeats))
    r["scoring"] = await part("scoring", run_scoring_bench(interviews=size.scoring_interviews)) or []
    r["duration_s"] = time.monotonic() - started
    r["load_after"] = load_average()
    raw = ROOT / "var" / "bench" / "results.pickle"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(pickle.dumps(r))  # re-render without re-running: python -m bench report
    write(out, r)
    return r
