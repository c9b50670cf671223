"""Through LiveKit: voice-to-voice per turn, barge-in, and how many interviews one agent worker holds.

The system under test is the production path: a real ``livekit-server`` on loopback (the pinned build,
``tests/_livekit_server.py``), one agent worker (``python -m bench livekit-worker``: ``mockline agent``'s
worker with a benchmark stack, process executor, job-count load), the web process's admission and dispatch
(``signaling``), and candidates on the real ``livekit`` rtc SDK (``bench._livekit_caller``) in this process.
Storage is a fresh SQLite file shared with the worker.

- **v2v**: per answer, the caller's end of speech (its last frame left the microphone queue) to the first
  audible 20 ms frame of the interviewer's track; the worker's own figure (end of speech to first frame
  out, ``TurnMetric.v2v_ms``) beside it.
- **barge-in**: per trial a new interview; the caller starts talking ``AIM_S`` into the greeting (the longest
  reply of every stack, ~10 s with the fakes, ~19 s with piper), at the first loud frame of the interviewer's
  track from then on, so the interviewer is audible when the caller starts; until the interviewer's audio
  stops at the caller (``bench._livekit_bargein``: the last loud frame before 1 s of quiet). Trials where the
  interviewer was not audible are invalid and only counted; so are trials where it did not give way.
- **capacity**: N interviews at once on the one worker (any stack), arrivals spread over ``ramp_s``, each
  answering until ``call_s`` after it joined. A step passes when every call got all its replies and the
  caller's p95 v2v is within 10 % of the 1-call step's (:func:`judge_step`). Underruns are not measured on
  this path (RoomIO's audio output is livekit's, not our paced output); a late reply shows in v2v.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._bargein_clips import word_onset_s
from ._latency import fresh_db
from ._livekit_bargein import STOPPED_S, BargeTrial, judge_barge_in
from ._livekit_caller import LiveKitCaller
from ._proc import ROOT
from ._stats import Dist, dist
from ._voice import Clip, answer, interruption

__all__ = [
    "LiveKitBargeIn",
    "LiveKitStep",
    "LiveKitV2V",
    "judge_step",
    "livekit_steps",
    "markdown",
    "run_livekit",
]

RATE = 16000
TURN_S = 60.0  # a reply later than this is a failed call, not a slow one
V2V_TOLERANCE = 1.10
AIM_S = 1.0  # the caller starts its barge-in at the first loud frame this far into the greeting


@dataclass
class LiveKitV2V:
    stack: str
    profile: str
    server_v2v: Dist
    client_v2v: Dist
    timeouts: int = 0


@dataclass
class LiveKitBargeIn:
    stack: str
    stop: Dist  # caller starts talking → the agent's audio stops at the caller (valid trials only)
    not_playing: int = 0  # invalid: the agent was not audible when the caller started
    missed: int = 0  # the agent was still talking when the caller's sentence ended
    timeouts: int = 0  # the greeting never came
    speech: str = "espeak"  # what the caller said: espeak (a warble with the fakes) or real (people)
    profile: str = "product"
    trials: list[tuple[str, str, float | None]] = field(default_factory=list)  # (clip, outcome, stop ms)

    @classmethod
    def of(cls, stack: str, trials: list[BargeTrial], timeouts: int = 0) -> LiveKitBargeIn:
        stops = [t.stop_ms for t in trials if t.stop_ms is not None]
        return cls(stack=stack, stop=dist(stops), timeouts=timeouts,
                   not_playing=sum(t.outcome == "not playing" for t in trials),
                   missed=sum(t.outcome == "missed" for t in trials))  # fmt: skip


@dataclass
class LiveKitStep:
    sessions: int
    completed: int
    client_v2v: Dist
    server_v2v: Dist
    worker_rss_mb: float
    stack: str = "fakes"
    timeouts: int = 0  # calls in which a reply or the agent's listening did not come within TURN_S
    unanswered: int = 0  # calls that ended (or ran out of time) before any answer was replied to
    errors: list[str] = field(default_factory=list)  # calls that failed outright (join, dispatch)
    passed: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Rig:
    server: Any
    worker: Any
    db: Any

    async def candidate(self, name: str) -> tuple[str, LiveKitCaller]:
        """A new practice link, admitted and dispatched as the join page does; the caller in the room."""
        from agent.plans import build_plan
        from livekit_room.settings import LiveKitSettings
        from signaling._livekit import open_livekit_interview
        from signaling.livekit_token import start_livekit_interview
        from storage import InterviewPlan, create_invitation

        spec = build_plan(role="backend engineer", question_count=5, seed=3, time_limit_minutes=30,
                          mode="practice")  # fmt: skip
        with self.db.session() as s:
            plan = InterviewPlan(title="bench", role=spec.role, question_count=5, spec=spec.to_json())
            s.add(plan)
            s.flush()
            token = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name=name,
                                      mode="practice").token  # fmt: skip
        admission = await asyncio.to_thread(open_livekit_interview, self.db, token)
        settings = LiveKitSettings(url=self.server.url, api_key=self.server.api_key,
                                   api_secret=self.server.api_secret)  # fmt: skip
        join = await start_livekit_interview(interview_id=admission.interview_id, settings=settings)
        caller = LiveKitCaller()
        await caller.join(join.url, join.token)
        return admission.interview_id, caller

    def server_v2v(self, interview_ids: list[str]) -> list[float]:
        from sqlalchemy import select

        from storage import TurnMetric

        with self.db.session() as s:
            rows = s.scalars(select(TurnMetric.v2v_ms).where(TurnMetric.interview_id.in_(interview_ids)))
            return [float(v) for v in rows if v is not None]

    def worker_rss_mb(self) -> float:
        """RSS of the worker and its job processes."""
        pid = self.worker.process.pid
        total = 0
        for child in [pid, *_descendants(pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{child}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += [int(child), *_descendants(int(child))]
    return out


@contextlib.asynccontextmanager
async def _rig(stack: str, profile: str, *, max_jobs: int, name: str) -> AsyncIterator[_Rig]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from storage import Database, reset_database, upgrade_to_head
    from tests._livekit_server import AgentWorker, running_livekit, worker_env

    url = fresh_db(name)
    db = Database(url=url)
    upgrade_to_head(db)
    reset_database(db)
    logs = ROOT / "var" / "bench" / "livekit"
    with tempfile.TemporaryDirectory() as tmp, running_livekit(Path(tmp), logs) as [server]:
        env = worker_env(server, DATABASE_URL=url, LIVEKIT_MAX_JOBS=str(max_jobs), REDIS_URL="")
        command = [sys.executable, "-m", "bench", "livekit-worker", "--stack", stack, "--profile", profile]
        worker = await asyncio.to_thread(
            AgentWorker(command=command, env=env, log_path=logs / f"worker-{name}.log").start
        )
        try:
            yield _Rig(server=server, worker=worker, db=db)
        finally:
            await asyncio.to_thread(worker.stop)
            reset_database(None)
            db.engine.dispose()


async def _turn(caller: LiveKitCaller, clip: np.ndarray) -> float | None:
    """Wait until the agent has spoken and listens, answer, return the caller's v2v in ms (None: ended)."""
    if caller.end_reason:
        return None
    last = max((b.start for b in caller.bursts), default=0.0)
    ended = lambda: caller.end_reason or any(b.end for b in caller.bursts if b.start >= last)  # noqa: E731
    await caller.wait_for(ended, TURN_S, "the agent's reply to end")
    listening = lambda: caller.end_reason or (caller.states and caller.states[-1][1] == "listening")  # noqa: E731
    await caller.wait_for(listening, TURN_S, "the agent listening")
    if caller.end_reason:
        return None
    said = await caller.say(clip)
    reply = await caller.wait_for(
        lambda: caller.end_reason or next((b for b in caller.bursts if b.start > said), None),
        TURN_S,
        "the agent's reply",
    )
    if isinstance(reply, str):
        return None
    return (reply.start - said) * 1000


