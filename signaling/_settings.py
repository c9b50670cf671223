"""Settings for browser interviews (``MOCKLINE_`` prefix, shared with the web process)."""

from __future__ import annotations

import functools

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["IceServer", "SignalingSettings", "get_signaling_settings"]


class IceServer(BaseModel):
    """One STUN/TURN server, as the browser's ``RTCIceServer`` spells it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class SignalingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_", extra="ignore")

    # Concurrent browser interviews this process runs (sessions waiting to resume count too). A session that
    # has not connected yet is "pending": it does not take one of these until its connection comes up.
    max_sessions: int = Field(default=8, ge=1)
    # Pending (answered, not yet connected) sessions this process holds, in all and per client address.
    max_pending_sessions: int = Field(default=32, ge=1)
    max_pending_per_address: int = Field(default=2, ge=1)
    # Offers accepted per client address, and per link, per minute (shared across replicas with REDIS_URL).
    offers_per_address_per_minute: int = Field(default=20, ge=1)
    offers_per_link_per_minute: int = Field(default=10, ge=1)
    # A candidate who drops and reopens the link within this many seconds resumes the same interview.
    resume_grace_seconds: float = Field(default=120.0, ge=0)
    # STUN/TURN servers for both peers (JSON list). Empty: host candidates only (same machine or LAN).
    ice_servers: list[IceServer] = Field(default_factory=list)
    # Addresses the server offers as ICE host candidates. Empty: every non-loopback interface (aioice's
    # default). ``["127.0.0.1"]`` keeps a same-machine interview (tests, a laptop demo) on loopback.
    rtc_host_addresses: list[str] = Field(default_factory=list)
    # Rate of the mono PCM pushed into the agent (the browser sends 48 kHz Opus; 16 kHz is what VAD/STT use).
    input_sample_rate: int = 16000
    # Complete frames aiortc's receive jitter buffer holds before it hands one on: 1 = the next frame's first
    # packet releases a frame (20 ms). aiortc's own 4 adds ~60 ms to every candidate frame, so to the end of
    # speech and to barge-in; a lost packet stalls both alike (until the 16-packet buffer overflows).
    inbound_jitter_prefetch: int = Field(default=1, ge=1, le=8)
    # Offers and data-channel messages larger than this are refused.
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    # Practice mode: where the candidate finds the coaching report ({token}: the link token, {interview_id}).
    # The dashboard serves it at /practice/report/{token}. Empty: "the report is being prepared".
    report_url_template: str = "/practice/report/{token}"
    # How long the server waits for ICE gathering before answering (trickle-free signalling).
    ice_gather_timeout_seconds: float = 10.0
    # How long a new connection may take to reach "connected" before it is dropped (a pending session
    # ends then).
    connect_timeout_seconds: float = 15.0


@functools.lru_cache(maxsize=1)
def get_signaling_settings() -> SignalingSettings:
    return SignalingSettings()
