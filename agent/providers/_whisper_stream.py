"""The streaming side of ``WhisperSTT``: VAD-segmented decoding with interim, preflight and final results.

Audio arrives resampled to 16 kHz (the base class resamples 8 kHz phone or 48 kHz WebRTC audio) and goes
through the STT's own silero VAD stream, which only cuts *segments*; turn-taking stays with the session.

Per segment the stream emits::

    START_OF_SPEECH
    INTERIM_TRANSCRIPT*     every ``interim_interval`` s of new speech, greedy, skipped while decodes queue
    PREFLIGHT_TRANSCRIPT    as soon as a pause of ``preflight_silence`` starts (lets the LLM start early)
    FINAL_TRANSCRIPT        once, when the pause reaches the segment silence
    END_OF_SPEECH, RECOGNITION_USAGE

Decoding is incremental so the final is ready soon after the candidate stops. Every pause starts a
preflight decode of the segment so far, with the text already *agreed* forced as the decoder's prefix,
so the beam search only covers the words after it while the encoder still hears the whole answer. If
the candidate goes on talking and the tail since the previous kept pause was at least ``min_piece``
long, that decode is kept as a *piece*: the leading words it shares with the previous piece's reading
become agreed (LocalAgreement-2: two successive decodes read them the same); a shorter tail's decode is
dropped (cancelled if no worker picked it up yet). The final reuses the last preflight when nothing was
said after it (no second decode), otherwise it decodes once more with the agreed prefix; either way the
end of the turn waits for one decode whose search covers only the last pause or two.

Preflight and final decodes run before interim ones in the engine's process-wide queue (see
``_whisper_engine``). An interim that finishes after a pause began is dropped, so events keep the order
above. Every background task is owned by the stream and cancelled when it closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
from livekit.agents import stt, vad
from livekit.agents.language import LanguageCode
from livekit.agents.types import APIConnectOptions
from livekit.agents.utils import aio

from ._audio import WHISPER_RATE, int16_to_float32
from ._whisper_engine import Priority, Transcript, WhisperEngine, quietest

__all__ = ["StreamTuning", "WhisperSpeechStream"]

logger = logging.getLogger("mockline.agent.providers")
_R = TypeVar("_R")
_CUT_SEARCH = 6.0  # s: a segment too long to go on is cut at the quietest moment of its last seconds
# words of a cut segment's text priming the next: one or two sentences. Its whole text (96 tokens) made
# tiny.en stop early on the utterance-length window when the speaker repeated themselves (a 28 s segment
# read as its first 17 s); 40 words did not
_CARRY_WORDS = 32


@dataclass(frozen=True, slots=True)
class StreamTuning:
    interim_interval: float = 1.0
    preflight_silence: float = 0.2
    max_segment: float = 28.0
    min_piece: float = 1.5  # shortest tail kept as a finished piece when speech resumes after a pause


@dataclass(frozen=True, slots=True)
class _Reading:
    """The segment read up to some point: ``committed`` is forced into the next decode."""

    committed: str  # words two successive decodes agreed on (LocalAgreement-2)
    pending: str  # the rest of this decode, committed if the next decode reads it the same
    result: Transcript  # the whole text so far: committed + this decode's words


@dataclass(slots=True)
class _Piece:
    start: int  # samples into the segment
    end: int
    decode: asyncio.Task[_Reading | None]


@dataclass(slots=True)
class _Segment:
    start_sample: int  # since the stream started, 16 kHz
    chunks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    tail_start: int = 0  # samples into the segment where the undecided audio begins
    pieces: list[_Piece] = field(default_factory=list)
    interim_at: int = 0  # samples covered when the last interim decode started
    in_pause: bool = False
    pause_id: int = 0
    preflight: _Piece | None = None  # the decode of the tail, started at the current pause
    closed: bool = False

    def append(self, data: bytes | memoryview) -> None:
        chunk = np.frombuffer(data, dtype=np.int16).copy()
        self.chunks.append(chunk)
        self.samples += chunk.size

    def split(self, at: int) -> np.ndarray:
        """Keep the first ``at`` samples; return the rest (int16) for the next segment."""
        whole = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        self.chunks, self.samples = [whole[:at]], min(at, whole.size)
        return whole[at:]

    def audio(self, start: int = 0, end: int | None = None) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, np.float32)
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
        return int16_to_float32(self.chunks[0][start:end])


class WhisperSpeechStream(stt.RecognizeStream):
    def __init__(self, *, stt: stt.STT, engine: WhisperEngine, segmenter_vad: vad.VAD,
                 tuning: StreamTuning, beam_size: int, language: str,
                 conn_options: APIConnectOptions, context: Callable[[], str] = str) -> None:  # fmt: skip
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=WHISPER_RATE)
        self._vocabulary = context  # the vocabulary priming every decode, asked afresh each time
        self._engine = engine
        self._segmenter_vad = segmenter_vad
        self._tuning = tuning
        self._beam_size = beam_size
        self._language = language
        self._request_id = uuid.uuid4().hex[:12]
        self._segment: _Segment | None = None
        self._interim_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pushed = 0  # samples pushed into segmentation so far
        self._previous = ""  # text of the segment this one continues (cut at max_segment mid-speech)

    async def _run(self) -> None:
        try:
            while not await self._run_epoch():
                pass
        finally:
            if self._tasks:
                await aio.cancel_and_wait(*self._tasks)

    async def _run_epoch(self) -> bool:
        """Feed one VAD stream until a flush (False) or the end of input (True)."""
        vad_stream = self._segmenter_vad.stream()
        consumer = asyncio.create_task(self._consume(vad_stream, self._pushed), name="whisper-segmenter")
        ended = True
        try:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    ended = False
                    break
                vad_stream.push_frame(item)
                self._pushed += item.samples_per_channel
            vad_stream.end_input()
            await consumer
        finally:
            await aio.cancel_and_wait(consumer)
            await vad_stream.aclose()
        return ended

    async def _consume(self, vad_stream: vad.VADStream, offset: int) -> None:
        max_samples = int(self._tuning.max_segment * WHISPER_RATE)
        async for ev in vad_stream:
            seg = self._segment
            if ev.type == vad.VADEventType.START_OF_SPEECH:
                self._open_segment(ev, offset)
            elif ev.type == vad.VADEventType.INFERENCE_DONE and seg is not None:
                self._on_inference(seg, ev)
                if seg.samples >= max_samples:  # keep every decode inside whisper's 30 s window
                    await self._cut(seg)
            elif ev.type == vad.VADEventType.END_OF_SPEECH and seg is not None:
                await self._finalize(seg, trailing_silence=ev.silence_duration, end_of_speech=True)
        if self._segment is not None:  # input ended or flushed mid-speech
            await self._finalize(self._segment, trailing_silence=0.0, end_of_speech=True)

    async def _cut(self, seg: _Segment) -> None:
        """A segment at ``max_segment`` without a pause: end it at the quietest gap between words of its
        last seconds (after its last kept piece, whose words are already agreed) and go on with the rest
        as a new segment whose decodes are primed with this one's text, so no word is cut in two."""
        at = seg.samples
        lo = max(seg.tail_start, seg.samples - int(_CUT_SEARCH * WHISPER_RATE))
        if not seg.in_pause and seg.samples - lo >= WHISPER_RATE // 2:
            at = quietest(seg.audio(), lo, seg.samples - WHISPER_RATE // 10)
        rest = seg.split(at)
        reading = await self._finalize(seg, trailing_silence=0.0)
        self._previous = " ".join(reading.result.text.split()[-_CARRY_WORDS:]) if reading is not None else ""
        nxt = _Segment(start_sample=seg.start_sample + at)
        if rest.size:
            nxt.append(rest.tobytes())
        self._segment = nxt

    def _open_segment(self, ev: vad.VADEvent, offset: int) -> None:
        seg = _Segment(start_sample=0)
        for frame in ev.frames:
            seg.append(frame.data)
        seg.start_sample = max(0, offset + ev.samples_index - seg.samples)
        self._segment = seg
        self._previous = ""  # a new answer after a pause: nothing to carry
        self._send(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH, request_id=self._request_id,
                                   speech_start_time=time.time() - ev.speech_duration))  # fmt: skip

    def _on_inference(self, seg: _Segment, ev: vad.VADEvent) -> None:
        for frame in ev.frames:
            seg.append(frame.data)
        if ev.raw_accumulated_silence >= self._tuning.preflight_silence:
            if not seg.in_pause:
                seg.in_pause = True
                seg.pause_id += 1
                if self._interim_task is not None:
                    self._interim_task.cancel()  # superseded by the preflight; frees the queue if pending
                if seg.preflight is None:
                    start, end = seg.tail_start, seg.samples
                    before = list(seg.pieces)
                    audio = seg.audio(0, end)  # the whole answer so far: the pieces' text is forced
                    decode = self._spawn(self._preflight(seg, seg.pause_id, before, audio))
                    seg.preflight = _Piece(start, end, decode)
            return
        if ev.raw_accumulated_silence == 0.0:
            if seg.in_pause:
                seg.in_pause = False
                self._resume(seg)
            idle = self._interim_task is None or self._interim_task.done()
            new_audio = seg.samples - seg.interim_at
            if idle and not self._engine.busy and new_audio >= self._tuning.interim_interval * WHISPER_RATE:
                seg.interim_at = seg.samples
                self._interim_task = self._spawn(
                    self._interim(seg, list(seg.pieces), seg.tail_start, seg.audio())
                )

    def _resume(self, seg: _Segment) -> None:
        """Speech after a pause: keep the tail's preflight as a finished piece, or drop it if short."""
        piece, seg.preflight = seg.preflight, None
        if piece is None:
            return
        if piece.end - piece.start >= self._tuning.min_piece * WHISPER_RATE:
            seg.pieces.append(piece)
            seg.tail_start = piece.end
        else:
            piece.decode.cancel()  # undecoded if no worker picked it up yet

    def _spawn(self, coro: Coroutine[Any, Any, _R]) -> asyncio.Task[_R]:
        task = asyncio.create_task(coro, name="whisper-decode")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _reading(self, pieces: list[_Piece]) -> _Reading | None:
        """The reading of the last of ``pieces`` that decoded (each covers the segment up to its end)."""
        for piece in reversed(pieces):
            reading = await asyncio.shield(piece.decode)  # a cancelled reader must not cancel the piece
            if reading is not None:
                return reading
        return None

    async def _read(self, audio: np.ndarray, before: _Reading | None, *, beam_size: int,
                    priority: Priority = Priority.FINAL) -> _Reading:  # fmt: skip
        """Decode the segment's audio so far with the agreed text forced; agree on more of it."""
        committed = before.committed if before is not None else ""
        result = await self._engine.transcribe(
            audio,
            beam_size=beam_size,
            priority=priority,
            prefix=committed,
            context=self._vocabulary(),
            previous=self._previous,
        )
        agreed, pending = _agree(before.pending if before is not None else "", result.text)
        whole = replace(result, text=_cat(committed, result.text), audio_duration=audio.size / WHISPER_RATE)
        return _Reading(committed=_cat(committed, agreed), pending=pending, result=whole)

    async def _interim(self, seg: _Segment, before: list[_Piece], tail_start: int, audio: np.ndarray) -> None:
        try:
            reading = await self._read(
                audio, await self._reading(before), beam_size=1, priority=Priority.INTERIM
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("interim decode failed; waiting for the final", exc_info=True)
            return
        # a pause (preflight) or the final supersedes it: never emit an interim after them
        if reading.result.text and not seg.closed and not seg.in_pause and seg.tail_start == tail_start:
            self._send(self._transcript_event(stt.SpeechEventType.INTERIM_TRANSCRIPT, seg, reading.result))

    async def _preflight(self, seg: _Segment, pause_id: int, before: list[_Piece],
                         audio: np.ndarray) -> _Reading | None:  # fmt: skip
        """Read the segment up to this pause; emit a preflight if the pause still goes on."""
        try:
            reading = await self._read(audio, await self._reading(before), beam_size=self._beam_size)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("preflight decode failed; the final will decode again", exc_info=True)
            return None
        if reading.result.text and not seg.closed and seg.in_pause and seg.pause_id == pause_id:
            self._send(self._transcript_event(stt.SpeechEventType.PREFLIGHT_TRANSCRIPT, seg, reading.result))
        return reading

    async def _finalize(self, seg: _Segment, *, trailing_silence: float,
                        end_of_speech: bool = False) -> _Reading | None:  # fmt: skip
        reading: _Reading | None = None
        if seg.preflight is not None and seg.in_pause:
            reading = await seg.preflight.decode  # nothing was said after the preflight snapshot: reuse it
        if reading is None and seg.samples:
            before = await self._reading(seg.pieces)
            reading = await self._read(seg.audio(), before, beam_size=self._beam_size)
        seg.closed = True
        self._segment = None
        if reading is not None and reading.result.text:
            spoken = max(0.0, seg.samples / WHISPER_RATE - trailing_silence)
            self._send(self._transcript_event(stt.SpeechEventType.FINAL_TRANSCRIPT, seg, reading.result,
                                              speech_duration=spoken))  # fmt: skip
        if end_of_speech:
            self._send(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH, request_id=self._request_id,
                                       speech_end_time=time.time() - trailing_silence))  # fmt: skip
        if seg.samples:
            usage = stt.RecognitionUsage(audio_duration=seg.samples / WHISPER_RATE)
            self._send(stt.SpeechEvent(type=stt.SpeechEventType.RECOGNITION_USAGE,
                                       request_id=self._request_id, recognition_usage=usage))  # fmt: skip
        return reading

    def _transcript_event(self, kind: stt.SpeechEventType, seg: _Segment, result: Transcript, *,
                          speech_duration: float | None = None) -> stt.SpeechEvent:  # fmt: skip
        start = self.start_time_offset + seg.start_sample / WHISPER_RATE
        end = start + (result.audio_duration if speech_duration is None else speech_duration)
        data = stt.SpeechData(language=LanguageCode(result.language or self._language), text=result.text,
                              confidence=result.confidence, start_time=start, end_time=end)  # fmt: skip
        return stt.SpeechEvent(type=kind, request_id=self._request_id, alternatives=[data])

    def _send(self, event: stt.SpeechEvent) -> None:
        self._event_ch.send_nowait(event)


def _words(text: str) -> list[str]:
    return ["".join(c for c in w.lower() if c.isalnum()) for w in text.split()]


def _agree(previous: str, current: str) -> tuple[str, str]:
    """Split ``current`` into the leading words ``previous`` also read, and the rest."""
    a, b = _words(previous), _words(current)
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n] and a[n]:
        n += 1
    words = current.split()
    return " ".join(words[:n]), " ".join(words[n:])


def _cat(a: str, b: str) -> str:
    return f"{a} {b}".strip()
