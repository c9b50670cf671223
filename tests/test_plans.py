"""Interview plans: the built-in bank, build_plan's choices, JD/résumé steering, PDF résumés, user banks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fpdf import FPDF

from agent.plans import (
    PlanInputError,
    PlanSpec,
    QuestionBankError,
    ResumeError,
    UnknownRoleError,
    build_plan,
    clear_question_bank_cache,
    get_plan_settings,
    load_question_bank,
    resume_text_from_pdf,
)

pytestmark = pytest.mark.unit

ROLES = [
    "backend engineer",
    "frontend engineer",
    "data scientist",
    "product manager",
    "sales",
    "customer support",
]


def test_built_in_bank_covers_every_role_and_difficulty_with_anchored_rubrics() -> None:
    bank = load_question_bank([])
    for role in ROLES:
        entry = bank.roles[bank.resolve_role(role)]
        for level in ("easy", "medium", "hard"):
            technical = [q for q in entry.questions if q.round == "technical" and q.difficulty == level]
            assert len(technical) >= 2, (role, level)
    every = [q for e in bank.roles.values() for q in e.questions] + bank.generic
    assert len([q for q in bank.generic if q.round == "behavioural"]) >= 4
    for q in every:
        assert sorted(q.rubric.anchors) == [1, 2, 3, 4, 5] and q.rubric.key_points and q.hints, q.id
    assert len({q.id for q in every}) == len(every)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("interview_type", ["technical", "behavioural", "mixed"])
def test_plans_for_every_role_and_type(role: str, interview_type: str) -> None:
    plan = build_plan(
        role=role, interview_type=interview_type, question_count=5, time_limit_minutes=25, seed=3
    )
    assert len(plan.questions) == plan.question_count == 5
    assert plan.rounds[0] == "greeting" and plan.rounds[-1] == "closing"
    rounds = [q.round for q in plan.questions]
    assert rounds == sorted(rounds, key=plan.rounds.index)  # asked round by round
    if interview_type == "technical":
        assert set(rounds) == {"technical"}
    elif interview_type == "behavioural":
        assert "technical" not in rounds and "behavioural" in rounds
    else:
        assert {"technical", "behavioural", "hr"} <= set(rounds)
    assert abs(sum(plan.weights.values()) - 1) < 1e-6
    assert set(plan.weights) == {q.competency for q in plan.questions}
    stored = json.loads(json.dumps(plan.to_json()))  # InterviewPlan.spec is a JSON column
    assert stored["questions"][0]["rubric"]["anchors"]["5"]
    assert PlanSpec.from_json(stored) == plan


def test_same_seed_same_plan_and_seeds_vary_the_choice() -> None:
    a = build_plan(role="frontend engineer", question_count=4, seed=5)
    assert a == build_plan(role="frontend engineer", question_count=4, seed=5)
    variants = {tuple(q.id for q in build_plan(role="frontend engineer", question_count=4, seed=s).questions)
                for s in range(10)}  # fmt: skip
    assert len(variants) > 1


def test_difficulty_is_honoured_when_the_bank_allows() -> None:
    hard = build_plan(
        role="backend engineer", interview_type="technical", question_count=2, difficulty="hard", seed=1
    )
    assert [q.difficulty for q in hard.questions] == ["hard", "hard"]
    easy = build_plan(role="sales", interview_type="technical", question_count=2, difficulty="easy", seed=1)
    assert [q.difficulty for q in easy.questions] == ["easy", "easy"]


def test_job_description_steers_the_choice() -> None:
    jd = "You will own our public API gateway: rate limiting with Redis, token bucket quotas, scalability."
    common = {"role": "backend engineer", "interview_type": "technical", "question_count": 1, "seed": 2}
    assert build_plan(**common).questions[0].id != "be-rate-limit"
    steered = build_plan(**common, job_description=jd)
    assert steered.questions[0].id == "be-rate-limit"
    assert "redis" in steered.steering.job_keywords


def test_resume_adds_a_personalised_question_about_a_named_project() -> None:
    resume = (
        "Senior engineer. Built Ledgerline, a double-entry payments service in Go on PostgreSQL and Kafka."
    )
    plan = build_plan(
        role="backend engineer", interview_type="mixed", question_count=5, resume_text=resume, seed=1
    )
    assert len(plan.questions) == 5
    personal = [q for q in plan.questions if q.id == "resume-deep-dive"]
    assert len(personal) == 1 and "Ledgerline" in personal[0].text
    assert plan.steering.personalised_from == "Ledgerline"
    assert {"go", "postgresql", "kafka"} <= set(plan.steering.resume_keywords)
    assert personal[0].competency in plan.weights


def test_resume_without_a_project_name_asks_about_a_skill_the_job_wants() -> None:
    resume = "I have used python for years, some react, and a lot of kubernetes in production."
    plan = build_plan(
        role="backend engineer", interview_type="technical", question_count=3, seed=1, resume_text=resume,
        job_description="We run everything on Kubernetes.",
    )  # fmt: skip
    personal = next(q for q in plan.questions if q.id == "resume-deep-dive")
    assert "kubernetes" in personal.text


def _pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_pdf_resume_is_read_and_personalises_the_plan() -> None:
    data = _pdf(
        ["Jane Doe - Data Scientist", "Led the Churn Radar project: churn model in Python, SQL, XGBoost."]
    )
    text = resume_text_from_pdf(data)
    assert "Churn Radar" in text
    plan = build_plan(role="data scientist", question_count=4, resume_text=text, seed=4)
    assert any("Churn Radar" in q.text for q in plan.questions)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"Jane Doe, engineer", "not a PDF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "could not read"),
    ],
)
def test_bad_pdf_resume_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ResumeError, match=message):
        resume_text_from_pdf(data)


def test_pdf_without_text_is_a_clear_error() -> None:
    with pytest.raises(ResumeError, match="no text"):
        resume_text_from_pdf(_pdf([]))


DEVOPS = """
roles:
  devops_engineer:
    title: DevOps engineer
    aliases: [sre, site reliability engineer]
    skills: [terraform]
    questions:
      - id: ops-rollback
        round: technical
        competency: operations
        difficulty: medium
        text: How do you roll back a bad deploy safely?
        hints: [Think about what state the deploy changed.]
        rubric:
          anchors: {1: none, 2: vague, 3: redeploys, 4: plans for data,
                    5: automated and rehearsed}
          key_points: [previous version, database migrations]
