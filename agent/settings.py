"""Agent runtime settings (``MOCKLINE_AGENT_`` prefix).

Turn-taking values, and why (an interview is not a customer-service call). Measured with
``python -m bench v2v --stack fakes`` and ``python -m bench bargein --stack hybrid`` (BENCHMARKS.md):

- ``min_endpointing_delay`` 0.5 s (phone 0.6 s): silence after the VAD's end of speech before an answer the
  turn detector judges *finished* ("...and that's how we shipped it.") is taken as the end of the turn.
  Only complete-looking answers get it: with the default ``turn_detector`` "text" an answer that trails off
  waits ``max_endpointing_delay`` instead, so the short value answers promptly without cutting off a
  thinking candidate. Why not lower: with ``preemptive_tts`` the reply is ready ~STT + LLM + TTS after the
  end of speech (550 ms with the bench's fixed-latency fakes, 0.9 s+ with offline whisper), so a shorter
  wait buys nothing and only raises the risk of answering a pause between two finished sentences. Phone
  gets 0.1 s more: 8 kHz audio makes the VAD's end of speech less reliable. Measured (``python -m bench
  v2v --stack fakes --turns 6``): server v2v 560 ms web / 609 ms phone (was 1006 / 1105), caller 618 ms
  on the phone; the WebRTC caller hears 766 ms, ~205 ms of it the aiortc legs, not turn-taking.
- ``max_endpointing_delay`` 4.5 s (phone 4.8 s): the wait when the transcript trails off ("so the first
  thing I would... hmm"). A 2.5 s thinking pause fits inside it (``mockline simulate`` checks it).
- ``turn_detector`` "auto" (default): the context rule of ``agent/_turns.py`` with three waits: quick
  (``min_endpointing_delay``) for a short request or reply, ``answer_pause_delay`` 3.8 s (web and phone) for
  a finished sentence inside an answer (longer, ``answer_pause_rhythm`` 1.75 × the longest pause the
  candidate has already come back from in the turn, up to ``max_endpointing_delay``),
  ``max_endpointing_delay`` when the transcript trails off ("so the first thing I'd do is...", "...and",
  "um"); with the ``smartturn`` extra, a short turn that does not
  sound finished waits like an answer. Chosen on real speech (``python -m bench turn-options``, BENCHMARKS.md
  "Turn-taking on real speech"): 2.5 s keeps sentence pauses (0.8-1.5 s) and thinking pauses up to 2.5 s
  with the candidate; 1.8 s replied 0.7 s sooner but cut 5/6 of the 2-2.5 s thinking pauses. With every
  pause labelled as the whole silence heard ("Whole silences and the floor"), a fluent candidate's first
  thinking pause after a finished sentence meets this wait alone (no earlier pause for the rhythm, and
  Smart Turn scores the sentence, not the pause after it): 3.8 s keeps a 3.5 s one with > 0.25 s to spare,
  which a real transport needs; 2.8 s cut it. The cost: a fluent answer's end waits 3.8 s instead of 2.8 s
  (thinkers' ends already waited the hold; short replies are unchanged). "text" is
  the same without the audio model, "eot" livekit's local audio model (cut 16-17/29 sentence pauses),
  "words" the previous trailing-word rule (cut them all), "vad" ``min_endpointing_delay`` alone - do not
  combine it with the short 0.5 s. Either way the brain's
  ``wait`` action ("hmm, let me think") keeps the floor with the candidate.
- ``min_interruption_duration`` 0.15 s (both): how long the candidate must make sound over the agent
  before its audio *pauses*. Short, so a barge-in is heard at once (target: audio stopped at the caller
  within 250 ms p95). livekit counts it on the VAD's speech duration, which is 0 until the VAD's own
  ``min_speech_duration`` (0.10 s web / 0.15 s phone) has passed, so 0.15 s pauses the phone agent the
  moment its VAD starts speech; lower buys nothing there and ~50 ms on the web. Measured on the hybrid
  bench (``python -m bench bargein --stack hybrid``, loaded 2-core machine): 0.2 s stopped the agent
  360-390 ms (phone) / 520-540 ms (WebRTC) after the candidate started, 0.1 s 320-360 / 470-480 ms with
  more pauses on knocks and coughs, 0.15 s 300-320 / 447 ms; what is left is the VAD onset and, on the
  web, ~200 ms of aiortc transport. The price of a short value is more pauses on noise and, on a
  speakerphone, on echo the canceller leaves (``aec_warmup_s`` covers its adaptation). A pause is not
  an interruption: what was said decides (``agent/_backchannel.py``): words ("sorry, can I ask...")
  interrupt the reply for good and become the candidate's turn; a backchannel ("mm-hmm", "right",
  "okay") or a noise (cough, knock) over the agent is not a turn, and the reply resumes where it paused
  as soon as the transcript shows it (hybrid bench: 0/12 turns cut, 6/12 short pauses).
- ``early_pause_speech`` 0.032 s (both), ``early_pause_hold`` 0.5 s: every transport (phone, WebRTC,
  LiveKit rooms: ``agent/_pause_wiring.py``) pauses the agent's output on the VAD's *first* 32 ms window
  over its activation threshold while the agent speaks, without waiting for livekit's pause above
  (``agent/_early_pause.py``).
  livekit's pause needs the VAD's ``min_speech_duration`` plus one window: 160 ms (web) / 192 ms (phone)
  of audio after silero first hears the candidate; the early pause 32 ms, so 128/160 ms sooner on every
  barge-in (BENCHMARKS.md "Barge-in on real speech, broken down" and "First window"). It only holds the
  audio: if the sound stops before the VAD starts speech (a click) or livekit has not paused within
  ``early_pause_hold``, the reply goes on where it paused (a gap of ~0.1 s); otherwise livekit's pause and
  the backchannel filter decide as before. Why the first window and not the second (0.064, the previous
  value): on the seven real barge-in clips it is 32 ms sooner on every one; a higher bar on that window
  (0.7-0.9) or silero's unsmoothed probability is never sooner and often later; and on the noise the repo
  has (cough, knock, line hiss up to RMS 3000, mains hum, the clicks and breaths before real first words)
  silero never reaches 0.3, so one window pauses nothing two windows would not. In 78 s of real speech a
  lone window over the threshold happens 1-2 times (a ~64 ms gap if it fell on the agent's reply). 0 turns
  it off.
- ``early_pause_bar`` phone 0.3, web 0 (silero's own threshold): the probability that window needs (and
  that keeps the hold). On the phone 0.3 pauses a soft onset a window (32 ms) sooner (librivox's breathy
  "He", "go forward") and on the repo's noise (hiss, hum, cough, knock, clicks and breaths before first
  words), "mm-hmm", clean echo of the interviewer and 278 s of real speech it pauses no more often than
  the threshold (``python -m bench._early_pause_cost``). On the web it would also take 32 ms off
  "ten" and the breathy "He" offline, but in calls it paused on the recording's noise before jfk's first
  word (2 of 2 runs, 0 of 2 at the threshold): not adopted there (BENCHMARKS.md "Hold on the page").
- ``ignore_backchannels`` on: that filter. Off restores livekit's behaviour, where a transcribed "mm-hmm"
  over the agent commits a user turn and the reply to it cuts the agent off.
- ``min_interruption_words`` 0: livekit checks it before *pausing* as well, so any value > 0 delays the
  pause by a transcription (measured 1.3-2.3 s); the backchannel filter judges the words instead.
- ``false_interruption_timeout`` 2.0 s (phone 2.5 s): the resume for a pause that produced no transcript
  the filter could judge (a recogniser that reports nothing for noise). It must outlast the STT's final
  after the end of speech, or a real barge-in whose transcript is late resumes the agent for a moment
  before cutting it (offline whisper: ~0.9 s web, 1-2.5 s phone on 2 shared cores).
- ``preemptive_generation`` on, with ``preemptive_tts``: the brain is deterministic and cheap; the reply
  is generated *and synthesised* from the final transcript during the endpointing wait, so neither the
  LLM's first token nor the TTS's first audio sits after the end of turn. A changed transcript discards it.
- ``user_away_timeout`` 12 s: after this long of silence while the agent is listening, the interviewer
  checks in ("take your time — would a hint help?").
- VAD thresholds are the providers' concern (``agent/providers/_vad.py``).
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AgentSettings", "TurnTuning", "get_agent_settings"]


class TurnTuning(BaseSettings):
    """One set of turn-taking values (web or phone)."""

    model_config = SettingsConfigDict(extra="ignore")

    min_endpointing_delay: float = 0.5
    answer_pause_delay: float = 3.8  # clear of a first 3.5 s thinking pause by > 0.25 s (BENCHMARKS.md)
    max_endpointing_delay: float = 4.5
    # After a finished sentence inside an answer, wait at least this × the longest pause the candidate has
    # already come back from in this turn (up to max_endpointing_delay): a candidate who paused 2 s to think
    # and went on gets 3.5 s next time (agent/_turns.py ``answer_wait``; chosen in BENCHMARKS.md). 0: off.
    answer_pause_rhythm: float = 1.75
    # Without an audio tap (LiveKit rooms) the turn detector assumes the candidate has been silent this
    # long when the VAD reports the end of speech (its min_silence_duration, agent/providers/_vad.py).
    assumed_vad_silence: float = 0.6
    min_interruption_duration: float = 0.15
    # Pause our transports' output once this much audio is over the VAD's threshold while the agent
    # speaks, before livekit's own pause (agent/_early_pause.py); released if the sound stops first or
    # livekit has not taken over within early_pause_hold. 0: off. 0.032: silero's first window.
    early_pause_speech: float = 0.032
    early_pause_hold: float = 0.5
    # The probability a window needs for the early pause (and to keep holding it); 0: silero's own
    # activation threshold. Phone 0.3: a soft onset pauses a window sooner (a breathy "He", "go
    # forward") and nothing more pauses on the repo's noise, backchannels, echo or real speech; web
    # stays on the threshold (in calls 0.3 paused on the recording's noise before jfk's first word, 2 of
    # 2 runs). BENCHMARKS.md "Hold on the page"; `python -m bench._early_pause_cost`.
    early_pause_bar: float = 0.0
    min_interruption_words: int = 0
    false_interruption_timeout: float = 2.0


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCKLINE_AGENT_", extra="ignore", env_nested_delimiter="__")

    # "auto": the context rule (agent/_turns.py) with Smart Turn when the `smartturn` extra is installed;
    # "text": without it; "smart": with it, required; "eot": livekit's local audio model; "words": the
    # previous trailing-word rule; "vad": VAD silence + min delay only.
    turn_detector: Literal["auto", "text", "eot", "smart", "vad", "words"] = "auto"
    preemptive_generation: bool = True
    preemptive_tts: bool = True  # synthesise the preemptive reply too (needs preemptive_generation)
    # Smart Turn's verdict on a short reply is taken this far into the silence, ahead of the VAD's end of
    # speech, and stands if it is sure the speaker finished (agent/_smart_turn.py). 0: at the end of speech.
    smart_turn_early_s: float = 0.3
    ignore_backchannels: bool = True  # agent/_backchannel.py
    user_away_timeout: float = 12.0
    # Interruptions are ignored for the first seconds of the agent's first words while the candidate's
    # browser echo canceller adapts (livekit default 3 s). None/0 where there is no echo path (simulate,
    # tests). Browser and LiveKit-room calls only: phone calls never have it (agent/_handle.py).
    aec_warmup_s: float | None = 3.0
    # Hard cap on one interview's wall-clock length (the plan's time limit is the brain's business).
    max_session_minutes: float = 90.0
    web: TurnTuning = TurnTuning()
    phone: TurnTuning = TurnTuning(
        min_endpointing_delay=0.6,
        answer_pause_delay=3.8,
        max_endpointing_delay=4.8,
        assumed_vad_silence=0.7,
        false_interruption_timeout=2.5,
        early_pause_bar=0.3,
    )
    # Persist writes run in a worker thread; this bounds how long shutdown waits for the last ones.
    persist_drain_timeout: float = 10.0

    def tuning(self, *, telephony: bool) -> TurnTuning:
        return self.phone if telephony else self.web


@functools.lru_cache(maxsize=1)
def get_agent_settings() -> AgentSettings:
    return AgentSettings()
