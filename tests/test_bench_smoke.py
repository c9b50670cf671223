"""The benchmark runs end to end at a tiny size: its own server process with the fixed-latency fakes, a
phone caller (streamdouble) and a browser caller (aiortc) each answering once, a one-call capacity step,
and the report. Only that figures come out and make sense is checked, never how fast anything was."""

from __future__ import annotations

import pytest

from bench._capacity import run_capacity
from bench._latency import run_v2v
from bench._report import render
from bench._stats import dist

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]


async def test_one_answer_over_each_transport_yields_every_stage():
    # both calls at once, as --quick runs them: each call's server side is still its own interview's
    results = await run_v2v(stack="fakes", profile="fast", turns=1, together=True)
    assert [r.transport for r in results] == ["webrtc", "phone"]
    for r in results:
        assert r.timeouts == 0 and r.violations == 0  # the agent replied; Twilio protocol respected
        assert r.client_v2v.n == 1  # the caller heard the reply to its one answer
        assert {s: d.n for s, d in r.stages.items()} == {
            "eou_delay_ms": 1, "stt_ms": 1, "llm_ttft_ms": 1, "tts_ttfb_ms": 1, "v2v_ms": 1, "overhead_ms": 1,
        }  # fmt: skip
        # the fixed-latency fakes are on the critical path, so voice-to-voice cannot be shorter than them
        assert r.stages["v2v_ms"].median >= r.stages["stt_ms"].median + r.stages["tts_ttfb_ms"].median
        assert r.client_v2v.median > 0
    machine = {k: "x" for k in ("cores", "cpu", "ram", "python", "os", "date", "commit")}
    text = render({
        "command": "pytest", "machine": machine, "load_before": "0", "load_after": "0", "duration_s": 1.0,
        "v2v": results, "bargein": [], "capacity": {}, "scoring": [], "errors": {},
    })  # fmt: skip
    assert "#### fakes stack, fast turn-taking, phone" in text


async def test_a_one_call_capacity_step_completes_and_counts_memory():
    steps = await run_capacity(transport="phone", steps=(1,), ramp_s=0.0, call_s=25.0)
    assert len(steps) == 1
    step = steps[0]
    assert step.sessions == 1 and step.completed == 1 and not step.errors
    assert step.v2v.n >= 1 and step.client_v2v.n >= 1  # at least one answer was answered in 25 s
    assert step.rss_mb_peak > 50  # the server process, models and all, was sampled
    assert step.passed == (step.underruns == 0)  # the 1-call step is its own v2v reference
    assert dist([step.v2v.p95]).n == 1
