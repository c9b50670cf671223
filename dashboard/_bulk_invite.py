"""Reading a candidate list for a bulk invitation: CSV rows ``name,email[,phone]``, an optional header row.

Pure: bytes in, rows and per-row problems out. A row with a problem is reported and skipped; the others are
invited.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

__all__ = ["MAX_ROWS", "BulkInvited", "BulkReport", "BulkRow", "RowProblem", "parse_candidates"]

MAX_ROWS = 500
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")


@dataclass(frozen=True, slots=True)
class BulkRow:
    line: int  # 1-based line in the file
    name: str
    email: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    text: str  # the row as it was, shortened
    message: str


def _is_header(cells: list[str]) -> bool:
    low = [c.strip().lower() for c in cells]
    return bool(low) and ("email" in low or "e-mail" in low or low[0] in ("name", "candidate"))


def parse_candidates(data: bytes) -> tuple[list[BulkRow], list[RowProblem]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowProblem(0, "", "The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.")]
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    # Spreadsheets in many locales save CSV with semicolons; a tab-separated paste works too.
    delimiter = max(",;\t", key=first.count) if first else ","
    rows: list[BulkRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for line, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if line == 1 and _is_header(cells):
            continue
        shown = ",".join(cells)[:120]
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(
                RowProblem(line, shown, f"Only {MAX_ROWS} candidates per file; this row was not read.")
            )
            break
        if len(cells) < 2:
            problems.append(RowProblem(line, shown, "Expected name,email[,phone]."))
            continue
        name, email = cells[0], cells[1].lower()
        phone = cells[2] if len(cells) > 2 and cells[2] else None
        if len(cells) > 3 and any(cells[3:]):
            problems.append(RowProblem(line, shown, "Too many columns: expected name,email[,phone]."))
        elif not name:
            problems.append(RowProblem(line, shown, "The name is missing."))
        elif len(name) > 200:
            problems.append(RowProblem(line, shown, "The name is longer than 200 characters."))
        elif not EMAIL.match(email):
            problems.append(RowProblem(line, shown, "That does not look like an e-mail address."))
        elif phone is not None and not PHONE.match(phone):
            problems.append(
                RowProblem(line, shown, "The phone number should be digits, e.g. +44 20 7946 0000.")
            )
        elif email in seen:
            problems.append(RowProblem(line, shown, f"The same e-mail address is on line {seen[email]}."))
        else:
            seen[email] = line
            rows.append(BulkRow(line=line, name=name, email=email, phone=phone))
    if not rows and not problems:
        problems.append(RowProblem(0, "", "The file has no candidates."))
    return rows, problems


@dataclass(frozen=True, slots=True)
class BulkInvited:
    line: int
    name: str
    email: str
    link: str  # shown once, like a single invitation's
    pin: str
    mail_problem: str | None  # None: e-mailed (or e-mail is off: see ``BulkReport.emailed``)


@dataclass(frozen=True, slots=True)
class BulkReport:
    invited: list[BulkInvited]
    problems: list[RowProblem]
    emailed: bool  # e-mail was attempted for the invited rows
    mail_error: str | None = None  # the server could not be reached at all
