"""A local Cartesia TTS server speaking the real wire protocol, so the real client code runs in tests.

Endpoints (what ``livekit-plugins-cartesia`` and the ``cartesia`` SDK call):

- ``GET /tts/websocket?cartesia_version=...`` (websocket, ``X-API-Key`` header). The client sends generation
  requests ``{"context_id", "transcript", "continue", "model_id", "voice", "output_format", ...}`` and
  ``{"context_id", "cancel": true}``. The server answers per context with ``chunk`` messages (base64 PCM),
  ``timestamps`` messages (``word_timestamps`` with ``words``/``start``/``end``), one ``done`` after the
  request with ``continue: false``, and ``error`` messages shaped like Cartesia's (``done: true``,
  ``status_code``, ``title``, ``message``, ``error_code``).
- ``POST /tts/bytes`` (``X-API-Key`` + ``Cartesia-Version`` headers): raw PCM for the whole transcript.

The audio is a pure tone (``TONE_HZ``) so a test can tell Cartesia audio from any other voice,
``WORD_SECONDS`` of it per word. Scripting (:class:`CartesiaScript`) covers the cases a client must
survive: a slow first chunk, an error after N chunks, the socket closed after N chunks, a refused handshake.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

__all__ = ["TONE_HZ", "WORD_SECONDS", "CartesiaScript", "FakeCartesiaServer"]

TONE_HZ = 440.0
WORD_SECONDS = 0.12
CHUNK_SECONDS = 0.04


@dataclass
class CartesiaScript:
    """What the server does; a test may change it between requests."""

    api_key: str = "test-key"
    first_chunk_delay: float = 0.0  # seconds before the first audio chunk of each context
    error_after_chunks: int | None = None  # send an ``error`` frame after this many chunks of a context
    error_status: int = 500
    close_after_chunks: int | None = None  # drop the socket after this many chunks of a context
    fail_contexts: int | None = None  # only the first N contexts are affected by error/close (None: all)
    send_timestamps: bool = True


@dataclass
class _Context:
    context_id: str
    sample_rate: int
    chunks_sent: int = 0
    audio_seconds: float = 0.0
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class _Abort(Exception):
    """The script ended this context (error frame sent or socket closed)."""


class FakeCartesiaServer:
    """``async with FakeCartesiaServer() as fake:`` then point the client at ``fake.base_url``."""

    def __init__(self, *, script: CartesiaScript | None = None) -> None:
        self.script = script or CartesiaScript()
        self.requests: list[dict[str, Any]] = []  # every websocket message received, in order
        self.http_requests: list[dict[str, Any]] = []
        self.connections = 0
        self.contexts_started = 0
        self.contexts_done = 0
        self.errors_sent = 0
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.base_url = ""

    async def __aenter__(self) -> FakeCartesiaServer:
        app = web.Application()
        app.router.add_get("/tts/websocket", self._ws_handler)
        app.router.add_post("/tts/bytes", self._bytes_handler)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- helpers -------------------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        key = request.headers.get("X-API-Key") or request.query.get("api_key")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return self.script.api_key in {key, bearer}

    def _scripted(self, index: int) -> bool:
        limit = self.script.fail_contexts
        return limit is None or index < limit

    @staticmethod
    def tone(seconds: float, sample_rate: int, *, phase_samples: int = 0) -> bytes:
        n = round(seconds * sample_rate)
        t = (np.arange(n) + phase_samples) / sample_rate
        return (np.sin(2 * math.pi * TONE_HZ * t) * 8000).astype("<i2").tobytes()

    # -- websocket -------------------------------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response(
                {"error_code": "invalid_api_key", "title": "Unauthorized", "message": "Invalid API key"},
                status=401,
            )
        if not request.query.get("cartesia_version") and not request.headers.get("Cartesia-Version"):
            return web.json_response(
                {"title": "Bad Request", "message": "missing cartesia_version"}, status=400
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self._sockets.add(ws)
        contexts: dict[str, _Context] = {}
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                self.requests.append(data)
                ctx_id = data.get("context_id") or ""
                if data.get("cancel"):
                    ctx = contexts.pop(ctx_id, None)
                    if ctx and ctx.task:
                        ctx.task.cancel()
                    continue
                ctx = contexts.get(ctx_id)
                if ctx is None:
                    rate = int((data.get("output_format") or {}).get("sample_rate") or 24000)
                    ctx = contexts[ctx_id] = _Context(context_id=ctx_id, sample_rate=rate)
                    index = self.contexts_started
                    self.contexts_started += 1
                    ctx.task = asyncio.create_task(self._run_context(ws, ctx, scripted=self._scripted(index)))
                ctx.queue.put_nowait(data)
        finally:
            for ctx in contexts.values():
                if ctx.task:
                    ctx.task.cancel()
            await asyncio.gather(*(c.task for c in contexts.values() if c.task), return_exceptions=True)
            self._sockets.discard(ws)
        return ws

    async def _run_context(self, ws: web.WebSocketResponse, ctx: _Context, *, scripted: bool) -> None:
        with contextlib.suppress(_Abort, ConnectionResetError, asyncio.CancelledError):
            if self.script.first_chunk_delay:
                await asyncio.sleep(self.script.first_chunk_delay)
            while True:
                req = await ctx.queue.get()
                assert req is not None
                words = str(req.get("transcript", "")).split()
                for word in words:
                    await self._speak_word(ws, ctx, word, scripted=scripted)
                if req.get("continue") is False:
                    await ws.send_str(
                        json.dumps(
                            {"type": "done", "done": True, "status_code": 200, "context_id": ctx.context_id}
                        )
                    )
                    self.contexts_done += 1
                    return

    async def _speak_word(
        self, ws: web.WebSocketResponse, ctx: _Context, word: str, *, scripted: bool
    ) -> None:
        start = ctx.audio_seconds
        remaining = WORD_SECONDS
        while remaining > 1e-9:
            if scripted and self.script.error_after_chunks is not None:
                if ctx.chunks_sent >= self.script.error_after_chunks:
                    await self._send_error(ws, ctx)
                    raise _Abort
            if scripted and self.script.close_after_chunks is not None:
                if ctx.chunks_sent >= self.script.close_after_chunks:
                    await ws.close(code=1011, message=b"internal error")
                    raise _Abort
            seconds = min(CHUNK_SECONDS, remaining)
            offset = round(ctx.audio_seconds * ctx.sample_rate)
            pcm = self.tone(seconds, ctx.sample_rate, phase_samples=offset)
            await ws.send_str(
                json.dumps(
                    {
                        "type": "chunk",
                        "data": base64.b64encode(pcm).decode(),
                        "done": False,
                        "status_code": 206,
                        "step_time": 1.0,
                        "context_id": ctx.context_id,
                    }
                )
            )
            ctx.chunks_sent += 1
            ctx.audio_seconds += seconds
            remaining -= seconds
        if self.script.send_timestamps:
            await ws.send_str(
                json.dumps(
                    {
                        "type": "timestamps",
                        "done": False,
                        "status_code": 206,
                        "context_id": ctx.context_id,
                        "word_timestamps": {"words": [word], "start": [start], "end": [ctx.audio_seconds]},
                    }
                )
            )

    async def _send_error(self, ws: web.WebSocketResponse, ctx: _Context) -> None:
        self.errors_sent += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "error",
                    "done": True,
                    "status_code": self.script.error_status,
                    "error_code": "internal_error",
                    "title": "Internal server error",
                    "message": "generation failed (scripted by the test)",
                    "request_id": str(uuid.uuid4()),
                    "context_id": ctx.context_id,
                }
            )
        )

    # -- HTTP bytes ---------------------------------------------------------------------------------------

    async def _bytes_handler(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error_code": "invalid_api_key", "title": "Unauthorized"}, status=401)
        if not request.headers.get("Cartesia-Version"):
            return web.json_response(
                {"title": "Bad Request", "message": "missing Cartesia-Version"}, status=400
            )
        body = await request.json()
        self.http_requests.append(body)
        if not body.get("transcript") or not body.get("model_id"):
            return web.json_response(
                {"title": "Bad Request", "message": "transcript and model_id"}, status=400
            )
        rate = int((body.get("output_format") or {}).get("sample_rate") or 24000)
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        if self.script.first_chunk_delay:
            await asyncio.sleep(self.script.first_chunk_delay)
        seconds = WORD_SECONDS * len(str(body["transcript"]).split())
        await resp.write(self.tone(seconds, rate))
        await resp.write_eof()
        return resp
