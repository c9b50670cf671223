"""Voice-to-voice per turn and barge-in, over both real transports, one interview at a time."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._bargein_real import RealBargeIn, real_bargein_script
from ._bargein_real import analyse as analyse_real
from ._calls import (
    TRANSPORTS,
    CallRecord,
    bargein_script,
    conversation_script,
    fetch_server_side,
    run_call,
    warm_up,
)
from ._proc import ROOT, ServerProcess
from ._script import backchannel_pauses, barge_ins, false_interruptions, voice_to_voice
from ._stats import Dist, dist

__all__ = ["BargeInResult", "V2VResult", "fresh_db", "run_bargein", "run_v2v", "stage_rows"]

STAGES = ("eou_delay_ms", "stt_ms", "llm_ttft_ms", "tts_ttfb_ms", "v2v_ms")


def fresh_db(name: str) -> str:
    path = ROOT / "var" / "bench" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def stage_rows(
    server: dict[str, Any], *, preemptive: bool = True, preemptive_tts: bool = True
) -> list[dict[str, float]]:
    """Server-side rows of replies to an answer (the greeting has no v2v), with the pipeline overhead:
    v2v minus the critical path of the measured stages. Preemptive generation starts the LLM at the final
    transcript; with ``preemptive_tts`` (the product default) the TTS follows the LLM's first token at
    once, so the path is max(eou, stt + llm + tts); without it the TTS starts at the end of turn:
    max(eou, stt + llm) + tts; without preemption at all it is eou + llm + tts."""
    out = []
    for row in server.get("metrics", []):
        if row.get("v2v_ms") is None or any(row.get(s) is None for s in STAGES):
            continue
        eou, stt, llm, tts = (float(row[s]) for s in STAGES[:4])
        if not preemptive:
            path = eou + llm + tts
        elif preemptive_tts:
            path = max(eou, stt + llm + tts)
        else:
            path = max(eou, stt + llm) + tts
        out.append({**{s: float(row[s]) for s in STAGES}, "overhead_ms": float(row["v2v_ms"]) - path})
    return out


@dataclass
class V2VResult:
    stack: str
    profile: str
    transport: str
    stages: dict[str, Dist] = field(default_factory=dict)  # server-side, per stage + overhead_ms
    client_v2v: Dist = field(default_factory=lambda: dist([]))
    underruns: int = 0
    timeouts: int = 0
    violations: int = 0


async def _calls(srv: ServerProcess, scripts: dict[str, list[Any]], *, together: bool) -> list[CallRecord]:
    """One call per transport: one after the other, or all at once (``together``: two interviews on one
    server; each record's server side is fetched once both have hung up)."""
    if not together:
        return [await run_call(srv, transport, steps) for transport, steps in scripts.items()]
    records = await asyncio.gather(
        *(run_call(srv, transport, steps, collect=False) for transport, steps in scripts.items())
    )
    await srv.wait_idle(timeout_s=30.0)
    for rec in records:
        await fetch_server_side(srv, rec)
    return list(records)


async def run_v2v(*, stack: str, profile: str, turns: int, together: bool = False) -> list[V2VResult]:
    """``together``: the phone and the browser call at the same time."""
    speech = stack != "fakes"
    async with ServerProcess(
        stack=stack, profile=profile, database_url=fresh_db(f"v2v-{stack}-{profile}")
    ) as srv:
        await warm_up(srv, "phone")
        scripts = {t: conversation_script(transport=t, turns=turns, speech=speech) for t in TRANSPORTS}
        return [_v2v_result(stack, profile, rec) for rec in await _calls(srv, scripts, together=together)]


def _v2v_result(stack: str, profile: str, rec: CallRecord) -> V2VResult:
    rows = stage_rows(rec.server, preemptive_tts=profile not in ("legacy", "words2"))
    stages = {s: dist(r[s] for r in rows) for s in (*STAGES, "overhead_ms")}
    return V2VResult(
        stack=stack,
        profile=profile,
        transport=rec.transport,
        stages=stages,
        client_v2v=dist(voice_to_voice(rec.timeline)),
        underruns=int(rec.server.get("underruns") or 0),
        timeouts=rec.timeline.timeouts,
        violations=rec.violations,
    )


@dataclass
class BargeInResult:
    stack: str
    transport: str
    stop: Dist  # interruption start → agent audio stopped at the caller
    clear: Dist  # interruption start → Twilio "clear" (phone only)
    skipped: int  # trials where the agent was not speaking when the caller started
    false: dict[str, tuple[int, int]]  # backchannel kind → (cut the agent's turn, trials): the verdict
    interrupted_turns: int  # agent turns stored as interrupted
    timeouts: int = 0
    # backchannel kind → (a gap > 200 ms in the agent's audio: paused, then resumed or cut, trials)
    paused: dict[str, tuple[int, int]] = field(default_factory=dict)
    real: RealBargeIn | None = None  # --speech real: the stage breakdown


async def run_bargein(
    *, stack: str, profile: str, trials: int, rounds: int, together: bool = False, speech: str = "espeak"
) -> list[BargeInResult]:
    """``speech`` "real": the barge-ins are real people's speech (``bench._bargein_real``), and each
    result carries the stage breakdown in ``real``."""
    name = f"bargein-{stack}-{profile}"
    async with ServerProcess(stack=stack, profile=profile, database_url=fresh_db(name)) as srv:
        if speech == "real":
            scripts = {
                t: real_bargein_script(transport=t, trials=trials, backchannel_rounds=rounds)
                for t in TRANSPORTS
            }
        else:
            scripts = {
                t: bargein_script(
                    transport=t, trials=trials, backchannel_rounds=rounds, speech=stack != "fakes"
                )
                for t in TRANSPORTS
            }
        records = await _calls(srv, scripts, together=together)
    results = []
    for rec in records:
        stops, clears, skipped = barge_ins(rec.timeline)
        turns = rec.server.get("turns", [])
        results.append(
            BargeInResult(
                stack=stack,
                transport=rec.transport,
                stop=dist(stops),
                clear=dist(clears),
                skipped=skipped,
                false=false_interruptions(rec.timeline, turns),
                paused=backchannel_pauses(rec.timeline),
                interrupted_turns=sum(1 for t in turns if t["speaker"] == "agent" and t["interrupted"]),
                timeouts=rec.timeline.timeouts,
                real=await asyncio.to_thread(_real, rec, profile) if speech == "real" else None,
            )
        )
    return results


def _real(rec: CallRecord, profile: str) -> RealBargeIn:
    from ._stacks import agent_settings

    tuning = agent_settings(stack="hybrid", profile=profile).tuning(telephony=rec.transport == "phone")
    pauses = sorted(float(t) for t in rec.server.get("pause_times") or [])
    raw = ROOT / "var" / "bench" / f"bargein-real-{profile}-{rec.transport}.pickle"
    raw.write_bytes(pickle.dumps((rec.timeline, rec.server)))  # re-analyse without another call
    return analyse_real(
        rec.timeline,
        pauses,
        rec.transport,
        min_interruption_s=tuning.min_interruption_duration,
        early_s=tuning.early_pause_speech,
        early_bar=tuning.early_pause_bar or None,
    )
