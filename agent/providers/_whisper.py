"""``WhisperSTT``: offline speech-to-text with faster-whisper, streaming through its own silero VAD.

Capabilities (as data): streaming with interim and preflight transcripts, batch ``recognize()``, no
manual flush (the stream segments audio itself; see ``_whisper_stream``).
"""

from __future__ import annotations

import uuid

from livekit.agents import stt, vad
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import AudioBuffer, is_given

from ._audio import buffer_to_float32
from ._settings import SpeechSettings, speech_settings
from ._whisper_engine import WhisperEngine
from ._whisper_stream import StreamTuning, WhisperSpeechStream

__all__ = ["CAPABILITIES", "WhisperSTT"]

CAPABILITIES = stt.STTCapabilities(
    streaming=True,
    interim_results=True,
    diarization=False,
    aligned_transcript=False,
    offline_recognize=True,
    manual_flush=False,  # the stream ends segments on its own VAD; the session need not flush it
)


class WhisperSTT(stt.STT):
    """faster-whisper behind the livekit-agents ``STT`` interface.

    Build it with ``WhisperSTT.load(settings)`` (blocking, once per process). Every session shares
    the same model; decodes run in the engine's bounded worker pool.
    """

    def __init__(self, *, engine: WhisperEngine, segmenter_vad: vad.VAD, tuning: StreamTuning,
                 beam_size: int, language: str) -> None:  # fmt: skip
        super().__init__(capabilities=CAPABILITIES)
        self._engine = engine
        self._segmenter_vad = segmenter_vad
        self._tuning = tuning
        self._beam_size = beam_size
        self._language = language
        self._context = ""

    @classmethod
    def load(cls, settings: SpeechSettings | None = None) -> WhisperSTT:
        """Load the model (shared per process) and the segmentation VAD. Blocking."""
        from livekit.plugins import silero

        settings = speech_settings(settings)
        engine = WhisperEngine.load(settings)
        # The stream's own VAD only cuts segments; it is deliberately quicker than the session's VAD
        # (turn taking) so a final transcript is ready by the time the session decides a turn ended.
        segmenter = silero.VAD.load(
            min_speech_duration=0.08,
            min_silence_duration=settings.stt_segment_silence,
            prefix_padding_duration=0.3,
            activation_threshold=settings.vad_activation_threshold,
            max_buffered_speech=settings.stt_max_segment + 2.0,
            sample_rate=16000,
        )
        tuning = StreamTuning(
            interim_interval=settings.stt_interim_interval,
            preflight_silence=settings.stt_preflight_silence,
            max_segment=settings.stt_max_segment,
        )
        return cls(engine=engine, segmenter_vad=segmenter, tuning=tuning,
                   beam_size=settings.stt_beam_size, language=settings.stt_language)  # fmt: skip

    @property
    def model(self) -> str:
        return self._engine.name

    @property
    def provider(self) -> str:
        return "faster-whisper"

    @property
    def engine(self) -> WhisperEngine:
        return self._engine

    @property
    def context(self) -> str:
        return self._context

    def set_context(self, context: str) -> None:
        """Prime every decode from now on (this STT's streams included) with ``context``: comma-separated
        terms the speaker is likely to say, most important first (``agent._vocabulary``). Set it on a
        session's own view of the shared STT (``agent._views.session_view``), not on the shared one."""
        self._context = context

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        audio = buffer_to_float32(buffer)
        result = await self._engine.transcribe(
            audio, beam_size=self._beam_size, full_window=True, context=self._context
        )
        lang = language if is_given(language) else (result.language or self._language)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=uuid.uuid4().hex[:12],
            alternatives=[
                stt.SpeechData(
                    language=LanguageCode(lang),
                    text=result.text,
                    confidence=result.confidence,
                    start_time=0.0,
                    end_time=result.audio_duration,
                )
            ],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> WhisperSpeechStream:
        return WhisperSpeechStream(
            stt=self,
            engine=self._engine,
            segmenter_vad=self._segmenter_vad,
            tuning=self._tuning,
            beam_size=self._beam_size,
            language=language if is_given(language) else self._language,
            conn_options=conn_options,
            context=lambda: self._context,  # set_context applies to streams already open
        )
