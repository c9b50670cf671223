"""Per-session views of shared providers: one model, listeners of their own."""

from __future__ import annotations

import pytest

from agent._views import session_view
from tests.fakes.speech import EnergyVAD

pytestmark = pytest.mark.unit


async def test_events_of_one_session_do_not_reach_another() -> None:
    shared = EnergyVAD()
    a, b = session_view(shared), session_view(shared)
    got_a: list[object] = []
    got_b: list[object] = []
    a.on("error", got_a.append)
    b.on("error", got_b.append)
    a.emit("error", "boom")  # e.g. a provider error in session A
    assert got_a == ["boom"] and got_b == []
    assert a.threshold == shared.threshold and a is not shared  # same model settings, separate object


async def test_streams_report_to_the_view_that_created_them() -> None:
    shared = EnergyVAD()
    view = session_view(shared)
    stream = view.stream()
    try:
        assert stream._vad is view  # metrics_collected from this stream go to this session only
    finally:
        await stream.aclose()
