"""``TurnLog``: an interview's turns and reply latencies as they are written, one per conversation item.

A candidate turn is one answer: when the agent waits (the candidate is mid-thought) the next part joins
it, and it starts when the speech that opened it began (``agent/_speech_times.py``), not at an earlier
noise. An agent turn is the text the candidate heard, with the action it carried (None when nothing was
committed). Each agent turn closes the answer it follows and records the reply's latency from the end of
the last part of that answer. Times are seconds from the interview's start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livekit.agents import llm

from ._metrics import latency_from_messages
from ._persist import InterviewWriter, MetricRecord, TurnRecord
from ._speech_times import TurnStarts
from .brain import Action

__all__ = ["TurnLog"]


class TurnLog:
    def __init__(self, *, writer: InterviewWriter, state: Callable[[], dict[str, Any] | None]) -> None:
        """``state``: the brain's state now, stored with every turn."""
        self._writer = writer
        self._state = state
        self._base = 0.0  # the interview's start (epoch seconds)
        self._seq = 1
        self._open_answer: TurnRecord | None = None  # candidate turn not yet answered by the agent
        self._answered: llm.ChatMessage | None = None  # its message, metrics merged over its parts
        self._last_final_at: float | None = None
        self._starts = TurnStarts()  # when the speech that opened each candidate turn began
        self.latencies: list[dict[str, Any]] = []

    def start(self, *, started_at: float, next_seq: int) -> None:
        """The interview (new or resumed) started at ``started_at``; its next turn is ``next_seq``."""
        self._base, self._seq = started_at, next_seq

    # -- what the session tells us between turns ---------------------------------------------------

    def final_transcript(self, at: float) -> None:
        self._last_final_at = at

    def speech_started(self, at: float) -> None:
        self._starts.speech_started(at)

    def speech_ended(self, at: float) -> None:
        self._starts.speech_ended(at)

    def words(self, *, arrived_at: float, speech_start: float | None, speech_end: float | None) -> None:
        self._starts.words(arrived_at=arrived_at, speech_start=speech_start, speech_end=speech_end)

    # -- turns ---------------------------------------------------------------------------------------

    def candidate_said(self, msg: llm.ChatMessage) -> None:
        start, end = self._spoken_span(msg)
        began = self._starts.take()  # livekit's start counts sound that never became words
        if began is not None:
            start = min(self._offset(began), end)
        text = (msg.text_content or "").strip()
        if not text:
            return
        rec = self._open_answer
        if rec is not None:  # the agent stayed silent (wait): the same answer continues
            rec.text = f"{rec.text} {text}"
            rec.ended_at = max(rec.ended_at, end)
        else:
            rec = TurnRecord(
                seq=self._next_seq(), speaker="candidate", text=text, started_at=start, ended_at=end
            )
            self._open_answer = rec
        m: dict[str, Any] = dict(msg.metrics or {})
        stopped = m.get("stopped_speaking_at")
        if not m.get("transcription_delay") and self._last_final_at and stopped:
            # the framework reports 0 when the final transcript beat its end-of-turn bookkeeping;
            # measure it ourselves: VAD end of speech -> the last final transcript of this turn
            m["transcription_delay"] = max(0.0, self._last_final_at - stopped)
        previous = dict(self._answered.metrics or {}) if self._answered is not None else {}
        # latency counts from the end of the last part of the answer
        self._answered = msg.model_copy(update={"metrics": {**previous, **m}})
        rec.state = self._state()
        self._writer.turn(rec)

    def agent_said(
        self,
        msg: llm.ChatMessage,
        *,
        action: Action | None,
        underruns: int | None = None,
    ) -> None:
        """``underruns``: the paced output's running count of underruns, stored with the latency."""
        text = (msg.text_content or "").strip()
        if not text:
            return
        start, end = self._spoken_span(msg)
        rec = TurnRecord(
            seq=self._next_seq(),
            speaker="agent",
            text=text,
            started_at=start,
            ended_at=max(start, end),
            interrupted=bool(msg.interrupted),
            question_id=action.question_id if action is not None else None,
            kind=action.kind if action is not None else None,
            state=self._state(),
        )
        self._writer.turn(rec)
        lat = latency_from_messages(msg, self._answered)
        if underruns is not None:
            lat.extra["underruns_total"] = underruns
        self.latencies.append({"seq": rec.seq, **lat.as_dict()})
        self._writer.metric(
            MetricRecord(
                seq=rec.seq,
                turn=rec,
                eou_delay_ms=lat.eou_delay_ms,
                stt_ms=lat.stt_ms,
                llm_ttft_ms=lat.llm_ttft_ms,
                tts_ttfb_ms=lat.tts_ttfb_ms,
                v2v_ms=lat.v2v_ms,
                extra=lat.extra,
            )
        )
        self._open_answer = None
        self._answered = None

    def _offset(self, t: float | None) -> float:
        return round(max(0.0, (t or 0.0) - self._base), 3)

    def _spoken_span(self, msg: llm.ChatMessage) -> tuple[float, float]:
        m = msg.metrics or {}
        return (
            self._offset(m.get("started_speaking_at") or msg.created_at),
            self._offset(m.get("stopped_speaking_at") or msg.created_at),
        )

    def _next_seq(self) -> int:
        seq, self._seq = self._seq, self._seq + 1
        return seq
