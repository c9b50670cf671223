"""Scripted candidate speech for tests (espeak-ng / piper), see ``_speech``; WER in ``_text``."""

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
from ._text import normalize, wer, words

__all__ = [
    "CACHE_DIR",
    "concat",
    "normalize",
    "read_wav",
    "resample",
    "rms",
    "silence",
    "speak",
    "telephone",
    "to_frames",
    "wer",
    "words",
    "write_wav",
]
