"""Candidates of one plan side by side: per-competency and per-question scores (after overrides), overall,
recommendation, status and the recruiter's stage; and stages set for several interviews at once.

The comparison reads each interview's newest score report; an override of a target replaces that cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import desc, select, update
from sqlalchemy.orm import Session

from storage import (
    CompetencyScore,
    Interview,
    Invitation,
    PlanSnapshot,
    QuestionScore,
    ScoreOverride,
    ScoreReport,
)

__all__ = [
    "STAGES",
    "CompareColumn",
    "CompareRow",
    "Comparison",
    "Scores",
    "compare_plan",
    "current_scores",
    "plan_columns",
    "set_stage",
]

STAGES: Final = ("advance", "hold", "reject")


@dataclass(frozen=True, slots=True)
class CompareColumn:
    key: str  # competency name or question id (never shown)
    label: str  # what the header says
    title: str = ""  # the full question text, for a tooltip and the CSV


@dataclass(slots=True)
class CompareRow:
    interview_id: str
    candidate: str
    email: str
    status: str
    stage: str | None
    created_at: datetime
    overall: float | None = None  # after an overall override
    recommendation: str | None = None
    competencies: dict[str, float] = field(default_factory=dict)
    questions: dict[str, float] = field(default_factory=dict)
    overridden: set[str] = field(default_factory=set)  # targets a recruiter changed


@dataclass(frozen=True, slots=True)
class Comparison:
    competencies: list[CompareColumn]
    questions: list[CompareColumn]
    rows: list[CompareRow]


def _label(key: str) -> str:
    from ._labels import human

    return human(key)


def plan_columns(spec: dict[str, Any]) -> tuple[list[CompareColumn], list[CompareColumn]]:
    plan = PlanSnapshot.from_json(spec)
    return (
        [CompareColumn(key=c, label=_label(c)) for c in plan.competencies],
        [CompareColumn(key=q.id, label=f"Q{i}", title=q.text) for i, q in enumerate(plan.questions, start=1)],
    )


@dataclass(slots=True)
class Scores:
    """An interview's current scores: the newest report with recruiters' overrides applied."""

    overall: float | None = None
    recommendation: str | None = None
    competencies: dict[str, float] = field(default_factory=dict)
    questions: dict[str, float] = field(default_factory=dict)
    overridden: set[str] = field(default_factory=set)  # targets a recruiter changed


def _newest_reports(s: Session, interview_ids: list[str]) -> dict[str, ScoreReport]:
    newest: dict[str, ScoreReport] = {}
    for chunk in range(0, len(interview_ids), 500):
        for report in s.scalars(
            select(ScoreReport)
            .where(ScoreReport.interview_id.in_(interview_ids[chunk : chunk + 500]))
            .order_by(ScoreReport.version)
        ):
            newest[report.interview_id] = report  # ascending versions: the last one wins
    return newest


def current_scores(s: Session, interview_ids: list[str]) -> dict[str, Scores]:
    """Scores of the interviews that have a report (others are absent), with overrides applied."""
    reports = _newest_reports(s, interview_ids)
    by_report = {r.id: Scores(overall=r.overall, recommendation=r.recommendation) for r in reports.values()}
    ids = list(by_report)
    if not ids:
        return {}
    for c in s.scalars(select(CompetencyScore).where(CompetencyScore.report_id.in_(ids))):
        by_report[c.report_id].competencies[c.competency] = c.score
    for q in s.scalars(select(QuestionScore).where(QuestionScore.report_id.in_(ids))):
        by_report[q.report_id].questions[q.question_id] = float(q.score)
    for o in s.scalars(
        select(ScoreOverride).where(ScoreOverride.report_id.in_(ids)).order_by(desc(ScoreOverride.id))
    ):
        sc = by_report[o.report_id]
        if o.target in sc.overridden:
            continue  # the newest override of a target counts
        sc.overridden.add(o.target)
        kind, _, key = o.target.partition(":")
        if kind == "overall":
            sc.overall = o.new_score
        elif kind == "competency":
            sc.competencies[key] = o.new_score
        elif kind == "question":
            sc.questions[key] = o.new_score
    return {iid: by_report[r.id] for iid, r in reports.items()}


def compare_plan(
    s: Session, *, org_id: str, plan_id: str, spec: dict[str, Any], stage: str | None = None
) -> Comparison:
    """The plan's recruiter interviews, best overall first (unscored last, newest first among equals).
    ``stage``: only that stage ("none": undecided)."""
    q = (
        select(Interview, Invitation.candidate_email)
        .outerjoin(Invitation, Invitation.id == Interview.invitation_id)
        .where(Interview.org_id == org_id, Interview.plan_id == plan_id, Interview.mode == "recruiter")
    )
    if stage == "none":
        q = q.where(Interview.stage.is_(None))
    elif stage:
        q = q.where(Interview.stage == stage)
    found = list(s.execute(q))
    scores = current_scores(s, [iv.id for iv, _ in found])
    rows = []
    for iv, email in found:
        row = CompareRow(
            interview_id=iv.id,
            candidate=iv.candidate_name,
            email=email or "",
            status=iv.status,
            stage=iv.stage,
            created_at=iv.created_at,
        )
        sc = scores.get(iv.id)
        if sc is not None:
            row.overall, row.recommendation = sc.overall, sc.recommendation
            row.competencies, row.questions, row.overridden = sc.competencies, sc.questions, sc.overridden
        rows.append(row)
    rows.sort(key=lambda r: r.created_at, reverse=True)
    rows.sort(key=lambda r: (r.overall is None, -(r.overall or 0.0)))
    comps, questions = plan_columns(spec)
    # A candidate's own question (from their résumé) gets a column of its own, after the plan's.
    own = "A question about their own résumé"
    planned = {q.key for q in questions}
    for key in sorted({k for r in rows for k in r.questions} - planned):
        questions.append(CompareColumn(key=key, label="Résumé", title=own))
    planned = {c.key for c in comps}
    for key in sorted({k for r in rows for k in r.competencies} - planned):
        comps.append(CompareColumn(key=key, label=_label(key)))
    return Comparison(competencies=comps, questions=questions, rows=rows)


def set_stage(s: Session, *, org_id: str, interview_ids: Iterable[str], stage: str | None) -> int:
    """Put the organisation's interviews among ``interview_ids`` in ``stage`` (None clears it); returns how
    many changed. Ids of other organisations are ignored, never reported."""
    if stage is not None and stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    ids = [i for i in dict.fromkeys(interview_ids) if 0 < len(i) <= 64][:500]
    if not ids:
        return 0
    result = s.execute(
        update(Interview)
        .where(Interview.org_id == org_id, Interview.id.in_(ids))
        .values(stage=stage)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
