"""Two LiveKit nodes sharing Redis (LiveKit's own multi-node mode) are one cluster for us.

Scaling out is LiveKit's job: a room created through one node's API is joined through the other node's
signalling, and an agent worker registered with one node takes the interviews of rooms on both. The nodes
get regions and LiveKit's region-aware node selector, so each room lives on the node whose API created it
(tests/_livekit_server.py); their Redis is a private ``redis-server`` so no other run's nodes join. The
worker is the bench worker with the fixed-latency fakes: this is about the rooms, not the speech.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._livekit_caller import LiveKitCaller
from signaling._livekit import open_livekit_interview
from signaling.livekit_token import start_livekit_interview
from storage import Database, reset_database, upgrade_to_head

from ._livekit_server import LiveKitServer, binary_or_skip, running_livekit, running_redis
from .test_livekit_real import (
    converse,
    finished,
    lk_settings,
    new_link,
    start_worker,
    stored_turns,
    warbles,
)

pytestmark = [pytest.mark.livekit, pytest.mark.integration]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[list[LiveKitServer]]:
    binary = binary_or_skip()
    logs = artifacts_dir / "livekit-nodes"
    with (
        running_redis(tmp_path_factory.mktemp("redis"), logs) as redis,
        running_livekit(
            tmp_path_factory.mktemp("livekit"), logs, redis=redis, count=2, binary=binary
        ) as servers,
    ):
        yield servers


@pytest.fixture(scope="module")
def nodes_db(pg_url: str) -> Iterator[Database]:
    db = Database(url=pg_url)
    upgrade_to_head(db)
    reset_database(db)
    yield db
    reset_database(None)
    db.engine.dispose()


def logged(node: LiveKitServer, what: str, room: str) -> int:
    """How many lines of the node's log say ``what`` about ``room``."""
    lines = node.log_path.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if what in line and f'"room": "{room}"' in line)


@pytest.mark.timeout(300)
async def test_a_room_made_on_one_node_is_joined_through_the_other_and_one_worker_serves_both(
    nodes: list[LiveKitServer], nodes_db: Database, artifacts_dir: Path
) -> None:
    a, b = nodes
    queue = f"mockline-test-lk-nodes:{uuid.uuid4().hex[:10]}"
    worker = start_worker(a, nodes_db, queue, artifacts_dir / "livekit-nodes" / "agent.log", stack="fakes")
    try:  # the worker is registered with node A only
        callers: list[tuple[str, str, LiveKitCaller]] = []
        for name, (api, signalling) in (("Ada", (b, a)), ("Bo", (a, b))):
            token, _ = new_link(nodes_db, name=name)
            admission = await asyncio.to_thread(open_livekit_interview, nodes_db, token)
            # the web process talks to one node's API: the room and the dispatch are made there
            join = await start_livekit_interview(
                interview_id=admission.interview_id, settings=lk_settings(api)
            )
            caller = LiveKitCaller()
            await caller.join(signalling.url, join.token)  # the candidate comes in through the other node
            callers.append((admission.interview_id, join.room, caller))
        try:
            await asyncio.gather(*(converse(caller, warbles(6)) for _, _, caller in callers))
        finally:
            await asyncio.gather(*(caller.aclose() for _, _, caller in callers))
    finally:
        worker.stop()

    for interview_id, _, caller in callers:
        assert caller.end_reason == "completed", caller.summary()
        assert caller.agent_identity == f"interviewer-{interview_id}"
        assert finished(nodes_db, interview_id) == ("finished", "completed")
        assert [t.speaker for t in stored_turns(nodes_db, interview_id)][:1] == ["agent"]
    # each room's media ran on the node whose API made it (both participants' RTC sessions there, none on
    # the other node), though one of them signalled through the other node; the worker, registered with A,
    # was assigned both jobs, including the one for the room on B
    (_, on_b, _), (_, on_a, _) = callers
    assert (logged(b, "starting RTC session", on_b), logged(a, "starting RTC session", on_b)) == (2, 0)
    assert (logged(a, "starting RTC session", on_a), logged(b, "starting RTC session", on_a)) == (2, 0)
    assert logged(a, "assigned job to worker", on_b) == logged(a, "assigned job to worker", on_a) == 1
    assert worker.log().count("interview started") == 2
