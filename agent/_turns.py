"""Turn-taking: when a candidate's silence ends their turn, and the session's ``TurnHandlingOptions``.

An interview is not a chat. A candidate in the middle of an answer pauses between sentences (0.8-1.5 s on
real speech) and to think (2-5 s) and keeps the floor; a short reply ("could you repeat that?", "I don't
know", "yes") wants a quick response. Silence alone cannot tell these apart, so ``decide`` reads the
context and returns one of three waits (seconds of silence after the end of speech):

- ``quick`` (``min_endpointing_delay``): nothing said, a short request or reply ("could you repeat
  that?", "I don't know", "yes" to a yes/no question), or a short complete reply to anything.
- ``answer`` (``answer_wait``): a complete-looking sentence inside an answer that is already long, or
  a short turn to an open question that opens like an account ("And so...", "Well, at my last job.") or
  stops on a preposition that wants its object ("We had a long discussion about", "It was like.");
  the sentence may be the last one or the next may follow after a pause, and we cannot know which, so we
  wait out ordinary sentence pauses (``answer_pause_delay``), and longer for a candidate who has already
  paused longer in this turn and gone on (``answer_pause_rhythm`` × their longest such pause, up to the
  hold): the pauses a speaker has taken are the best guess at the pauses they will take. The trade-off,
  with numbers, is in BENCHMARKS.md "Turn-taking on real speech".
- ``hold`` (``max_endpointing_delay``): the transcript trails off ("...and", "so the first thing I'd do
  is", "um", "...,"): a thinking pause.

The rule for trailing off: a word no finished English sentence ends on (conjunctions, articles,
possessives, auxiliaries, fillers). An auxiliary with final punctuation after it is finished: "...than he
was." ends the sentence, "...than he was" does not. Whisper puts a full stop after nearly every segment,
so a full stop after "and", "the" or "um" changes nothing. A short turn whose only sign of trailing off
is a comma at the end ("Seven of clubs,") is asked about the audio: whisper writes that comma after
finished short replies too (more often on browser audio than on the phone, which made short replies over
WebRTC wait the hold), so when the audio model hears a finished reply it is judged as one.

A short turn to an open question that stops on a preposition wanting its object ("about", "with", "for",
"like", ...: words a sentence can end on, so not dangling) is the first stretch of an answer, not a reply:
a real speaker on the phone said "We had a long discussion about", paused 1.29 s and went on; tiny.en
wrote it without punctuation (over WebRTC with a full stop), and Smart Turn, hearing 0.35 s or more of the
pause after it, says finished (P 0.66-0.98), so the quick wait cut them off. It gets the answer wait, full
stop or not, whatever the audio says; a question mark ("What should I talk about?") is a question to the
interviewer and keeps the quick one. The cost: a finished short reply ending that way ("None I've worked
with.") waits the answer wait.

livekit's end-of-turn machinery knows two waits (``min_delay`` when the detector says likely, ``max_delay``
when unlikely). The middle one is taken by the detector itself: it returns only when ``answer`` seconds of
silence have passed (a new start of speech cancels it), then says likely. How long the candidate has
already been silent, and the pauses they came back from in this turn, come from the session's audio tap
(``agent/_smart_turn.py``; in LiveKit rooms it is bound to the room's input once the session has made it);
without one it assumes the VAD's minimum silence, so the wait is never shorter than chosen, and knows no
pauses (the wait is ``answer_pause_delay``).

A cut-off does not end the answer. When the candidate resumes over the reply to their previous turn before
its question was heard (the reply is interrupted with no question in what played, or nothing played and
no reply is stored), their words continue that answer: ``turn_context`` judges them together with the
previous turn against the question before it (the answer wait, not a short reply's quick one), and the
session's detector keeps the rhythm's memory of the answer's pauses, the silence the agent cut into among
them (``agent/_smart_turn.py``). Without this one knife-edge cut cascaded: the continuation was a "short
complete reply" with no pauses remembered, and its next pauses were cut too (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from livekit.agents import llm
from livekit.agents.voice.turn import TurnHandlingOptions

from .settings import AgentSettings, TurnTuning

logger = logging.getLogger("mockline.agent")

__all__ = [
    "TextTurnDetector",
    "TurnContext",
    "TurnVerdict",
    "answer_wait",
    "decide",
    "end_of_turn_probability",
    "expects_long_answer",
    "judge",
    "last_agent_text",
    "last_user_text",
    "needs_audio",
    "turn_context",
    "turn_handling",
    "wants_object",
]

# Words a finished English sentence almost never ends on (conjunctions, articles, possessives, a few
# prepositions and auxiliaries, fillers); words that often end sentences ("it", "that", "with", "do") are
# left out on purpose. Whisper also writes a trailing "..." or "," when speech stops mid-phrase.
_DANGLING = frozenset(
    """
    and or but because although though whereas if than whether
    the a an my our your their
    to of into between
    is are was were am would could should will must
    um uh er erm hmm
    """.split()
)
# Whisper ends almost every segment with a full stop, finished or not, so a full stop only rescues the
# words a sentence *can* end on: "...than he was.", "I think it would." A full stop after "the", "and" or
# "um" is whisper's, not the candidate's.
_ENDS_WITH_STOP = frozenset("is are was were am would could should will must".split())
# Prepositions that want an object: a sentence can end on them ("what it was about"), so they do not trail
# off, but a short turn to an open question that stops on one is an answer's first stretch, full stop or
# not. Particles that end phrasal verbs ("in", "on", "up", "out", "by", "through") are left out.
_WANTS_OBJECT = frozenset(
    """
    about with for from at like as including during regarding toward towards onto upon via among within
    despite versus
    """.split()
)
_QUESTION_MARK = re.compile(r"\?\s*$")
_TRAILING = re.compile(r"(\.\.\.|…|,|-|—|:)\s*$")
_COMMA = re.compile(r"(?<![.,]),\s*$")
_FINAL = re.compile(r"[.!?]\s*$")
_WORD = re.compile(r"[a-z']+")

# Short turns that ask for something and want an answer at once, whatever was asked before.
_REQUESTS = re.compile(
    r"\b(repeat|say (that|it) again|come again|pardon|didn'?t (catch|hear|get)|what do you mean|"
    r"(don'?t|do not) (know|understand)|no idea|not sure|can'?t (think|remember)|skip|next question|"
    r"move on|a hint|(can|could) we stop|stop (the|this) interview|clarify|rephrase|what was the question)\b"
)
# A short turn to an open question that opens like an account ("And so...", "Well, at my last job.",
# "Okay.") is the start of an answer, not a reply: it gets the answer wait, not the quick one.
_PREFACE = re.compile(
    r"^\W*(and|so|well|okay|ok|alright|right|first|firstly|basically|let me|to (start|begin))\b"
)
_SHORT_WORDS = 6  # a complete reply this short gets a quick response
_LONG_WORDS = 9  # from here on a turn is an answer in progress

# The agent's last sentence asks for a yes/no or one-word reply ("Would it help if I repeated it?", "Are
# you still there?"), not for an account ("Could you walk me through...", "Tell me about...").
_OPEN_VERBS = re.compile(
    r"\b(tell|describe|walk|explain|expand|give|go into|say more|talk|share|elaborate|think of)\b"
)
_YES_NO = re.compile(r"^(would|could|can|do|does|did|are|is|was|were|have|has|had|shall|should|will|may)\b")
_WH = re.compile(r"\b(what|how|why|when|which|where|who)\b")


@dataclass(frozen=True)
class TurnContext:
    """What a turn decision reads from the conversation: the agent's question, the candidate's answer so
    far, and whether that answer continues over a reply the candidate cut before its question."""

    question: str
    answer: str
    continues: bool = False
    latest: str = ""  # the candidate's last message alone (the answer, unless it continues)


def turn_context(chat_ctx: llm.ChatContext) -> TurnContext:
    """The question and the answer in progress. The candidate's last message is the answer, unless the
    message before it is theirs too (a reply to it was cut before anything played) or is the agent's reply
    to their previous message, interrupted before a question was heard: then the candidate resumed their
    answer, and it is joined to the previous message, back to the last question they heard."""
    msgs = [m for m in chat_ctx.items if isinstance(m, llm.ChatMessage) and m.role in ("user", "assistant")]
    if not msgs or msgs[-1].role != "user":
        answer = last_user_text(chat_ctx)
        return TurnContext(last_agent_text(chat_ctx), answer, latest=answer)
    parts = [msgs[-1].text_content or ""]
    i = len(msgs) - 2
    while i >= 0:
        m = msgs[i]
        if m.role == "user":  # a reply to it was cut before it played
            parts.append(m.text_content or "")
            i -= 1
        elif _cut_before_question(m) and i >= 1 and msgs[i - 1].role == "user":
            i -= 1  # the reply the candidate spoke over; the answer goes on before it
        else:
            break
    question = msgs[i].text_content or "" if i >= 0 else ""
    answer = " ".join(p.strip() for p in reversed(parts) if p.strip())
    return TurnContext(question, answer, continues=len(parts) > 1, latest=parts[0])


def _cut_before_question(message: llm.ChatMessage) -> bool:
    """An agent reply the candidate interrupted before a question in it was heard (its text is what
    played: "Thank you.", "Got")."""
    return bool(message.interrupted) and "?" not in (message.text_content or "")


def end_of_turn_probability(text: str) -> float:
    """0.1 when the utterance trails off, 0.9 when it could be a finished answer."""
    return 0.1 if trails_off(text) else 0.9


def needs_audio(answer: str) -> bool:
    """Whether ``decide`` would use an audio model's verdict on ``answer``: a short turn that looks
    complete, or does but for a comma at its end."""
    short = 0 < len(_WORD.findall(answer.lower())) <= _SHORT_WORDS
    return short and (not trails_off(answer) or only_a_comma(answer))


def only_a_comma(text: str) -> bool:
    """``text`` trails off only by the comma at its end ("Seven of clubs,", not "and the," or "um,")."""
    text = text.strip()
    return bool(_COMMA.search(text)) and not trails_off(text[:-1])


def trails_off(text: str) -> bool:
    text = text.strip()
    if not text:
        return False
    if _TRAILING.search(text):
        return True
    words = _WORD.findall(text.lower())
    if not words:
        return False
    if words[-1] not in _DANGLING:
        return False
    return not (words[-1] in _ENDS_WITH_STOP and _FINAL.search(text))


def wants_object(text: str) -> bool:
    """``text`` stops on a preposition that wants its object ("...a long discussion about", "about.",
    "about,"), and is not a question ("What should I talk about?")."""
    words = _WORD.findall(text.lower())
    return bool(words) and words[-1] in _WANTS_OBJECT and not _QUESTION_MARK.search(text)


def expects_long_answer(question: str) -> bool:
    """Whether the agent's last words ask for an account (an open question) rather than a short reply."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s.strip()]
    asks = [s for s in sentences if s.endswith("?")] or sentences[-1:]
    if not asks:
        return True  # the first turn of a call, or nothing heard: assume an answer
    last = asks[-1].lower()
    if _OPEN_VERBS.search(last):
        return True
    if _YES_NO.match(last) and not _WH.search(last):
        return False
    return True


