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

Errors::

    LiveKitWorkerError
    ├── DispatchMetadataError   the dispatch metadata is not {"interview_id": "<id>"} (job rejected)
    └── LiveKitConfigError      LIVEKIT_URL / key / secret missing or placeholders outside development
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, JobRequest
from livekit.agents.voice import io
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._persist import InterviewClosed, PersistError
from ._runtime import AgentRuntime

if TYPE_CHECKING:
    from scoring import ScoringSettings
    from storage import Database

__all__ = [
    "END_REASON_ATTRIBUTE",
    "DispatchMetadata",
    "DispatchMetadataError",
    "LiveKitConfigError",
    "LiveKitSettings",
    "LiveKitWorkerError",
    "build_server",
    "enqueue_finished",
    "entrypoint",
    "get_livekit_settings",
    "parse_dispatch_metadata",
    "prewarm",
    "room_name_for",
    "run_interview_job",
    "run_worker",
    "warm_imports",
]

logger = logging.getLogger("mockline.agent.livekit")

_PLACEHOLDERS = {"", "devkey", "secret", "changeme"}


class LiveKitWorkerError(Exception):
    retryable = False


class DispatchMetadataError(LiveKitWorkerError):
    pass


class LiveKitConfigError(LiveKitWorkerError):
    pass


class LiveKitSettings(BaseSettings):
    """LiveKit connection and worker tuning (``LIVEKIT_`` prefix, the names livekit's own tools use)."""

    model_config = SettingsConfigDict(env_prefix="LIVEKIT_", extra="ignore")

    url: str = ""  # ws(s)://... of the LiveKit server; the API client derives http(s) from it
    public_url: str = ""  # what the candidate's browser connects to, if not ``url`` (e.g. behind TLS)
    api_key: str = ""
    api_secret: SecretStr = SecretStr("")
    agent_name: str = "mockline-interviewer"
    room_prefix: str = "interview-"
    token_ttl_seconds: int = Field(default=600, ge=30, le=24 * 3600)  # candidate must join within this
    executor: Literal["process", "thread"] = "process"  # process: a crashed interview cannot take others
    num_idle_processes: int = Field(default=1, ge=0)  # warm processes (models loaded) waiting for jobs
    load_threshold: float = Field(default=0.75, gt=0, le=1)  # above this CPU load, jobs go elsewhere
    # Interviews at once in this worker. Set: the worker's load is its share of this count (full at
    # max_jobs), not the machine's CPU, which on a shared host other processes drive to 100 %.
    max_jobs: int | None = Field(default=None, ge=1)
    initialize_timeout_seconds: float = Field(default=120.0, gt=0)  # model load in prewarm
    health_port: int = 8081  # worker health endpoint (GET /)
    # A candidate whose connection dropped (not a hang-up) may rejoin the room within this many seconds and
    # carry on; after that the interview ends as "dropped" (resumable from the link).
    resume_grace_seconds: float = Field(default=120.0, ge=0)
    # How long the interviewer waits in the room for the candidate to arrive (the page fetched a token, then
    # was closed) before the interview ends as "dropped" and the worker takes other jobs.
    join_timeout_seconds: float = Field(default=600.0, gt=0)
    development: bool = False  # allow the livekit-server --dev key pair (devkey/secret)

    def check(self) -> None:
        if not self.url or not self.api_key or not self.api_secret.get_secret_value():
            raise LiveKitConfigError("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set")
        if not self.development and (
            self.api_key in _PLACEHOLDERS or self.api_secret.get_secret_value() in _PLACEHOLDERS
        ):
            raise LiveKitConfigError(
                "LIVEKIT_API_KEY/SECRET are the dev placeholders; set real ones (or LIVEKIT_DEVELOPMENT=true)"
            )
        if not self.development and len(self.api_secret.get_secret_value()) < 32:
            raise LiveKitConfigError("LIVEKIT_API_SECRET must be at least 32 characters")


@functools.lru_cache(maxsize=1)
def get_livekit_settings() -> LiveKitSettings:
    return LiveKitSettings()


class DispatchMetadata(BaseModel):
    interview_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")

    def dumps(self) -> str:
        return self.model_dump_json()


def parse_dispatch_metadata(raw: str) -> DispatchMetadata:
    try:
        return DispatchMetadata.model_validate(json.loads(raw or "null"))
    except (ValueError, ValidationError) as e:
        raise DispatchMetadataError('dispatch metadata must be {"interview_id": "<id>"}') from e


def room_name_for(interview_id: str, settings: LiveKitSettings | None = None) -> str:
    return f"{(settings or get_livekit_settings()).room_prefix}{interview_id}"


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

# The interviewer sets this attribute on itself with the end reason just before it leaves the room, so the
# join page can tell "finished" from "interrupted".
END_REASON_ATTRIBUTE = "mockline.end_reason"


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
