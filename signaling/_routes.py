"""HTTP routes: the join page ``/i/{token}``, its static files, ``POST /rtc/offer`` and, in LiveKit room mode,
``POST /rtc/livekit``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from storage import InvitationError, get_recording_settings, resolve_token

from ._errors import BadRequest, PayloadTooLarge, SignalingError, TooManyRequests
from ._ice import set_host_addresses
from ._livekit import LiveKitUnavailable, join_livekit
from ._services import RegistryDep, SignalingDep, SignalingServices, signaling_of

__all__ = ["install_signaling", "router"]

logger = logging.getLogger("mockline.signaling")

_HERE = Path(__file__).parent
_STATIC = {
    "join.js": ("join.js", "text/javascript"),
    "join.css": ("join.css", "text/css"),
    # livekit-client from npm, vendored unchanged (version and licence: static/vendor/README.md)
    "livekit-client.umd.js": ("vendor/livekit-client.umd.js", "text/javascript"),
}
_templates = Jinja2Templates(directory=str(_HERE / "templates"))
# The token is in the page's URL: never send it to another site, never cache the page.
_PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "microphone=(self), camera=(self)",
    "X-Content-Type-Options": "nosniff",
}


class LiveKitJoinIn(BaseModel):
    token: str = Field(min_length=1, max_length=128)


class OfferIn(BaseModel):
    token: str = Field(min_length=1, max_length=128)
    sdp: str = Field(min_length=1)
    type: Literal["offer"]
    # The session id this browser had before its connection dropped: lets it replace its own stale peer.
    resume: str | None = Field(default=None, max_length=64)


def _error(e: SignalingError | InvitationError) -> JSONResponse:
    return JSONResponse({"error": e.code, "message": e.message}, status_code=e.http_status)


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request is larger than {limit // 1024} KB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The request is larger than {limit // 1024} KB.")
    return bytes(body)


def _parse_offer(body: bytes, model: type[BaseModel] = OfferIn) -> Any:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise BadRequest("The request body is not valid JSON.") from e
    try:
        return model.model_validate(data)
    except ValidationError as e:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in e.errors()})
        raise BadRequest(f"Missing or invalid fields: {', '.join(fields)}.") from e


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Owns the sessions of this process (``install_signaling`` put the services on the app)."""
    registry = signaling_of(app).open_registry()
    try:
        yield
    finally:
        await registry.aclose()


router = APIRouter(lifespan=_lifespan)


def install_signaling(app: FastAPI, services: SignalingServices) -> None:
    """Mount the browser-interview routes on ``app``; they take ``services`` as a typed dependency."""
    set_host_addresses(services.settings.rtc_host_addresses)
    app.state.signaling = services
    app.include_router(router)


@router.get("/i/{token}", response_class=HTMLResponse)
async def join_page(request: Request, token: str, services: SignalingDep) -> Response:
    settings, lk_settings, database = services.settings, services.livekit, services.database

    def lookup() -> dict[str, Any]:
        with database().session() as s:
            inv = resolve_token(s, token)
            return {
                "candidate_name": inv.candidate_name,
                "title": inv.plan.title or inv.plan.role,
                "mode": inv.mode,
                "time_limit_minutes": inv.plan.time_limit_minutes,
            }

    try:
        ctx: dict[str, Any] = {"error": None, **await asyncio.to_thread(lookup)}
        status = 200
    except InvitationError as e:
        ctx, status = {"error": e.message, "error_code": e.code}, e.http_status
    report_url = None
    if ctx.get("mode") == "practice" and settings.report_url_template:
        report_url = settings.report_url_template.format(token=token, interview_id="")
    rec = get_recording_settings()
    ctx["recording"] = {
        "enabled": rec.enabled,
        "audio_days": rec.retention_days,
        "transcript_days": rec.transcript_retention_days,
    }
    ctx["livekit"] = lk_settings is not None
    ctx["config"] = {
        "offerUrl": str(request.url_for("rtc_offer").path),
        "livekitJoinUrl": str(request.url_for("rtc_livekit").path) if lk_settings else None,
        "iceServers": [s.model_dump(exclude_none=True) for s in settings.ice_servers],
        "mode": ctx.get("mode"),
        "reportUrl": report_url,
    }
    return _templates.TemplateResponse(request, "join.html", ctx, status_code=status, headers=_PAGE_HEADERS)


@router.get("/rtc/static/{name}", name="rtc_static")
async def static(name: str) -> Response:
    if name not in _STATIC:
        return JSONResponse({"error": "not_found", "message": "No such file."}, status_code=404)
    path, media_type = _STATIC[name]
    return FileResponse(_HERE / "static" / path, media_type=media_type)


@router.post("/rtc/livekit", name="rtc_livekit")
async def rtc_livekit(request: Request, services: SignalingDep) -> JSONResponse:
    settings, lk_settings = services.settings, services.livekit
    if lk_settings is None:
        return JSONResponse(
            {"error": "not_found", "message": "LiveKit room mode is not enabled."}, status_code=404
        )
    try:
        body = _parse_offer(await _read_capped(request, settings.max_message_bytes), LiveKitJoinIn)
        address = request.client.host if request.client else "unknown"
        await asyncio.to_thread(services.running_registry().limit_join, address=address, token=body.token)
        join = await join_livekit(services.database(), body.token, lk_settings)
    except TooManyRequests as e:
        return JSONResponse(
            {"error": e.code, "message": e.message},
            status_code=e.http_status,
            headers={"Retry-After": str(e.retry_after)},
        )
    except (SignalingError, InvitationError, LiveKitUnavailable) as e:
        return JSONResponse({"error": e.code, "message": e.message}, status_code=e.http_status)
    except Exception:
        logger.exception("joining a LiveKit room failed")
        return JSONResponse(
            {"error": "internal", "message": "Something went wrong on our side. Please try again."},
            status_code=500,
        )
    if join["mode"] == "practice" and settings.report_url_template:
        join["report_url"] = settings.report_url_template.format(token=body.token, interview_id="")
    return JSONResponse(join, headers={"Cache-Control": "no-store"})


@router.post("/rtc/offer", name="rtc_offer")
async def rtc_offer(request: Request, services: SignalingDep, registry: RegistryDep) -> JSONResponse:
    try:
        offer = _parse_offer(await _read_capped(request, services.settings.max_message_bytes))
        answer = await registry.offer(
            token=offer.token,
            sdp=offer.sdp,
            type_=offer.type,
            resume=offer.resume,
            address=request.client.host if request.client else "unknown",
        )
    except TooManyRequests as e:
        return JSONResponse(
            {"error": e.code, "message": e.message},
            status_code=e.http_status,
            headers={"Retry-After": str(e.retry_after)},
        )
    except (SignalingError, InvitationError) as e:
        return _error(e)
    except Exception:
        logger.exception("answering an offer failed")
        return JSONResponse(
            {"error": "internal", "message": "Something went wrong on our side. Please try again."},
            status_code=500,
        )
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


@router.get("/rtc/status")
async def rtc_status(request: Request, services: SignalingDep) -> JSONResponse:
    """Capacity, for a logged-in recruiter (the dashboard's login); nobody else learns how busy we are."""
    if services.recruiter_auth is None:
        return JSONResponse({"error": "not_found", "message": "Not found."}, status_code=404)
    await run_in_threadpool(services.recruiter_auth, request)
    registry = services.running_registry()
    return JSONResponse(
        {
            "sessions": len(registry.sessions),
            "live": registry.live_count,
            "pending": registry.pending_count,
            "max_sessions": services.settings.max_sessions,
        }
    )
