"""The system under test: the web app's signaling and telephony routers on uvicorn, in its own process.

``python -m bench serve --stack fakes --profile product`` prints one JSON line ``{"port": ...}`` and serves
until SIGTERM/SIGINT. With ``BENCH_CPROFILE=<file>`` in the environment the server's main (event-loop)
thread runs under cProfile and the stats are written to that file at exit.

Besides the real routes (``/rtc/offer``, ``/twilio/stream``) it mounts bench-only routes on loopback:

- ``POST /bench/setup`` ``{"channel": "phone"|"webrtc", "count": n}``: interviews ready to join (stream
  parameters for phone calls, invitation tokens for the browser).
- ``GET /bench/stats``: this process's RSS, CPU time and live interviews.
- ``POST /bench/metrics`` ``{"ids": [...]}``: per interview, the ``turn_metrics`` rows, the agent turns'
  ``interrupted`` flags and the outbound underrun counters of the paced output.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import sys
from typing import Any

from fastapi import FastAPI, Request

__all__ = ["CountingRuntime", "serve"]

PUBLIC_URL = "https://bench.invalid"
SECRET = "bench-secret-key-not-for-production"
CALL_SID_PREFIX = "CA" + "b" * 16


class CountingRuntime:
    """Delegates to the real ``AgentRuntime``; remembers each interview's audio output for its counters."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.outputs: dict[str, Any] = {}

    async def start_interview(self, **kwargs: Any) -> Any:
        handle = await self.runtime.start_interview(**kwargs)
        self.outputs[kwargs["interview_id"]] = kwargs["audio_output"]
        return handle

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)


def rss_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _new_interviews(app: Any, channel: str, count: int, questions: int) -> list[dict[str, str]]:
    from agent.plans import build_plan
    from storage import Interview, InterviewPlan, create_invitation, get_database
    from telephony._state import telephony_state

    out = []
    with get_database().session() as s:
        for i in range(count):
            spec = build_plan(
                role="backend engineer", question_count=questions, seed=i, time_limit_minutes=60
            )
            plan = InterviewPlan(title="Bench", role=spec.role, question_count=questions, spec=spec.to_json())
            s.add(plan)
            s.flush()
            if channel == "webrtc":
                inv = create_invitation(s, plan_id=plan.id, org_id=None, candidate_name=f"Bench {i}")
                out.append({"token": inv.token})
                continue
            row = Interview(plan_id=plan.id, candidate_name=f"Bench {i}", channel="phone")
            s.add(row)
            s.flush()
            call_sid = f"{CALL_SID_PREFIX}{len(out):016d}"
            token = telephony_state(app).tokens.issue(interview_id=row.id, call_sid=call_sid)
            out.append({"interview_id": row.id, "token": token, "call_sid": call_sid})
    return out


def _metrics(runtime: CountingRuntime, ids: list[str]) -> dict[str, Any]:
    from storage import Interview, get_database, transcript, turn_metrics

    result: dict[str, Any] = {}
    with get_database().session() as s:
        for iid in ids:
            interview = s.get(Interview, iid)
            if interview is None:
                continue
            rows = turn_metrics(s, iid)
            turns = transcript(s, iid)
            out = runtime.outputs.get(iid)
            result[iid] = {
                "status": str(interview.status),
                "end_reason": interview.end_reason,
                "metrics": [
                    {
                        "seq": r.seq,
                        "eou_delay_ms": r.eou_delay_ms,
                        "stt_ms": r.stt_ms,
                        "llm_ttft_ms": r.llm_ttft_ms,
                        "tts_ttfb_ms": r.tts_ttfb_ms,
                        "v2v_ms": r.v2v_ms,
                        **(r.extra or {}),
                    }
                    for r in rows
                ],
                "turns": [
                    {
                        "speaker": t.speaker,
                        "interrupted": t.interrupted,
                        "kind": t.kind,
                        "question_id": t.question_id,
                        "text": t.text,
                        "started_at": t.started_at,
                        "ended_at": t.ended_at,
                    }
                    for t in turns
                ],
                "underruns": out.stats.underruns if out is not None else None,
                "frames_sent": out.stats.frames_sent if out is not None else None,
                "pause_times": list(out.stats.pause_times) if out is not None else [],
            }
    return result


def _interview_id_for_token(token: str) -> str | None:
    """The (latest) interview started from an invitation link token, finished or not."""
    from sqlalchemy import select

    from storage import Interview, Invitation, get_database, hash_token

    with get_database().session() as s:
        inv = s.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
        if inv is None:
            return None
        q = (
            select(Interview.id)
            .where(Interview.invitation_id == inv.id)
            .order_by(Interview.created_at.desc())
        )
        return s.scalars(q).first()


