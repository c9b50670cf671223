"""Seed data for the dashboard tests (no tests here): two organisations, a scored interview with a real WAV
recording, transcript, latency metrics and a score report, and a few more interviews for the list."""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from agent.plans import build_plan
from dashboard import create_user
from storage import (
    CompetencyScore,
    Database,
    Interview,
    InterviewPlan,
    QuestionScore,
    Recording,
    ScoreReport,
    TranscriptTurn,
    TurnMetric,
    get_recording_settings,
    utcnow,
)

PASSWORD_A = "acme-password-1"
PASSWORD_B = "globex-password-1"

# (speaker, start, end, text): the scored interview's transcript, seconds from its start.
TURNS = [
    ("agent", 0.0, 3.0, "Hello Ada, thanks for joining. Let's begin."),
    ("agent", 3.5, 7.0, "How would you make a payment API safe to retry?"),
    ("candidate", 8.0, 14.0, "I would use an idempotency key stored with the result, so a retry returns it."),
    ("agent", 14.5, 17.5, "Tell me about a time you disagreed with a teammate."),
    ("candidate", 18.5, 24.0, "We argued about caching; I wrote a short doc and we measured both options."),
    ("agent", 24.5, 27.0, "Thank you, that is all from me."),
]
WAV_SECONDS = 28.0


@dataclass
class Seeded:
    org_a: str
    org_b: str
    email_a: str
    email_b: str
    plan_a: str
    scored_a: str  # Ada, scored, with recording
    invited_a: str  # Cleo, invited, other role, ten days old
    scored_b: str  # another organisation's interview
    turn_ids: list[int]
    competencies: list[str]
    question_ids: list[str]


def write_wav(path: Path, seconds: float = WAV_SECONDS, rate: int = 16000) -> Path:
    """A real 16-bit mono WAV: a low tone while the interviewer speaks, a higher one for the candidate."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        freq = 0.0
        for speaker, start, end, _ in TURNS:
            if start <= t < end:
                freq = 220.0 if speaker == "agent" else 330.0
        frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * t)) if freq else 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def _scored_interview(s, *, org_id: str, plan: InterviewPlan, name: str, wav: Path) -> tuple[str, list[int]]:
    start = utcnow() - timedelta(hours=2)
    iv = Interview(
        org_id=org_id,
        plan_id=plan.id,
        candidate_name=name,
        channel="webrtc",
        status="scored",
        started_at=start,
        ended_at=start + timedelta(seconds=WAV_SECONDS),
        overall_score=3.4,
        scored_at=start + timedelta(minutes=1),
        created_at=start,
    )
    s.add(iv)
    s.flush()
    q_ids = [q["id"] for q in plan.spec["questions"]]
    turns = []
    for seq, (speaker, t0, t1, text) in enumerate(TURNS):
        turn = TranscriptTurn(
            interview_id=iv.id,
            seq=seq,
            speaker=speaker,
            text=text,
            started_at=t0,
            ended_at=t1,
            question_id=q_ids[0] if seq in (1, 2) else (q_ids[1] if seq in (3, 4) else None),
        )
        s.add(turn)
        turns.append(turn)
    s.flush()
    for seq, turn in enumerate(t for t in turns if t.speaker == "agent"):
        s.add(
            TurnMetric(
                interview_id=iv.id,
                seq=seq,
                turn_id=turn.id,
                eou_delay_ms=300.0 + 10 * seq,
                stt_ms=250.0,
                llm_ttft_ms=120.0,
                tts_ttfb_ms=180.0,
                v2v_ms=900.0 + 40 * seq,
            )
        )
    key = wav.relative_to(Path(get_recording_settings().dir)).as_posix()  # the store's key for it
    s.add(Recording(interview_id=iv.id, path=key, sample_rate=16000, duration_s=WAV_SECONDS))
    report = ScoreReport(
        interview_id=iv.id,
        version=1,
        scorer="offline",
        overall=3.4,
        recommendation="lean_hire",
        report={
            "mode": "recruiter",
            "summary": "Overall 3.4/5 across 2 answered questions.",
            "strengths": ["Explained idempotency keys clearly."],
            "weaknesses": ["Did not mention key expiry."],
            "improvements": ["Say how long idempotency keys are kept."],
        },
        speech_metrics={
            "words_per_minute": 131.0,
            "talk_ratio": 0.42,
            "filler_count": 2,
            "fillers": {"um": 2},
            "response_latency_median_s": 1.0,
            "long_pause_count": 0,
        },
    )
    s.add(report)
    s.flush()
    comps = list(plan.spec["weights"])
    for i, q in enumerate(plan.spec["questions"]):
        answer = turns[2] if i == 0 else turns[4]
        s.add(
            QuestionScore(
                report_id=report.id,
                question_id=q["id"],
                competency=q["competency"],
                score=3 + (i % 2),
                rationale="Covered the main point.",
                evidence=[{"turn_id": answer.id, "start": 0, "end": 30, "quote": answer.text[:30]}],
            )
        )
    for i, comp in enumerate(comps):
        answer = turns[2] if i == 0 else turns[4]
        s.add(
            CompetencyScore(
                report_id=report.id,
                competency=comp,
                score=3.0 + i,
                weight=plan.spec["weights"][comp],
                evidence=[{"turn_id": answer.id, "start": 20, "end": 50, "quote": answer.text[20:50]}],
            )
        )
    s.flush()
    return iv.id, [t.id for t in turns]


def _plan(s, *, org_id: str, role: str, **kw) -> InterviewPlan:
    spec = build_plan(role=role, question_count=2, interview_type="mixed", seed=3, **kw)
    plan = InterviewPlan(
        org_id=org_id,
        title=f"{spec.role} plan",
        role=spec.role,
        question_count=2,
        rounds=list(spec.rounds),
        spec=spec.to_json(),
    )
    s.add(plan)
    s.flush()
    return plan


def seed_dashboard(db: Database, data_dir: Path) -> Seeded:
    wav = write_wav(Path(get_recording_settings().dir) / "seed" / "ada.wav")
    with db.session() as s:
        a = create_user(s, email="recruiter@acme.test", password=PASSWORD_A, org_name="Acme", is_admin=True)
        b = create_user(s, email="recruiter@globex.test", password=PASSWORD_B, org_name="Globex")
        plan_a = _plan(s, org_id=a.org_id, role="backend_engineer")
        scored_a, turn_ids = _scored_interview(s, org_id=a.org_id, plan=plan_a, name="Ada Lovelace", wav=wav)
        other_plan = _plan(s, org_id=a.org_id, role="frontend_engineer")
        cleo = Interview(
            org_id=a.org_id,
            plan_id=other_plan.id,
            candidate_name="Cleo Invited",
            status="invited",
            created_at=utcnow() - timedelta(days=10),
        )
        s.add(cleo)
        plan_b = _plan(s, org_id=b.org_id, role="backend_engineer")
        scored_b, _ = _scored_interview(s, org_id=b.org_id, plan=plan_b, name="Bob Globex", wav=wav)
        s.flush()
        return Seeded(
            org_a=a.org_id,
            org_b=b.org_id,
            email_a=a.email,
            email_b=b.email,
            plan_a=plan_a.id,
            scored_a=scored_a,
            invited_a=cleo.id,
            scored_b=scored_b,
            turn_ids=turn_ids,
            competencies=list(plan_a.spec["weights"]),
            question_ids=[q["id"] for q in plan_a.spec["questions"]],
        )
