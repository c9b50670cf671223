"""A scriptable OpenAI-compatible server on 127.0.0.1 (aiohttp, in the test's event loop).

Speaks ``POST /v1/chat/completions`` with ``stream: true`` (SSE ``data: {chunk}`` lines, then
``data: [DONE]``) and ``stream: false`` (one JSON completion; ``response_format`` is accepted and
recorded), plus ``GET /v1/models``. Each request takes the next scripted ``Reply`` (or the default)::

    async with FakeOpenAIServer() as server:
        server.script(Reply(status=500), Reply(text="Hello there."), Reply(hold=True), Reply(close_after=2))
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
        ...
        server.requests[0]["messages"][0]["content"]    # what the client sent

``hold=True`` keeps the reply back until ``release()`` (or shutdown) — a server that never answers,
without a sleep in the test. ``delay`` waits that many seconds before the first token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["FakeOpenAIServer", "Reply"]


@dataclass
class Reply:
    text: str = "Thanks. Let's move on."
    status: int = 200  # != 200: an OpenAI-style error body with this status
    delay: float = 0.0  # seconds before the first token (or the JSON body)
    hold: bool = False  # wait for FakeOpenAIServer.release() before answering
    words_per_chunk: int = 1
    close_after: int | None = None  # drop the connection after this many content chunks
    error_after: int | None = None  # send an in-stream error event after this many content chunks


class FakeOpenAIServer:
    def __init__(self, *, default: Reply | None = None, model: str = "fake-model") -> None:
        self.default = default or Reply()
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Reply] = deque()
        self._released = asyncio.Event()
        self._request_seen = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    def release(self) -> None:
        self._released.set()

    async def wait_for_requests(self, n: int) -> None:
        """Wait until ``n`` requests arrived (wrap in ``asyncio.timeout`` in tests)."""
        async with self._request_seen:
            await self._request_seen.wait_for(lambda: len(self.requests) >= n)

    async def start(self) -> FakeOpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def aclose(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' is required")
        async with self._request_seen:
            self.requests.append(body)
            self._request_seen.notify_all()
        reply = self._script.popleft() if self._script else self.default
        if reply.hold:
            await self._released.wait()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if request.transport is None or request.transport.is_closing():
            raise web.HTTPRequestTimeout()  # the client gave up while we held the reply back
        if reply.status != 200:
            return _error(reply.status, f"scripted failure {reply.status}")
        model = str(body.get("model") or self.model)
        if not body.get("stream"):
            return web.json_response(_completion(reply.text, model))
        return await self._stream(request, reply, model)

    async def _stream(self, request: web.Request, reply: Reply, model: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        words = reply.text.split(" ")
        step = reply.words_per_chunk
        pieces = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        pieces = [p + " " for p in pieces[:-1]] + pieces[-1:]
        await _send(resp, _chunk(cid, model, {"role": "assistant", "content": ""}))
        for n, piece in enumerate(pieces):
            if reply.close_after is not None and n >= reply.close_after:
                assert request.transport is not None
                request.transport.close()  # mid-stream disconnect: no terminating chunk
                return resp
            if reply.error_after is not None and n >= reply.error_after:
                await _send(resp, {"error": {"message": "scripted stream error", "type": "server_error"}})
                await resp.write_eof()
                return resp
            await _send(resp, _chunk(cid, model, {"content": piece}))
        await _send(resp, _chunk(cid, model, {}, finish="stop"))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


async def _send(resp: web.StreamResponse, data: dict[str, Any]) -> None:
    await resp.write(f"data: {json.dumps(data)}\n\n".encode())


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(text: str, model: str) -> dict[str, Any]:
    words = len(text.split())
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words},
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}},
        status=status,
    )
