"""Typed route dependencies of the dashboard (the FastAPI template's ``SessionDep`` idea).

A route names what it needs in its signature, ``db: DatabaseDep``, instead of calling ``get_database()``
itself; tests may swap it with ``app.dependency_overrides[database]``. The dependency is the process's
:class:`storage.Database` (a unit-of-work factory), not an open session: the dashboard's sync routes and
their helpers open short sessions where they need them, some after work off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from storage import Database, RateLimiter, get_database

__all__ = ["DashboardDep", "DashboardServices", "DatabaseDep", "dashboard_of", "database"]


async def database() -> Database:
    """The process's database (async: resolving it needs no thread)."""
    return get_database()


DatabaseDep = Annotated[Database, Depends(database)]


@dataclass(frozen=True, kw_only=True, slots=True)
class DashboardServices:
    """What the web app hands the dashboard (``install_dashboard``): its public URL, for links in pages and
    e-mails, and the attempt counters of login and practice (shared by replicas when REDIS_URL is set)."""

    base_url: str
    rate_limiter: RateLimiter


def dashboard_of(app: Starlette) -> DashboardServices:
    """The services ``install_dashboard`` put on ``app``."""
    services: DashboardServices = app.state.dashboard
    return services


async def dashboard_services(conn: HTTPConnection) -> DashboardServices:
    return dashboard_of(conn.app)


DashboardDep = Annotated[DashboardServices, Depends(dashboard_services)]
