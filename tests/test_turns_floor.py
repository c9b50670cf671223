"""The wait floor: the first thinking pause of an answer meets the plain answer wait (the rhythm rule
knows no pauses yet), and the corpus's thinking pauses are round (2–2.5 s, then 3 s). A wait equal to a
pause is a cut on a real transport: the VAD hears the candidate resume 0.1–0.3 s late, and a 2.5 s pause
met a 2.5 s wait over WebRTC. So the floor keeps each such pause with a quarter second to spare, on both
transports, while a short reply stays quick."""

from __future__ import annotations

import pytest

from agent._turns import answer_wait
from agent.settings import AgentSettings

pytestmark = pytest.mark.unit

SPARE_S = 0.25


@pytest.mark.parametrize("telephony", [False, True], ids=["web", "phone"])
def test_a_first_thinking_pause_of_two_and_a_half_seconds_is_kept_with_time_to_spare(telephony: bool):
    t = AgentSettings().tuning(telephony=telephony)
    assert answer_wait(t) >= 2.5 + SPARE_S
    assert t.min_endpointing_delay < 1.0  # a short reply still gets the quick response


@pytest.mark.parametrize("telephony", [False, True], ids=["web", "phone"])
def test_a_three_second_pause_after_a_two_second_one_is_kept_with_time_to_spare(telephony: bool):
    t = AgentSettings().tuning(telephony=telephony)
    assert answer_wait(t, resumed=[2.0]) >= 3.0 + SPARE_S
