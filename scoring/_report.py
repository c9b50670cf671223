"""The report of one interview as JSON: what the dashboard, the API and the PDF render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage import Database, Interview, ScoreOverride, ScoreReport, get_database

from ._decision import effective_recommendation
from ._errors import InterviewNotFound, ReportNotFound

__all__ = ["report_json"]


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def report_json(
    interview_id: str, *, db: Database | None = None, version: int | None = None
) -> dict[str, Any]:
    """The newest report (or ``version``) of an interview, with recruiter overrides applied as
    ``effective_score`` next to each original score, and ``effective_recommendation`` following a recruiter's
    overall score (the final word: the page, the PDF and the CSV show the same). Raises ``InterviewNotFound``
    / ``ReportNotFound``."""
    db = db or get_database()
    with db.session() as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise InterviewNotFound(interview_id)
        versions = list(
            s.scalars(
                select(ScoreReport.version)
                .where(ScoreReport.interview_id == interview_id)
                .order_by(ScoreReport.version)
            )
        )
        if not versions or (version is not None and version not in versions):
            raise ReportNotFound(interview_id)
        rep = s.scalars(
            select(ScoreReport).where(
                ScoreReport.interview_id == interview_id, ScoreReport.version == (version or versions[-1])
            )
        ).one()
        overrides = list(
            s.scalars(
                select(ScoreOverride).where(ScoreOverride.report_id == rep.id).order_by(ScoreOverride.id)
            )
        )
        latest = {o.target: o.new_score for o in overrides}
        plan = iv.plan
        asked = iv.snapshot  # the candidate's own questions, else the plan's
        body = rep.report or {}
        answers = body.get("answers", {})
        return {
            "interview": {
                "id": iv.id,
                "candidate_name": iv.candidate_name,
                "mode": iv.mode,
                "channel": iv.channel,
                "status": iv.status,
                "role": plan.snapshot.role or plan.role if plan else None,
                "plan_title": plan.title if plan else None,
                "started_at": _iso(iv.started_at),
                "ended_at": _iso(iv.ended_at),
                "scored_at": _iso(iv.scored_at),
            },
            "version": rep.version,
            "versions": versions,
            "scorer": rep.scorer,
            "created_at": _iso(rep.created_at),
            "overall": rep.overall,
            "effective_overall": latest.get("overall", rep.overall),
            "recommendation": rep.recommendation,
            "effective_recommendation": effective_recommendation(rep.recommendation, latest.get("overall")),
            "confidence": body.get("confidence"),
            "review_reasons": body.get("review_reasons", []),
            "review_first": body.get("review_first", []),
            "summary": body.get("summary"),
            "coaching_summary": body.get("coaching_summary"),
            "strengths": body.get("strengths", []),
            "weaknesses": body.get("weaknesses", []),
            "improvements": body.get("improvements", []),
            "not_assessed": body.get("not_assessed", []),
            "notes": body.get("notes", []),
            "competencies": [
                {
                    "competency": c.competency,
                    "score": c.score,
                    "effective_score": latest.get(f"competency:{c.competency}", c.score),
                    "weight": c.weight,
                    "evidence": c.evidence,
                }
                for c in sorted(rep.competencies, key=lambda c: -c.weight)
            ],
            "questions": [
                {
                    "question_id": q.question_id,
                    "competency": q.competency,
                    "text": asked.question_text(q.question_id),
                    "score": q.score,
                    "effective_score": latest.get(f"question:{q.question_id}", q.score),
                    "rationale": q.rationale,
                    "evidence": q.evidence,
                    "improved_answer": q.improved_answer,
                    "status": answers.get(q.question_id, {}).get("status", "answered"),
                    "confidence": answers.get(q.question_id, {}).get("confidence"),
                    "agreement": answers.get(q.question_id, {}).get("agreement"),
                    "flagged": answers.get(q.question_id, {}).get("flagged"),
                    "key_points": answers.get(q.question_id, {}).get("key_points", []),
                }
                for q in sorted(rep.questions, key=lambda q: q.id)
            ],
            "speech_metrics": rep.speech_metrics or {},
            "overrides": [
                {
                    "target": o.target,
                    "original_score": o.original_score,
                    "new_score": o.new_score,
                    "reason": o.reason,
                    "user_id": o.user_id,
                    "created_at": _iso(o.created_at),
                }
                for o in overrides
            ],
        }
