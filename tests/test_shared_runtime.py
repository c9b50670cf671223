"""One agent runtime per web process, handed to both transports (agent.SharedRuntime).

Loading the models is the edge replaced here: ``AgentRuntime.load`` becomes a recorder that hands back a
small stand-in, so the tests see what the transports see (the same object, loaded once, told where finished
interviews go) without faster-whisper or piper.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from agent import AgentRuntime, SharedRuntime

pytestmark = pytest.mark.unit


class _Loaded:
    def __init__(self, on_finished: Any) -> None:
        self.on_finished = on_finished
        self.live_interview_ids = {"iv-1"}
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


class _Loader:
    """Stands in for ``AgentRuntime.load`` (run in a thread); ``fail`` makes the next load raise."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, settings: Any, *, on_finished: Any = None) -> _Loaded:
        self.calls += 1
        if self.fail:
            self.fail = False
            raise RuntimeError("models missing")
        return _Loaded(on_finished)


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> _Loader:
    load = _Loader()
    monkeypatch.setattr(AgentRuntime, "load", load)
    return load


async def test_both_transports_asking_at_once_get_one_runtime_loaded_once(loader):
    finished: list[str] = []
    shared = SharedRuntime(on_finished=finished.append)
    assert shared.loaded is None and shared.live_interview_ids == set()

    # Both ask before either has an answer: the first holds the lock through the load, the second waits.
    first, second = await asyncio.gather(shared.get(), shared.get())

    assert first is second is shared.loaded
    assert loader.calls == 1
    first.on_finished("iv-9")  # the runtime tells the app's scoring queue
    assert finished == ["iv-9"]
    assert shared.live_interview_ids == {"iv-1"}  # what the stale sweep leaves alone

    await shared.aclose()
    assert first.closed


async def test_a_failed_preload_is_logged_and_the_first_interview_loads_again(loader, caplog):
    loader.fail = True
    shared = SharedRuntime()
    with caplog.at_level(logging.ERROR, logger="mockline.agent"):
        await shared.preload()
    assert "could not preload the agent runtime" in caplog.text
    assert shared.loaded is None

    runtime = await shared.get()
    assert runtime is shared.loaded and loader.calls == 2


async def test_a_runtime_handed_in_is_used_as_it_is(loader):
    given = _Loaded(on_finished=None)
    shared = SharedRuntime(loaded=given)  # type: ignore[arg-type]
    assert await shared.get() is given
    assert loader.calls == 0
    await shared.aclose()
    assert given.closed
