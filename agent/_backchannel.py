"""Backchannels: "mm-hmm", "right", a cough — sounds a listener makes while the interviewer talks.

With a short ``min_interruption_duration`` the session pauses the agent's audio as soon as the candidate
makes a sound (fast barge-in). What happens next is decided from the transcript of that sound, here:

- a real barge-in ("sorry, can I ask...") reaches the session as usual: its final transcript interrupts
  the paused reply for good and becomes the candidate's turn;
- a backchannel or a noise (no words, "[cough]", "Mm-hmm.", "okay, right") transcribed *while the agent
  holds the floor* (speaking, or paused by that very sound) is withheld from the session, so it never
  becomes a user turn and the brain never answers it, and the paused reply resumes right away from
  where it stopped (livekit's false-interruption resume, with ``PacedAudioOutput``'s pause/resume)
  instead of after the ``false_interruption_timeout``;
- the same "yeah" while the agent is silent is an answer ("Are you ready?" - "Yeah.") and passes; so does
  a "yes" that overlapped only the last moment of the agent's question (too short to pause it: the
  agent finished, the floor is the candidate's by the time the transcript arrives).

``BackchannelFilter`` sits in ``InterviewerAgent.stt_node`` (the session's transcript source) and watches
the session's user/agent state. The only livekit internal it touches is the activity's
false-interruption timer (``_start_false_interruption_timer(0)``), which is how livekit itself resumes a
paused reply; ``tests/test_agent_turns_backchannel.py`` pins that behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from livekit.agents import stt

__all__ = ["BackchannelFilter", "is_backchannel"]

logger = logging.getLogger("mockline.agent")

# Whole utterances that acknowledge without taking the floor. Matched on normalised words (lower case,
# no punctuation, hyphens split: "Mm-hmm." -> "mm hmm"); an utterance is a backchannel when it is made only
# of these phrases (so "yeah, right" and "okay okay" are too, "yeah, but why" is not). "No" is left out on
# purpose: over the agent it is usually an objection.
_PHRASE_SET = frozenset(
    p
    for line in (
        "mm|mmm|mhm|mhmm|hm|hmm|mm hmm|mmhmm|mm hm|uh huh|uhhuh|uh|um|ah|aha|oh|ooh|ah ha|oh okay|oh right",
        "yeah|yea|yep|yup|yes|ya|yeh",
        "right|alright|all right|ok|okay|kay|sure|cool|nice|great|good",
        "i see|got it|gotcha|makes sense|sounds good|fair enough|of course|exactly|true|indeed",
        "thanks|thank you",
    )
    for p in line.split("|")
)
_MAX_WORDS = 4
# Hums and fillers as the recogniser spells them, however long: "Mmmmm", "hmmm", "mhm", "uhh", "ahh", and
# any vowel-less run of hum letters ("MMs.", "shh", "nnn").
_HUM = re.compile(r"^(?:h*m+|m+h*m+|u+h+|u+m+|a+h+|o+h+|e+r+m*|h+u+h+|h+m+|[mhnsz]+)$")
# Non-speech the recogniser writes for noise: "[cough]", "(door knocks)", "*sigh*", "[BLANK_AUDIO]", "♪".
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪+")
_WORDS = re.compile(r"[a-z']+")


def _words(text: str) -> list[str]:
    return _WORDS.findall(_ANNOTATION.sub(" ", text.lower()).replace("-", " "))


# Function words carry no request on their own: with hums they make up what whisper writes for an 8 kHz
# "mm-hmm" it cannot read ("and and and and and", "and m m", a lone "you"), and a false start ("so the")
# that stops there does not take the floor either; any other word does ("no", "wait", "why").
_FUNCTION = frozenset("and the a an i you so but or to of it that this well".split())


def is_backchannel(text: str) -> bool:
    """True when ``text`` says nothing but an acknowledgement, or nothing at all (noise)."""
    words = _words(text)
    if not words:
        return True
    if sum(1 for w in words if w not in _FUNCTION and not _HUM.match(w)) > _MAX_WORDS:
        return False
    # greedy cover by known phrases, two words first ("uh huh", "thank you", "all right")
    i = 0
    while i < len(words):
        if i + 1 < len(words) and f"{words[i]} {words[i + 1]}" in _PHRASE_SET:
            i += 2
        elif words[i] in _PHRASE_SET or words[i] in _FUNCTION or _HUM.match(words[i]):
            i += 1
        else:
            return False
    return True


_TRANSCRIPTS = (
    stt.SpeechEventType.INTERIM_TRANSCRIPT,
    stt.SpeechEventType.PREFLIGHT_TRANSCRIPT,
    stt.SpeechEventType.FINAL_TRANSCRIPT,
)


class BackchannelFilter:
    """Withholds backchannel transcripts spoken over the agent and resumes its paused reply.

    ``attach(session)`` once the session runs; ``filter(events)`` wraps the STT node's event stream.
    """

    def __init__(self) -> None:
        self._session: Any = None
        self._segment_words = False  # a transcript with words passed in the recogniser's segment
        self._resume_when_silent = False
        self.dropped = 0  # backchannels withheld (for tests and metrics; never their text)

    def attach(self, session: Any) -> None:
        if self._session is session:
            return
        self._session = session
        session.on("user_state_changed", self._on_user_state)

    # -- state -------------------------------------------------------------------------------------

    def _agent_holds_floor(self) -> bool:
        """The agent is speaking, paused mid-reply, or about to speak a reply already decided."""
        session = self._session
        if session is None:
            return False
        speech = getattr(session, "current_speech", None)
        if speech is not None and not speech.interrupted and not speech.done():
            return True
        return getattr(session, "agent_state", None) == "speaking"

    def _on_user_state(self, ev: Any) -> None:
        if ev.old_state == "speaking" and self._resume_when_silent:
            self._resume_when_silent = False
            # after the session's own end-of-speech bookkeeping, which re-arms the resume timer
            asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        """Resume a reply the candidate's sound paused, now (livekit's false-interruption path)."""
        session = self._session
        activity = getattr(session, "_activity", None)
        if activity is None or getattr(activity, "_paused_speech", None) is None:
            return
        if getattr(session, "user_state", None) == "speaking":
            self._resume_when_silent = True
            return
        start = getattr(activity, "_start_false_interruption_timer", None)
        if start is not None:
            start(0.0)

    # -- the stream --------------------------------------------------------------------------------

    def _withhold(self, ev: stt.SpeechEvent) -> bool:
        if ev.type not in _TRANSCRIPTS:
            return False
        text = ev.alternatives[0].text if ev.alternatives else ""
        # an interim "yeah" of "yeah, so what I meant..." is withheld too: its final carries the words
        return is_backchannel(text) and self._agent_holds_floor()

    async def filter(
        self, events: AsyncIterable[stt.SpeechEvent | str]
    ) -> AsyncIterator[stt.SpeechEvent | str]:
        async for ev in events:
            if isinstance(ev, stt.SpeechEvent):
                if self._withhold(ev):
                    if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                        self.dropped += 1
                        logger.debug("backchannel over the agent withheld; resuming its reply")
                        self._resume()
                    continue
                if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and ev.alternatives:
                    self._segment_words = self._segment_words or bool(ev.alternatives[0].text.strip())
                elif ev.type == stt.SpeechEventType.RECOGNITION_USAGE:
                    # a streaming recogniser that reports usage per segment (ours) has now finished
                    # the segment: none of it was words (a cough, a knock) -> resume without waiting
                    # for the false-interruption timeout. (livekit's StreamAdapter reports no usage,
                    # so there the timeout applies.)
                    if not self._segment_words:
                        self._resume()
                    self._segment_words = False
            yield ev
