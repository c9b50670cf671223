"""Shared fixtures.

``db`` runs a test on both SQLite and real PostgreSQL (127.0.0.1:5432, database ``test``; each test session
makes and drops its own database so parallel runs never collide). ``sqlite_db`` is for tests that need any
database but are not about storage.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text

from storage import (
    Base,
    Database,
    get_recording_settings,
    get_recording_store,
    reset_database,
    upgrade_to_head,
)

PG_ADMIN_URL = os.environ.get("MOCKLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ARTIFACTS = Path(os.environ.get("MOCKLINE_ARTIFACTS", "artifacts"))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"mockline_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


_migrated: dict[str, Database] = {}


def _fresh(url: str) -> Database:
    db = _migrated.get(url)
    if db is None:
        db = Database(url=url)
        upgrade_to_head(db)
        _migrated[url] = db
    else:
        with db.engine.begin() as c:
            for table in reversed(Base.metadata.sorted_tables):
                c.execute(table.delete())
    reset_database(db)
    return db


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.getbasetemp() / 'mockline-test.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    database = _fresh(url)
    yield database
    reset_database(None)


@pytest.fixture
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = _fresh(f"sqlite:///{tmp_path_factory.getbasetemp() / 'mockline-test.db'}")
    yield database
    reset_database(None)


@pytest.fixture(autouse=True)
def recordings_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test records interviews into its own directory (the process's store, built from the env)."""
    d = tmp_path_factory.mktemp("recordings")
    monkeypatch.setenv("MOCKLINE_RECORDINGS_DIR", str(d))
    get_recording_settings.cache_clear()
    get_recording_store.cache_clear()
    yield d
    get_recording_settings.cache_clear()
    get_recording_store.cache_clear()


# Tests that talk or listen in real time (whole interviews, phone calls, livekit-server, calls from
# Chromium, the benchmark's calls): under pytest-xdist (`-n 2 --dist loadgroup`, the Makefile's) they are
# one group, so one worker runs them one after another while the other runs the rest; two never share
# the 2 cores. Browser tests that only render pages need no such care.
REAL_TIME_MARKS = ("e2e", "phone", "livekit")
REAL_TIME_MODULES = ("test_bench_smoke.py", "test_browser_join.py", "test_browser_livekit.py")


def is_real_time(item: pytest.Item) -> bool:
    return item.path.name in REAL_TIME_MODULES or any(item.get_closest_marker(m) for m in REAL_TIME_MARKS)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # Every async test checks for leaked tasks; first in the list so it is torn down last, after the
        # test's own servers and clients have closed.
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.insert(0, "_fail_on_leaked_tasks")  # type: ignore[attr-defined]
        if is_real_time(item):
            item.add_marker(pytest.mark.xdist_group("real-time"))


@pytest_asyncio.fixture
async def _fail_on_leaked_tasks() -> AsyncIterator[None]:
    """Async tests must not leave background tasks running (every task is owned and cancelled)."""
    before = set(asyncio.all_tasks())
    yield
    for _ in range(5):  # let tasks that were just cancelled run their last step
        await asyncio.sleep(0)
    current = asyncio.current_task()
    leaked = [t for t in asyncio.all_tasks() if t is not current and not t.done() and t not in before]
    if leaked:
        pytest.fail(f"leaked asyncio tasks: {leaked!r}")
