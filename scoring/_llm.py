"""The LLM judge: structured output, validated, sampled several times and checked against the transcript.

Each question is judged on its own: the prompt carries the question, its 1–5 behavioural anchors and key
points, and the candidate's answer turns with their ids. The reply must match ``Verdict``'s JSON schema
(``response_format=json_schema``); malformed replies are retried (``judge_attempts``).

Evidence before judgement: for every key point the judge says whether the answer gives substance for it
(what the candidate did, specifics, an outcome; naming it is not enough) and quotes the words that show it.
Every quote is checked against the transcript: one found in the named turn (or another answer turn) is kept
with corrected character offsets; one found nowhere is dropped, and a key point whose only quote was invented
does not count as covered.

Bias controls: each sample sees the key points in a different order (rotated) and the anchors alternately
from 1 up and from 5 down, so no item gains from its position; the instructions say that length, rubric
vocabulary and STAR labels earn nothing by themselves.

``judge_samples`` verdicts are aggregated by the median score; the rationale and evidence come from a sample
with the median score. The spread between samples is recorded as the score's ``agreement`` (1 when all agree,
0 for a 1-versus-5 split) and is its confidence; a spread of two points or more, or a high score with no
quote that exists in the transcript, flags the answer for human review.

Provider failures (connection, HTTP errors, timeouts) raise ``JudgeError``; the job then scores offline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import statistics
from collections.abc import Sequence

import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import JudgeError, JudgeOutputError
from ._result import Evidence, QuestionResult
from ._settings import ScoringSettings
from ._snapshot import RubricQuestion, Turn

__all__ = ["DISAGREEMENT", "KeyPointVerdict", "LlmJudge", "Verdict", "first_error", "verify_quote"]

logger = logging.getLogger("mockline.scoring")


class Quote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    turn_id: int
    quote: str = Field(min_length=1)


class KeyPointVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_point: str
    covered: bool
    quote: str  # the candidate's words that show it; empty when not covered


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_points: list[KeyPointVerdict] = Field(default_factory=list)
    score: int = Field(ge=1, le=5)
    rationale: str = Field(min_length=1)
    evidence: list[Quote]
    strengths: list[str]
    weaknesses: list[str]
    improvement: str
    improved_answer: str


def _strict_schema() -> dict[str, object]:
    schema = Verdict.model_json_schema()
    # OpenAI strict mode: every property required, no extra properties (pydantic already forbids extras).
    for node in [schema, *schema.get("$defs", {}).values()]:
        if isinstance(node, dict) and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
    return schema


_SYSTEM = " ".join(
    """You are a strict, fair interview assessor. First, for every key point, decide whether the candidate's
    answer gives substance for it: what they did or would do, specifics, a reason or an outcome. Naming a key
    point, repeating the rubric's words or using STAR labels ('my action was', 'the result was successful') is
    not substance. For each covered key point copy the candidate's exact words as the quote. Then score the
    answer on the 1-5 behaviourally anchored scale given. Judge what was said, not how much: a long answer is
    not better for being long, and a short specific answer can earn a 5. Everyday words count as much as
    technical terms. Quote evidence verbatim from the candidate's turns (exact substrings, with the turn_id).
    Never invent quotes. Reply with JSON only.""".split()
)
DISAGREEMENT = 2  # samples this many points apart flag the answer for review


def _ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def verify_quote(turn_id: int, quote: str, turns: Sequence[Turn]) -> Evidence | None:
    """Locate ``quote`` in the transcript: the named turn first, then the other turns. None if absent."""
    quote = quote.strip().strip("\"'“”")
    if not quote:
        return None
    ordered = sorted(turns, key=lambda t: t.id != turn_id)
    for turn in ordered:
        i = turn.text.find(quote)
        if i < 0:
            i = turn.text.lower().find(quote.lower())
        if i >= 0:
            return Evidence(turn.id, i, i + len(quote), turn.text[i : i + len(quote)])
    # Same words, different spacing: match on a whitespace-tolerant pattern.
    words = _ws(quote).split(" ")
    rx = re.compile(r"\s+".join(re.escape(w) for w in words), re.I)
    for turn in ordered:
        m = rx.search(turn.text)
        if m:
            return Evidence(turn.id, m.start(), m.end(), m.group(0))
    return None


def first_error(eg: BaseExceptionGroup) -> BaseException:
    """The first leaf exception of a (nested) exception group, as a task group raises them."""
    first = eg.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first


class LlmJudge:
    """Judges answers with any OpenAI-compatible chat completions endpoint."""

    def __init__(self, *, settings: ScoringSettings, client: openai.AsyncOpenAI | None = None) -> None:
        self.settings = settings
        self.model = settings.llm_model
        self._client = client or openai.AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or "unused",
            timeout=settings.judge_timeout_s,
            max_retries=1,
        )

    async def aclose(self) -> None:
        await self._client.close()

    def _messages(self, q: RubricQuestion, answers: Sequence[Turn], sample: int = 0) -> list[dict[str, str]]:
        """The prompt for one sample: key points rotated by ``sample``, anchors ascending on even samples
        and descending on odd ones (position-bias control)."""
        anchors = "\n".join(f"{k}: {v}" for k, v in sorted(q.anchors.items(), reverse=sample % 2 == 1))
        kps = list(q.key_points)
        if kps:
            r = sample % len(kps)
            kps = kps[r:] + kps[:r]
        turns = "\n".join(json.dumps({"turn_id": t.id, "text": t.text}) for t in answers)
        user = (
            f"Question ({q.id}, competency {q.competency}): {q.text}\n\n"
            f"Rubric anchors:\n{anchors}\n\nKey points (judge each one):\n- "
            + "\n- ".join(kps)
            + f"\n\nCandidate's answer turns (JSON lines):\n{turns}\n\n"
            "Return: key_points (each key point with covered true/false and the candidate's exact words as "
            "quote, empty when not covered), score (1-5), rationale naming what was present and missing, "
            "evidence quotes, strengths, weaknesses, one actionable improvement, and a sample improved "
            "answer built from the candidate's own story (no placeholders)."
        )
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]

    async def _sample(self, q: RubricQuestion, answers: Sequence[Turn], sample: int = 0) -> Verdict | None:
        for attempt in range(1, self.settings.judge_attempts + 1):
            try:
                resp = await self._client.chat.completions.create(  # type: ignore[call-overload]
                    model=self.model,
                    messages=self._messages(q, answers, sample),
                    temperature=self.settings.judge_temperature,
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": "verdict", "schema": _strict_schema(), "strict": True},
                    },
                )
            except openai.OpenAIError as e:
                raise JudgeError(f"LLM judge request failed: {type(e).__name__}") from e
            content = resp.choices[0].message.content if resp.choices else None
            try:
                return Verdict.model_validate_json(content or "")
            except ValidationError:
                logger.warning(
                    "judge output did not match the schema; retrying",
                    extra={"question_id": q.id, "attempt": attempt},
                )
        return None

    async def judge(self, q: RubricQuestion, answers: Sequence[Turn]) -> QuestionResult:
        try:
            async with asyncio.TaskGroup() as tg:  # one failed sample cancels the others
                tasks = [
                    tg.create_task(self._sample(q, answers, i)) for i in range(self.settings.judge_samples)
                ]
        except ExceptionGroup as eg:
            raise first_error(eg) from None
        verdicts = [v for t in tasks if (v := t.result()) is not None]
        if not verdicts:
            raise JudgeOutputError(f"every judge sample for question {q.id} was malformed")
        scores = [v.score for v in verdicts]
        median = int(statistics.median_low(scores))
        chosen = next(v for v in verdicts if v.score == median)
        evidence: list[Evidence] = []
        dropped = 0
        for v in [chosen, *(x for x in verdicts if x is not chosen)]:
            for quote in v.evidence:
                ev = verify_quote(quote.turn_id, quote.quote, answers)
                if ev is None:
                    dropped += v is chosen
                elif ev not in evidence:
                    evidence.append(ev)
            if evidence:
                break
        key_points = _key_points(q, verdicts, answers)
        spread = max(scores) - min(scores)
        agreement = round(1.0 - spread / 4.0, 2)
        flags: list[str] = []
        if spread >= DISAGREEMENT:
            flags.append(f"judge samples disagreed: {sorted(scores)}")
        if median >= 4 and not evidence and not any(k["covered"] for k in key_points):
            flags.append("a high score with no quote found in the transcript")
        improved = chosen.improved_answer.strip() if median <= 3 else ""
        if "[" in improved and "]" in improved:  # a template with placeholders is not an answer
            improved = ""
        rationale = chosen.rationale
        if len(verdicts) > 1:
            rationale += f" (median of {len(verdicts)} judge samples: {sorted(scores)})"
        if dropped:
            rationale += f" [{dropped} quote(s) not found in the transcript were dropped]"
        confidence = max(0.1, agreement - (0.2 if dropped else 0.0) - (0.3 if flags else 0.0))
        return QuestionResult(
            question_id=q.id,
            competency=q.competency,
            score=median,
            rationale=rationale,
            evidence=evidence[:4],
            improved_answer=improved or None,
            strengths=[f"{q.competency}: {s}" for s in chosen.strengths],
            weaknesses=[f"{q.competency}: {w}" for w in chosen.weaknesses],
            improvements=[chosen.improvement] if chosen.improvement.strip() else [],
            confidence=round(confidence, 2),
            agreement=agreement,
            flagged="; ".join(flags) or None,
            key_points=key_points,
        )


def _key_points(
    q: RubricQuestion, verdicts: Sequence[Verdict], answers: Sequence[Turn]
) -> list[dict[str, object]]:
    """Per rubric key point: covered when most samples say so with a quote that exists in the transcript."""
    out: list[dict[str, object]] = []
    for kp in q.key_points:
        votes = 0
        quote: Evidence | None = None
        for v in verdicts:
            said = next((k for k in v.key_points if _same(k.key_point, kp)), None)
            if said is None or not said.covered:
                continue
            found = verify_quote(answers[0].id, said.quote, answers) if answers else None
            if found is not None:
                votes += 1
                quote = quote or found
        covered = votes * 2 > len(verdicts)
        out.append({"key_point": kp, "covered": covered, "quote": quote.quote if covered and quote else ""})
    return out


def _same(a: str, b: str) -> bool:
    return _ws(a).lower().strip(" .") == _ws(b).lower().strip(" .")