def create_bench_app(runtime: CountingRuntime, *, max_sessions: int) -> Any:
    from agent import SharedRuntime
    from signaling import SignalingServices, SignalingSettings, install_signaling
    from telephony import TelephonySettings, TelephonyState, install_telephony

    shared = SharedRuntime(loaded=runtime)  # type: ignore[arg-type]
    app = FastAPI()
    telephony = TelephonyState.build(
        base_url=PUBLIC_URL,
        environment="development",
        secret_key=SECRET,
        runtime=shared,
        settings=TelephonySettings(auth_token="bench-token", scheduler_interval_s=0),
    )
    install_telephony(app, telephony)
    signaling = SignalingSettings(
        rtc_host_addresses=["127.0.0.1"], max_sessions=max_sessions, resume_grace_seconds=0
    )
    install_signaling(app, SignalingServices.build(settings=signaling, runtime=shared))

    @app.post("/bench/setup")
    async def setup(request: Request) -> Any:
        body = await request.json()
        return await asyncio.to_thread(
            _new_interviews, app, body["channel"], int(body["count"]), int(body.get("questions", 8))
        )

    @app.get("/bench/stats")
    async def stats() -> Any:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "rss_kb": rss_kb(),
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "active": runtime.runtime.active,
            "threads": len(os.listdir("/proc/self/task")),
        }

    @app.post("/bench/metrics")
    async def metrics(request: Request) -> Any:
        body = await request.json()
        ids = list(body.get("ids", []))
        ids += [
            i for t in body.get("tokens", []) if (i := await asyncio.to_thread(_interview_id_for_token, t))
        ]
        return await asyncio.to_thread(_metrics, runtime, ids)

    return app


def _gc_watch() -> None:
    """The server runs with the product's process settings (``agent/_process.py``: frozen start-up objects,
    raised GC thresholds, 32-worker thread pool) unless ``BENCH_NO_TUNING=1``. Experiments:
    ``BENCH_GC_THRESHOLD=a,b,c`` sets the collector's thresholds; ``BENCH_GC_LOG=1`` logs every garbage
    collection that took over 50 ms."""
    import gc
    import time

    if not os.environ.get("BENCH_NO_TUNING"):
        from agent import freeze_loaded

        freeze_loaded()
    if threshold := os.environ.get("BENCH_GC_THRESHOLD"):  # e.g. "50000,50,1000"
        gc.set_threshold(*(int(x) for x in threshold.split(",")))
    if not os.environ.get("BENCH_GC_LOG"):
        return
    started: list[float] = []

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started and (took := time.perf_counter() - started[0]) > 0.05:
            print(f"gc gen{info['generation']} took {took * 1000:.0f} ms", file=sys.stderr, flush=True)

    gc.callbacks.append(timer)


async def _serve_with_executor(server: Any, sock: socket.socket) -> None:
    """The product's loop settings (``agent.tune_for_realtime``) unless ``BENCH_NO_TUNING=1``;
    ``BENCH_EXECUTOR_WORKERS=n`` then overrides the default thread pool (asyncio.to_thread, aiortc's
    per-frame Opus encode, SQLite writes)."""
    if not os.environ.get("BENCH_NO_TUNING"):
        from agent import tune_for_realtime

        tune_for_realtime()
        if threshold := os.environ.get("BENCH_GC_THRESHOLD"):  # tune_for_realtime set its own
            import gc

            gc.set_threshold(*(int(x) for x in threshold.split(",")))
    if workers := os.environ.get("BENCH_EXECUTOR_WORKERS"):
        from concurrent.futures import ThreadPoolExecutor

        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=int(workers)))
    await server.serve(sockets=[sock])


_PLAIN = set(vars(__import__("logging").makeLogRecord({})))


def _debug_loggers(names: str) -> None:
    """``MOCKLINE_BENCH_DEBUG=mockline.agent,...``: those loggers at DEBUG on stderr, with a clock
    (``time.perf_counter``, the bench callers' clock) and the records' ``extra`` fields."""
    import logging
    import time

    class _Extras(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            extra = {k: v for k, v in vars(record).items() if k not in _PLAIN and k != "message"}
            return f"{time.perf_counter():.3f} {record.name} {record.getMessage()} {extra}"

    for name in filter(None, names.split(",")):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Extras())
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
        log.propagate = False


def serve(*, stack: str, profile: str, database_url: str, max_sessions: int = 200) -> None:
    """Blocking: load the stack, serve on an ephemeral loopback port until SIGTERM."""
    os.environ["DATABASE_URL"] = database_url
    import logging

    import uvicorn

    from storage import get_database, upgrade_to_head

    from ._stacks import build_runtime

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _debug_loggers(os.environ.get("MOCKLINE_BENCH_DEBUG", ""))
    upgrade_to_head(get_database())
    runtime = CountingRuntime(build_runtime(stack=stack, profile=profile))
    _gc_watch()
    app = create_bench_app(runtime, max_sessions=max_sessions)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    print(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}), flush=True)
    # Twilio media messages are ~300 bytes of base64: permessage-deflate costs CPU on each and saves little
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", ws_max_size=1 << 20, ws_per_message_deflate=False
    )
    server = uvicorn.Server(config)
    profile_to = os.environ.get("BENCH_CPROFILE")  # profile the event-loop thread of the server
    slow_ms = os.environ.get("BENCH_SLOW_CALLBACK_MS")  # log every loop step longer than this
    if slow_ms:
        logging.getLogger("asyncio").setLevel(logging.WARNING)

        async def watched() -> None:
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = float(slow_ms) / 1000
            await _serve_with_executor(server, sock)

        asyncio.run(watched())
        return
    if not profile_to:
        asyncio.run(_serve_with_executor(server, sock))
        return
    import cProfile
    import signal

    profiler = cProfile.Profile()

    def dump(*_: object) -> None:  # uvicorn restores this handler and re-raises SIGTERM after shutdown
        profiler.disable()
        profiler.dump_stats(profile_to)
        os._exit(0)

    signal.signal(signal.SIGTERM, dump)
    profiler.enable()
    asyncio.run(_serve_with_executor(server, sock))
    dump()
