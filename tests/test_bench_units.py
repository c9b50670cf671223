"""The benchmark's arithmetic: summaries, what counts as voice-to-voice, barge-in and a false interruption,
the pipeline overhead, and the verdicts BENCHMARKS.md prints (no timing here, only synthetic timelines)."""

from __future__ import annotations

import pytest

from bench._latency import BargeInResult, V2VResult, stage_rows
from bench._report import render
from bench._script import Said, Timeline, backchannel_pauses, barge_ins, false_interruptions, voice_to_voice
from bench._stats import dist

pytestmark = pytest.mark.unit


def frames(start: float, end: float) -> list[float]:
    """Arrival times of 20 ms agent frames from ``start`` to ``end``."""
    n = round((end - start) / 0.02)
    return [round(start + i * 0.02, 4) for i in range(n)]


def test_summary_is_median_p95_and_worst():
    d = dist([float(v) for v in range(1, 101)] + [None])
    assert (d.n, d.median, d.worst) == (100, 50.5, 100.0)
    assert d.p95 == pytest.approx(95.05)
    assert dist([]).cells() == ["–", "–", "–", "0"]


def test_voice_to_voice_counts_from_the_end_of_each_answer_to_the_next_agent_audio():
    tl = Timeline(
        said=[Said("answer", 1.0, 3.0), Said("answer", 10.0, 12.0)],
        voiced=[*frames(0.0, 0.5), *frames(4.2, 8.0), *frames(13.5, 15.0)],
    )
    assert voice_to_voice(tl) == pytest.approx([1200.0, 1500.0])


def test_an_answer_the_agent_never_replied_to_gives_no_figure():
    tl = Timeline(said=[Said("answer", 1.0, 3.0), Said("answer", 5.0, 7.0)], voiced=frames(7.5, 8.0))
    assert voice_to_voice(tl) == pytest.approx([500.0])  # only the second answer was answered


def test_barge_in_is_measured_to_the_last_agent_frame_before_silence_and_to_clear():
    tl = Timeline(
        said=[Said("barge", 2.0, 3.5), Said("barge", 20.0, 21.0)],
        voiced=[*frames(0.0, 2.9), *frames(9.0, 12.0)],  # stops 0.9 s after the first barge-in
        clears=[2.95],
    )
    stops, clears, skipped = barge_ins(tl)
    assert stops == pytest.approx([900.0])
    assert clears == pytest.approx([950.0])
    assert skipped == 1  # the agent was quiet when the second one started


def test_a_backchannel_that_makes_a_gap_is_a_pause_and_one_that_cuts_the_turn_a_false_interruption():
    tl = Timeline(
        said=[
            Said("backchannel:cough", 1.0, 1.25),
            Said("backchannel:mm-hmm", 11.0, 11.4),
            Said("backchannel:mm-hmm", 21.0, 21.4),
        ],
        # the agent pauses at 11.8 and resumes (same turn), then at 21.8 is cut and replies again
        voiced=[*frames(0.0, 6.0), *frames(10.0, 11.8), *frames(12.6, 16.0), *frames(20.0, 21.8),
                *frames(23.0, 25.0)],
    )  # fmt: skip
    # server offsets are 100 s behind the caller's clock (aligned on the greeting)
    turns = [
        {"speaker": "agent", "interrupted": False, "started_at": -100.0, "ended_at": -94.0},
        {"speaker": "candidate", "interrupted": False, "started_at": -92.0, "ended_at": -91.0},
        {"speaker": "agent", "interrupted": False, "started_at": -90.0, "ended_at": -84.0},
        {"speaker": "agent", "interrupted": True, "started_at": -80.0, "ended_at": -78.1},
        {"speaker": "agent", "interrupted": False, "started_at": -77.0, "ended_at": -75.0},
    ]
    assert backchannel_pauses(tl) == {"cough": (0, 1), "mm-hmm": (2, 2)}
    assert false_interruptions(tl, turns) == {"cough": (0, 1), "mm-hmm": (1, 2)}