def _reply_over(caller: LiveKitCaller) -> bool:
    """The interview ended, or the agent's last reply is over: its audio quiet and its state listening
    since after that reply started."""
    if caller.end_reason:
        return True
    last = max((b.start for b in caller.bursts), default=0.0)
    listening = bool(caller.states) and caller.states[-1][1] == "listening" and caller.states[-1][0] > last
    return listening and all(b.end for b in caller.bursts)


async def _interview(rig: _Rig, name: str, *, turns: int, speech: bool, deadline: float | None = None
                     ) -> tuple[str, list[float], int]:  # fmt: skip
    """One interview, up to ``turns`` answers (or until ``deadline``); (id, caller v2v ms, timeouts)."""
    interview_id, caller = await rig.candidate(name)
    v2v: list[float] = []
    timeouts = 0
    try:
        await caller.agent_speech_after(0.0, TURN_S)
        for i in range(turns):
            if deadline is not None and time.monotonic() > deadline:
                break
            ms = await _turn(caller, answer(i, rate=RATE, speech=speech).samples)
            if ms is None:
                break
            v2v.append(ms)
        # hang up once the last reply ended: the worker stores a turn's metrics when the turn is over (a
        # quiet burst end alone may be a comma inside the reply: the agent listening again says it is over)
        await caller.wait_for(lambda: _reply_over(caller), TURN_S, "the last reply to end")
    except TimeoutError:
        timeouts += 1
    finally:
        await caller.aclose()
    return interview_id, v2v, timeouts


