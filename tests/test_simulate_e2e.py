"""``mockline simulate --json``: one whole offline interview through the real audio pipeline (silero VAD,
faster-whisper tiny.en, piper, the offline brain) with an espeak-ng candidate talking in real time.

One run (~1.5-2 min on 2 cores); everything is then checked in the database it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from storage import Database, Interview, OutboxEvent, Recording, TranscriptTurn, TurnMetric
from tests.recording_support import decode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    work = tmp_path_factory.mktemp("simulate")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'sim.db'}",
        "MOCKLINE_RECORDINGS_DIR": str(work / "recordings"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),  # this checkout, whatever is installed
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mockline.cli", "simulate", "--questions", "2", "--json", "--seed", "7"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), work


def test_simulated_interview_is_complete_and_stored(simulated: tuple[dict, Path]) -> None:
    result, work = simulated
    db = Database(url=f"sqlite:///{work / 'sim.db'}")
    try:
        with db.session() as s:
            iv = s.get(Interview, result["interview_id"])
            assert iv is not None and iv.status == "finished" and iv.end_reason == "completed"
            assert iv.channel == "simulate"
            turns = s.scalars(
                select(TranscriptTurn)
                .where(TranscriptTurn.interview_id == iv.id)
                .order_by(TranscriptTurn.seq)
            ).all()
            metrics = s.scalars(
                select(TurnMetric).where(TurnMetric.interview_id == iv.id).order_by(TurnMetric.seq)
            ).all()
            outbox = s.scalars(select(OutboxEvent).where(OutboxEvent.interview_id == iv.id)).all()
            recording = s.scalars(select(Recording).where(Recording.interview_id == iv.id)).one()
    finally:
        db.dispose()

    speakers = [t.speaker for t in turns]
    assert speakers[0] == "agent" and turns[-1].kind == "close"
    assert "candidate" in speakers
    assert [e.kind for e in outbox] == ["interview.finished"]
    assert all(t.text.strip() for t in turns)
    assert [t.started_at for t in turns] == sorted(t.started_at for t in turns)

    # the thinking pause (2.5 s mid-sentence) did not end the turn: the first answer holds both halves
    first_answer = turns[1]
    assert first_answer.speaker == "candidate"
    words = set(first_answer.text.lower().replace(".", " ").replace(",", " ").split())
    assert {"first", "thing"} <= words
    assert words & {"logs", "metrics", "latency", "result", "example"}

    # the barge-in: an agent turn cut off mid-sentence, stored as what was heard, then "can you repeat
    # that?" answered: a reply cut before its question asked nothing and comes again whole (counted
    # then, once); one cut after its question was heard is followed by a repeat of it
    cut = [i for i, t in enumerate(turns) if t.speaker == "agent" and t.interrupted]
    assert cut, "no interrupted agent turn"
    i = cut[0]
    assert turns[i + 1].speaker == "candidate" and "repeat" in turns[i + 1].text.lower()
    after = next(t for t in turns[i + 1 :] if t.speaker == "agent")
    heard = turns[i].text.rstrip(" .,")
    assert 0 < len(heard) < len(after.text) and not after.interrupted
    if turns[i].kind is None:
        assert turns[i].question_id is None and after.text.startswith(heard) and after.question_id
        assert [t.question_id for t in turns if t.kind in ("greet", "ask")].count(after.question_id) == 1
    else:
        assert after.kind == "repeat"

    # one latency row per agent reply; replies to the candidate have voice-to-voice and stage timings
    agent_turn_ids = {t.id for t in turns if t.speaker == "agent"}
    assert {m.turn_id for m in metrics} == agent_turn_ids
    answered = [m for m in metrics if m.eou_delay_ms is not None]
    assert len(answered) >= 2
    assert all(m.v2v_ms is not None and m.v2v_ms > 0 and m.tts_ttfb_ms is not None for m in answered)
    v2v = next(r for r in result["latency"] if r["stage"] == "v2v_ms")
    assert v2v["count"] == len(answered) and v2v["worst_ms"] >= v2v["median_ms"]

    # the session recorded both voices, each on its own side, as long as the interview ran
    assert (recording.status, recording.channels, recording.mime) == ("complete", 2, "audio/ogg")
    assert result["recording"] == recording.path
    audio = decode((work / "recordings" / recording.path).read_bytes())
    assert audio.duration_s == pytest.approx(recording.duration_s, abs=0.1)
    assert recording.offset_s + recording.duration_s >= turns[-1].ended_at - 1.0
    for side in (0, 1):
        loud = sum(1 for k in range(int(audio.duration_s)) if audio.rms(side, k, k + 1) > 0.01)
        assert loud >= 0.15 * audio.duration_s, (side, loud)
    assert result["checks"] == {
        "completed": True,
        "barge_in_interrupted": True,
        "thinking_pause_kept_in_one_turn": True,
    }


async def test_without_espeak_the_candidate_speaks_with_a_slower_piper_voice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fresh machine has no espeak-ng (a Debian package): `make run`'s simulation still needs a voice."""
    from agent.providers import PiperTTS
    from mockline.commands.simulate import _load_candidate_voice, _synthesise

    monkeypatch.setenv("MOCKLINE_TTS_ESPEAK_BINARY", "no-such-espeak-binary")
    voice = _load_candidate_voice()
    assert isinstance(voice, PiperTTS)
    samples = await _synthesise(voice, "I would start with the requirements.")
    assert samples.size > 16000 * 1.0  # more than a second of speech at 16 kHz
    assert np.abs(samples.astype(np.int32)).max() > 1000  # audible, not silence
