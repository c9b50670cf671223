"""CSV exports: the interview list (the same filters as the page, every matching row) and one plan's
candidates side by side. Headers are words, values are labels, times are UTC to the second with a "Z",
every row links back to the interview page, and cells a spreadsheet would run as formulas are quoted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from ._compare import Comparison, Scores
from ._labels import human
from ._listing import InterviewRow

__all__ = ["CSV_COLUMNS", "comparison_csv_lines", "csv_lines"]

CSV_COLUMNS = (
    "Candidate",
    "E-mail",
    "Role",
    "Plan",
    "Mode",
    "Channel",
    "Status",
    "Stage",
    "Created (UTC)",
    "Started (UTC)",
    "Ended (UTC)",
    "Length (s)",
    "Overall score",
    "Overridden score",
    "Recommendation",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    # A spreadsheet would run a cell starting with "=" as a formula (CSV injection): quote it as text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()


def _link(base_url: str, interview_id: str) -> str:
    return f"{base_url.rstrip('/')}/dashboard/interviews/{interview_id}"


def _question_cell(order: Sequence[str], scores: Scores | None) -> str:
    if scores is None:
        return ""
    parts = [f"Q{i} {scores.questions[q]:g}" for i, q in enumerate(order, start=1) if q in scores.questions]
    return "; ".join(parts)


def csv_lines(
    rows: Iterable[InterviewRow],
    *,
    scores: Mapping[str, Scores] | None = None,
    question_order: Mapping[str, Sequence[str]] | None = None,
    base_url: str = "",
) -> Iterator[str]:
    """The interview list, one line at a time (header first). With ``scores``: a column per competency
    that occurs (labelled) and "Question scores" ("Q1 4; Q2 3", in each plan's question order)."""
    rows = list(rows)
    scores = scores or {}
    question_order = question_order or {}
    comps = sorted({c for sc in scores.values() for c in sc.competencies}, key=human)
    header: list[object] = [*CSV_COLUMNS, *(human(c) for c in comps)]
    if scores:
        header.append("Question scores")
    header.append("Link")

    def body() -> Iterator[list[object]]:
        for r in rows:
            overridden = r.effective_score if r.effective_score != r.overall_score else None
            sc = scores.get(r.id)
            yield [
                r.candidate_name,
                r.email,
                human(r.role),
                r.plan_title,
                human(r.mode),
                human(r.channel),
                human(r.status),
                human(r.stage) if r.stage else None,
                r.created_at,
                r.started_at,
                r.ended_at,
                None if r.duration_s is None else round(r.duration_s, 1),
                r.overall_score,
                overridden,
                human(r.recommendation) if r.recommendation else None,
                *((sc.competencies.get(c) if sc else None) for c in comps),
                *([_question_cell(question_order.get(r.id, ()), sc)] if scores else []),
                _link(base_url, r.id),
            ]

    return _lines([header, *body()])


def comparison_csv_lines(cmp: Comparison, *, base_url: str = "") -> Iterator[str]:
    """One plan's candidates: a column per competency and per question (headed "Q1: <question text>")."""
    header: list[object] = ["Candidate", "E-mail", "Status", "Stage", "Overall score", "Recommendation"]
    header += [c.label for c in cmp.competencies]
    header += [f"{q.label}: {q.title}" if q.title else q.label for q in cmp.questions]
    header += ["Interview created (UTC)", "Link"]
    body = (
        [
            r.candidate,
            r.email,
            human(r.status),
            human(r.stage) if r.stage else None,
            r.overall,
            human(r.recommendation) if r.recommendation else None,
            *(r.competencies.get(c.key) for c in cmp.competencies),
            *(r.questions.get(q.key) for q in cmp.questions),
            r.created_at,
            _link(base_url, r.interview_id),
        ]
        for r in cmp.rows
    )
    return _lines([header, *body])
