"""The outgoing webhook wire format: a JSON body and an HMAC-SHA256 signature header. Pure.

Each request carries::

    Content-Type: application/json
    Mockline-Event: report.ready
    Mockline-Delivery: 42                       (the same on every retry of one delivery)
    Mockline-Signature: t=1765090800,v1=<hex>

``v1`` is ``HMAC-SHA256(secret, f"{t}.{body}")`` over the exact body bytes. A receiver recomputes it with the
endpoint's secret, compares in constant time, and refuses a ``t`` too far from its clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

__all__ = ["EVENTS", "SIGNATURE_HEADER", "body_bytes", "sign", "verify"]

EVENTS = ("interview.finished", "report.ready")
SIGNATURE_HEADER = "Mockline-Signature"


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Mockline-Signature`` header value."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance_s: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its time is within ``tolerance_s`` of now."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(fields.get("v1", ""), _mac(secret, timestamp, body))
