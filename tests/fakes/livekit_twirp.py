"""A local LiveKit server API (Twirp over HTTP, protobuf bodies) so the real ``livekit-api`` client runs.

Speaks ``POST /twirp/livekit.AgentDispatchService/CreateDispatch``: checks the ``Authorization: Bearer`` JWT
with the API secret (``livekit.api.TokenVerifier``) and that it grants ``roomAdmin`` on the requested room,
decodes ``CreateAgentDispatchRequest`` and answers an ``AgentDispatch``. Errors are Twirp JSON
(``{"code": ..., "msg": ...}``). ``fail_with`` scripts the next answer's HTTP status.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from livekit import api

__all__ = ["FakeLiveKitAPI"]


class FakeLiveKitAPI:
    def __init__(
        self, *, api_key: str = "lk-key", api_secret: str = "lk-secret-0123456789abcdef-0123456789"
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.dispatches: list[api.AgentDispatch] = []
        self.headers: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeLiveKitAPI:
        app = web.Application()
        app.router.add_post("/twirp/livekit.AgentDispatchService/CreateDispatch", self._create_dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(status: int, code: str, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg}, status=status)

    async def _create_dispatch(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if request.content_type != "application/protobuf":
            return self._error(415, "malformed", "expected application/protobuf")
        req = api.CreateAgentDispatchRequest.FromString(await request.read())
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self._error(401, "unauthenticated", "missing token")
        try:
            claims: Any = api.TokenVerifier(self.api_key, self.api_secret).verify(
                auth.removeprefix("Bearer ")
            )
        except Exception:
            return self._error(401, "unauthenticated", "invalid token")
        video = claims.video
        if video is None or not video.room_admin or video.room != req.room:
            return self._error(403, "permission_denied", "roomAdmin on this room is required")
        if self.fail_with is not None:
            status, self.fail_with = self.fail_with, None
            return self._error(status, "internal" if status >= 500 else "invalid_argument", "scripted")
        dispatch = api.AgentDispatch(
            id=f"AD_{len(self.dispatches) + 1:04d}",
            agent_name=req.agent_name,
            room=req.room,
            metadata=req.metadata,
        )
        self.dispatches.append(dispatch)
        return web.Response(body=dispatch.SerializeToString(), content_type="application/protobuf")
