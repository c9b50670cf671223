"""The question bank: the built-in YAML files plus the user's own files from ``MOCKLINE_QUESTION_BANK``.

A bank file (YAML or JSON) has two optional keys::

    roles:                        # role-specific questions (a role already in the bank gets them appended)
      devops_engineer:
        title: DevOps engineer
        aliases: [devops, sre, site reliability engineer]
        skills: [kubernetes, terraform]          # used to spot skills in a résumé
        questions: [<question>, ...]
    questions: [<question>, ...]  # role-independent: behavioural, communication or hr rounds only

A ``<question>`` has the fields of ``agent.plans.Question`` (see ``_spec.py``); unknown fields are errors.
Question ids are unique across all files.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import QuestionBankError, UnknownRoleError
from ._settings import get_plan_settings
from ._spec import Question

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~5x faster

__all__ = ["QuestionBank", "RoleEntry", "clear_question_bank_cache", "load_question_bank"]


class RoleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)


class _BankFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, RoleEntry] = Field(default_factory=dict)
    questions: list[Question] = Field(default_factory=list)


def normalise_role(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass
class QuestionBank:
    roles: dict[str, RoleEntry] = field(default_factory=dict)
    generic: list[Question] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def resolve_role(self, role: str) -> str:
        """The bank key for a role name, title or alias (case and punctuation insensitive)."""
        wanted = normalise_role(role)
        for key, entry in self.roles.items():
            names = {key, normalise_role(entry.title), *(normalise_role(a) for a in entry.aliases)}
            if wanted in names:
                return key
        raise UnknownRoleError(role, sorted(self.roles))

    def merge(self, data: _BankFile, source: str) -> None:
        seen = {q.id for q in self.generic} | {q.id for r in self.roles.values() for q in r.questions}
        incoming = [q for r in data.roles.values() for q in r.questions] + list(data.questions)
        for q in incoming:
            if q.id in seen:
                raise QuestionBankError(source, f"question id {q.id!r} is already used by another question")
            seen.add(q.id)
        for i, q in enumerate(data.questions):
            if q.round == "technical":
                raise QuestionBankError(
                    source,
                    f"questions[{i}].round: 'technical' questions belong to a role (put them under roles:)",
                )
        for key, entry in data.roles.items():
            key = normalise_role(key)
            if key in self.roles:
                current = self.roles[key]
                self.roles[key] = current.model_copy(
                    update={
                        "aliases": current.aliases + entry.aliases,
                        "skills": current.skills + entry.skills,
                        "questions": current.questions + entry.questions,
                    }
                )
            else:
                self.roles[key] = entry
        self.generic.extend(data.questions)
        self.sources.append(source)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_bank_text(text: str, *, source: str) -> _BankFile:
    """Parse and validate one bank file's text; errors name ``source`` and the bad field."""
    try:
        raw = json.loads(text) if source.lower().endswith(".json") else yaml.load(text, Loader=_YAML_LOADER)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise QuestionBankError(
            source, f"not valid {'JSON' if source.endswith('.json') else 'YAML'}: {e}"
        ) from e
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise QuestionBankError(source, "the top level must be a mapping with 'roles' and/or 'questions'")
    try:
        return _BankFile.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
        raise QuestionBankError(source, f"{_format_loc(first['loc'])}: {first['msg']}{more}") from e


def _read_user_file(path: str) -> _BankFile:
    p = Path(path).expanduser()
    if p.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise QuestionBankError(path, "expected a .yaml, .yml or .json file")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise QuestionBankError(path, f"cannot read the file: {e.strerror or e}") from e
    return parse_bank_text(text, source=path)


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> QuestionBank:
    bank = QuestionBank()
    package = resources.files("agent.plans.bank")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            bank.merge(parse_bank_text(entry.read_text(encoding="utf-8"), source=entry.name), entry.name)
    for path in paths:
        bank.merge(_read_user_file(path), path)
    return bank


def load_question_bank(paths: list[str] | None = None) -> QuestionBank:
    """The built-in bank extended by ``paths`` (default: ``MOCKLINE_QUESTION_BANK``, ``:``-separated).

    Cached per list of paths; raises ``QuestionBankError`` naming the file and field on bad input.
    """
    if paths is None:
        paths = [p for p in get_plan_settings().question_bank.split(os.pathsep) if p.strip()]
    return _load(tuple(paths))


def clear_question_bank_cache() -> None:
    """Forget loaded banks (after editing a bank file, or in tests)."""
    _load.cache_clear()