def answer_wait(
    tuning: TurnTuning, *, resumed: tuple[float, ...] | list[float] = (), factor: float | None = None
) -> float:
    """The silence that ends a turn after a finished sentence inside an answer: ``answer_pause_delay``, or
    ``factor`` (``answer_pause_rhythm``) × the longest pause the candidate has already come back from in
    this turn (``resumed``, seconds) if that is longer, up to ``max_endpointing_delay``. A candidate who
    stopped 2 s to think and went on will likely do it again, and a fluent one is not made to wait for it."""
    factor = tuning.answer_pause_rhythm if factor is None else factor
    longest = max(resumed, default=0.0)
    return max(tuning.answer_pause_delay, min(tuning.max_endpointing_delay, factor * longest))


Wait = Literal["quick", "answer", "hold"]


@dataclass(frozen=True)
class TurnVerdict:
    wait: Wait
    reason: str  # fixed text, safe to log (no candidate words)

    def seconds(self, tuning: TurnTuning) -> float:
        return {
            "quick": tuning.min_endpointing_delay,
            "answer": tuning.answer_pause_delay,
            "hold": tuning.max_endpointing_delay,
        }[self.wait]


def decide(
    *, question: str, answer: str, finished: float | None = None, prefaces: bool = True
) -> TurnVerdict:
    """How long a silence after ``answer`` (the candidate's turn so far) ends the turn.

    ``question``: the agent's last words. ``finished``: an audio model's P(the speaker has finished), if
    one listened (``agent/_smart_turn.py``); it is asked only about short turns (``needs_audio``): a short
    turn that does not sound finished ("I worked at a bank" and a breath) gets the answer wait instead of
    the quick one, and one that does is not held for the comma whisper wrote at its end. Longer turns
    are judged on the transcript alone: on the real-speech corpus, holding a long sentence that sounded
    unfinished saved one thinking pause in ten and made real speakers' finished answers wait the long
    delay (BENCHMARKS.md)."""
    text = answer.strip()
    words = _WORD.findall(text.lower())
    if not words:
        return TurnVerdict("quick", "nothing said")
    if trails_off(text):
        heard_finished = finished is not None and finished >= 0.5
        if not (heard_finished and needs_audio(text)):  # here: short, and only a comma trails off
            return TurnVerdict("hold", "trails off")
        text = text.rstrip()[:-1]  # whisper's comma on a reply that sounds finished: judge the words
    if len(words) < _LONG_WORDS and _REQUESTS.search(text.lower()):
        return TurnVerdict("quick", "short request")
    if not expects_long_answer(question) and len(words) < _LONG_WORDS:
        return TurnVerdict("quick", "short reply to a yes/no question")
    if len(words) <= _SHORT_WORDS:
        if prefaces and _PREFACE.match(text.lower()):  # (the question is open: yes/no returned above)
            return TurnVerdict("answer", "the start of an answer")
        if wants_object(text):  # whatever the audio says: Smart Turn hears the pause as an end
            return TurnVerdict("answer", "short, stops on a preposition")
        if finished is not None and finished < 0.5:
            return TurnVerdict("answer", "short, but does not sound finished")
        return TurnVerdict("quick", "short complete reply")
    return TurnVerdict("answer", "complete sentence inside an answer")