def barge_speech(kind: str, *, stack: str) -> list[Clip]:
    """What the caller says over the greeting: ``espeak`` (a warble with the fakes stack, which only hears
    energy) or ``real`` (``bench._bargein_clips``: real people's short replies and answer openings)."""
    if kind == "real":
        from ._bargein_clips import barge_clips

        return list(barge_clips(RATE))
    return [interruption(rate=RATE, speech=stack != "fakes")]


async def _bargein(rig: _Rig, *, stack: str, trials: int, speech: str = "espeak") -> LiveKitBargeIn:
    """Each trial a new interview whose greeting the caller interrupts (see the module's docstring), with
    the next of the ``speech`` clips. The figure runs from the clip's first word (``word_onset_s``: for a
    real clip its first word, not a breath before it; for a synthetic one its first voiced 10 ms) as it
    left the caller's microphone, to the interviewer's last loud frame; whether the interviewer was audible
    is judged when the clip's first frame left."""
    clips = barge_speech(speech, stack=stack)
    judged: list[BargeTrial] = []
    per_clip: list[tuple[str, str, float | None]] = []
    timeouts = 0
    for i in range(trials):
        clip = clips[i % len(clips)]
        _, caller = await rig.candidate(f"barge{i}")
        try:
            greeting = await caller.agent_speech_after(0.0, TURN_S)
            await caller.loud_after(greeting.start + AIM_S, TURN_S)  # the interviewer is audible now
            said_end = await caller.say(clip.samples)
            # the observation window: the stop is the last loud frame before STOPPED_S of quiet
            await asyncio.sleep(STOPPED_S + 0.2)
            trial = judge_barge_in(caller.loud, caller.first_frame_sent, said_end)
            if trial.stop_ms is not None:
                trial = BargeTrial(trial.outcome, trial.stop_ms - word_onset_s(clip) * 1000.0)
            judged.append(trial)
            per_clip.append((clip.name, trial.outcome, trial.stop_ms))
        except TimeoutError:
            timeouts += 1
        finally:
            await caller.leave()
    result = LiveKitBargeIn.of(stack, judged, timeouts)
    result.speech, result.trials = speech, per_clip
    return result


def livekit_steps(arg: str | None, *, stack: str) -> tuple[int, ...]:
    """``--steps``: "1,2,3" → (1, 2, 3); "none" or "" → no capacity part; None → the stack's default (the
    fakes run 1, 2, 4; a speech stack's capacity is asked for explicitly, it takes minutes per step)."""
    if arg is None:
        return (1, 2, 4) if stack == "fakes" else ()
    if arg.strip().lower() in ("", "none", "0"):
        return ()
    steps = tuple(int(x) for x in arg.split(","))
    if any(n < 1 for n in steps):
        raise ValueError(f"--steps: interviews at once must be at least 1, not {arg!r}")
    return steps


def judge_step(step: LiveKitStep, baseline_p95: float | None) -> LiveKitStep:
    """A capacity step's verdict: every call got its replies, and the caller's p95 v2v is within
    ``V2V_TOLERANCE`` of the 1-call step's (``baseline_p95``; None: this is that step)."""
    if step.timeouts:
        step.reasons.append(f"{step.timeouts} calls timed out")
    if step.unanswered:
        step.reasons.append(f"{step.unanswered} calls got no reply")
    if step.errors:
        step.reasons.append(f"{len(step.errors)} calls failed ({step.errors[0]})")
    p95 = step.client_v2v.p95
    if p95 is None:
        step.reasons.append("no reply measured")
    elif baseline_p95 and p95 > baseline_p95 * V2V_TOLERANCE:
        step.reasons.append(f"p95 v2v {p95:.0f} ms > {baseline_p95 * V2V_TOLERANCE:.0f} ms")
    step.passed = not step.reasons
    return step


async def run_livekit(*, stack: str = "fakes", profile: str = "product", turns: int = 6, trials: int = 4,
                      steps: tuple[int, ...] = (1, 2, 4), ramp_s: float = 4.0, call_s: float = 30.0,
                      keep_going: bool = False, barge_speech_kind: str = "espeak") -> list[Any]:  # fmt: skip
    """v2v over ``turns`` answers, ``trials`` barge-ins (saying ``barge_speech_kind``: ``barge_speech``),
    then the capacity ``steps`` (none: skipped)."""
    speech = stack != "fakes"
    out: list[Any] = []
    # one more job than the largest step: a hung-up interview may still be closing when the next arrives
    async with _rig(
        stack, profile, max_jobs=max(steps, default=1) + 1, name=f"livekit-{stack}-{profile}"
    ) as rig:
        if turns:
            interview_id, client, timeouts = await _interview(rig, "v2v", turns=turns, speech=speech)
            worker = dist(rig.server_v2v([interview_id]))
            out.append(LiveKitV2V(stack=stack, profile=profile, server_v2v=worker, client_v2v=dist(client),
                                  timeouts=timeouts))  # fmt: skip
        if trials:
            barge = await _bargein(rig, stack=stack, trials=trials, speech=barge_speech_kind)
            barge.profile = profile
            out.append(barge)
        baseline: float | None = None
        for n in steps:
            step = await _capacity_step(rig, n, ramp_s=ramp_s, call_s=call_s, speech=speech)
            step.stack = stack
            judge_step(step, baseline)
            if baseline is None:
                baseline = step.client_v2v.p95
            out.append(step)
            if not step.passed and not keep_going:
                break
    return out


