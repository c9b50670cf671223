"""The LiveKit benchmark's judgement: which barge-in trials count and what they measure, when a capacity step
passes, which steps run, and what the section says (synthetic frame times only, no server, no timing)."""

from __future__ import annotations

import pytest

from bench._livekit import LiveKitBargeIn, LiveKitStep, judge_step, livekit_steps, markdown
from bench._livekit_bargein import BargeTrial, judge_barge_in
from bench._livekit_caller import Burst, LiveKitCaller
from bench._stats import dist

pytestmark = pytest.mark.unit

MACHINE = {k: "x" for k in ("cores", "cpu", "ram", "python", "date", "commit")}


def frames(start: float, end: float) -> list[float]:
    """Arrival times of loud 20 ms frames of the interviewer's track from ``start`` to ``end``."""
    return [round(start + i * 0.02, 4) for i in range(round((end - start) / 0.02))]


# -- barge-in ----------------------------------------------------------------------------------------------


def test_a_barge_in_is_measured_to_the_last_loud_frame_before_a_second_of_quiet():
    # the interviewer talks from 0 s; the caller starts at 2.0 s and talks until 5.0 s; the interviewer's
    # audio stops at 2.38 s, and it answers the interruption at 5.6 s
    loud = [*frames(0.0, 2.4), *frames(5.6, 7.0)]
    trial = judge_barge_in(loud, started=2.0, said_end=5.0)
    assert trial.outcome == "stopped"
    assert trial.stop_ms == pytest.approx(380.0)


def test_a_pause_inside_the_reply_is_not_the_stop():
    # piper pauses 0.4 s after a comma: the interviewer goes on after it, and stops later
    loud = [*frames(0.0, 2.1), *frames(2.5, 2.9), *frames(7.0, 8.0)]
    assert judge_barge_in(loud, started=2.0, said_end=5.0) == BargeTrial("stopped", pytest.approx(880.0))


def test_a_caller_who_starts_in_a_pause_of_the_interviewer_makes_an_invalid_trial():
    # what the previous bench did with piper: its reply's first phrase had ended 90 ms before the caller spoke
    loud = [*frames(0.0, 0.73), *frames(1.2, 2.5)]
    assert judge_barge_in(loud, started=0.8, said_end=3.8) == BargeTrial("not playing")
    assert judge_barge_in([], started=0.8, said_end=3.8) == BargeTrial("not playing")


def test_an_interviewer_still_talking_when_the_caller_has_finished_missed_the_barge_in():
    loud = frames(0.0, 9.0)  # it talked over the whole interruption
    assert judge_barge_in(loud, started=2.0, said_end=5.0) == BargeTrial("missed")


def test_the_section_counts_invalid_and_missed_trials_and_keeps_them_out_of_the_figures():
    trials = [BargeTrial("stopped", 300.0), BargeTrial("stopped", 500.0), BargeTrial("not playing"),
              BargeTrial("missed")]  # fmt: skip
    result = LiveKitBargeIn.of("offline", trials, timeouts=1)
    assert (result.stop.n, result.stop.median, result.not_playing, result.missed) == (2, 400.0, 1, 1)
    text = markdown([result], command="python -m bench livekit", machine=MACHINE)
    assert "| caller's first word → agent audio stops at the caller | 400 |" in text
    assert (
        "Invalid trials, not in the figures (the interviewer was not audible when the caller started): 1"
        in text
    )
    assert "sentence ended): 1. Time-outs: 1." in text


# -- capacity ----------------------------------------------------------------------------------------------


def step(n: int, completed: int, v2v: list[float], **failures: object) -> LiveKitStep:
    return LiveKitStep(sessions=n, completed=completed, client_v2v=dist(v2v), server_v2v=dist(v2v),
                       worker_rss_mb=500.0, stack="offline", **failures)  # type: ignore[arg-type]  # fmt: skip