def test_pipeline_overhead_is_v2v_minus_the_critical_path():
    server = {
        "metrics": [
            {"eou_delay_ms": None, "stt_ms": None, "llm_ttft_ms": 300, "tts_ttfb_ms": 100, "v2v_ms": None},
            {"eou_delay_ms": 900, "stt_ms": 150, "llm_ttft_ms": 300, "tts_ttfb_ms": 100, "v2v_ms": 1030},
            {"eou_delay_ms": 200, "stt_ms": 150, "llm_ttft_ms": 300, "tts_ttfb_ms": 100, "v2v_ms": 580},
        ]
    }
    rows = stage_rows(server, preemptive_tts=False)  # the greeting (no v2v) is not a turn
    assert [r["overhead_ms"] for r in rows] == pytest.approx([30.0, 30.0])  # 900+100 and 150+300+100
    assert stage_rows(server, preemptive=False)[1]["overhead_ms"] == pytest.approx(-20.0)
    # preemptive TTS: the reply is synthesised during the endpointing wait (max(900, 550), max(200, 550))
    assert [r["overhead_ms"] for r in stage_rows(server)] == pytest.approx([130.0, 30.0])


def test_report_states_which_targets_are_met():
    fast = dist([600.0, 610.0, 620.0])
    slow = dist([1100.0, 1120.0])
    results = {
        "command": "python -m bench all --quick",
        "machine": {
            "cores": "2",
            "cpu": "Test CPU",
            "ram": "4 GiB",
            "python": "3.11",
            "os": "Linux",
            "date": "2025-01-01 00:00 UTC",
            "commit": "abc123",
        },
        "load_before": "0.1 / 0.1 / 0.1",
        "load_after": "0.2 / 0.2 / 0.2",
        "duration_s": 120.0,
        "v2v": [
            V2VResult("fakes", "fast", "phone", {"overhead_ms": dist([10.0, 50.0])}, client_v2v=fast),
            V2VResult("fakes", "product", "phone", {"overhead_ms": dist([5.0])}, client_v2v=slow),
        ],
        "bargein": [
            BargeInResult("hybrid", "phone", dist([900.0]), dist([1000.0]), 0, {"cough": (0, 4)}, 1),
        ],
        "capacity": {},
        "scoring": [],
        "errors": {"capacity webrtc": "RuntimeError: boom"},
    }
    text = render(results)
    lines = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "**met**" in lines["v2v ≤ 650 ms median, fakes, 0.2 s endpointing (caller's ear, worse transport)"]
    assert (
        "**not met**"
        in lines["v2v ≤ 650 ms median, fakes, product turn-taking (caller's ear, worse transport)"]
    )
    assert "**not met**" in lines["pipeline overhead ≤ 40 ms p95 (fakes)"]
    assert "**met**" in lines["false interruptions ≤ 5 %"] and "0/4" in lines["false interruptions ≤ 5 %"]
    assert "not measured" in lines["≥ 50 concurrent Twilio sessions"]
    assert "python -m bench all --quick" in text and "Test CPU" in text
    assert "capacity webrtc: RuntimeError: boom" in text


def test_scoring_quality_metrics_on_hand_made_rankings() -> None:
    from bench._quality import pairwise, spearman

    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Within a question only; a tie in score counts half; equal grades are not a pair.
    items = [("q1", 5, 4.0), ("q1", 1, 2.0), ("q1", 3, 2.0), ("q2", 1, 5.0), ("q1", 3, 3.0)]
    # q1 pairs: (5,1) right, (5,3) right, (1,3) tie -> 0.5, (5,3') right, (1,3') right = 4.5 of 5
    assert pairwise(items) == pytest.approx(0.9)


def test_the_graded_set_covers_the_bank_with_strong_and_stuffed_answers_per_question() -> None:
    from bench._quality import _bank, load_graded

    graded = load_graded()
    bank = _bank()
    assert len(graded) >= 80
    by_q: dict[str, set[str]] = {}
    for g in graded:
        assert g.question_id in bank and 1 <= g.grade <= 5 and g.text
        by_q.setdefault(g.question_id, set()).add(g.kind)
    assert all({"strong", "stuffed"} <= kinds for kinds in by_q.values())
    assert {g.split for g in graded} == {"dev", "heldout"}
    roles = {qid.split("-")[0] for qid in by_q}
    assert roles >= {"be", "cs", "ds", "fe", "pm", "sa", "gen"}
