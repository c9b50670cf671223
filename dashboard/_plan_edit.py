"""Editing a plan's questions from the dashboard: the form as typed, and the plan snapshot it makes. Pure.

Each question slot carries its text, round, competency (as words: "System design"), the five rubric anchors,
the key points (one per line) and a relative weight; a competency's weight is the sum of its questions'
weights, normalised. Questions keep what the form does not show (follow-ups, hints, tags) from the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import DashboardError
from ._labels import human

__all__ = [
    "EDIT_ROUNDS",
    "PlanEdit",
    "PlanEditError",
    "QuestionSlot",
    "edit_from_spec",
    "parse_edit",
    "read_form",
]

EDIT_ROUNDS = ("technical", "behavioural", "communication", "hr")
_TEXT_MAX = 2000
_MAX_QUESTIONS = 30


class PlanEditError(DashboardError):
    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("The plan has problems: see the marked fields.")
        self.errors = errors


@dataclass
class QuestionSlot:
    id: str = ""  # the question's id in the plan ("" for a new one); never shown
    text: str = ""
    round: str = "technical"
    competency: str = ""  # as words
    anchors: list[str] = field(default_factory=lambda: [""] * 5)
    key_points: str = ""  # one per line
    weight: str = "1"
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not self.id and not self.text.strip()


@dataclass
class PlanEdit:
    title: str = ""
    time_limit_minutes: str = "20"
    job_description: str = ""
    questions: list[QuestionSlot] = field(default_factory=list)


def _competency_key(words: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", words.strip().lower()).strip("_")
    if key and not key[0].isalpha():
        key = "c_" + key
    return key[:48]


def edit_from_spec(title: str, minutes: int, job_description: str | None, spec: dict[str, Any]) -> PlanEdit:
    """The edit form of a plan as it is, with one empty slot to add a question."""
    questions = [q for q in spec.get("questions") or [] if isinstance(q, dict)]
    weights = spec.get("weights") or {}
    per_comp: dict[str, int] = {}
    for q in questions:
        per_comp[q["competency"]] = per_comp.get(q["competency"], 0) + 1
    slots = []
    for q in questions:
        rubric = q.get("rubric") or {}
        anchors = rubric.get("anchors") or {}
        share = float(weights.get(q["competency"], 0.0)) / per_comp[q["competency"]] * len(questions)
        slots.append(
            QuestionSlot(
                id=q["id"],
                text=q.get("text", ""),
                round=q.get("round", "technical"),
                competency=human(q["competency"]),
                anchors=[str(anchors.get(str(n), anchors.get(n, ""))) for n in range(1, 6)],
                key_points="\n".join(rubric.get("key_points") or []),
                weight=f"{share:.2g}",
            )
        )
    slots.append(QuestionSlot())
    return PlanEdit(
        title=title, time_limit_minutes=str(minutes), job_description=job_description or "", questions=slots
    )


def read_form(data: Mapping[str, str]) -> PlanEdit:
    """The edit form from posted fields (``q-<n>-text`` …, ``slots`` says how many)."""
    try:
        slots = max(0, min(int(data.get("slots", "0")), _MAX_QUESTIONS + 1))
    except ValueError:
        slots = 0
    edit = PlanEdit(
        title=data.get("title", "").strip(),
        time_limit_minutes=data.get("time_limit_minutes", "").strip(),
        job_description=data.get("job_description", "").strip(),
    )
    for n in range(slots):
        p = f"q-{n}-"
        edit.questions.append(
            QuestionSlot(
                id=data.get(p + "id", "").strip()[:64],
                text=data.get(p + "text", "").strip(),
                round=data.get(p + "round", "technical").strip(),
                competency=data.get(p + "competency", "").strip(),
                anchors=[data.get(f"{p}anchor-{k}", "").strip() for k in range(1, 6)],
                key_points=data.get(p + "points", "").strip(),
                weight=data.get(p + "weight", "1").strip(),
                remove=bool(data.get(p + "remove")),
            )
        )
    return edit


def parse_edit(edit: PlanEdit, spec: dict[str, Any]) -> dict[str, Any]:
    """The new plan snapshot (not yet validated by ``PlanSpec``); raises :class:`PlanEditError` naming
    every bad field (``q-<n>-text`` …)."""
    errors: dict[str, str] = {}
    try:
        minutes = int(edit.time_limit_minutes)
        if not 1 <= minutes <= 180:
            raise ValueError
    except ValueError:
        errors["time_limit_minutes"] = "Enter a whole number of minutes from 1 to 180."
        minutes = 0
    if len(edit.title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    if len(edit.job_description) > 20_000:
        errors["job_description"] = "Keep the job description under 20,000 characters."
    old = {q["id"]: q for q in spec.get("questions") or [] if isinstance(q, dict) and q.get("id")}
    questions: list[dict[str, Any]] = []
    comp_weight: dict[str, float] = {}
    for n, slot in enumerate(edit.questions):
        if slot.remove or slot.blank:
            continue
        p = f"q-{n}-"
        if len(slot.text) < 8 or len(slot.text) > _TEXT_MAX:
            errors[p + "text"] = "Write the question (8 to 2,000 characters)."
        if slot.round not in EDIT_ROUNDS:
            errors[p + "round"] = "Choose a round."
        comp = _competency_key(slot.competency)
        if not comp:
            errors[p + "competency"] = "Name the competency this question scores, e.g. “System design”."
        if any(not a for a in slot.anchors):
            errors[p + "anchors"] = "Describe every score from 1 to 5."
        points = [line.strip(" -•\t") for line in slot.key_points.splitlines() if line.strip(" -•\t")]
        if not points:
            errors[p + "points"] = "List at least one key point of a strong answer."
        try:
            weight = float(slot.weight or "1")
            if not 0 < weight <= 100:
                raise ValueError
        except ValueError:
            errors[p + "weight"] = "A weight is a number above 0 (1 is usual)."
            weight = 1.0
        base = dict(old.get(slot.id) or {})
        qid = slot.id if slot.id in old else _new_id(old, questions)
        base.update(
            id=qid,
            text=slot.text,
            round=slot.round,
            competency=comp,
            rubric={
                "anchors": {str(k): a for k, a in enumerate(slot.anchors, start=1)},
                "key_points": points,
            },
        )
        base.setdefault("difficulty", "medium")
        questions.append(base)
        comp_weight[comp] = comp_weight.get(comp, 0.0) + weight
    if not questions:
        errors["questions"] = "A plan needs at least one question."
    elif len(questions) > _MAX_QUESTIONS:
        errors["questions"] = f"A plan has at most {_MAX_QUESTIONS} questions."
    if errors:
        raise PlanEditError(errors)
    total = sum(comp_weight.values())
    weights = {c: round(w / total, 4) for c, w in comp_weight.items()}
    top = max(weights, key=lambda c: (weights[c], c))
    weights[top] = round(weights[top] + 1.0 - sum(weights.values()), 4)
    rounds = list(spec.get("rounds") or [])
    for r in dict.fromkeys(q["round"] for q in questions):
        if r not in rounds:
            rounds.insert(rounds.index("closing") if "closing" in rounds else len(rounds), r)
    return {
        **spec,
        "questions": questions,
        "question_count": len(questions),
        "time_limit_minutes": minutes,
        "weights": weights,
        "rounds": rounds,
    }


def _new_id(old: Mapping[str, Any], questions: list[dict[str, Any]]) -> str:
    taken = set(old) | {q["id"] for q in questions}
    n = 1
    while f"custom-{n}" in taken:
        n += 1
    return f"custom-{n}"
