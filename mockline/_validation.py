"""The answer to a request FastAPI could not validate: 422 with where and what was wrong, never the input.

FastAPI's own handler echoes each bad value back (``input``), which fails with a 500 on a body that is not
UTF-8, and repeats whatever the client sent (possibly personal data) into responses and proxies' logs.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["validation_failed"]


async def validation_failed(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {
            "loc": [str(part)[:64] for part in err.get("loc", ())],
            "type": str(err.get("type", ""))[:64],
            "msg": str(err.get("msg", ""))[:200],
        }
        for err in errors[:20]
    ]
    return JSONResponse({"detail": detail}, status_code=422)
