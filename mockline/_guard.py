"""The ASGI middlewares every HTTP request passes: a request-body limit, the security headers, and a refusal
of URLs with NUL characters.

``BodyLimit``: a ``Content-Length`` over the route's limit is answered 413 before the app runs; a body sent
without one (chunked) is counted as it is read, and the read that crosses the limit fails, so no form parser
ever spools more than the limit to memory or disk. Whatever the app answers after that (a parse error, a 400,
a 500 from a route that caught the failure) is replaced by the 413.

``RefuseNulInUrl``: no URL this app serves has a NUL character in its path or query, and PostgreSQL cannot
compare or store one; such a request is answered 400 before any route turns it into a query.

``SecurityHeaders``: no page may be framed (clickjacking), no response sniffed into another type, no URL
leaked to another site through ``Referer``. A route that set its own value (the join page's
``Referrer-Policy: no-referrer``) keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["SECURITY_HEADERS", "BodyLimit", "BodyTooLarge", "RefuseNulInUrl", "SecurityHeaders"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

SECURITY_HEADERS: dict[str, str] = {
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the limit (the middleware answers 413)."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def _send_413(send: Callable[[Message], Any], limit: int) -> None:
    await _send_error(send, 413, "too_large", f"The request body is larger than {limit // 1024} KB.")


async def _send_error(send: Callable[[Message], Any], status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """``limit_for(method, path)`` gives the most bytes a request body may have."""

    def __init__(self, app: Any, *, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("method", "GET"), scope.get("path", "/"))
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await _send_413(send, limit)
            return
        received = 0
        exceeded = False
        started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
                if exceeded:  # the app answered its own failure to read the body: answer 413 instead
                    replaced = True
                    await _send_413(send, limit)
                    return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if started:
                raise
            await _send_413(send, limit)
        except Exception:
            if exceeded and not started:
                await _send_413(send, limit)
                return
            raise


class RefuseNulInUrl:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            raw = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string") or b"")
            if b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope.get("path", ""):
                if scope["type"] == "http":
                    await _send_error(send, 400, "bad_request", "The URL holds a NUL character.")
                else:
                    await send({"type": "websocket.close", "code": 1008, "reason": "bad_url"})
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: Any, *, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self._headers = [(k.encode(), v.encode()) for k, v in (headers or SECURITY_HEADERS).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in self._headers if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
