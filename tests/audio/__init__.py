"""Scripted candidate speech for tests (espeak-ng / piper), see ``_speech``."""

from ._speech import (
    CACHE_DIR,
    concat,
    read_wav,
    resample,
    rms,
    silence,
    speak,
    telephone,
    to_frames,
    write_wav,
)

__all__ = [
    "CACHE_DIR",
    "concat",
    "read_wav",
    "resample",
    "rms",
    "silence",
    "speak",
    "telephone",
    "to_frames",
    "write_wav",
]
