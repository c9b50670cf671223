"""``python -m bench stt``'s speakers: the technical set is read by espeak-ng and by Kokoro voices."""

from __future__ import annotations

import shutil

import pytest

from bench._stt_set import VOICES
from bench._stt_terms import speaker_voices
from bench._stt_voices import KOKORO_VOICES, phonemes

pytestmark = pytest.mark.unit


def test_each_family_reads_with_its_own_voices() -> None:
    assert speaker_voices("espeak", voices=2) == list(VOICES[:2])
    assert speaker_voices("kokoro", kokoro_voices=1) == [f"kokoro:{KOKORO_VOICES[0][0]}"]
    assert all(v.startswith("kokoro:") for v in speaker_voices("kokoro"))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_kokoro_hears_the_answers_punctuation_so_it_pauses_where_a_person_would() -> None:
    ipa = phonemes("We moved to Kafka, then to Postgres.", "en-us")
    assert ipa.count(",") == 1 and ipa.endswith(".")
    assert "k" in ipa.split(",")[0] and "p" in ipa.split(",")[1]
