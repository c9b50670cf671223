"""A local LiveKit server API (Twirp over HTTP, protobuf bodies) so the real ``livekit-api`` client runs.

Speaks ``POST /twirp/livekit.AgentDispatchService/CreateDispatch``, ``.../ListDispatch`` and
``/twirp/livekit.RoomService/CreateRoom``: checks the ``Authorization: Bearer`` JWT with the API secret
(``livekit.api.TokenVerifier``) and that it grants ``roomAdmin`` on the requested room (``roomCreate``),
decodes the request and answers ``AgentDispatch`` protobufs. Errors are Twirp JSON
(``{"code": ..., "msg": ...}``). ``fail_with`` scripts the next answer's HTTP status.

Also the first step of a client joining a room, enough for livekit-client in a browser: the signalling
websocket ``GET /rtc`` / ``/rtc/v1`` (``?access_token=...``) is recorded in ``rtc_requests`` and refused
with 401 (``refuse_rtc``, default) or upgraded and closed at once (this fake does not speak LiveKit's
signalling protocol); ``GET /rtc[/v1]/validate`` answers what the client shows for a refusal.
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
        self.rooms: set[str] = set()  # created with CreateRoom
        self.headers: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self.rtc_requests: list[dict[str, str]] = []  # path and query of each signalling connection
        self.refuse_rtc = True
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeLiveKitAPI:
        app = web.Application()
        app.router.add_post("/twirp/livekit.AgentDispatchService/CreateDispatch", self._create_dispatch)
        app.router.add_post("/twirp/livekit.AgentDispatchService/ListDispatch", self._list_dispatch)
        app.router.add_post("/twirp/livekit.RoomService/CreateRoom", self._create_room)
        for path in ("/rtc", "/rtc/v1"):
            app.router.add_get(path, self._rtc)
            app.router.add_get(f"{path}/validate", self._validate)
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

    def _refusal(self, request: web.Request, room: str, *, create: bool = False) -> web.Response | None:
        self.headers.append(dict(request.headers))
        if request.content_type != "application/protobuf":
            return self._error(415, "malformed", "expected application/protobuf")
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
        if create and (video is None or not video.room_create):
            return self._error(403, "permission_denied", "roomCreate is required")
        if not create and (video is None or not video.room_admin or video.room != room):
            return self._error(403, "permission_denied", "roomAdmin on this room is required")
        if self.fail_with is not None:
            status, self.fail_with = self.fail_with, None
            return self._error(status, "internal" if status >= 500 else "invalid_argument", "scripted")
        return None

    async def _list_dispatch(self, request: web.Request) -> web.Response:
        req = api.ListAgentDispatchRequest.FromString(await request.read())
        if (refused := self._refusal(request, req.room)) is not None:
            return refused
        found = [d for d in self.dispatches if d.room == req.room]
        return web.Response(
            body=api.ListAgentDispatchResponse(agent_dispatches=found).SerializeToString(),
            content_type="application/protobuf",
        )

    async def _rtc(self, request: web.Request) -> web.StreamResponse:
        self.rtc_requests.append({"path": request.path, **request.query})
        if self.refuse_rtc:
            return web.Response(status=401, text="unauthorized")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close()
        return ws

    async def _validate(self, request: web.Request) -> web.Response:
        # cross-origin, like LiveKit's own server: the page is served by mockline, not by LiveKit
        return web.Response(
            status=401,
            text="invalid token: refused by the test server",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    async def _create_room(self, request: web.Request) -> web.Response:
        req = api.CreateRoomRequest.FromString(await request.read())
        if (refused := self._refusal(request, req.name, create=True)) is not None:
            return refused
        self.rooms.add(req.name)
        room = api.Room(name=req.name, sid=f"RM_{req.name}")
        return web.Response(body=room.SerializeToString(), content_type="application/protobuf")

    async def _create_dispatch(self, request: web.Request) -> web.Response:
        req = api.CreateAgentDispatchRequest.FromString(await request.read())
        if (refused := self._refusal(request, req.room)) is not None:
            return refused
        dispatch = api.AgentDispatch(
            id=f"AD_{len(self.dispatches) + 1:04d}",
            agent_name=req.agent_name,
            room=req.room,
            metadata=req.metadata,
        )
        self.dispatches.append(dispatch)
        return web.Response(body=dispatch.SerializeToString(), content_type="application/protobuf")
