"""The interview list: filters, sorting and the rows shown (and exported) for one organisation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, desc, func, nulls_last, select
from sqlalchemy.orm import Session

from scoring import effective_recommendation
from storage import Interview, InterviewPlan, InterviewStatus, Invitation, ScoreOverride, ScoreReport

__all__ = ["SORTS", "STATUSES", "InterviewRow", "ListFilter", "interview_rows", "org_roles", "parse_filter"]

STATUSES: tuple[str, ...] = tuple(s.value for s in InterviewStatus)
SORTS: dict[str, str] = {
    "date_desc": "Newest first",
    "date_asc": "Oldest first",
    "score_desc": "Highest score first",
    "score_asc": "Lowest score first",
}


@dataclass(frozen=True, slots=True)
class ListFilter:
    role: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "date_desc"
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def query_args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links: CSV export, pages)."""
        args = {
            "role": self.role,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort if self.sort != "date_desc" else "",
        }
        return {k: v for k, v in args.items() if v}


# Pages past this are refused rather than turned into an offset the database cannot hold.
MAX_PAGE = 100_000
# Dates a filter may name (the day after the last one must still be a date).
_FIRST_DAY, _LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def _parse_date(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw[:40])
    except ValueError:
        errors[name] = f"“{raw[:40]}” is not a date; use YYYY-MM-DD."
        return None
    if not _FIRST_DAY <= day <= _LAST_DAY:
        errors[name] = f"Choose a date between {_FIRST_DAY.isoformat()} and {_LAST_DAY.isoformat()}."
        return None
    return day


def parse_filter(params: Mapping[str, str]) -> ListFilter:
    """Read the list's query arguments. Bad values are dropped and explained in ``errors``."""
    errors: dict[str, str] = {}
    status = params.get("status", "").strip()
    if status and status not in STATUSES:
        errors["status"] = f"Unknown status “{status[:40]}”; choose one of: {', '.join(STATUSES)}."
        status = ""
    sort = params.get("sort", "").strip() or "date_desc"
    if sort not in SORTS:
        errors["sort"] = f"Unknown sort order “{sort[:40]}”."
        sort = "date_desc"
    date_from = _parse_date(params.get("from", "").strip(), "from", errors)
    date_to = _parse_date(params.get("to", "").strip(), "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date."
        date_to = None
    raw_page = params.get("page", "1").strip()
    page = 1  # a page that is not a positive number is the first one
    if raw_page.isascii() and raw_page.isdigit():
        if len(raw_page) > 7 or int(raw_page) > MAX_PAGE:
            errors["page"] = f"Choose a page from 1 to {MAX_PAGE:,}."
        else:
            page = max(1, int(raw_page))
    role = params.get("role", "").strip()[:100]
    return ListFilter(
        role=role, status=status, date_from=date_from, date_to=date_to, sort=sort, page=page, errors=errors
    )


@dataclass(frozen=True, slots=True)
class InterviewRow:
    id: str
    candidate_name: str
    role: str
    plan_title: str
    mode: str
    channel: str
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    overall_score: float | None  # what the scorer said
    effective_score: float | None  # after a recruiter's override, if any
    recommendation: str | None  # the recruiter's, when they set the overall score
    email: str = ""  # the invitation's e-mail address, if any
    stage: str | None = None  # advance | hold | reject
    plan_id: str = ""

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, (_aware(self.ended_at) - _aware(self.started_at)).total_seconds())


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _query(org_id: str, f: ListFilter) -> Select:
    overall_override = (
        select(ScoreOverride.new_score)
        .join(ScoreReport, ScoreReport.id == ScoreOverride.report_id)
        .where(ScoreReport.interview_id == Interview.id, ScoreOverride.target == "overall")
        .order_by(desc(ScoreOverride.id))
        .limit(1)
        .scalar_subquery()
    )
    recommendation = (
        select(ScoreReport.recommendation)
        .where(ScoreReport.interview_id == Interview.id)
        .order_by(desc(ScoreReport.version))
        .limit(1)
        .scalar_subquery()
    )
    effective = func.coalesce(overall_override, Interview.overall_score).label("effective")
    q = (
        select(
            Interview,
            InterviewPlan.role,
            InterviewPlan.title,
            effective,
            recommendation.label("rec"),
            overall_override.label("ov"),
            Invitation.candidate_email,
        )
        .join(InterviewPlan, InterviewPlan.id == Interview.plan_id)
        .outerjoin(Invitation, Invitation.id == Interview.invitation_id)
        .where(Interview.org_id == org_id)
    )
    if f.role:
        q = q.where(InterviewPlan.role == f.role)
    if f.status:
        q = q.where(Interview.status == f.status)
    if f.date_from:
        q = q.where(Interview.created_at >= datetime.combine(f.date_from, time.min, tzinfo=UTC))
    if f.date_to:
        q = q.where(
            Interview.created_at < datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        )
    if f.sort == "date_asc":
        q = q.order_by(Interview.created_at, Interview.id)
    elif f.sort == "score_desc":
        q = q.order_by(nulls_last(desc(effective)), desc(Interview.created_at))
    elif f.sort == "score_asc":
        q = q.order_by(nulls_last(effective), desc(Interview.created_at))
    else:
        q = q.order_by(desc(Interview.created_at), Interview.id)
    return q


def interview_rows(
    s: Session, *, org_id: str, f: ListFilter, limit: int | None = None, offset: int = 0
) -> list[InterviewRow]:
    q = _query(org_id, f)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    rows = []
    for iv, role, title, effective, rec, ov, email in s.execute(q):
        rows.append(
            InterviewRow(
                id=iv.id,
                candidate_name=iv.candidate_name,
                role=role,
                plan_title=title,
                mode=iv.mode,
                channel=iv.channel,
                status=iv.status,
                created_at=iv.created_at,
                started_at=iv.started_at,
                ended_at=iv.ended_at,
                overall_score=iv.overall_score,
                effective_score=effective,
                recommendation=effective_recommendation(rec, ov),
                email=email or "",
                stage=iv.stage,
                plan_id=iv.plan_id,
            )
        )
    return rows


def org_roles(s: Session, org_id: str) -> list[str]:
    return list(
        s.scalars(
            select(InterviewPlan.role)
            .where(InterviewPlan.org_id == org_id)
            .distinct()
            .order_by(InterviewPlan.role)
        )
    )
