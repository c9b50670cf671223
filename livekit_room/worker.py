"""LiveKit room mode: a livekit-agents worker that runs interviews in LiveKit rooms (``mockline agent``).

The worker registers with a LiveKit server (self-hosted SFU or LiveKit Cloud: ``LIVEKIT_URL``,
``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``) under ``LIVEKIT_AGENT_NAME``, so it only joins rooms it is
explicitly dispatched to. The web process creates the dispatch (``signaling.livekit_token``) with metadata
``{"interview_id": "..."}``; the candidate joins the same room with identity = interview id. LiveKit decides
which worker gets the job (load-based), which is all the distribution there is: run more ``mockline agent``
processes on more machines to take more interviews.

Per job the worker joins the room and runs the interview through the same ``AgentRuntime`` as the embedded
mode with ``start_interview(room=ctx.room, participant=<interview id>)``: livekit's public ``RoomIO`` links
the candidate's microphone, publishes the interviewer's track and both sides' transcripts (the standard
``lk.transcription`` text streams the join page shows as captions). Same ``InterviewerAgent``, same
persistence, same end reasons. A finished interview goes to the scoring queue at once (``REDIS_URL``),
the outbox sweep being the safety net. Models load once per worker process in ``prewarm`` (``setup_fnc``)
and are shared by its jobs.

A transport beside ``signaling/`` (browser WebRTC) and ``telephony/`` (Twilio): it imports ``agent`` (the
core) and hands finished interviews to ``scoring``; ``agent`` imports none of it. Settings, the dispatch
contract and its errors are in ``livekit_room.settings``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, JobRequest
from livekit.agents.voice import io

from agent import AgentRuntime, InterviewClosed, PersistError

from .settings import (
    END_REASON_ATTRIBUTE,
    DispatchMetadataError,
    LiveKitSettings,
    get_livekit_settings,
    parse_dispatch_metadata,
)

if TYPE_CHECKING:
    from scoring import ScoringSettings
    from storage import Database

__all__ = [
    "RoomAudio",
    "build_server",
    "enqueue_finished",
    "entrypoint",
    "on_request",
    "prewarm",
    "run_interview_job",
    "run_worker",
    "warm_imports",
]

logger = logging.getLogger("mockline.livekit")


# -- per process ------------------------------------------------------------------------------------------


async def enqueue_finished(
    interview_id: str, *, settings: ScoringSettings | None = None, db: Database | None = None
) -> bool:
    """``on_finished``: hand the interview to the scoring queue at once, as the web process does.

    With ``REDIS_URL`` the job goes to the arq queue that ``mockline worker`` processes consume; without it
    there is no queue in this process, and the web process's outbox sweep (the safety net in both cases)
    scores it. False when it was not queued now (the outbox event stays pending)."""
    from scoring import QueueUnavailable, RedisScoringQueue, enqueue_scoring, get_scoring_settings

    settings = settings or get_scoring_settings()
    if not settings.redis_url:
        return False
    queue = RedisScoringQueue(settings=settings)
    try:
        return await enqueue_scoring(interview_id, queue=queue, db=db)
    except QueueUnavailable:  # enqueue_scoring already logged it and left the outbox event pending
        return False
    finally:
        await queue.aclose()


@functools.lru_cache(maxsize=1)
def _process_runtime() -> AgentRuntime:
    return AgentRuntime.load(on_finished=enqueue_finished)


def warm_imports() -> None:
    """Import what a job needs at its start and end before any job runs: imported on first use they
    blocked a job's event loop for 0.3-3.7 s against a real server (the database driver, the plan's YAML,
    the scoring queue; the interview brain and its plan model, 0.6 s)."""
    import importlib

    for name in ("psycopg", "yaml", "arq", "scoring", "storage", "agent.plans", "agent.brain"):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional driver that is not installed: nothing to warm
            continue


def prewarm(proc: JobProcess) -> None:
    """``setup_fnc``: load VAD/STT/TTS once in this process (blocking) before any job arrives."""
    warm_imports()
    proc.userdata["runtime"] = _process_runtime()


# -- per job -----------------------------------------------------------------------------------------------

# A stand-in for the room's audio (tests): returns the audio input/output the interview uses instead.
RoomAudio = Callable[[rtc.Room, str], Awaitable[tuple[io.AudioInput, io.AudioOutput]]]


def _left_reason(reason: int | None) -> str | None:
    """How the candidate leaving the room ends the interview: "hangup" (they left on purpose), "dropped"
    (their connection failed: they may come back), None (the same candidate's new connection replaced it)."""
    if reason is None or reason == rtc.DisconnectReason.CLIENT_INITIATED:
        return "hangup"
    if reason == rtc.DisconnectReason.DUPLICATE_IDENTITY:
        return None
    return "dropped"


async def _announce_end(room: rtc.Room, reason: str) -> None:
    if not room.isconnected():
        return
    try:
        await asyncio.wait_for(room.local_participant.set_attributes({END_REASON_ATTRIBUTE: reason}), 5)
    except Exception as e:  # the page then shows "interrupted" and the link resumes: not fatal
        logger.warning("could not announce the interview end to the room", extra={"error": type(e).__name__})


async def run_interview_job(
    ctx: JobContext,
    *,
    runtime: AgentRuntime,
    room_audio: RoomAudio | None = None,
    settings: LiveKitSettings | None = None,
) -> str:
    """Run the dispatched interview in ``ctx.room`` until it ends; returns the end reason.

    The runtime wires the room with livekit's public RoomIO (``start_interview(room=...)``): the
    candidate (identity = interview id) in, the interviewer's track and both sides' transcripts
    (``lk.transcription``) out. ``room_audio`` replaces the room's audio with other I/O (tests)."""
    meta = parse_dispatch_metadata(ctx.job.metadata)
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    if room_audio is None:
        handle = await runtime.start_interview(
            interview_id=meta.interview_id, room=ctx.room, participant=meta.interview_id, channel="livekit"
        )
    else:
        audio_in, audio_out = await room_audio(ctx.room, meta.interview_id)
        handle = await runtime.start_interview(
            interview_id=meta.interview_id, audio_input=audio_in, audio_output=audio_out, channel="livekit"
        )
    s = settings or get_livekit_settings()
    hangup: asyncio.Task[str] | None = None
    away: asyncio.TimerHandle | None = None  # ends the interview unless the candidate (re)joins first

    def end(reason: str) -> None:
        nonlocal hangup
        if hangup is None:
            hangup = asyncio.create_task(handle.aclose(reason))

    def wait_for_candidate(seconds: float) -> None:
        nonlocal away
        if away is not None:
            away.cancel()
        away = asyncio.get_running_loop().call_later(seconds, end, "dropped")

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity != meta.interview_id or hangup is not None:
            return
        reason = _left_reason(getattr(participant, "disconnect_reason", None))
        if reason == "hangup":
            end("hangup")
        elif reason == "dropped":
            logger.info("candidate dropped out of the room", extra={"interview_id": meta.interview_id})
            wait_for_candidate(s.resume_grace_seconds)

    def on_joined(participant: rtc.RemoteParticipant) -> None:
        nonlocal away
        if participant.identity == meta.interview_id and away is not None:
            away.cancel()  # here (again): RoomIO links the connection, the interview carries on
            away = None

    async def on_shutdown(_reason: str = "") -> None:
        await handle.aclose("dropped")  # the worker is going away: the interview stays resumable

    ctx.room.on("participant_disconnected", on_left)
    ctx.room.on("participant_connected", on_joined)
    ctx.add_shutdown_callback(on_shutdown)
    if not any(p.identity == meta.interview_id for p in ctx.room.remote_participants.values()):
        wait_for_candidate(s.join_timeout_seconds)
    try:
        reason = await handle.wait()
    finally:
        ctx.room.off("participant_disconnected", on_left)
        ctx.room.off("participant_connected", on_joined)
        if away is not None:
            away.cancel()
        if hangup is not None:
            await hangup
        await handle.aclose()
    await _announce_end(ctx.room, reason)
    logger.info("livekit interview ended", extra={"interview_id": meta.interview_id, "reason": reason})
    return reason


async def entrypoint(ctx: JobContext) -> None:
    runtime: AgentRuntime = ctx.proc.userdata.get("runtime") or _process_runtime()
    try:
        reason = await run_interview_job(ctx, runtime=runtime)
    except DispatchMetadataError:
        logger.warning("livekit job refused: bad dispatch metadata", extra={"job_id": ctx.job.id})
        ctx.shutdown("bad dispatch metadata")
        return
    except PersistError as e:  # no such interview, or it already finished: tell the page, then leave
        logger.warning(
            "livekit job cannot run its interview", extra={"job_id": ctx.job.id, "error": type(e).__name__}
        )
        reason = "completed" if isinstance(e, InterviewClosed) else "error"
        await _announce_end(ctx.room, reason)
        ctx.shutdown(f"interview not runnable: {type(e).__name__}")
        return
    ctx.shutdown(reason)


async def on_request(req: JobRequest) -> None:
    """Accept only dispatches that name an interview; the agent joins as ``interviewer-<id>``."""
    try:
        meta = parse_dispatch_metadata(req.job.metadata)
    except DispatchMetadataError:
        logger.warning("livekit job rejected: bad dispatch metadata", extra={"job_id": req.job.id})
        await req.reject(terminate=True)  # every worker would refuse it: end the dispatch
        return
    await req.accept(name="Interviewer", identity=f"interviewer-{meta.interview_id}")


# -- the worker process -----------------------------------------------------------------------------------


def _job_count_load(max_jobs: int, server: AgentServer) -> float:
    return min(len(server.active_jobs) / max_jobs, 1.0)


def build_server(
    settings: LiveKitSettings | None = None, *, setup_fnc: Callable[[JobProcess], None] = prewarm
) -> AgentServer:
    """The livekit-agents server of ``mockline agent``. ``setup_fnc`` loads each worker process's
    ``AgentRuntime`` into ``proc.userdata["runtime"]`` (default: the offline/cloud providers of the
    environment; benchmarks pass their own stacks). It must be picklable (process executor)."""
    s = settings or get_livekit_settings()
    s.check()
    load: dict[str, object] = {"load_threshold": s.load_threshold}
    if s.max_jobs is not None:
        load = {"load_threshold": 1.0, "load_fnc": functools.partial(_job_count_load, s.max_jobs)}
    server = AgentServer(
        ws_url=s.url,
        api_key=s.api_key,
        api_secret=s.api_secret.get_secret_value(),
        setup_fnc=setup_fnc,
        job_executor_type=JobExecutorType.PROCESS if s.executor == "process" else JobExecutorType.THREAD,
        num_idle_processes=s.num_idle_processes,
        initialize_process_timeout=s.initialize_timeout_seconds,
        port=s.health_port,
        **load,  # type: ignore[arg-type]
    )
    server.rtc_session(entrypoint, agent_name=s.agent_name, on_request=on_request)
    return server


def _upload_left_over_recordings() -> None:
    """Recordings a killed worker on this machine left in the S3 store's local spool go up now."""
    from storage import RecordingStoreError, S3RecordingStore, get_recording_store

    try:
        store = get_recording_store()
        if isinstance(store, S3RecordingStore):
            store.commit_orphans()
    except (RecordingStoreError, OSError):
        logger.warning("could not upload left-over recordings", exc_info=True)


def run_worker(
    settings: LiveKitSettings | None = None, *, setup_fnc: Callable[[JobProcess], None] = prewarm
) -> None:
    """Blocking: register with LiveKit and take interviews until SIGINT/SIGTERM, then drain."""
    server = build_server(settings, setup_fnc=setup_fnc)
    server.on(
        "worker_registered", lambda worker_id, _info: logger.info("registered with LiveKit as %s", worker_id)
    )
    _upload_left_over_recordings()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = asyncio.create_task(server.run(devmode=False))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not runner.done():
            logger.info("draining: finishing running interviews before exit")
            await server.drain()
            await server.aclose()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(main())
