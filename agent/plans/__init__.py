"""Interview plans and the question bank.

```python
from agent.plans import build_plan, resume_text_from_pdf

plan = build_plan(role="backend engineer", seniority="senior", interview_type="mixed",
                  question_count=6, time_limit_minutes=25, difficulty="hard",
                  job_description=jd, resume_text=resume_text_from_pdf(pdf_bytes), seed=7)
row.spec = plan.to_json()        # stored as InterviewPlan.spec; PlanSpec.from_json(row.spec) reads it
```
"""

from ._bank import QuestionBank, RoleEntry, clear_question_bank_cache, load_question_bank
from ._build import DEFAULT_ROUNDS, build_plan, personalise_plan
from ._errors import PlanError, PlanInputError, QuestionBankError, ResumeError, UnknownRoleError
from ._resume import resume_text_from_pdf
from ._settings import PlanSettings, get_plan_settings
from ._spec import QUESTION_ROUNDS, ROUNDS, PlanSpec, Question, Rubric, Steering
from ._text import ResumeHighlights, keywords, resume_highlights

__all__ = [
    "DEFAULT_ROUNDS",
    "QUESTION_ROUNDS",
    "ROUNDS",
    "PlanError",
    "PlanInputError",
    "PlanSettings",
    "PlanSpec",
    "Question",
    "QuestionBank",
    "QuestionBankError",
    "ResumeError",
    "ResumeHighlights",
    "RoleEntry",
    "Rubric",
    "Steering",
    "UnknownRoleError",
    "build_plan",
    "clear_question_bank_cache",
    "get_plan_settings",
    "keywords",
    "load_question_bank",
    "personalise_plan",
    "resume_highlights",
    "resume_text_from_pdf",
]
