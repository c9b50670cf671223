"""The LiveKit benchmark runs end to end at its smallest size, so it cannot rot unnoticed between the runs
BENCHMARKS.md quotes: a real livekit-server, the bench worker with the fixed-latency fakes, one answer, one
barge-in on the greeting, and a one-interview capacity step. Only that each part yields a figure, that the
barge-in trial was valid, and that the section renders are checked, never how fast anything was."""

from __future__ import annotations

import pytest

from bench._livekit import LiveKitBargeIn, LiveKitStep, LiveKitV2V, markdown, run_livekit

from ._livekit_server import binary_or_skip

pytestmark = [pytest.mark.livekit, pytest.mark.integration, pytest.mark.timeout(400)]


async def test_the_livekit_bench_measures_a_reply_a_barge_in_and_a_capacity_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOCKLINE_LIVEKIT_SERVER", binary_or_skip())
    results = await run_livekit(stack="fakes", turns=1, trials=1, steps=(1,), call_s=15.0)
    v2v, barge, step = results
    assert isinstance(v2v, LiveKitV2V) and v2v.timeouts == 0
    assert v2v.client_v2v.n == 1 and v2v.server_v2v.n == 1  # heard by the caller, stored by the worker
    # the caller started while the greeting was audible, and the interviewer gave way before it finished
    assert isinstance(barge, LiveKitBargeIn)
    assert (barge.stop.n, barge.not_playing, barge.missed, barge.timeouts) == (1, 0, 0, 0)
    assert barge.stop.median is not None and barge.stop.median > 0
    assert isinstance(step, LiveKitStep) and step.completed == 1 and step.passed, step.reasons
    assert step.worker_rss_mb > 50  # the worker and its job process were sampled
    machine = {k: "x" for k in ("cores", "cpu", "ram", "python", "date", "commit")}
    text = markdown(results, command="pytest", machine=machine)
    assert "#### barge-in, fakes stack, product turn-taking, espeak speech, through livekit-server" in text
    assert "| 1 | 1 |" in text and "| pass |" in text
