"""Human labels for stored values: "backend_engineer" → "Backend engineer", "mid" → "Mid-level"."""

from __future__ import annotations

__all__ = ["human"]

_KNOWN = {
    "mid": "Mid-level",
    "junior": "Junior",
    "senior": "Senior",
    "lead": "Lead",
    "intern": "Intern",
    "hr": "HR",
    "mixed": "Mixed",
    "technical": "Technical",
    "behavioral": "Behavioural",
    "behavioural": "Behavioural",
    "strong_hire": "Strong hire",
    "lean_hire": "Lean hire",
    "lean_no_hire": "Lean no hire",
    "no_hire": "No hire",
    "needs_review": "Needs human review",
    "in_progress": "In progress",
    "advance": "Advance",
    "hold": "Hold",
    "reject": "Reject",
    "webrtc": "Browser",
    "livekit": "LiveKit",
    "simulate": "Simulated",
    "phone": "Phone",
}


def human(value: str | None) -> str:
    if not value:
        return ""
    known = _KNOWN.get(value)
    if known:
        return known
    words = value.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]
