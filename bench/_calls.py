"""One scripted interview over a real transport, and what both ends measured."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _voice
from ._proc import ServerProcess
from ._script import AwaitAudio, AwaitReply, Pause, Say, Step, Timeline
from ._twilio import RATE as PHONE_RATE
from ._twilio import run_phone_call
from ._webrtc import RATE as WEB_RATE
from ._webrtc import BrowserCaller

__all__ = [
    "TRANSPORTS",
    "CallRecord",
    "bargein_script",
    "conversation_script",
    "fetch_server_side",
    "rate_of",
    "run_call",
]

TRANSPORTS = ("webrtc", "phone")


@dataclass
class CallRecord:
    transport: str
    timeline: Timeline
    server: dict[str, Any] = field(default_factory=dict)  # /bench/metrics entry for the interview
    violations: int = 0  # Twilio protocol violations streamdouble saw
    ident: dict[str, list[str]] = field(default_factory=dict)  # how /bench/metrics finds the interview


def rate_of(transport: str) -> int:
    return PHONE_RATE if transport == "phone" else WEB_RATE


def conversation_script(*, transport: str, turns: int, speech: bool) -> list[Step]:
    """Greeting, then ``turns`` answers, each waiting for the agent's whole reply."""
    rate = rate_of(transport)
    steps: list[Step] = [AwaitReply(timeout_s=90.0)]
    for i in range(turns):
        steps += [Say(_voice.answer(i, rate=rate, speech=speech), "answer"), AwaitReply(timeout_s=45.0)]
    return steps


def bargein_script(*, transport: str, trials: int, backchannel_rounds: int, speech: bool) -> list[Step]:
    """Answers; 1 s into each agent reply, either a backchannel or a real interruption."""
    rate = rate_of(transport)
    plan: list[str] = []
    for _ in range(backchannel_rounds):
        plan += [f"backchannel:{c.name}" for c in _voice.backchannels(rate=rate)]
    plan += ["barge"] * trials
    clips = {f"backchannel:{c.name}": c for c in _voice.backchannels(rate=rate)}
    clips["barge"] = _voice.interruption(rate=rate, speech=speech)
    steps: list[Step] = [AwaitReply(timeout_s=90.0)]
    for i, tag in enumerate(plan):
        steps += [
            Say(_voice.answer(i, rate=rate, speech=speech), "answer"),
            AwaitAudio(timeout_s=45.0),
            Pause(1.0),
            Say(clips[tag], tag),
            AwaitReply(timeout_s=45.0),
        ]
    return steps


async def run_call(
    server: ServerProcess,
    transport: str,
    steps: Sequence[Step],
    *,
    deadline_s: float = 900.0,
    on_connected: Callable[[], None] | None = None,
    collect: bool = True,
    questions: int = 12,
) -> CallRecord:
    """Run ``steps`` on a fresh interview (a plan of ``questions``) and fetch what the server recorded."""
    channel = "phone" if transport == "phone" else "webrtc"
    creds = (await server.setup(channel, 1, questions=questions))[0]
    if transport == "phone":
        timeline, result = await run_phone_call(server.host, creds, steps, max_call_s=deadline_s)
        record = CallRecord(transport, timeline, violations=result.violation_count)
        ident: dict[str, list[str]] = {"ids": [creds["interview_id"]]}
    else:
        caller = BrowserCaller(server.url, creds["token"])
        try:
            await caller.connect()
            if on_connected is not None:
                on_connected()
            timeline = await caller.run(steps, deadline_s=deadline_s)
            await caller.hang_up()
        finally:
            with contextlib.suppress(Exception):
                await caller.close()
        record = CallRecord(transport, caller.timeline)
        ident = {"tokens": [creds["token"]]}
    record.ident = ident
    if collect:
        await server.wait_idle(timeout_s=30.0)
        await fetch_server_side(server, record)
    return record


async def fetch_server_side(server: ServerProcess, record: CallRecord) -> None:
    """What the server recorded about the call's interview (once it has hung up)."""
    entries = list((await server.metrics(**record.ident)).values())
    record.server = entries[0] if entries else {}


async def warm_up(server: ServerProcess, transport: str) -> None:
    """One short call, not measured: the process's first interview pays one-time start-up costs."""
    steps = conversation_script(transport=transport, turns=0, speech=False)  # the greeting only
    await run_call(server, transport, steps, deadline_s=40.0, collect=False)
    await server.wait_idle(timeout_s=30.0)


async def gather_bounded(coros: Sequence[Any], *, limit_s: float) -> list[Any]:
    """Run concurrently; results (or exceptions) in order, everything cancelled after ``limit_s``."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        async with asyncio.timeout(limit_s):
            return await asyncio.gather(*tasks, return_exceptions=True)
    except TimeoutError:
        for t in tasks:
            t.cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)
