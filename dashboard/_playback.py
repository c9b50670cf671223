"""Serving a recording from the ``RecordingStore`` with HTTP Range requests, so players can seek.

Callers decide who may listen (the interview's organisation, or the practice link's holder) and pass the
row; everything else answers 404 before this runs.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from storage import Recording, RecordingNotFound, get_recording_store, latest_recording, parse_range

from ._errors import NotFound

__all__ = ["latest_recording", "recording_response"]

logger = logging.getLogger("mockline.dashboard")


def recording_response(request: Request, rec: Recording | None) -> Response:
    """The recording, whole (200) or the one range asked for (206); 416 for a range past its end."""
    if rec is None:
        raise NotFound("This interview has no recording.")
    store = get_recording_store()
    try:
        size = store.size(rec.path)
    except RecordingNotFound as e:
        logger.warning("recording file missing", extra={"recording_id": rec.id})
        raise NotFound("The recording file is missing on the server.") from e
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "Content-Disposition": "inline",
    }
    try:
        rng = parse_range(request.headers.get("range"), size)
    except ValueError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    try:
        chunks = store.read(rec.path, rng)
    except RecordingNotFound as e:
        raise NotFound("The recording file is missing on the server.") from e
    media_type = rec.mime or "audio/ogg"
    if rng is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(iterate_in_threadpool(chunks), media_type=media_type, headers=headers)
    headers.update({"Content-Range": rng.content_range, "Content-Length": str(rng.length)})
    return StreamingResponse(
        iterate_in_threadpool(chunks), status_code=206, media_type=media_type, headers=headers
    )
