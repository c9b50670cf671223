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
# Chromium, the benchmark's calls). Under pytest-xdist with `--dist loadgroup` (the Makefile's `-n 2`) these
# modules are one unit of work: one worker runs them one test at a time while the other runs the rest, so
# no two of them share the cores. By module, because xdist's controller sees only test ids (and xdist's own
# `xdist_group` mark does not reach the ids under pytest 9.2); a test with a real-time mark in a module not
# listed here stops the collection, so the list cannot go stale. Browser tests that only render pages are
# not real time.
REAL_TIME_MARKS = ("e2e", "phone", "livekit")
REAL_TIME_MODULES = frozenset({
    "test_bench_livekit_run.py", "test_bench_smoke.py", "test_browser_join.py", "test_browser_join_e2e.py",
    "test_browser_livekit.py", "test_candidate_progress_browser.py", "test_heard_browser_e2e.py",
    "test_heard_phone_e2e.py", "test_livekit_nodes.py", "test_livekit_real.py", "test_recording_crash.py",
    "test_simulate_e2e.py", "test_telephony_bridge.py", "test_telephony_e2e.py", "test_turns_real_speech.py",
})  # fmt: skip
REAL_TIME_GROUP = "real-time"


def real_time_group(nodeid: str) -> str | None:
    """The work unit of a test id, for the scheduler: the real-time group, or None (its own)."""
    return REAL_TIME_GROUP if nodeid.split("::", 1)[0].rsplit("/", 1)[-1] in REAL_TIME_MODULES else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class RealTimeOneAtATime(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return real_time_group(nodeid) or super()._split_scope(nodeid)

    return RealTimeOneAtATime(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every async test checks for leaked tasks; first in the list so it is torn down last, after the
    # test's own servers and clients have closed.
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.insert(0, "_fail_on_leaked_tasks")  # type: ignore[attr-defined]
        marks = [m for m in REAL_TIME_MARKS if item.get_closest_marker(m)]
        if marks and real_time_group(item.nodeid) is None:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {marks}: add its module to REAL_TIME_MODULES in tests/conftest.py"
            )


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
