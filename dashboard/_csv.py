"""CSV export of the interview list (the same filters as the page, every matching row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from ._listing import InterviewRow

__all__ = ["CSV_COLUMNS", "csv_lines"]

CSV_COLUMNS = (
    "interview_id",
    "candidate",
    "role",
    "plan",
    "mode",
    "channel",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "duration_s",
    "overall_score",
    "overridden_score",
    "recommendation",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    # A spreadsheet would run a cell starting with "=" as a formula (CSV injection): quote it as text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(r: InterviewRow) -> list[str]:
    overridden = r.effective_score if r.effective_score != r.overall_score else None
    values: list[object] = [
        r.id,
        r.candidate_name,
        r.role,
        r.plan_title,
        r.mode,
        r.channel,
        r.status,
        r.created_at,
        r.started_at,
        r.ended_at,
        None if r.duration_s is None else round(r.duration_s, 1),
        r.overall_score,
        overridden,
        r.recommendation,
    ]
    return [_cell(v) for v in values]


def csv_lines(rows: Iterable[InterviewRow]) -> Iterator[str]:
    """The CSV text, one line at a time (header first)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in [list(CSV_COLUMNS), *(_row(r) for r in rows)]:
        writer.writerow(row)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
