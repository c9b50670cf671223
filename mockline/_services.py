"""The web process's services: built once by :func:`build_services`, handed to each package's router.

One agent runtime is shared by the browser and phone transports, one attempt counter by the dashboard's
login, practice and browser admission. Each package declares what it needs (``SignalingServices``,
``TelephonyState``); this is the one place that decides what they get. Nothing here starts a task: the app's
lifespan starts and stops what runs (scoring, the preload, the sweeper) and the routers' lifespans own their
sessions and scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent import AgentRuntime, SharedRuntime
from dashboard import DashboardServices
from signaling import SignalingServices
from storage import RateLimiter, build_rate_limiter
from telephony import TelephonySettings, TelephonyState

from .settings import AppSettings

__all__ = ["Services", "build_services"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Services:
    settings: AppSettings
    runtime: SharedRuntime
    # Attempt counters shared by every replica when REDIS_URL is set (login, practice, browser admission).
    rate_limiter: RateLimiter
    dashboard: DashboardServices
    signaling: SignalingServices
    telephony: TelephonyState


def build_services(
    settings: AppSettings,
    *,
    telephony: TelephonySettings | None = None,
    runtime: AgentRuntime | None = None,
    rate_limiter: RateLimiter | None = None,
) -> Services:
    """Settings of each concern from the environment where not given.

    ``runtime``: an agent runtime built elsewhere (tests); by default one is loaded on first use."""
    from dashboard import recruiter_api_auth  # the dashboard's login guards the other packages' APIs

    shared = SharedRuntime(loaded=runtime)
    limiter = rate_limiter or build_rate_limiter()
    return Services(
        settings=settings,
        runtime=shared,
        rate_limiter=limiter,
        dashboard=DashboardServices(base_url=settings.base_url, rate_limiter=limiter),
        signaling=SignalingServices.build(runtime=shared, limiter=limiter, recruiter_auth=recruiter_api_auth),
        telephony=TelephonyState.build(
            base_url=settings.base_url,
            environment=settings.environment,
            secret_key=settings.secret_key,
            runtime=shared,
            settings=telephony,
            recruiter_auth=recruiter_api_auth,
        ),
    )
