"""``EspeakTTS``: the floor when piper is absent - the ``espeak-ng`` binary in a subprocess.

Text goes in on stdin (never on the command line), WAV comes out on stdout (``--stdout``) and is streamed
to the emitter as it arrives. The output rate is probed once at ``load()`` (22.05 kHz for espeak-ng).
"""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess

from livekit.agents import tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import aio, shortuuid

from ._errors import InferenceError, ProviderConfigError, ProviderUnavailableError
from ._settings import SpeechSettings, speech_settings

__all__ = ["EspeakTTS", "parse_wav_header"]


def parse_wav_header(data: bytes) -> tuple[int, int, int] | None:
    """``(sample_rate, channels, data_offset)`` of a 16-bit PCM WAV prefix; None: more bytes needed."""
    if len(data) < 12:
        return None
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos, rate, channels = 12, 0, 0
    while len(data) >= pos + 8:
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            if not rate:
                raise ValueError("WAV data before its fmt chunk")
            return rate, channels, pos + 8
        if chunk == b"fmt ":
            if len(data) < pos + 24:
                return None
            fmt, channels, rate = struct.unpack("<HHI", data[pos + 8 : pos + 16])
            bits = struct.unpack("<H", data[pos + 22 : pos + 24])[0]
            if fmt != 1 or bits != 16:
                raise ValueError("WAV is not 16-bit PCM")
        pos += 8 + size + (size & 1)
    return None


class EspeakTTS(tts.TTS):
    def __init__(self, *, binary: str, voice: str, rate: int, sample_rate: int, frame_ms: int = 200) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate,
                         num_channels=1)  # fmt: skip
        self._binary = binary
        self._voice = voice
        self._rate = rate
        self._frame_ms = frame_ms

    @classmethod
    def load(cls, settings: SpeechSettings | None = None) -> EspeakTTS:
        """Find the binary and probe the voice and output rate (blocking, ~50 ms)."""
        s = speech_settings(settings)
        binary = shutil.which(s.tts_espeak_binary)
        if binary is None:
            raise ProviderUnavailableError(
                f"{s.tts_espeak_binary!r} is not installed (Debian/Ubuntu: apt-get install espeak-ng)"
            )
        probe = subprocess.run(
            [binary, "--stdout", "-v", s.tts_espeak_voice, "-b", "1"],
            input=b"a", capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            raise ProviderConfigError(
                f"espeak-ng cannot speak with voice {s.tts_espeak_voice!r} (MOCKLINE_TTS_ESPEAK_VOICE): "
                f"{probe.stderr.decode(errors='replace').strip()[:200]}"
            )
        header = parse_wav_header(probe.stdout)
        if header is None:
            raise ProviderUnavailableError("espeak-ng produced no WAV output")
        return cls(binary=binary, voice=s.tts_espeak_voice, rate=s.tts_espeak_rate, sample_rate=header[0],
                   frame_ms=s.tts_frame_ms)  # fmt: skip

    @property
    def model(self) -> str:
        return f"espeak-ng:{self._voice}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> EspeakChunkedStream:
        return EspeakChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class EspeakChunkedStream(tts.ChunkedStream):
    _tts: EspeakTTS

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        engine = self._tts
        output_emitter.initialize(request_id=shortuuid(), sample_rate=engine.sample_rate, num_channels=1,
                                  mime_type="audio/pcm", frame_size_ms=engine._frame_ms)  # fmt: skip
        args = [engine._binary, "--stdout", "-v", engine._voice, "-s", str(engine._rate), "-b", "1"]
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin and proc.stdout and proc.stderr
        errors = asyncio.create_task(proc.stderr.read())
        try:
            try:
                proc.stdin.write(self._input_text.encode("utf-8"))
                await proc.stdin.drain()
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass  # espeak-ng died early; its exit status below says why
            head: bytes | None = b""
            pushed = 0
            while chunk := await proc.stdout.read(8192):
                if head is not None:
                    head += chunk
                    try:
                        header = parse_wav_header(head)
                    except ValueError as e:
                        raise InferenceError(f"espeak-ng wrote unexpected output: {e}") from e
                    if header is None:
                        continue
                    rate, channels, offset = header
                    if rate != engine.sample_rate or channels != 1:
                        raise InferenceError(f"espeak-ng switched to {rate} Hz x{channels}")
                    chunk, head = head[offset:], None
                output_emitter.push(chunk)
                pushed += len(chunk)
            code = await proc.wait()
            if code != 0:
                detail = (await errors).decode(errors="replace").strip()[:200]
                raise InferenceError(f"espeak-ng exited with status {code}: {detail}")
            if pushed < 2 and self._input_text.strip():  # nothing speakable: a short pause
                output_emitter.push(b"\0\0" * (engine.sample_rate // 20))
            output_emitter.flush()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await aio.cancel_and_wait(errors)
