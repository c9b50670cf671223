"""Typed route dependencies of the dashboard (the FastAPI template's ``SessionDep`` idea).

A route names what it needs in its signature, ``db: DatabaseDep``, instead of calling ``get_database()``
itself; tests may swap it with ``app.dependency_overrides[database]``. The dependency is the process's
:class:`storage.Database` (a unit-of-work factory), not an open session: the dashboard's sync routes and
their helpers open short sessions where they need them, some after work off the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storage import Database, get_database

__all__ = ["DatabaseDep", "database"]


async def database() -> Database:
    """The process's database (async: resolving it needs no thread)."""
    return get_database()


DatabaseDep = Annotated[Database, Depends(database)]
