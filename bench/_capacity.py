"""Capacity: concurrent interviews on one server process with the fixed-latency fakes.

Per transport, N steps up (``bench all``: 1, 10, 25, 50 phone calls; 1, 10, 25 browser calls). A step
starts N callers spread evenly over ``ramp_s`` (10 s: 50 calls arrive 0.2 s apart, 25 calls 0.4 s apart),
each running answer/reply turns for ``call_s`` seconds from its own start, while the server's RSS and CPU
are sampled once a second. A step passes when no paced output underran and the server-side p95
voice-to-voice is within 10 % of the 1-call step's p95. An underrun is a frame of an agent utterance that
left the server more than 20 ms after its playout slot (the slot is fixed by the utterance's first frame;
the transport may send up to its lead ahead: 200 ms for Twilio, which buffers, 40 ms for WebRTC), i.e. the
listener's buffer ran dry mid-utterance. The run stops at the first failing step. Callers live in this
process, the server in its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from dataclasses import dataclass, field
from typing import Any

from ._calls import conversation_script, gather_bounded, run_call, warm_up
from ._latency import fresh_db, stage_rows
from ._proc import ServerProcess
from ._script import voice_to_voice
from ._stats import Dist, dist

__all__ = ["StepResult", "run_capacity"]

V2V_TOLERANCE = 1.10


@dataclass
class StepResult:
    transport: str
    sessions: int
    completed: int  # calls that ran to their deadline without an error
    v2v: Dist  # server side
    client_v2v: Dist
    underruns: int
    greeting_underruns: int  # of which before the first reply to an answer (session start-up)
    rss_mb_peak: float
    rss_mb_per_session: float
    server_cpu: float  # server CPU seconds per wall second during the step (2.0 = both cores)
    client_cpu: float
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _sample(server: ServerProcess, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):
            peak.append((await server.stats())["rss_kb"] / 1024)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _one(server: ServerProcess, transport: str, delay: float, call_s: float) -> Any:
    await asyncio.sleep(delay)  # arrivals are staggered, like real candidates
    steps = conversation_script(transport=transport, turns=50, speech=False)
    return await run_call(server, transport, steps, deadline_s=call_s, collect=False)


async def _step(server: ServerProcess, transport: str, n: int, *, ramp_s: float, call_s: float,
                idle_mb: float) -> StepResult:  # fmt: skip
    before = await server.stats()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    peak: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(server, peak, stop))
    gap = ramp_s / max(1, n - 1) if n > 1 else 0.0
    records = await gather_bounded(
        [_one(server, transport, i * gap, call_s) for i in range(n)], limit_s=ramp_s + call_s + 60.0
    )
    stop.set()
    await sampler
    wall = loop.time() - t0
    after = await server.stats()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    await server.wait_idle(timeout_s=60.0)
    ok = [r for r in records if not isinstance(r, BaseException)]
    errors = sorted({f"{type(r).__name__}: {r}"[:160] for r in records if isinstance(r, BaseException)})
    metrics = await _server_metrics(server, ok)
    rows = [row for m in metrics for row in stage_rows(m)]
    underruns = sum(int(m.get("underruns") or 0) for m in metrics)
    greeting = sum(_greeting_underruns(m) for m in metrics)
    rss_peak = max(peak or [after["rss_kb"] / 1024])
    client_cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / wall
    return StepResult(
        transport=transport,
        sessions=n,
        completed=len(ok),
        v2v=dist(r["v2v_ms"] for r in rows),
        client_v2v=dist(v for r in ok for v in voice_to_voice(r.timeline)),
        underruns=underruns,
        greeting_underruns=greeting,
        rss_mb_peak=round(rss_peak, 1),
        rss_mb_per_session=round((rss_peak - idle_mb) / n, 2),
        server_cpu=round((after["cpu_s"] - before["cpu_s"]) / wall, 2),
        client_cpu=round(client_cpu, 2),
        errors=errors,
    )


def _greeting_underruns(m: dict[str, Any]) -> int:
    for row in m.get("metrics", []):
        if row.get("v2v_ms") is not None:
            return int(row.get("underruns_total") or 0)  # counted up to the first reply to an answer
    return int(m.get("underruns") or 0)


async def _server_metrics(server: ServerProcess, records: list[Any]) -> list[dict[str, Any]]:
    ids: list[str] = []
    tokens: list[str] = []
    for r in records:
        ids += r.ident.get("ids", [])
        tokens += r.ident.get("tokens", [])
    return list((await server.metrics(ids=ids, tokens=tokens)).values())


def judge(step: StepResult, reference_p95: float | None) -> None:
    step.reasons.clear()
    if step.completed < step.sessions:
        step.reasons.append(f"{step.sessions - step.completed} calls failed")
    if step.underruns:
        step.reasons.append(f"{step.underruns} underruns")
    if step.v2v.p95 is None:
        step.reasons.append("no voice-to-voice measured")
    elif reference_p95 is not None and step.v2v.p95 > reference_p95 * V2V_TOLERANCE:
        step.reasons.append(f"p95 v2v {step.v2v.p95:.0f} ms > {reference_p95 * V2V_TOLERANCE:.0f} ms")
    step.passed = not step.reasons


async def run_capacity(*, transport: str, steps: tuple[int, ...], ramp_s: float, call_s: float,
                       profile: str = "product", keep_going: bool = False) -> list[StepResult]:  # fmt: skip
    """Step up until a step fails (or through every step with ``keep_going``, to explore)."""
    results: list[StepResult] = []
    name = f"capacity-{transport}"
    async with ServerProcess(stack="fakes", profile=profile, database_url=fresh_db(name)) as server:
        await warm_up(server, transport)
        idle_mb = (await server.stats())["rss_kb"] / 1024
        reference: float | None = None
        for n in steps:
            step = await _step(server, transport, n, ramp_s=ramp_s, call_s=call_s, idle_mb=idle_mb)
            if n == steps[0]:
                reference = step.v2v.p95
            judge(step, reference)
            results.append(step)
            if not step.passed and not keep_going:
                break
    return results
