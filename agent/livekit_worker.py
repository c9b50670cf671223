"""LiveKit room mode: a livekit-agents worker that runs interviews in LiveKit rooms (``mockline agent``).

The worker registers with a LiveKit server (self-hosted SFU or LiveKit Cloud: ``LIVEKIT_URL``,
``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``) under ``LIVEKIT_AGENT_NAME``, so it only joins rooms it is
explicitly dispatched to. The web process creates the dispatch (``signaling.livekit_token``) with metadata
``{"interview_id": "..."}``; the candidate joins the same room with identity = interview id. LiveKit decides
which worker gets the job (load-based), which is all the distribution there is: run more ``mockline agent``
processes on more machines to take more interviews.

Per job the worker joins the room, wires the candidate's microphone track in and a published agent track
out (the RoomIO input/output classes livekit's own ``RoomIO`` uses) and runs the interview through the same
``AgentRuntime`` as the embedded mode: same ``InterviewerAgent``, same persistence, same end reasons.
Models load once per worker process in ``prewarm`` (``setup_fnc``) and are shared by its jobs.

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
from typing import Literal

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, JobExecutorType, JobProcess, JobRequest
from livekit.agents.voice import io
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._runtime import AgentRuntime

__all__ = [
    "DispatchMetadata",
    "DispatchMetadataError",
    "LiveKitConfigError",
    "LiveKitSettings",
    "LiveKitWorkerError",
    "build_server",
    "entrypoint",
    "get_livekit_settings",
    "parse_dispatch_metadata",
    "prewarm",
    "room_name_for",
    "run_interview_job",
    "run_worker",
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
    initialize_timeout_seconds: float = Field(default=120.0, gt=0)  # model load in prewarm
    health_port: int = 8081  # worker health endpoint (GET /)
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


@functools.lru_cache(maxsize=1)
def _process_runtime() -> AgentRuntime:
    return AgentRuntime.load()


def prewarm(proc: JobProcess) -> None:
    """``setup_fnc``: load VAD/STT/TTS once in this process (blocking) before any job arrives."""
    proc.userdata["runtime"] = _process_runtime()


# -- per job -----------------------------------------------------------------------------------------------

RoomAudio = Callable[[rtc.Room, str], Awaitable[tuple[io.AudioInput, io.AudioOutput]]]


async def _room_audio(room: rtc.Room, identity: str) -> tuple[io.AudioInput, io.AudioOutput]:
    """The candidate's microphone in, a published agent track out (livekit's RoomIO classes)."""
    from livekit.agents.voice.room_io._input import _ParticipantAudioInputStream
    from livekit.agents.voice.room_io._output import _ParticipantAudioOutput

    audio_in = _ParticipantAudioInputStream(
        room, sample_rate=16000, num_channels=1, noise_cancellation=None, pre_connect_audio_handler=None
    )
    audio_in.set_participant(identity)
    audio_out = _ParticipantAudioOutput(
        room,
        sample_rate=24000,
        num_channels=1,
        track_publish_options=rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE),
        track_name="interviewer",
    )
    await audio_out.start()
    return audio_in, audio_out


async def run_interview_job(
    ctx: JobContext, *, runtime: AgentRuntime, room_audio: RoomAudio = _room_audio
) -> str:
    """Run the dispatched interview in ``ctx.room`` until it ends; returns the end reason."""
    meta = parse_dispatch_metadata(ctx.job.metadata)
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    audio_in, audio_out = await room_audio(ctx.room, meta.interview_id)
    handle = await runtime.start_interview(
        interview_id=meta.interview_id, audio_input=audio_in, audio_output=audio_out, channel="livekit"
    )
    hangup: asyncio.Task[str] | None = None

    def on_left(participant: rtc.RemoteParticipant) -> None:
        nonlocal hangup
        if participant.identity == meta.interview_id and hangup is None:
            hangup = asyncio.create_task(handle.aclose("hangup"))

    async def on_shutdown(_reason: str = "") -> None:
        await handle.aclose("dropped")  # the worker is going away: the interview stays resumable

    ctx.room.on("participant_disconnected", on_left)
    ctx.add_shutdown_callback(on_shutdown)
    try:
        reason = await handle.wait()
    finally:
        ctx.room.off("participant_disconnected", on_left)
        if hangup is not None:
            await hangup
        await handle.aclose()
        for closable in (audio_in, audio_out):
            aclose = getattr(closable, "aclose", None)
            if aclose is not None:
                await aclose()
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


def build_server(settings: LiveKitSettings | None = None) -> AgentServer:
    s = settings or get_livekit_settings()
    s.check()
    server = AgentServer(
        ws_url=s.url,
        api_key=s.api_key,
        api_secret=s.api_secret.get_secret_value(),
        setup_fnc=prewarm,
        job_executor_type=JobExecutorType.PROCESS if s.executor == "process" else JobExecutorType.THREAD,
        num_idle_processes=s.num_idle_processes,
        load_threshold=s.load_threshold,
        initialize_process_timeout=s.initialize_timeout_seconds,
        port=s.health_port,
    )
    server.rtc_session(entrypoint, agent_name=s.agent_name, on_request=on_request)
    return server


def run_worker(settings: LiveKitSettings | None = None) -> None:
    """Blocking: register with LiveKit and take interviews until SIGINT/SIGTERM, then drain."""
    server = build_server(settings)

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
