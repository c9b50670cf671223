"""``build_plan``: choose questions from the bank for the rounds, type, difficulty and candidate.

How questions are chosen (explainable on purpose):

1. Rounds: given, or by type — technical: greeting, technical, closing; behavioural: greeting,
   behavioural, communication, closing; mixed: greeting, technical, behavioural, hr, closing.
   ("technical" means role skills: for a salesperson it is discovery and objection handling.)
2. Each question round gets one question, then the rest by weight (technical 3, behavioural 2,
   communication 1, hr 1), never more than the round's pool holds.
3. Within a round each question is ranked
   ``2 × min(overlap, 4) − 3 × difficulty distance + jitter``, where *overlap* counts the question's
   keywords (tags, content words of its text and key points) that also occur in the job description or
   résumé, *difficulty distance* is 0/1/2 between the question's and the requested level, and *jitter*
   is uniform in [0, 1) from ``random.Random(seed)`` — so equal seeds give equal plans.
4. With a résumé, one personalised question about a named project (or else the most-mentioned known
   skill) replaces the lowest-ranked pick of the largest round and is asked first in that round.
5. Questions are asked round by round, easier first; weights are each competency's share of questions.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from pydantic import ValidationError

from ._bank import QuestionBank, load_question_bank
from ._errors import PlanInputError
from ._spec import QUESTION_ROUNDS, ROUNDS, PlanSpec, Question, Rubric, Steering
from ._text import keywords, resume_highlights

__all__ = ["DEFAULT_ROUNDS", "build_plan", "personalise_plan"]

DEFAULT_ROUNDS: dict[str, list[str]] = {
    "technical": ["greeting", "technical", "closing"],
    "behavioural": ["greeting", "behavioural", "communication", "closing"],
    "mixed": ["greeting", "technical", "behavioural", "hr", "closing"],
}
_ROUND_WEIGHT = {"technical": 3, "behavioural": 2, "communication": 1, "hr": 1}
_LEVEL = {"easy": 0, "medium": 1, "hard": 2}


def _question_terms(q: Question) -> set[str]:
    terms = keywords(q.text) | keywords(" ".join(q.rubric.key_points))
    for tag in q.tags:
        terms |= keywords(tag) | {tag.lower()}
    return terms


def _allocate(count: int, pools: dict[str, list[Question]], order: list[str]) -> dict[str, int]:
    available = sum(len(p) for p in pools.values())
    if available < count:
        sizes = ", ".join(f"{r}: {len(pools[r])}" for r in order)
        raise PlanInputError(
            f"asked for {count} questions but the bank has only {available} for these rounds ({sizes})"
        )
    alloc = dict.fromkeys(order, 0)
    for r in order[:count]:
        if pools[r]:
            alloc[r] = 1
    while sum(alloc.values()) < count:
        open_rounds = [r for r in order if alloc[r] < len(pools[r])]
        # the round furthest below its weighted share gets the next question
        r = min(open_rounds, key=lambda r: (alloc[r] / _ROUND_WEIGHT[r], order.index(r)))
        alloc[r] += 1
    return alloc


def _personalised(highlights_project: str | None, skill: str | None, round_: str) -> tuple[Question, str]:
    subject = highlights_project or skill or ""
    if highlights_project:
        text = (
            f"I noticed {highlights_project} on your résumé. What was your part in it, what was the hardest "
            "problem you solved there, and how did it turn out?"
        )
    else:
        text = (
            f"Your résumé mentions {skill}. Tell me about the most challenging thing you did with {skill}, "
            "and what the result was."
        )
    q = Question(
        id="resume-deep-dive",
        round=round_,  # type: ignore[arg-type]
        competency="relevant_experience",
        text=text,
        difficulty="medium",
        story=True,
        follow_ups=[f"What would you do differently if you worked on {subject} again?"],
        harder_follow_up=f"What trade-offs did you make in {subject}, and would you make them again?",
        easier_follow_up=f"In a sentence or two, what was {subject} about?",
        hints=[f"Start with what {subject} was for, then your own part in it."],
        tags=[subject.lower()],
        rubric=Rubric(
            anchors={
                1: f"Cannot explain their own part in {subject}.",
                2: "Describes the work in general terms; own contribution unclear.",
                3: "Clear personal contribution and a concrete problem they solved.",
                4: "Specific detail, a hard problem, the reasoning behind decisions and a result.",
                5: "Deep, specific account with trade-offs, measurable impact and honest reflection.",
            },
            key_points=[
                "their own contribution",
                f"specific detail about {subject}",
                "a hard problem and how it was solved",
                "measurable result",
                "reflection on what they would change",
            ],
        ),
    )
    return q, subject


def _weights(questions: list[Question]) -> dict[str, float]:
    counts = Counter(q.competency for q in questions)
    total = len(questions)
    weights = {c: round(n / total, 4) for c, n in counts.items()}
    top = max(weights, key=lambda c: (weights[c], c))
    weights[top] = round(weights[top] + 1.0 - sum(weights.values()), 4)
    return weights


def build_plan(
    *,
    role: str,
    seniority: str = "mid",
    interview_type: str = "mixed",
    question_count: int = 5,
    time_limit_minutes: int = 20,
    difficulty: str = "medium",
    job_description: str | None = None,
    resume_text: str | None = None,
    rounds: list[str] | None = None,
    seed: int | None = None,
    mode: str = "recruiter",
    language: str = "en",
    bank: QuestionBank | None = None,
) -> PlanSpec:
    """A plan for ``role`` (a bank key, title or alias). Raises ``PlanInputError`` for bad arguments,
    ``UnknownRoleError`` for a role without questions, ``QuestionBankError`` for a bad user bank file."""
    if interview_type not in DEFAULT_ROUNDS:
        raise PlanInputError(
            f"interview_type must be one of technical, behavioural, mixed (got {interview_type!r})"
        )
    if difficulty not in _LEVEL:
        raise PlanInputError(f"difficulty must be one of easy, medium, hard (got {difficulty!r})")
    if not 1 <= question_count <= 30:
        raise PlanInputError(f"question_count must be between 1 and 30 (got {question_count})")
    bank = bank or load_question_bank()
    role_key = bank.resolve_role(role)
    entry = bank.roles[role_key]

    rounds = list(rounds) if rounds else list(DEFAULT_ROUNDS[interview_type])
    unknown = [r for r in rounds if r not in ROUNDS]
    if unknown:
        raise PlanInputError(f"unknown rounds {unknown}; rounds are {', '.join(ROUNDS)}")
    if len(set(rounds)) != len(rounds):
        raise PlanInputError("each round may appear only once")
    q_rounds = [r for r in rounds if r in QUESTION_ROUNDS]
    if not q_rounds:
        raise PlanInputError(f"rounds need at least one question round ({', '.join(QUESTION_ROUNDS)})")

    pools = {r: [q for q in entry.questions + bank.generic if q.round == r] for r in q_rounds}
    alloc = _allocate(question_count, pools, q_rounds)

    rng = random.Random(seed)
    steer_terms = keywords(job_description or "") | keywords(resume_text or "")
    job_terms = keywords(job_description or "")
    matched: Counter[str] = Counter()
    ranked: dict[str, list[tuple[float, Question]]] = {}
    for r in q_rounds:
        scored = []
        for q in sorted(pools[r], key=lambda q: q.id):
            overlap = _question_terms(q) & steer_terms
            rank = (
                2 * min(len(overlap), 4) - 3 * abs(_LEVEL[q.difficulty] - _LEVEL[difficulty]) + rng.random()
            )
            scored.append((rank, q))
            matched.update(overlap & job_terms)
        scored.sort(key=lambda t: -t[0])
        ranked[r] = scored[: alloc[r]]

    steering: dict[str, Any] = {"job_keywords": [t for t, _ in matched.most_common(12)]}
    personal: Question | None = None
    if resume_text and resume_text.strip():
        all_skills = [s for e in bank.roles.values() for s in e.skills]
        hl = resume_highlights(resume_text, known_skills=entry.skills + all_skills)
        skill = next((s for s in hl.skills if s in job_terms), hl.skills[0] if hl.skills else None)
        steering["resume_keywords"] = hl.skills[:12]
        if hl.projects or skill:
            target = max(q_rounds, key=lambda r: (alloc[r], r == "technical"))
            personal, subject = _personalised(hl.projects[0] if hl.projects else None, skill, target)
            steering["personalised_from"] = subject
            ranked[target] = ranked[target][:-1]

    questions: list[Question] = []
    for r in q_rounds:
        picks = sorted(ranked[r], key=lambda t: (_LEVEL[t[1].difficulty], -t[0]))
        if personal is not None and personal.round == r:
            questions.append(personal)
        questions.extend(q for _, q in picks)

    try:
        return PlanSpec(
            role=entry.title,
            role_key=role_key,
            seniority=seniority,  # type: ignore[arg-type]
            interview_type=interview_type,  # type: ignore[arg-type]
            rounds=rounds,  # type: ignore[arg-type]
            question_count=question_count,
            time_limit_minutes=time_limit_minutes,
            difficulty=difficulty,  # type: ignore[arg-type]
            language=language,
            mode=mode,  # type: ignore[arg-type]
            questions=questions,
            weights=_weights(questions),
            steering=Steering(**steering),
        )
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "plan"
        raise PlanInputError(f"{field}: {first['msg']}") from e


def personalise_plan(
    plan: PlanSpec, *, resume_text: str | None, bank: QuestionBank | None = None
) -> PlanSpec | None:
    """This candidate's copy of ``plan``: one question about a project (or the most-mentioned known skill)
    from *their* résumé replaces the last question of the plan's largest question round and is asked first in
    that round; every other question stays, so candidates of one plan remain comparable. ``None`` when the
    résumé names nothing to ask about (the plan is then used as it is)."""
    if not resume_text or not resume_text.strip():
        return None
    bank = bank or load_question_bank()
    entry = bank.roles.get(plan.role_key)
    all_skills = [s for e in bank.roles.values() for s in e.skills]
    hl = resume_highlights(resume_text, known_skills=(entry.skills if entry else []) + all_skills)
    job_terms = set(plan.steering.job_keywords)
    skill = next((s for s in hl.skills if s in job_terms), hl.skills[0] if hl.skills else None)
    if not hl.projects and not skill:
        return None
    kept = [q for q in plan.questions if q.id != "resume-deep-dive"]  # never two
    counts = Counter(q.round for q in kept)
    target = max(counts, key=lambda r: (counts[r], r == "technical"))
    personal, subject = _personalised(hl.projects[0] if hl.projects else None, skill, target)
    in_round = [i for i, q in enumerate(kept) if q.round == target]
    if len(kept) == len(plan.questions):
        del kept[in_round[-1]]
    kept.insert(in_round[0], personal)
    steering = plan.steering.model_copy(
        update={"resume_keywords": hl.skills[:12], "personalised_from": subject}
    )
    data = plan.model_dump() | {"questions": kept, "weights": _weights(kept), "steering": steering}
    return PlanSpec.model_validate(data)
