"""The wait floor: the first thinking pause of an answer meets the plain answer wait (the rhythm rule knows
no pauses yet), and nothing a candidate has said tells a thinker's pause after a finished sentence from a
fluent finish (Smart Turn scores the sentence, not what follows it: BENCHMARKS.md "Whole silences"). A
wait equal to a pause is a cut on a real transport: the VAD hears the candidate resume 0.1–0.3 s late. So
the floor keeps a first thinking pause of 3.5 s (the corpus's ``first-thinking``, 3.51 s of whole silence)
with a quarter second to spare, on both transports, while a short reply stays quick and a 5 s silence is
still answered (the hold)."""

from __future__ import annotations

import pytest

from agent._turns import answer_wait
from agent.settings import AgentSettings

pytestmark = pytest.mark.unit

SPARE_S = 0.25
TRANSPORTS = pytest.mark.parametrize("telephony", [False, True], ids=["web", "phone"])


@TRANSPORTS
def test_a_fluent_candidates_first_thinking_pause_of_three_and_a_half_seconds_is_kept(telephony: bool):
    from tests.audio import corpus

    answer = next(a for a in corpus.long_answers() if a.name == "first-thinking")
    (thinking,) = [p for p in answer.pauses if p.kind == "thinking"]
    assert max(p.length_s for p in answer.pauses if p.start_s < thinking.start_s) < 1.5  # fluent until then
    t = AgentSettings().tuning(telephony=telephony)
    assert answer_wait(t) >= thinking.length_s + SPARE_S
    assert t.min_endpointing_delay < 1.0  # a short reply still gets the quick response


@TRANSPORTS
def test_a_three_second_pause_after_a_two_second_one_is_kept_with_time_to_spare(telephony: bool):
    t = AgentSettings().tuning(telephony=telephony)
    assert answer_wait(t, resumed=[2.0]) >= 3.0 + SPARE_S


@TRANSPORTS
def test_a_five_second_silence_after_a_finished_sentence_is_answered(telephony: bool):
    t = AgentSettings().tuning(telephony=telephony)
    for resumed in ([], [1.2], [3.0], [4.5]):
        assert answer_wait(t, resumed=resumed) < 5.0
