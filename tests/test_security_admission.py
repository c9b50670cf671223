"""Issue 16, item 1: nobody can keep real candidates out of browser interviews by asking for sessions and
never connecting.

Before the fix, an answered offer held one of the ``max_sessions`` rooms for 30 s whether or not its browser
ever connected: eight practice links from one address filled every room, and real candidates got 503 "All
interview rooms are busy" for as long as the attacker repeated it.

Everything is real on loopback: uvicorn, aiortc peers on both sides. The attacker posts offers from other
loopback addresses (127.0.0.2, …), the candidate from 127.0.0.1, so per-address limits tell them apart.
"""

from __future__ import annotations

import httpx
import pytest

from signaling import signaling_of

from .test_signaling_rtc import sessions_become
from .test_signaling_support import (
    Candidate,
    ScriptedRuntime,
    ServerThread,
    make_app,
    new_invitation,
    rtc_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Ghost:
    """An offer from ``address`` whose answer is never applied: a session that stays pending."""

    def __init__(self, server: ServerThread, address: str) -> None:
        self.server, self.address = server, address
        self.peer = Candidate(server.url, new_invitation(name="Mallory"))

    async def offer(self) -> httpx.Response:
        pc = self.peer.pc
        pc.addTrack(self.peer.mic)
        pc.createDataChannel("events")
        await pc.setLocalDescription(await pc.createOffer())
        body = {"token": self.peer.token, "sdp": pc.localDescription.sdp, "type": "offer"}
        transport = httpx.AsyncHTTPTransport(local_address=self.address)
        async with httpx.AsyncClient(base_url=self.server.url, transport=transport, timeout=30) as http:
            return await http.post("/rtc/offer", json=body)


async def test_pending_sessions_from_one_address_do_not_take_the_rooms(sqlite_db):
    runtime = ScriptedRuntime()
    settings = rtc_settings(max_sessions=1, max_pending_per_address=2, connect_timeout_seconds=60.0)
    with ServerThread(make_app(settings, runtime)) as server:
        ghosts = [Ghost(server, "127.0.0.2") for _ in range(3)]
        candidate = Candidate(server.url, new_invitation(name="Ada"))
        try:
            answers = [(await g.offer()) for g in ghosts]
            assert [r.status_code for r in answers] == [200, 200, 429]
            assert answers[2].json()["error"] == "rate_limited" and int(answers[2].headers["Retry-After"]) > 0

            # the only room is still free for a real candidate, who connects and is interviewed
            assert (await candidate.connect()).status_code == 200
            await candidate.wait_for(lambda: "connected" in candidate.states)
            await candidate.wait_for(lambda: len(runtime.handles) == 1)
            registry = signaling_of(server.app).running_registry()
            assert (registry.live_count, registry.pending_count) == (1, 2)
        finally:
            for peer in [candidate, *(g.peer for g in ghosts)]:
                await peer.close()


async def test_attackers_from_many_addresses_crowd_out_each_other_not_the_candidate(sqlite_db):
    runtime = ScriptedRuntime()
    settings = rtc_settings(
        max_sessions=1, max_pending_sessions=3, max_pending_per_address=1, connect_timeout_seconds=60.0
    )
    with ServerThread(make_app(settings, runtime)) as server:
        ghosts = [Ghost(server, f"127.0.0.{n}") for n in range(2, 6)]  # four addresses, three pending slots
        candidate = Candidate(server.url, new_invitation(name="Ada"))
        try:
            assert [(await g.offer()).status_code for g in ghosts] == [200] * 4
            registry = signaling_of(server.app).running_registry()
            assert registry.pending_count == 3  # the oldest made way for the newest

            assert (await candidate.connect()).status_code == 200
            await candidate.wait_for(lambda: "connected" in candidate.states)
            await candidate.wait_for(lambda: len(runtime.handles) == 1)
            assert registry.live_count == 1 and registry.pending_count <= 3
        finally:
            for peer in [candidate, *(g.peer for g in ghosts)]:
                await peer.close()


async def test_a_pending_session_ends_on_its_own(sqlite_db):
    runtime = ScriptedRuntime()
    with ServerThread(make_app(rtc_settings(connect_timeout_seconds=1.0), runtime)) as server:
        ghost = Ghost(server, "127.0.0.2")
        try:
            assert (await ghost.offer()).status_code == 200
            await sessions_become(server, 0)  # nobody connected: the pending session is gone
            assert runtime.handles == []  # and no interviewer ever ran for it
        finally:
            await ghost.peer.close()


async def test_livekit_room_joins_are_limited_per_link_too(sqlite_db):
    """In LiveKit room mode the join dispatches the interviewer: the same limits apply as to offers."""
    from tests.fakes.livekit_twirp import FakeLiveKitAPI

    from .test_browser_livekit import lk_app

    async with FakeLiveKitAPI() as fake:
        with ServerThread(lk_app(fake)) as server:
            token = new_invitation()
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                answers = [await http.post("/rtc/livekit", json={"token": token}) for _ in range(11)]
    assert [r.status_code for r in answers] == [200] * 10 + [429]  # offers_per_link_per_minute
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert len(fake.dispatches) == 1  # one interviewer for the link, however often it is joined
