"""The session's ear for turn-taking: an input tap that times the candidate's silence, and optionally Smart
Turn, an audio end-of-turn model, combined with the context rule of ``agent/_turns.py``.

``SmartTurn(model=None)`` is the context rule alone (``MOCKLINE_AGENT_TURN_DETECTOR=text``, or ``auto``
without the ``smartturn`` extra), with the tap saying how long the candidate has been silent so the middle
wait is exact; with the extra, ``auto`` (the default) also asks the model about short turns.

The model is pipecat's Smart Turn v3.2 (BSD-2-Clause), a whisper-tiny encoder with a classifier head that
reads the last 8 s of the candidate's voice and says whether it sounds finished (intonation, lengthening,
breath) — the thing silence alone cannot tell. The 8.7 MB ONNX file ships inside the ``pipecat-ai`` wheel
(extra ``smartturn``); mockline loads only that file with onnxruntime (already installed for silero) and
computes the log-mel input with faster-whisper's feature extractor. Nothing is downloaded.

How a session uses it: ``SmartTurn.listen(audio_input)`` wraps the transport's input in a tap that keeps
the last 8 s of the candidate's audio, times their silence and notes the pauses (>= 0.6 s) they came back
from, and returns a per-session detector. At the end of speech the
detector applies the context rule (``agent._turns.decide``); only for a short complete turn it asks the
model, and P(finished) below 0.5 turns the quick wait into the answer wait.

Early listening (``smart_turn_early_s``, 0.3 s): the model's verdict was the largest server-side stage of a
short reply's response (60-100 ms quiet, up to 0.4 s loaded, after the VAD's end of speech). So when the tap
hears a short stretch of voice and then that much silence it asks the model at once, and at the end of
speech a verdict about the same silence that is sure the speaker finished (P >= 0.8) stands; anything else
is asked again there. A verdict about a pause the candidate went on from is never used (BENCHMARKS.md,
"Short replies, stage by stage").

Measured here (2 cores): 60–100 ms per prediction on one thread, 0.1 s to load. On the three LibriVox
sentences in ``tests/data`` it separates the finished sentence (P 0.74–0.98 at 16 kHz, 0.88–0.99 after 8 kHz
μ-law) from the same sentence cut at 60 % (P 0.01–0.02), see ``tests/test_smart_turn.py``. On our espeak-ng
test voices it does not (finished synthetic sentences score 0.2–0.9): robotic prosody gives it nothing to
read, which is why turn-taking is measured on the real-speech corpus (``python -m bench turn-options``,
``python -m bench turns``): there it cut the sentence pauses the context rule misses from 3/29 to 1/29
without slowing any short reply, while on its own (or holding long sentences that sound unfinished) it
cost more than it saved (BENCHMARKS.md, "Turn-taking on real speech").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.metadata
import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from livekit import rtc
from livekit.agents import llm
from livekit.agents.voice import io

from ._turns import TextTurnDetector, turn_context
from .settings import AgentSettings, TurnTuning

__all__ = ["SmartTurn", "SmartTurnModel", "TurnAudioTap", "build_turn_detector"]

logger = logging.getLogger("mockline.agent")

_MODEL_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
_RATE = 16_000
_WINDOW_S = 8
_VOICED_FLOOR = 200.0  # int16 RMS of a 20 ms frame below which it is silence whatever the speaker's level
# A frame is the candidate's voice above this share of their recent peak level (-26 dB). Real speech is
# uneven: at a tenth (-20 dB) the tap read soft stretches of the corpus's real speakers as silence (12 of up
# to 0.96 s on the phone band), so the wait could end while the candidate was still talking softly, and a
# pause looked longer than it was (meeting_chan3: 0.56 s + a soft word + 0.90 s noted as one 2.2 s pause,
# which then set a rhythm wait). At 0.05, one such stretch is left (0.7 s), and 2 of 3225 frames inside
# the corpus's pauses read as voice (a breath, which only makes the wait longer).
_VOICED_SHARE = 0.05
_MIN_PAUSE_S = 0.6  # shorter silences inside speech are not pauses the turn-taking rule learns from
_KEPT_PAUSES = 64
# Early listening (``AgentSettings.smart_turn_early_s``, 0.3 s): at that much silence after a short
# stretch of voice the model is asked at once, so its verdict is ready when the VAD reports the end of
# speech (0.6 s, phone 0.7 s) instead of ~0.1 s after it.
_SHORT_STRETCH_S = 4.0  # voice since the last long silence: a short reply's length, not an answer's
_STRETCH_GAP_S = 2.0  # a silence this long (the agent's turn, a thinking pause) starts a new stretch
# The early verdict stands only when it is this sure the speaker finished. It heard less of the pause
# than the verdict at the end of speech would (the model says finished more readily the more of the
# pause it hears), so a "finished" from it is one the later verdict gives too; anything less sure is
# asked again at the end of speech, as before.
_EARLY_TRUST = 0.8


class SmartTurnModel:
    """The ONNX model, loaded once per process; ``probability`` is thread-safe and blocking (~60 ms)."""

    def __init__(self, path: str | Path | None = None, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        path = Path(path) if path is not None else model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(path), sess_options=opts)
        self._features = FeatureExtractor(feature_size=80, chunk_length=_WINDOW_S)
        self._frames = _WINDOW_S * 100  # 10 ms hop

    def probability(self, audio: np.ndarray) -> float:
        """P(the speaker has finished) for mono float32 audio at 16 kHz (the last 8 s are used)."""
        n = _WINDOW_S * _RATE
        audio = audio[-n:] if audio.size > n else np.pad(audio, (n - audio.size, 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
        mel = self._features(audio, padding=0)[:, : self._frames].astype(np.float32)
        out = self._session.run(None, {"input_features": mel[None]})[0]
        return float(np.asarray(out).ravel()[0])


def model_path() -> Path:
    """The ONNX file inside the installed ``pipecat-ai`` wheel (found without importing pipecat)."""
    try:
        dist = importlib.metadata.distribution("pipecat-ai")
    except importlib.metadata.PackageNotFoundError as e:
        raise RuntimeError(
            "MOCKLINE_AGENT_TURN_DETECTOR=smart needs the Smart Turn model: pip install 'mockline[smartturn]'"
        ) from e
    path = Path(str(dist.locate_file(_MODEL_FILE)))
    if not path.is_file():
        raise RuntimeError(f"pipecat-ai {dist.version} does not ship {_MODEL_FILE}")
    return path


class TurnAudioTap(io.AudioInput):
    """Passes the transport's frames to the session unchanged and keeps the last 8 s for the model."""

    def __init__(self, source: io.AudioInput, *, early_s: float = 0.0) -> None:
        """``early_s``: call ``on_early_silence`` at this much silence after a short stretch of voice (0:
        never)."""
        super().__init__(label="smart-turn-tap", source=source)
        self._early_s = early_s
        self._frames: collections.deque[tuple[np.ndarray, int]] = collections.deque()
        self._samples = 0  # in 16 kHz samples
        self._lock = threading.Lock()
        self._loud = 0.0  # a slow-decaying peak of the speaker's frame level
        self._last_voiced: float | None = None  # time.monotonic() of the last voiced frame
        self._clock = 0.0  # audio seconds received
        self._last_voiced_audio: float | None = None  # audio time of the end of the last voiced frame
        # pauses the candidate came back from: (time.monotonic() when they resumed, length in audio s)
        self._resumed: collections.deque[tuple[float, float]] = collections.deque(maxlen=_KEPT_PAUSES)
        self._stretch_start: float | None = None  # audio time the current stretch of voice began
        self._early_sent = False  # on_early_silence was called for the silence in progress
        # called once per silence when it reaches _EARLY_S after a short stretch of voice (the detector's
        # early listening); it must not block
        self.on_early_silence: Any = None
        self.on_closed: Any = None  # the input ended: nothing more will be heard

    def silence_s(self) -> float:
        """Seconds since the last frame loud enough to be the candidate's voice (``_VOICED_SHARE`` of their
        recent peak level); 0 before they have said anything."""
        last = self._last_voiced
        return 0.0 if last is None else max(0.0, time.monotonic() - last)

    async def __anext__(self) -> rtc.AudioFrame:
        try:
            frame = await super().__anext__()
        except (StopAsyncIteration, asyncio.CancelledError):
            if self.on_closed is not None:
                self.on_closed()
            raise
        pcm = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            pcm = pcm.reshape(-1, frame.num_channels)[:, 0]
        level = float(np.sqrt(np.mean(np.square(pcm, dtype=np.float64)))) if pcm.size else 0.0
        self._loud = max(level, self._loud * 0.999)
        start = self._clock
        self._clock += pcm.size / frame.sample_rate
        voiced = level > max(_VOICED_FLOOR, _VOICED_SHARE * self._loud)
        if voiced:
            now = time.monotonic()
            gap = None if self._last_voiced_audio is None else start - self._last_voiced_audio
            if gap is not None and gap >= _MIN_PAUSE_S:
                self._resumed.append((now, gap))
            if gap is None or gap >= _STRETCH_GAP_S:
                self._stretch_start = start
            self._last_voiced = now
            self._last_voiced_audio = self._clock
            self._early_sent = False
        with self._lock:
            self._frames.append((pcm.copy(), frame.sample_rate))
            self._samples += pcm.size * _RATE // frame.sample_rate
            while self._samples > _WINDOW_S * _RATE and len(self._frames) > 1:
                old, rate = self._frames.popleft()
                self._samples -= old.size * _RATE // rate
        if not voiced:
            self._maybe_early()
        return frame

    def _maybe_early(self) -> None:
        last, began = self._last_voiced_audio, self._stretch_start
        if not self._early_s or self._early_sent or last is None or began is None:
            return
        if self._clock - last < self._early_s:
            return
        self._early_sent = True
        if last - began <= _SHORT_STRETCH_S and self.on_early_silence is not None:
            try:
                self.on_early_silence()
            except Exception:
                logger.exception("early listening failed")

    def silence_mark(self) -> float | None:
        """Which silence this is: the audio time of the end of the last voiced frame (None: no voice yet)."""
        return self._last_voiced_audio

    def pauses_since(self, since: float) -> tuple[float, ...]:
        """Lengths (s) of the pauses the candidate came back from after ``since`` (``time.monotonic()``)."""
        return tuple(length for at, length in list(self._resumed) if at > since)

    def recent(self) -> np.ndarray:
        """The last 8 s (or less) as float32 at 16 kHz."""
        with self._lock:
            frames = list(self._frames)
        parts: list[np.ndarray] = []
        i = 0
        while i < len(frames):  # resample each run of same-rate frames in one piece (no seams)
            rate, j = frames[i][1], i
            while j < len(frames) and frames[j][1] == rate:
                j += 1
            run = np.concatenate([pcm for pcm, _ in frames[i:j]]).astype(np.float32) / 32768.0
            parts.append(_to_16k(run, rate))
            i = j
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _to_16k(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == _RATE or x.size == 0:
        return x
    n = round(x.size * _RATE / rate)
    return np.interp(np.linspace(0, x.size - 1, n), np.arange(x.size), x).astype(np.float32)


class _SessionTurns(TextTurnDetector):
    """One session's detector: the context rule, timed by the tap, and the audio model if there is one."""

    def __init__(self, model: SmartTurnModel | None, tap: TurnAudioTap, tuning: TurnTuning | None = None):
        super().__init__(tuning=tuning, silence=tap.silence_s)
        self._model = model
        self._tap = tap
        self._turn: tuple[object, float] | None = None  # (the agent's last message, first verdict on it)
        # the model's verdict heard early in the silence in progress: (tap.silence_mark(), its task)
        self._early: tuple[float | None, asyncio.Task[float | None]] | None = None
        if model is not None:
            tap.on_early_silence = self._listen_early
            tap.on_closed = self._drop_early

    def with_tuning(self, tuning: TurnTuning) -> TextTurnDetector:
        return _SessionTurns(self._model, self._tap, tuning)

    def resumed_pauses(self, chat_ctx: llm.ChatContext) -> tuple[float, ...]:
        """The pauses the candidate came back from since the first end of speech after the agent last
        spoke: the turn in progress (the silence before it, while the agent was talking, is not one). A
        turn that continues the answer over a reply the candidate cut (``turn_context``) keeps the answer's
        pauses, and the silence the agent spoke into is one of them: the candidate came back from it."""
        key = _last_agent_item(chat_ctx)
        if self._turn is None or (self._turn[0] != key and not turn_context(chat_ctx).continues):
            self._turn = (key, time.monotonic())
        elif self._turn[0] != key:
            self._turn = (key, self._turn[1])
        return self._tap.pauses_since(self._turn[1])

    @property
    def model(self) -> str:
        return "interview-context" if self._model is None else "smart-turn-v3.2+interview-context"

    async def finished_probability(self) -> float | None:
        """P(finished) at the end of speech: the early verdict on this silence if it is sure the speaker
        finished (``_EARLY_TRUST``), otherwise the model asked now."""
        if self._model is None:
            return None
        early = self._early
        if early is not None and early[0] == self._tap.silence_mark():  # kept for a second check
            p = await early[1]
            if p is not None and p >= _EARLY_TRUST:
                logger.debug("smart turn: the early verdict stands", extra={"finished_p": round(p, 2)})
                return p
        elif early is not None:  # the candidate went on: that verdict was about another silence
            self._early = None
            early[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await early[1]
        return await self._probability(self._tap.recent())

    def _listen_early(self) -> None:
        """The tap heard a short stretch of voice and ``_EARLY_S`` of silence: ask the model now."""
        if self._early is not None:
            self._early[1].cancel()
        audio = self._tap.recent()  # what has been heard up to now, not when the task first runs
        task = asyncio.get_running_loop().create_task(self._probability(audio), name="smart-turn-early")
        self._early = (self._tap.silence_mark(), task)

    async def _probability(self, audio: np.ndarray) -> float | None:
        assert self._model is not None
        if audio.size < _RATE // 4:
            return None
        try:
            return await asyncio.to_thread(self._model.probability, audio)
        except Exception:
            logger.exception("smart turn prediction failed; using the transcript rule")
            return None

    def _drop_early(self) -> None:
        """The input ended: cancel the early verdict in progress, if any."""
        early, self._early = self._early, None
        if early is not None:
            early[1].cancel()


def _last_agent_item(chat_ctx: llm.ChatContext) -> object:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "assistant":
            return item.id
    return None


class SmartTurn(TextTurnDetector):
    """The process-wide detector the runtime holds. ``listen`` gives each session its own, which hears
    the session's input (in LiveKit rooms a ``LateAudioInput`` bound to the room's input after
    ``session.start``); on its own it is the context rule with an assumed silence. ``model=None``: no audio
    model (the default detector)."""

    def __init__(
        self, model: SmartTurnModel | Literal["load"] | None = "load", *, early_s: float = 0.0
    ) -> None:
        """``early_s``: ask the model this far into a silence after a short stretch of voice, ahead of
        the end of speech (0: only at the end of speech)."""
        super().__init__()
        self._model = SmartTurnModel() if model == "load" else model
        self._early_s = early_s

    def listen(self, audio_input: io.AudioInput) -> tuple[TurnAudioTap, Any]:
        tap = TurnAudioTap(audio_input, early_s=self._early_s if self._model is not None else 0.0)
        return tap, _SessionTurns(self._model, tap)


def build_turn_detector(settings: AgentSettings) -> Any:
    """The detector ``settings.turn_detector`` names (None: VAD silence alone)."""
    if settings.turn_detector in ("auto", "text"):
        if settings.turn_detector == "auto":
            try:
                model_path()
            except RuntimeError:
                logger.info("Smart Turn is not installed (extra smartturn): turn-taking reads text only")
            else:
                # the context rule with the audio model (~0.1 s to load)
                return SmartTurn(early_s=settings.smart_turn_early_s)
        return SmartTurn(model=None)  # the context rule; sessions call .listen(input) for silence timing
    if settings.turn_detector == "eot":
        from livekit.agents.inference.eot import TurnDetector
        from livekit.local_inference import init_eot

        init_eot()  # load the weights now (~0.2 s), not on the first turn
        return TurnDetector(version="v1-mini")
    if settings.turn_detector == "smart":
        return SmartTurn(early_s=settings.smart_turn_early_s)  # loads the model now (~0.1 s)
    if settings.turn_detector == "words":
        return TextTurnDetector(legacy=True)
    return None