def judge(turn: TurnContext, *, finished: float | None = None) -> TurnVerdict:
    """``decide`` on the answer in progress; a turn that continues an answer is judged as that answer
    (its word count, the question before the cut), except a short request on its own ("sorry, could you
    repeat that?"), which still gets the quick response."""
    verdict = decide(question=turn.question, answer=turn.answer, finished=finished)
    if turn.continues and verdict.wait == "answer":
        own = decide(question=turn.question, answer=turn.latest)
        if own.reason == "short request":
            return own
    return verdict


class TextTurnDetector:
    """A livekit turn detector (``_TurnDetector`` protocol) over the conversation's text: the candidate's
    turn so far and the agent's last words. ``silence`` says how long the candidate has been silent
    (seconds); without it the VAD's minimum silence is assumed."""

    def __init__(
        self,
        *,
        tuning: TurnTuning | None = None,
        silence: Callable[[], float] | None = None,
        unlikely: float = 0.5,
        legacy: bool = False,
    ) -> None:
        self._tuning = tuning or TurnTuning()
        self._silence = silence
        self._unlikely = unlikely
        self._legacy = legacy  # the previous rule: trailing off → max delay, anything else → min delay

    def with_tuning(self, tuning: TurnTuning) -> TextTurnDetector:
        return TextTurnDetector(
            tuning=tuning, silence=self._silence, unlikely=self._unlikely, legacy=self._legacy
        )

    @property
    def model(self) -> str:
        return "interview-context"

    @property
    def provider(self) -> str:
        return "mockline"

    async def unlikely_threshold(self, language: Any) -> float | None:
        return self._unlikely

    async def supports_language(self, language: Any) -> bool:
        return language is None or str(language).lower().startswith("en")

    async def finished_probability(self) -> float | None:
        """An audio model's P(finished) for the candidate's last words (None: no model)."""
        return None

    def resumed_pauses(self, chat_ctx: llm.ChatContext) -> tuple[float, ...]:
        """The pauses (seconds) the candidate has come back from in this turn (none known: no audio tap)."""
        return ()

    async def predict_end_of_turn(
        self,
        chat_ctx: llm.ChatContext,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (protocol)
    ) -> float:
        if self._legacy:
            return end_of_turn_probability(last_user_text(chat_ctx))
        turn = turn_context(chat_ctx)
        answer = turn.answer
        resumed = self.resumed_pauses(chat_ctx)  # asked at every end of speech: it marks the turn's start
        finished = None
        asked = time.perf_counter()
        if needs_audio(answer):
            finished = await self.finished_probability()
        audio_ms = round(1000.0 * (time.perf_counter() - asked))
        verdict = judge(turn, finished=finished)
        silent = self._silence() if self._silence is not None else self._tuning.assumed_vad_silence
        logger.debug(
            "end of turn verdict",
            extra={
                "wait": verdict.wait,
                "reason": verdict.reason,
                "silent_s": round(silent, 2),
                "continues": turn.continues,
                "finished_p": None if finished is None else round(finished, 2),
                "audio_ms": audio_ms,  # waiting for the audio model's verdict
            },
        )
        if verdict.wait == "hold":
            return 0.1
        if verdict.wait == "answer":
            wait = answer_wait(self._tuning, resumed=resumed)
            logger.debug("answer wait", extra={"wait_s": round(wait, 2)})
            # livekit has no middle wait: take it here (a start of speech cancels this task)
            await asyncio.sleep(max(0.0, wait - silent))
            if self._silence is not None:
                await self._until_silent(wait)
        return 0.9

    async def _until_silent(self, wait: float) -> None:
        """Wait on while the tap has heard the candidate again within ``wait``: they resumed, and the VAD
        (behind real time on a loaded machine) has not said so yet; its start of speech will cancel this.
        Bounded by the hold, so a noisy line that the tap takes for voice cannot keep the turn open."""
        assert self._silence is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._tuning.max_endpointing_delay
        while (left := wait - self._silence()) > 0 and loop.time() < deadline:  # noqa: ASYNC110 (a clock)
            await asyncio.sleep(min(left, deadline - loop.time()))


def last_user_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return item.text_content or ""
    return ""


def last_agent_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "assistant":
            return item.text_content or ""
    return ""


def turn_handling(
    settings: AgentSettings, *, telephony: bool, turn_detector: Any = None
) -> TurnHandlingOptions:
    """The session's turn-taking options; values and reasons are in ``agent.settings``."""
    t = settings.tuning(telephony=telephony)
    if isinstance(turn_detector, TextTurnDetector):
        turn_detector = turn_detector.with_tuning(t)  # the answer wait of this transport
    return TurnHandlingOptions(
        turn_detection=turn_detector if turn_detector is not None else "vad",
        endpointing={
            "mode": "fixed",
            "min_delay": t.min_endpointing_delay,
            "max_delay": t.max_endpointing_delay,
        },
        interruption={
            "enabled": True,
            "mode": "vad",
            "min_duration": t.min_interruption_duration,
            "min_words": t.min_interruption_words,
            "false_interruption_timeout": t.false_interruption_timeout,
            "resume_false_interruption": True,
        },
        preemptive_generation={
            "enabled": settings.preemptive_generation,
            "preemptive_tts": settings.preemptive_generation and settings.preemptive_tts,
        },
    )
