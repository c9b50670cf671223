"""``Audience``: who the interviewer speaks to and on whose behalf - the greeting's names.

The candidate's name comes from their invitation, the company from the recruiter's organisation. Both are
untrusted text spoken by TTS and placed in an LLM instruction, so only a plain first name and a short
single-line company name are used; anything else is left out and the greeting stays generic. Neither is
ever logged (``Audience`` has no ``repr`` of its fields).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Audience", "first_name"]

_NAME = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?$")
_MAX_NAME = 40
_MAX_COMPANY = 80


def first_name(full_name: str) -> str:
    """The name to greet with: the first word of ``full_name`` when it looks like a name
    ("Dana Whitfield" -> "Dana", "Anne-Marie" stays), else "" (an e-mail address, digits, a long blob)."""
    words = full_name.split()
    if not words:
        return ""
    word = words[0]
    if len(word) > _MAX_NAME or not _NAME.match(word) or "@" in full_name:
        return ""
    return word


def _company(name: str) -> str:
    flat = " ".join(name.split())
    return flat if 0 < len(flat) <= _MAX_COMPANY else ""


@dataclass(frozen=True)
class Audience:
    """``company``: the hiring organisation's display name ("" for practice); ``candidate``: the
    candidate's full name as invited ("" when unknown). Use :attr:`greet_name` / :attr:`company_name`."""

    company: str = field(default="", repr=False)
    candidate: str = field(default="", repr=False)

    @property
    def greet_name(self) -> str:
        return first_name(self.candidate)

    @property
    def company_name(self) -> str:
        return _company(self.company)
