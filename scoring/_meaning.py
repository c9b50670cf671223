"""Sentence meaning for the offline scorer: static word embeddings whose weights ship inside a PyPI wheel.

``wordllama`` (MIT) carries a 16 MB token-embedding table (256 dimensions, 32k tokens) and its tokenizer in
the wheel; an embedding is the average of its tokens' vectors, so embedding a sentence takes microseconds
and needs no torch and no network. Its own ``WordLlama.load()`` looks for the tokenizer in a folder the wheel
does not use and then tries to download it, so we build the inference object from the two packaged files with
its public classes. Loading takes about a second, once per process.

Without wordllama installed, ``Meaning`` falls back to word overlap (stems, stopwords dropped): every scorer
still works and says which measure it used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._text import content_stems

__all__ = ["Meaning", "get_meaning"]

logger = logging.getLogger("mockline.scoring")

_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")


def _load_wordllama() -> Any | None:
    try:
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama import WordLlamaInference
    except ImportError:
        return None
    root = Path(wordllama.__file__).parent
    tok_path, w_path = root.joinpath(*_TOKENIZER), root.joinpath(*_WEIGHTS)
    if not (tok_path.exists() and w_path.exists()):
        logger.warning("wordllama is installed without its packaged model files; using word overlap")
        return None
    tokenizer = Tokenizer.from_file(str(tok_path))
    with safe_open(str(w_path), framework="np", device="cpu") as f:
        table = f.get_tensor("embedding.weight")
    return WordLlamaInference(table, tokenizer, binary=False)


class Meaning:
    """Similarity of short texts in [0, 1]: cosine of wordllama embeddings, or stem overlap without it."""

    def __init__(self, model: Any | None) -> None:
        self._model = model
        self.method = "wordllama-l2-supercat-256" if model is not None else "word-overlap"

    def similarity(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """``len(a) x len(b)`` similarities, negative cosines clipped to 0."""
        if not a or not b:
            return np.zeros((len(a), len(b)))
        if self._model is not None:
            ea = np.asarray(self._model.embed(list(a), norm=True), dtype=np.float32)
            eb = np.asarray(self._model.embed(list(b), norm=True), dtype=np.float32)
            return np.clip(ea @ eb.T, 0.0, 1.0)
        sa = [set(content_stems(x)) for x in a]
        sb = [set(content_stems(y)) for y in b]
        return np.array([[len(x & y) / len(y) if y else 0.0 for y in sb] for x in sa])


_lock = threading.Lock()
_meaning: Meaning | None = None


def get_meaning() -> Meaning:
    """The process-wide ``Meaning``, loaded on first use (thread-safe: scoring runs in worker threads)."""
    global _meaning
    with _lock:
        if _meaning is None:
            _meaning = Meaning(_load_wordllama())
        return _meaning
