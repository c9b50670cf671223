"""The Media Streams websocket endpoint ``/twilio/stream``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from ._bridge import StreamBridge
from ._calls import stream_interview
from ._errors import SignatureInvalid
from ._security import validate_signature, websocket_url_for
from ._state import TelephonyDep

__all__ = ["router"]

logger = logging.getLogger("mockline.telephony")

router = APIRouter(prefix="/twilio", tags=["telephony"])


@router.websocket("/stream")
async def stream(websocket: WebSocket, state: TelephonyDep) -> None:
    signature = websocket.headers.get("x-twilio-signature")
    if signature is not None or state.settings.skip_signature:
        url = websocket_url_for(state.base_url, websocket.url.path)
        if websocket.url.query:
            url = f"{url}?{websocket.url.query}"
        try:
            validate_signature(state.settings, url=url, params={}, signature=signature)
        except SignatureInvalid as e:
            logger.warning("Twilio stream refused: %s", e.message)
            await websocket.close(code=1008, reason=e.code)  # before accept: the upgrade is answered with 403
            return
    await websocket.accept()

    async def check_interview(interview_id: str, call_sid: str) -> bool:
        def check() -> bool:
            with state.database().session() as s:
                interview = stream_interview(s, interview_id)
                if interview is None:
                    return False
                interview.channel = "phone"
                interview.call_sid = call_sid
                return True

        return await run_in_threadpool(check)

    bridge = StreamBridge(
        websocket=websocket,
        runtime_factory=state.runtime.get,
        tokens=state.tokens,
        live_calls=state.live_calls,
        check_interview=check_interview,
        start_timeout_s=state.settings.start_timeout_s,
        mark_timeout_s=state.settings.mark_timeout_s,
    )
    await bridge.run()