def test_a_step_passes_while_every_call_is_answered_within_ten_percent_of_the_one_call_p95():
    first = judge_step(step(1, 1, [1000.0, 1000.0]), None)
    assert first.passed and first.reasons == []
    assert judge_step(step(2, 2, [1000.0, 1090.0]), 1000.0).passed
    slow = judge_step(step(3, 3, [1000.0, 1200.0]), 1000.0)
    assert not slow.passed and slow.reasons[0].startswith("p95 v2v 1190 ms > 1100 ms")


def test_a_step_with_a_call_timed_out_unanswered_or_failed_fails_and_says_which():
    assert judge_step(step(3, 2, [900.0], timeouts=1), 1000.0).reasons == ["1 calls timed out"]
    assert judge_step(step(3, 2, [900.0], unanswered=1), 1000.0).reasons == ["1 calls got no reply"]
    failed = judge_step(step(3, 2, [900.0], errors=["TimeoutError: dispatch"]), 1000.0)
    assert failed.reasons == ["1 calls failed (TimeoutError: dispatch)"]
    assert "no reply measured" in judge_step(step(1, 0, [], unanswered=1), None).reasons


def test_the_capacity_table_names_the_stack_and_each_verdict():
    steps = [judge_step(step(1, 1, [1000.0]), None), judge_step(step(2, 2, [1500.0]), 1000.0)]
    text = markdown(steps, command="c", machine=MACHINE)
    assert "#### capacity of one agent worker, offline stack (process per interview)" in text
    assert "| 1 | 1 | 1000 | 1000 | 1000 | 1000 | 500 | pass |" in text
    assert "| FAIL: p95 v2v 1500 ms > 1100 ms |" in text


def test_capacity_runs_by_default_only_with_the_fakes_and_otherwise_when_asked():
    assert livekit_steps(None, stack="fakes") == (1, 2, 4)
    assert livekit_steps(None, stack="offline") == ()
    assert livekit_steps("1,2,3", stack="offline") == (1, 2, 3)
    assert livekit_steps("none", stack="fakes") == ()
    with pytest.raises(ValueError, match="at least 1"):
        livekit_steps("0,1", stack="fakes")


# -- the end of a reply ------------------------------------------------------------------------------------


async def test_a_reply_is_over_when_its_audio_is_quiet_and_the_agent_listens_again():
    from bench._livekit import _reply_over

    caller = LiveKitCaller()  # (an rtc.Room needs a running loop: hence async)
    caller.states = [(0.5, "speaking")]
    caller.bursts = [Burst(start=1.0, end=1.7)]  # a comma inside the reply: quiet, but still speaking
    assert not _reply_over(caller)
    caller.bursts.append(Burst(start=2.1))
    caller.states.append((3.0, "listening"))
    assert not _reply_over(caller)  # the last words are still arriving
    caller.bursts[-1].end = 3.1
    assert _reply_over(caller)


def test_real_speech_barge_ins_go_through_every_real_clip_and_each_trial_is_listed() -> None:
    from bench._livekit import barge_speech

    clips = barge_speech("real", stack="hybrid")
    assert len(clips) >= 5 and all(c.name.startswith("real:") for c in clips)
    assert all(0.0 <= c.word_s < c.duration_s for c in clips)  # measured from each one's first word
    assert [c.name for c in barge_speech("espeak", stack="fakes")] == ["interruption-warble"]
    trials = [BargeTrial("stopped", 210.0), BargeTrial("missed")]
    result = LiveKitBargeIn.of("hybrid", trials)
    result.speech, result.trials = "real", [("real:jfk", "stopped", 210.0), ("real:yes", "missed", None)]
    text = markdown([result], command="python -m bench livekit", machine=MACHINE)
    assert "#### barge-in, hybrid stack, product turn-taking, real speech, through livekit-server" in text
    assert "Per trial (clip: ms): jfk: 210, yes: missed." in text
