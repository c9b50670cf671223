"""What is kept and for how long: the consent text says it, the retention sweep does it, and a recruiter can
erase a candidate's data (with an audit entry). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import (
    AuditEntry,
    Interview,
    Invitation,
    Recording,
    RecordingBackendError,
    RecordingNotFound,
    ScoreReport,
    TranscriptTurn,
    get_recording_settings,
    get_recording_store,
    purge_expired,
    utcnow,
)
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard
from tests.test_signaling_page import _invite

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(db, tmp_path):
    return seed_dashboard(db, tmp_path)


@pytest.fixture
def acme(seeded, tmp_path) -> TestClient:
    c = TestClient(create_app(AppSettings(data_dir=str(tmp_path))))
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token})
    assert r.status_code == 200
    return c


def _rows(db, interview_id: str) -> dict[str, int]:
    with db.session() as s:
        return {
            "recordings": len(
                s.scalars(select(Recording).where(Recording.interview_id == interview_id)).all()
            ),
            "turns": len(
                s.scalars(select(TranscriptTurn).where(TranscriptTurn.interview_id == interview_id)).all()
            ),
            "reports": len(
                s.scalars(select(ScoreReport).where(ScoreReport.interview_id == interview_id)).all()
            ),
        }


def test_a_recruiter_erases_a_candidate_and_it_is_audited(acme, seeded, db):
    a = seeded.scored_a
    page = acme.get(f"/dashboard/interviews/{a}").text
    assert "Erase candidate data" in page
    with db.session() as s:
        key = s.scalar(select(Recording.path).where(Recording.interview_id == a))
    assert get_recording_store().size(key) > 0

    r = acme.post(
        f"/dashboard/interviews/{a}/erase",
        data={"csrf_token": CSRF.search(page).group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _rows(db, a) == {"recordings": 0, "turns": 0, "reports": 0}
    assert acme.get(f"/dashboard/interviews/{a}/recording").status_code == 404
    page = acme.get(f"/dashboard/interviews/{a}").text
    assert "were erased on" in page and "Ada Lovelace" not in page
    with pytest.raises(RecordingNotFound):  # the audio is gone from the store too
        get_recording_store().size(key)
    with db.session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.interview_id == a)).one()
        assert (audit.action, audit.org_id) == ("erase_candidate", seeded.org_a) and audit.user_id
        assert audit.detail["turns"] > 0 and audit.detail["recordings"] == 1
        assert s.get(Interview, a).erased_at is not None


def test_when_the_store_fails_nothing_is_erased_and_the_recruiter_is_told(acme, seeded, db, monkeypatch):
    a = seeded.scored_a
    before = _rows(db, a)

    class Down:
        def delete(self, key: str) -> None:
            raise RecordingBackendError("object store error 500")

    monkeypatch.setattr("dashboard._routes_interviews.get_recording_store", Down)
    token = CSRF.search(acme.get(f"/dashboard/interviews/{a}").text).group(1)
    r = acme.post(f"/dashboard/interviews/{a}/erase", data={"csrf_token": token})
    assert r.status_code == 503 and "nothing was erased" in r.text
    assert _rows(db, a) == before
    with db.session() as s:
        assert s.get(Interview, a).erased_at is None and s.scalars(select(AuditEntry)).all() == []


def test_another_organisation_cannot_erase(acme, seeded, db):
    b = seeded.scored_b
    before = _rows(db, b)
    token = CSRF.search(acme.get("/dashboard").text).group(1)
    assert acme.post(f"/dashboard/interviews/{b}/erase", data={"csrf_token": token}).status_code == 404
    assert _rows(db, b) == before
    with db.session() as s:
        assert s.scalars(select(AuditEntry)).all() == []


def test_retention_deletes_old_audio_and_optionally_transcripts(seeded, db):
    a = seeded.scored_a
    store = get_recording_store()
    with db.session() as s:
        key = s.scalar(select(Recording.path).where(Recording.interview_id == a))
        s.get(Interview, a).ended_at = utcnow()
        # and a recording a killed worker never finished (still "recording")
        crashed = f"{a}/20260101T000000000000Z.ogg"
        store.spool_path(crashed).write_bytes(b"OggS")
        s.add(Recording(interview_id=a, path=crashed, mime="audio/ogg", channels=2, status="recording"))
    # nothing is old enough yet
    assert purge_expired(db, store, audio_days=30, transcript_days=60).recordings == []
    # a month and a day later: the audio goes, the transcript stays
    later = utcnow() + timedelta(days=31)
    result = purge_expired(db, store, audio_days=30, transcript_days=60, now=later)
    assert result.recordings and result.transcripts == []
    assert _rows(db, a)["recordings"] == 0 and _rows(db, a)["turns"] > 0
    for gone in (key, crashed):
        with pytest.raises(RecordingNotFound):
            store.size(gone)
    # two months later the transcript goes too; the report stays
    result = purge_expired(db, store, audio_days=30, transcript_days=60, now=utcnow() + timedelta(days=61))
    assert a in result.transcripts
    assert _rows(db, a) == {"recordings": 0, "turns": 0, "reports": 1}
    with db.session() as s:
        actions = sorted(e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.interview_id == a)))
    assert actions == ["retention_audio", "retention_audio", "retention_transcript"]


def test_consent_text_says_what_is_kept_and_for_how_long(db, monkeypatch):
    monkeypatch.setenv("MOCKLINE_RECORDINGS_RETENTION_DAYS", "30")
    monkeypatch.setenv("MOCKLINE_RECORDINGS_TRANSCRIPT_RETENTION_DAYS", "180")
    get_recording_settings.cache_clear()
    token, _ = _invite(db)
    with TestClient(create_app(AppSettings(environment="development"))) as c:
        html = c.get(f"/i/{token}").text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "your voice and the interviewer's, are recorded and transcribed" in text
    assert "the audio recording is deleted 30 days after the interview" in text
    assert "the transcript is deleted after 180 days" in text
    assert "The hiring team can erase all of it at any time" in text


def test_a_practice_candidate_listens_to_their_own_answers(db):
    token, invitation_id = _invite(db, mode="practice")
    other_token, _ = _invite(db, mode="practice")
    store = get_recording_store()
    with db.session() as s:
        inv = s.get(Invitation, invitation_id)
        iv = Interview(plan_id=inv.plan_id, invitation_id=inv.id, mode="practice", status="finished")
        s.add(iv)
        s.flush()
        key = f"{iv.id}/20260101T000000000000Z.ogg"
        store.spool_path(key).write_bytes(b"OggS" + bytes(range(256)) * 40)
        s.add(Recording(interview_id=iv.id, path=key, mime="audio/ogg", channels=2, offset_s=0.4))
        s.add(
            TranscriptTurn(
                interview_id=iv.id, seq=1, speaker="candidate", text="My answer", started_at=3.0, ended_at=9.0
            )
        )
    with TestClient(create_app(AppSettings(environment="development"))) as c:
        page = c.get(f"/practice/report/{token}").text
        assert f'src="/practice/report/{token}/recording"' in page and 'data-offset="0.400"' in page
        assert 'data-at="3.00"' in page  # the answer's time seeks the player
        full = c.get(f"/practice/report/{token}/recording")
        assert full.status_code == 200 and full.content[:4] == b"OggS"
        assert full.headers["accept-ranges"] == "bytes"
        part = c.get(f"/practice/report/{token}/recording", headers={"Range": "bytes=4-7"})
        assert part.status_code == 206 and part.content == bytes(range(4))
        assert part.headers["content-range"] == f"bytes 4-7/{len(full.content)}"
        past = c.get(f"/practice/report/{token}/recording", headers={"Range": "bytes=999999-"})
        assert past.status_code == 416
        # another practice link (or none) does not open this recording
        assert c.get(f"/practice/report/{other_token}/recording").status_code == 404
        assert c.get("/practice/report/" + "A" * 43 + "/recording").status_code == 404
