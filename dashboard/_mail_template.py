"""An organisation's own invitation e-mail: a subject and a plain-text body with ``{placeholders}``.

Pure: :func:`check` validates what a recruiter typed (unknown placeholders, unpaired braces, lengths) and
:func:`render` fills it in. Placeholders are plain names only (``{candidate_name}``, never ``{a.b}`` or
``{a:>10}``), so a template cannot reach anything but the values given. Whatever the template says, the
message still carries the link, the PIN and the deadline: :func:`render` appends the ones the rendered
body lacks (the candidate cannot start without them).
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_BODY",
    "DEFAULT_SUBJECT",
    "PLACEHOLDERS",
    "Rendered",
    "TemplateProblem",
    "check",
    "render",
]

PLACEHOLDERS: Final = {
    "candidate_name": "the candidate's name (“there” when the invitation has none)",
    "company": "your organisation's name",
    "role": "the role of the interview plan",
    "link": "the candidate's interview link",
    "pin": "the phone PIN",
    "deadline": "when the invitation expires (UTC)",
    "minutes": "how long the interview takes",
}
DEFAULT_SUBJECT: Final = "Your interview for {role} at {company}"
DEFAULT_BODY: Final = """Hello {candidate_name},

{company} invites you to an interview for {role}. It is a spoken interview with an AI interviewer and \
takes about {minutes} minutes.

Start the interview in your browser (you need a microphone):
{link}

Your phone PIN: {pin}

Please finish the interview before {deadline}. After that the link stops working.

{company}
"""
MAX_SUBJECT: Final = 300
MAX_BODY: Final = 10_000
_FORMATTER = string.Formatter()


class TemplateProblem(ValueError):
    """What is wrong with a template, in words for the person who wrote it. ``field``: subject | body."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _parts(field: str, text: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pieces; raises TemplateProblem."""
    try:
        pieces = list(_FORMATTER.parse(text))
    except ValueError as e:
        raise TemplateProblem(
            field, "A “{” or “}” has no partner. Write {{ or }} for a brace that should appear as is."
        ) from e
    out: list[tuple[str, str | None]] = []
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    for literal, name, spec, conversion in pieces:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = (
                "{"
                + (name or "")
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise TemplateProblem(field, f"Unknown placeholder {shown}. You can use {known}.")
        out.append((literal, name))
    return out


def check(subject: str, body: str) -> None:
    """Raise :class:`TemplateProblem` for the first thing wrong with ``subject`` or ``body``."""
    if not subject.strip():
        raise TemplateProblem("subject", "Write a subject line.")
    if len(subject) > MAX_SUBJECT:
        raise TemplateProblem("subject", f"Keep the subject under {MAX_SUBJECT} characters.")
    if "\n" in subject or "\r" in subject:
        raise TemplateProblem("subject", "The subject is one line.")
    if not body.strip():
        raise TemplateProblem("body", "Write the message.")
    if len(body) > MAX_BODY:
        raise TemplateProblem("body", f"Keep the message under {MAX_BODY:,} characters.")
    _parts("subject", subject)
    _parts("body", body)


def _fill(field: str, text: str, values: dict[str, str]) -> str:
    return "".join(literal + (values[name] if name else "") for literal, name in _parts(field, text))


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(subject: str, body: str, *, values: dict[str, str], dial_in: str | None = None) -> Rendered:
    """The message for one candidate. ``values`` has every placeholder. Raises TemplateProblem."""
    check(subject, body)
    text = _fill("body", body, values).strip()
    must = _missing_facts(text, values, dial_in=dial_in)
    if must:
        text = text + "\n\n" + "\n".join(must)
    return Rendered(
        subject=" ".join(_fill("subject", subject, values).split()),
        text=text + "\n",
        html=_html(text, link=values["link"]),
    )


def _missing_facts(text: str, values: dict[str, str], *, dial_in: str | None) -> list[str]:
    """The lines to add so the candidate has the link, the PIN and the deadline."""
    lines = []
    if values["link"] not in text:
        lines.append(f"Start the interview in your browser: {values['link']}")
    if values["pin"] and values["pin"] not in text:
        if dial_in:
            lines.append(f"Or call {dial_in} and enter this PIN on the keypad: {values['pin']}")
        else:
            lines.append(f"Your phone PIN: {values['pin']}")
    if values["deadline"] not in text:
        lines.append(f"Please finish the interview before {values['deadline']}.")
    return lines


def _html(text: str, *, link: str) -> str:
    """The HTML part: the same words, paragraph by paragraph, the link clickable."""
    anchor = f'<a href="{html.escape(link)}">{html.escape(link)}</a>'
    paragraphs = []
    for para in text.split("\n\n"):
        if not para.strip():
            continue
        inner = "<br>\n".join(html.escape(line) for line in para.strip().split("\n"))
        paragraphs.append("<p>" + inner.replace(html.escape(link), anchor) + "</p>")
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Interview invitation</title>'
        "</head>\n"
        '<body style="font-family: Arial, Helvetica, sans-serif; color: #1d2330; line-height: 1.5; '
        'max-width: 560px;">\n' + "\n".join(paragraphs) + "\n</body>\n</html>\n"
    )
