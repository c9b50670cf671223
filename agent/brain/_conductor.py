"""The interview state machine shared by both brains: it decides, a brain only phrases.

```python
conductor = Conductor(plan)
action = conductor.opening()            # greeting + first question
conductor.commit(action)                # the reply was spoken: advance
action = conductor.decide("Hmm, let me think")   # pure: call it as often as you like
conductor.commit(action)
conductor.snapshot()                    # JSON; Conductor(plan, state=snapshot) resumes
```

Per question the conductor probes at most twice: a very short answer (< 20 words so far) gets a request
for an example or detail; a story without a result gets "what was the outcome?"; then adaptive
difficulty: a strong answer (≥ 40 words using ≥ 3 words of the rubric's key points that the question
does not already contain) gets the question's harder follow-up, a weak one (< 40 words using at most
one) its easier follow-up. No probing in the last
15 % of the time limit; past the limit the interview closes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from agent.plans import PlanSpec, Question

from . import _phrases as ph
from ._action import Action
from ._audience import Audience
from ._detect import Intent, assess, classify
from ._errors import ConductorError, ConductorStateError, StaleActionError

__all__ = ["Conductor"]

MAX_PROBES = 2
SHORT_WORDS = 20
STRONG_WORDS = 40
RAMBLE_WORDS = 180  # in one turn
RAMBLE_TOTAL = 350  # across one question
MAX_REDIRECTS = 2
NO_PROBES_AFTER = 0.85  # share of the time limit
_PHASES = ("new", "asking", "closed")


def _fresh_question() -> dict[str, Any]:
    return {
        "probes": 0, "used": [], "hinted": False, "redirects": 0, "checked_in": False,
        "answer_words": 0, "had_example": False, "had_outcome": False, "rubric_words": [],
    }  # fmt: skip


class Conductor:
    def __init__(
        self,
        plan: PlanSpec,
        *,
        state: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        check_in_after: float = 12.0,
        audience: Audience | None = None,
    ) -> None:
        self.plan = plan
        self.audience = audience or Audience()
        self._clock = clock
        self._t0 = clock()
        self._check_in_after = check_in_after
        self._last_committed: Action | None = None
        ids = [q.id for q in plan.questions]
        if state is None:
            self._state: dict[str, Any] = {
                "version": 1, "questions": ids, "seq": 0, "phase": "new", "index": 0, "prompt": "",
                "turn": 0, "elapsed": 0.0, **_fresh_question(),
            }  # fmt: skip
        else:
            self._state = self._validated(state, ids)

    @staticmethod
    def _validated(state: dict[str, Any], ids: list[str]) -> dict[str, Any]:
        if not isinstance(state, dict) or state.get("version") != 1:
            raise ConductorStateError("not a conductor snapshot (version 1 expected)")
        if state.get("questions") != ids:
            raise ConductorStateError("the snapshot belongs to a different plan (its question ids differ)")
        missing = {"seq", "phase", "index", "prompt", "turn", "elapsed", *_fresh_question()} - set(state)
        if missing:
            raise ConductorStateError(f"the snapshot lacks {', '.join(sorted(missing))}")
        if state["phase"] not in _PHASES or not 0 <= int(state["index"]) <= len(ids):
            raise ConductorStateError("the snapshot has an invalid phase or question index")
        return copy.deepcopy(state)

    # -- reading state --------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._state["phase"] == "closed"

    @property
    def current_question(self) -> Question | None:
        i = self._state["index"]
        return self.plan.questions[i] if self._state["phase"] == "asking" else None

    def elapsed(self) -> float:
        """Seconds of interview so far (across resumes)."""
        return float(self._state["elapsed"]) + (self._clock() - self._t0)

    def snapshot(self) -> dict[str, Any]:
        snap = copy.deepcopy(self._state)
        snap["elapsed"] = round(self.elapsed(), 3)
        return snap

    # -- deciding (pure) ------------------------------------------------------------------------
    def opening(self) -> Action:
        s = copy.deepcopy(self._state)
        if s["phase"] == "closed":
            return self._over(s)
        if s["phase"] == "asking":  # resumed interview
            text = f"{ph.welcome_back(self.audience)} {s['prompt']}"
            return self._act(
                s, "repeat", text, ph.instruction("repeat", quoted=s["prompt"]), essential=s["prompt"]
            )
        p = self.plan
        s["phase"] = "asking"
        q = p.questions[0]
        s["prompt"] = q.text
        intro = ph.greeting(
            self.audience, role=p.role, minutes=p.time_limit_minutes, practice=p.mode == "practice"
        )
        text = f"{intro} {ph.ROUND_INTROS[q.round]} {q.text}"
        instr = ph.greet_instruction(self.audience, quoted=q.text, role=p.role, minutes=p.time_limit_minutes)
        return self._act(s, "greet", text, instr, essential=q.text)

    def decide(self, candidate_text: str) -> Action:
        s = copy.deepcopy(self._state)
        if s["phase"] == "new":
            return self.opening()
        if s["phase"] == "closed":
            return self._over(s)
        if self.elapsed() >= self.plan.time_limit_minutes * 60:
            return self._close(s, "time")
        q = self.plan.questions[s["index"]]
        intent = classify(candidate_text, question=q)
        turn = s["turn"]
        prompt = s["prompt"]
        if intent is Intent.EMPTY:
            text = "Sorry, I didn't catch that. Could you say it again?"
            return self._act(s, "clarify", text, "You did not hear the candidate. Ask them to say it again.")
        if intent is Intent.STOP:
            return self._close(s, "stop")
        if intent is Intent.REPEAT:
            return self._act(s, "repeat", ph.pick(ph.REPEATS, turn).format(prompt=prompt),
                             ph.instruction("repeat", quoted=prompt), essential=prompt)  # fmt: skip
        if intent is Intent.CLARIFY:
            text = f"Of course. I'm asking about {q.competency.replace('_', ' ')}. {prompt}"
            return self._act(s, "clarify", text, ph.instruction("clarify", quoted=prompt), essential=prompt)
        if intent is Intent.THINKING:
            return self._act(s, "wait", ph.pick(ph.WAITS, turn), ph.instruction("wait"))
        if intent is Intent.DONT_KNOW:
            if not s["hinted"] and q.hints:
                s["hinted"] = True
                hint = q.hints[0]
                text = ph.pick(ph.HINTS, turn).format(hint=hint)
                instr = ph.instruction("encourage_hint", quoted=hint)
                return self._act(s, "encourage", text, instr, essential=hint)
            return self._advance(s, ph.pick(ph.MOVE_ONS, turn), "encourage", "encourage_move_on")
        if intent is Intent.OFF_TOPIC:
            if s["redirects"] < MAX_REDIRECTS:
                s["redirects"] += 1
                text = ph.pick(ph.REDIRECTS, s["redirects"] - 1).format(prompt=prompt)
                instr = ph.instruction("redirect", quoted=prompt)
                return self._act(s, "redirect", text, instr, essential=prompt)
            return self._advance(s, "Let's move on.", "ask", "ask")
        return self._on_answer(s, q, candidate_text)

    def on_silence(self, seconds: float) -> Action | None:
        """A check-in after a long silence following our question (once per question), or the closing
        if the time limit has passed; ``None`` otherwise. Commit it when it was spoken."""
        s = copy.deepcopy(self._state)
        if s["phase"] != "asking":
            return None
        if self.elapsed() >= self.plan.time_limit_minutes * 60:
            return self._close(s, "time")
        if seconds < self._check_in_after or s["checked_in"]:
            return None
        s["checked_in"] = True
        return self._act(s, "check_in", ph.pick(ph.CHECK_INS, s["turn"]), ph.instruction("check_in"))

    # -- committing -----------------------------------------------------------------------------
    def commit(self, action: Action) -> None:
        """The action's reply was actually spoken: advance. Committing the same action twice is a no-op;
        an action decided before another commit raises ``StaleActionError``."""
        if action is self._last_committed:
            return
        if action._next_state is None:
            raise ConductorError("this action was not decided by a Conductor")
        if action._base_seq != self._state["seq"]:
            raise StaleActionError(
                f"action {action.kind!r} was decided at step {action._base_seq}, but the interview is at "
                f"step {self._state['seq']}; decide() again"
            )
        state = copy.deepcopy(action._next_state)
        state["seq"] = self._state["seq"] + 1
        state["turn"] = self._state["turn"] + 1
        self._state = state
        self._last_committed = action

    # -- transitions (on a private copy of the state) -------------------------------------------
    def _act(
        self, s: dict[str, Any], kind: str, text: str, instr: str, *, ends: bool = False, essential: str = ""
    ) -> Action:
        qid = self.plan.questions[s["index"]].id if s["phase"] == "asking" else None
        return Action(kind=kind, text=text, instruction=instr, question_id=qid, ends_interview=ends,
                      essential=essential, _next_state=s, _base_seq=self._state["seq"])  # fmt: skip

    def _on_answer(self, s: dict[str, Any], q: Question, text: str) -> Action:
        t = assess(text, question=q)
        s["answer_words"] += t.words
        s["had_example"] = s["had_example"] or t.has_example
        s["had_outcome"] = s["had_outcome"] or t.has_outcome
        s["rubric_words"] = sorted(set(s["rubric_words"]) | t.rubric_words)
        turn = s["turn"]
        if t.words > RAMBLE_WORDS or s["answer_words"] > RAMBLE_TOTAL:
            return self._advance(s, ph.pick(ph.WRAP_UPS, turn), "wrap_up", "wrap_up")
        limit = self.plan.time_limit_minutes * 60
        if s["probes"] < MAX_PROBES and self.elapsed() < NO_PROBES_AFTER * limit:
            used = s["used"]
            if s["answer_words"] < SHORT_WORDS and "example" not in used:
                options = ph.EXAMPLE_PROBES if q.story else ph.DETAIL_PROBES
                return self._probe(s, "example", "probe_example", ph.pick(options, turn),
                                   ph.instruction("probe_example"))  # fmt: skip
            if q.story and not s["had_outcome"] and "outcome" not in used:
                return self._probe(s, "outcome", "probe_outcome", ph.pick(ph.OUTCOME_PROBES, turn),
                                   ph.instruction("probe_outcome"))  # fmt: skip
            adaptive = "harder" in used or "easier" in used
            used_words = len(s["rubric_words"])
            if not adaptive and q.harder_follow_up and s["answer_words"] >= STRONG_WORDS and used_words >= 3:
                return self._probe(s, "harder", "follow_up", q.harder_follow_up,
                                   ph.instruction("follow_up", quoted=q.harder_follow_up))  # fmt: skip
            if not adaptive and q.easier_follow_up and s["answer_words"] < STRONG_WORDS and used_words <= 1:
                return self._probe(s, "easier", "follow_up", q.easier_follow_up,
                                   ph.instruction("follow_up", quoted=q.easier_follow_up))  # fmt: skip
        return self._advance(s, ph.pick(ph.ACKS, turn), "ask", "ask")

    def _probe(self, s: dict[str, Any], name: str, kind: str, text: str, instr: str) -> Action:
        s["probes"] += 1
        s["used"] = [*s["used"], name]
        s["prompt"] = text
        s["checked_in"] = False
        return self._act(s, kind, text, instr)

    def _advance(self, s: dict[str, Any], lead: str, kind: str, instr_key: str) -> Action:
        previous = self.plan.questions[s["index"]]
        s["index"] += 1
        if s["index"] >= len(self.plan.questions):
            return self._close(s, "done", lead=lead if kind != "ask" else "")
        s.update(_fresh_question())
        q = self.plan.questions[s["index"]]
        s["prompt"] = q.text
        parts = [lead]
        if q.round != previous.round:
            parts.append(ph.ROUND_INTROS[q.round])
        elif s["index"] == len(self.plan.questions) - 1:
            parts.append("Last question.")
        parts.append(q.text)
        return self._act(s, kind, " ".join(parts), ph.instruction(instr_key, quoted=q.text), essential=q.text)

    def _close(self, s: dict[str, Any], reason: str, *, lead: str = "") -> Action:
        s["phase"] = "closed"
        s["index"] = min(s["index"], len(self.plan.questions))
        text = ph.closing(mode=self.plan.mode, reason=reason, turn=s["turn"], lead=lead)
        why = {"done": "that was the last question.", "time": "the time is up.",
               "stop": "the candidate asked to stop."}[reason]  # fmt: skip
        next_steps = ph.NEXT_STEPS.get(self.plan.mode, ph.NEXT_STEPS["recruiter"])
        return self._act(s, "close", text, ph.instruction("close", why=why, next_steps=next_steps), ends=True)

    def _over(self, s: dict[str, Any]) -> Action:
        text = "Thanks again. The interview is over, so you can hang up whenever you like."
        return self._act(s, "close", text, "The interview is over. Say a one-sentence goodbye.", ends=True)