async def _capacity_step(rig: _Rig, n: int, *, ramp_s: float, call_s: float, speech: bool) -> LiveKitStep:
    gap = ramp_s / max(1, n - 1) if n > 1 else 0.0
    rss: list[float] = []

    async def one(i: int) -> tuple[str, list[float], int]:
        await asyncio.sleep(i * gap)  # arrivals are staggered, like real candidates
        return await _interview(rig, f"cap{n}-{i}", turns=50, speech=speech,
                                deadline=time.monotonic() + call_s)  # fmt: skip

    async def sample() -> None:
        while True:
            rss.append(rig.worker_rss_mb())
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    try:
        results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    calls = [r for r in results if not isinstance(r, BaseException)]
    errors = [f"{type(r).__name__}: {r}"[:200] for r in results if isinstance(r, BaseException)]
    return LiveKitStep(sessions=n, completed=sum(1 for r in calls if not r[2] and r[1]),
                       client_v2v=dist([ms for r in calls for ms in r[1]]),
                       server_v2v=dist(rig.server_v2v([r[0] for r in calls])),
                       worker_rss_mb=max(rss, default=0.0), timeouts=sum(1 for r in calls if r[2]),
                       unanswered=sum(1 for r in calls if not r[2] and not r[1]), errors=errors)  # fmt: skip


def _ms(ms: float | None, outcome: str) -> str:
    return f"{ms:.0f}" if ms is not None else outcome


def markdown(results: list[Any], *, command: str, machine: dict[str, str]) -> str:
    """The LiveKit section of BENCHMARKS.md."""
    lines = [f"Command: `{command}`. Machine: {machine['cores']} cores, {machine['cpu']}, {machine['ram']}, "
             f"Python {machine['python']}, {machine['date']}, commit {machine['commit']}.", ""]  # fmt: skip
    for r in results:
        if isinstance(r, LiveKitV2V):
            lines += [f"#### voice-to-voice, {r.stack} stack, {r.profile} turn-taking, via livekit-server",
                      "", "| ms | median | p95 | worst | n |", "| --- | --- | --- | --- | --- |",
                      "| **voice-to-voice, worker** (end of speech → first frame out) | "
                      + " | ".join(r.server_v2v.cells()) + " |",
                      "| **voice-to-voice, caller** (last frame sent → first audible frame heard) | "
                      + " | ".join(r.client_v2v.cells()) + " |",
                      "", f"Await time-outs: {r.timeouts}.", ""]  # fmt: skip
        elif isinstance(r, LiveKitBargeIn):
            lines += [f"#### barge-in, {r.stack} stack, {r.profile} turn-taking, {r.speech} speech, "
                      "through livekit-server", "",
                      "| ms | median | p95 | worst | n |", "| --- | --- | --- | --- | --- |",
                      "| caller's first word → agent audio stops at the caller | "
                      + " | ".join(r.stop.cells()) + " |", "",
                      "Per trial (clip: ms): " + ", ".join(
                          f"{n.removeprefix('real:')}: {_ms(ms, o)}"
                          for n, o, ms in r.trials) + ".", "",
                      f"Invalid trials, not in the figures (the interviewer was not audible when the caller "
                      f"started): {r.not_playing}. Missed (the interviewer still talking when the caller's "
                      f"sentence ended): {r.missed}. Time-outs: {r.timeouts}.", ""]  # fmt: skip
    steps = [r for r in results if isinstance(r, LiveKitStep)]
    if steps:
        lines += [f"#### capacity of one agent worker, {steps[0].stack} stack (process per interview)", "",
                  "| interviews | calls ok | caller v2v med | caller v2v p95 | worker v2v med "
                  "| worker v2v p95 | worker RSS MB (all processes) | step |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for s in steps:
            c, w = s.client_v2v.cells(), s.server_v2v.cells()
            verdict = "pass" if s.passed else "FAIL: " + "; ".join(s.reasons)
            lines.append(f"| {s.sessions} | {s.completed} | {c[0]} | {c[1]} | {w[0]} | {w[1]} "
                         f"| {s.worker_rss_mb:.0f} | {verdict} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)
