"""What the browser-interview routes need, built once by the application and handed to :data:`router`.

```python
install_signaling(app, SignalingServices.build(runtime=shared))   # mockline/_services.py does this
```

Routes take typed dependencies (:data:`SignalingDep`, :data:`RegistryDep`) instead of reading ``app.state``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from agent import SharedRuntime
from storage import Database, RateLimiter, get_database

from ._livekit import livekit_configured
from ._registry import SessionRegistry
from ._settings import SignalingSettings, get_signaling_settings

if TYPE_CHECKING:
    from livekit_room.settings import LiveKitSettings

__all__ = ["RegistryDep", "SignalingDep", "SignalingServices", "signaling_of"]


@dataclass(kw_only=True, slots=True)
class SignalingServices:
    """``livekit``: set when LiveKit room mode is configured, else ``None`` (aiortc).
    ``recruiter_auth``: the dashboard's login for ``/rtc/status`` (``(request) -> user``); ``None`` hides it.
    ``registry``: this process's sessions, built and closed by the router's lifespan."""

    settings: SignalingSettings
    runtime: SharedRuntime
    livekit: LiveKitSettings | None = None
    database: Callable[[], Database] = get_database
    limiter: RateLimiter | None = None
    recruiter_auth: Callable[[Request], Any] | None = None
    registry: SessionRegistry | None = None

    @classmethod
    def build(
        cls,
        *,
        runtime: SharedRuntime,
        settings: SignalingSettings | None = None,
        livekit: LiveKitSettings | None = None,
        limiter: RateLimiter | None = None,
        recruiter_auth: Callable[[Request], Any] | None = None,
    ) -> SignalingServices:
        """Settings from the environment where not given; LiveKit room mode when its URL, key and secret
        are set."""
        if livekit is None:
            from livekit_room.settings import get_livekit_settings

            livekit = get_livekit_settings()
        return cls(
            settings=settings or get_signaling_settings(),
            runtime=runtime,
            livekit=livekit if livekit_configured(livekit) else None,
            limiter=limiter,
            recruiter_auth=recruiter_auth,
        )

    def running_registry(self) -> SessionRegistry:
        """The registry; only while the router's lifespan runs."""
        if self.registry is None:
            raise RuntimeError("the signaling router's lifespan has not run")
        return self.registry

    def open_registry(self) -> SessionRegistry:
        self.registry = SessionRegistry(
            settings=self.settings, runtime=self.runtime.get, database=self.database, limiter=self.limiter
        )
        return self.registry


def signaling_of(app: Starlette) -> SignalingServices:
    """The services ``install_signaling`` put on ``app`` (tests reach the registry this way)."""
    services: SignalingServices = app.state.signaling
    return services


def signaling_services(conn: HTTPConnection) -> SignalingServices:
    return signaling_of(conn.app)


SignalingDep = Annotated[SignalingServices, Depends(signaling_services)]


def session_registry(services: SignalingDep) -> SessionRegistry:
    return services.running_registry()


RegistryDep = Annotated[SessionRegistry, Depends(session_registry)]