questions:
  - id: my-beh-oncall
    round: behavioural
    competency: resilience
    text: Tell me about your worst on-call night.
    story: true
    rubric:
      anchors: {1: a, 2: b, 3: c, 4: d, 5: e}
      key_points: [stayed calm]
"""


def test_user_bank_from_the_environment_adds_roles_and_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_file = tmp_path / "devops.yaml"
    yaml_file.write_text(DEVOPS)
    json_file = tmp_path / "extra.json"
    json_file.write_text(json.dumps({"roles": {"sales": {"title": "Sales representative", "questions": []}}}))
    monkeypatch.setenv("MOCKLINE_QUESTION_BANK", f"{yaml_file}:{json_file}")
    get_plan_settings.cache_clear()
    clear_question_bank_cache()
    try:
        plan = build_plan(role="SRE", interview_type="mixed", question_count=3, seed=1)
        assert plan.role_key == "devops_engineer"
        assert plan.questions[0].id == "ops-rollback"
        bank = load_question_bank()
        assert "my-beh-oncall" in {q.id for q in bank.generic} and str(json_file) in bank.sources
    finally:
        get_plan_settings.cache_clear()
        clear_question_bank_cache()


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            ("                    5: automated and rehearsed}", "}"),
            "roles.devops_engineer.questions[0].rubric.anchors",
        ),
        (("        hints:", "        hintz:"), "roles.devops_engineer.questions[0].hintz"),
        (("        round: technical", "        round: lunch"), "roles.devops_engineer.questions[0].round"),
        (("  - id: my-beh-oncall", "  - id: be-caching"), "'be-caching' is already used"),
        (("    round: behavioural", "    round: technical"), "questions[0].round"),
        (("roles:", "roles: ["), "not valid YAML"),
    ],
)
def test_bad_user_bank_names_the_file_and_the_field(
    tmp_path: Path, edit: tuple[str, str], problem: str
) -> None:
    text = DEVOPS
    old, new = edit
    assert old in text
    path = tmp_path / "bank.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(QuestionBankError) as err:
        load_question_bank([str(path)])
    assert str(path) in str(err.value) and problem in str(err.value)


def test_missing_user_bank_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(QuestionBankError, match=r"nope\.yaml: cannot read"):
        load_question_bank([str(tmp_path / "nope.yaml")])


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(UnknownRoleError, match="known roles: backend_engineer"):
        build_plan(role="astronaut")
    with pytest.raises(PlanInputError, match="English"):
        build_plan(role="sales", language="fr")
    with pytest.raises(PlanInputError, match="interview_type"):
        build_plan(role="sales", interview_type="panel")
    with pytest.raises(PlanInputError, match="unknown rounds"):
        build_plan(role="sales", rounds=["greeting", "lunch"])
    with pytest.raises(PlanInputError, match="only"):
        build_plan(role="sales", interview_type="technical", question_count=20)


def test_custom_rounds_are_respected() -> None:
    plan = build_plan(
        role="product manager", rounds=["greeting", "hr", "technical", "closing"], question_count=3, seed=1
    )
    assert plan.questions[0].round == "hr" and {q.round for q in plan.questions[1:]} == {"technical"}
