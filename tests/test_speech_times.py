"""When a candidate turn began: the start of the speech whose words opened it (agent/_speech_times.py)."""

from __future__ import annotations

import pytest

from agent._speech_times import TurnStarts

pytestmark = pytest.mark.unit


def test_a_noise_over_the_agent_does_not_start_the_next_turn() -> None:
    t = TurnStarts()
    t.speech_started(70.7)  # a knock, an echo, an "mm-hmm" withheld: voice activity, no words
    t.speech_ended(71.0)
    t.speech_started(89.1)
    t.speech_ended(95.0)
    t.words(arrived_at=95.9, speech_end=95.0)
    assert t.take() == 89.1
    assert t.take() is None  # the next turn starts with its own words


def test_a_transcript_arriving_after_the_next_run_began_belongs_to_its_own_run() -> None:
    t = TurnStarts()
    t.speech_started(10.0)
    t.speech_ended(12.0)
    t.speech_started(12.4)  # the candidate goes on before the first run's transcript is ready
    t.words(arrived_at=12.9, speech_end=12.0)
    t.speech_ended(15.0)
    t.words(arrived_at=15.9, speech_end=15.0)
    assert t.take() == 10.0


def test_the_recognisers_own_start_of_speech_wins_and_a_streaming_one_uses_the_run_in_progress() -> None:
    t = TurnStarts()
    t.speech_started(5.0)
    t.words(arrived_at=9.0, speech_start=7.5, speech_end=8.8)
    assert t.take() == 7.5
    t.speech_ended(9.0)
    t.speech_started(20.0)
    t.words(arrived_at=21.0)  # a final mid-speech, no times given
    assert t.take() == 20.0
