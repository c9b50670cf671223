"""Real-speech candidate answers for turn-taking tests and ``python -m bench turns``.

Built at test/bench time, deterministically, from the recordings of real people in ``tests/data``
(sources and licences in ``tests/data/README.md``); nothing assembled is committed. An ``Answer`` is int16
mono at 16 kHz with the reference text and every pause inside it (where it starts, how long, what kind),
so a caller can tell a cut-off at a pause from a reply to a finished answer.

- ``long``: one LibriVox reader, the five consecutive *Sense and Sensibility* sentences we ship, 8-10 in
  a row (30-60 s). Between sentences either the reader's own pause (the silence the recording kept at
  both ends of each sentence, ~0.45 s), a *sentence* pause of 0.8-1.5 s, or a *thinking* pause of 2-5 s.
  ``hesitations`` also stops mid-sentence after a word a sentence cannot end on ("there might be", "a
  more", "is to be"), the way a candidate stops to find the next word. ``first-thinking`` is fluent until
  one 3.5 s thinking pause after a finished sentence (a first long pause: no earlier one to learn from).
- ``medium``: spontaneous meeting speech (``meeting_chan3``) and JFK's "ask not", with the speakers' own
  pauses measured from the audio, once as recorded and once with one sentence pause stretched to a 2.5 s
  thinking pause.
- ``short``: short real utterances ("ten of clubs", "go forward ten meters", "he was not an ill disposed
  young man"). Real recordings of "yes", "could you repeat that?" or "I don't know" do not ship in any
  package we found, so short replies are these short complete phrases; the words are not an interview's,
  the shape (a second or three of speech, then silence) is.

Every pause is labelled with the whole silence the listener hears there (``_silences``): from the end of
one sound to the start of the next, where a click or breath shorter than 50 ms that the agent's VAD does
not hear as speech does not end a silence. An inserted gap's label therefore includes the quiet ends of
the words around it (a "4.0 s" thinking pause is 4.09 s of silence), and a pause the corpus stretches
includes the speaker's own silence on either side of it.

``phone(answer)`` is the 8 kHz μ-law version a phone call delivers.
"""

from __future__ import annotations

import functools
import itertools
import json
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = [
    "DATA",
    "Answer",
    "Pause",
    "answers",
    "first_word_s",
    "load",
    "long_answers",
    "medium_answers",
    "passage",
    "phone",
    "short_replies",
]

DATA = Path(__file__).resolve().parents[1] / "data"
RATE = 16_000
_LIBRIVOX = DATA / "librivox"
_SPEECH = DATA / "speech"

PauseKind = Literal["speaker", "sentence", "thinking", "hesitation"]


@dataclass(frozen=True)
class Pause:
    start_s: float  # from the start of the answer's audio
    length_s: float
    kind: PauseKind

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True)
class Answer:
    name: str
    kind: Literal["long", "medium", "short"]
    samples: np.ndarray  # int16 mono
    rate: int
    text: str
    pauses: tuple[Pause, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate


@dataclass(frozen=True)
class _Piece:
    """A stretch of real speech, trimmed to its voiced part, with the silence its recording kept."""

    samples: np.ndarray
    text: str
    lead_s: float  # silence before it in the recording
    tail_s: float  # silence after it


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".wav":
        with wave.open(str(path)) as w:
            assert w.getframerate() == RATE and w.getnchannels() == 1
            return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    import soundfile

    data, rate = soundfile.read(str(path), dtype="int16")
    assert rate == RATE and data.ndim == 1
    return data


@functools.cache
def load(name: str) -> np.ndarray:
    """One shipped recording by stem (``"jfk"``, ``"librivox_0880"``, ``"0870"`` for the LibriVox WAVs)."""
    wav = _LIBRIVOX / f"sense_and_sensibility_01_austen_64kb-{name}.wav"
    if wav.is_file():
        return _read(wav)
    return _read(_SPEECH / f"{name}.flac")


_SENTENCES = ("0870", "0880", "0890", "0920", "0930")


@functools.cache
def _words(sentence: str) -> list[tuple[str, float, float]]:
    """(word, start s, end s) from the forced alignment shipped with the LibriVox clip."""
    path = _LIBRIVOX / f"sense_and_sensibility_01_austen_64kb-{sentence}.json"
    out = []
    for w in json.loads(path.read_text())["w"]:
        if w["t"] != "<sil>":
            out.append((w["t"].split("(")[0], float(w["b"]), float(w["b"]) + float(w["d"])))
    return out


def first_word_s(sentence: str) -> float:
    """Where the first word of a LibriVox sentence starts in its recording (the forced alignment)."""
    return _words(sentence)[0][1]


def _sentence(sentence: str, *, upto: int | None = None, start: int = 0) -> _Piece:
    """A LibriVox sentence (or words ``start:upto`` of it), cut at the alignment's word boundaries."""
    name = sentence if sentence in ("0870", "0890", "0920") else f"librivox_{sentence}"
    pcm = load(name)
    words = _words(sentence)
    chosen = words[start:upto]
    a, b = chosen[0][1], chosen[-1][2]
    lead = a if start == 0 else 0.0
    tail = pcm.size / RATE - b if upto is None else 0.0
    return _Piece(pcm[int(a * RATE) : int(b * RATE)], " ".join(w for w, _, _ in chosen), lead, tail)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def _join(
    name: str,
    kind: Literal["long", "medium"],
    pieces: list[_Piece],
    gaps: list[tuple[float | None, PauseKind]],
) -> Answer:
    """``pieces`` with ``gaps`` between them: (seconds, kind), or (None, "speaker"): the recording's own."""
    assert len(gaps) == len(pieces) - 1
    parts = [_silence(pieces[0].lead_s)]
    pauses: list[Pause] = []
    t = pieces[0].lead_s
    for i, piece in enumerate(pieces):
        parts.append(piece.samples)
        t += piece.samples.size / RATE
        if i < len(gaps):
            seconds, pkind = gaps[i]
            if seconds is None:
                seconds = piece.tail_s + pieces[i + 1].lead_s
            parts.append(_silence(seconds))
            pauses.append(Pause(round(t, 3), round(seconds, 3), pkind))
            t += seconds
    parts.append(_silence(pieces[-1].tail_s))
    text = " ".join(p.text for p in pieces)
    pcm = np.concatenate(parts)
    return Answer(name, kind, pcm, RATE, text, _whole(pcm, pauses))


def _order(n: int, shift: int) -> list[str]:
    return [_SENTENCES[(i + shift) % len(_SENTENCES)] for i in range(n)]


SENTENCE_PAUSES = (0.8, 1.0, 1.2, 1.5)
THINKING_PAUSES = (2.0, 3.0, 4.0, 5.0)


@functools.cache
def long_answers() -> tuple[Answer, ...]:
    s = [_sentence(x) for x in _order(10, 0)]
    own: list[tuple[float | None, PauseKind]] = [(None, "speaker")]
    sentence_gaps = own + [(p, "sentence") for p in SENTENCE_PAUSES * 2]  # 9 gaps
    t = [_sentence(x) for x in _order(9, 2)]
    thinking_gaps: list[tuple[float | None, PauseKind]] = [
        (1.0, "sentence"), (2.0, "thinking"), (None, "speaker"), (3.0, "thinking"),
        (1.2, "sentence"), (4.0, "thinking"), (0.8, "sentence"), (5.0, "thinking"),
    ]  # fmt: skip
    # mid-sentence stops after a word no sentence ends on, then the rest of the sentence
    h = [
        _sentence("0870", upto=13), _sentence("0870", start=13),  # "...how much there might be | prudently"
        _sentence("0880"),
        _sentence("0890", upto=9), _sentence("0890", start=9),  # "...rather selfish is | to be ill disposed"
        _sentence("0920", upto=5), _sentence("0920", start=5),  # "had he married a more | a amiable woman"
        _sentence("0930"),
        _sentence("0870"),
        _sentence("0920", upto=11), _sentence("0920", start=11),  # "...might have been made | still more"
    ]  # fmt: skip
    hesitation_gaps: list[tuple[float | None, PauseKind]] = [
        (1.5, "hesitation"), (1.0, "sentence"), (None, "speaker"), (2.5, "hesitation"), (1.2, "sentence"),
        (2.0, "hesitation"), (0.8, "sentence"), (1.5, "sentence"), (3.0, "thinking"), (3.5, "hesitation"),
    ]  # fmt: skip
    # a fluent answer whose first long pause is a thinking pause after a finished sentence: nothing earlier
    # in the answer tells how long this candidate pauses
    f = [_sentence(x) for x in _order(6, 1)]
    first_gaps: list[tuple[float | None, PauseKind]] = [
        (1.0, "sentence"), (None, "speaker"), (1.2, "sentence"), (3.5, "thinking"), (0.8, "sentence"),
    ]  # fmt: skip
    return (
        _join("sentence-pauses", "long", s, sentence_gaps),
        _join("thinking-pauses", "long", t, thinking_gaps),
        _join("hesitations", "long", h, hesitation_gaps),
        _join("first-thinking", "long", f, first_gaps),
    )


_FRAME_S = 0.01
_BLIP_S = 0.05  # sound this short between two silences is a click or a breath unless the VAD hears speech


def _frame_energy(pcm: np.ndarray) -> np.ndarray:
    win = round(RATE * _FRAME_S)
    n = pcm.size // win
    return np.sqrt((pcm[: n * win].astype(np.float64).reshape(n, win) ** 2).mean(axis=1))


@functools.cache
def _vad_model() -> Any:
    from livekit.plugins.silero import onnx_model

    return onnx_model.new_inference_session(force_cpu=True)


def _speech_probability(pcm: np.ndarray) -> tuple[float, np.ndarray]:
    """The agent's VAD (silero, as ``agent/providers/_vad.py`` loads it) on ``pcm``: (window s, P(speech))."""
    from livekit.plugins.silero import onnx_model

    model = onnx_model.OnnxModel(onnx_session=_vad_model(), sample_rate=RATE)
    w = model.window_size_samples
    x = pcm.astype(np.float32) / 32768.0
    return w / RATE, np.array([model(x[i : i + w][None]) for i in range(0, x.size - w + 1, w)])


def _silences(pcm: np.ndarray, *, min_s: float = 0.3) -> list[tuple[float, float]]:
    """Whole silences of at least ``min_s`` inside the speech, as (start s, length s).

    10 ms frames are sound above an energy floor (300, or 5 % of the loud frames' level); a silence runs
    from the end of one sound to the start of the next. Real recordings click, breathe and smack their
    lips inside a pause: a stretch of sound shorter than ``_BLIP_S`` that the agent's VAD (silero, speech
    at P >= 0.5, as it starts a turn) does not hear as speech is part of the silence around it, so one
    silence is one pause, as long as the candidate was silent (``meeting_chan3`` is silent from "...make it
    hard." to "Did it" for 6.6 s, with a 30 ms click and 10-40 ms breaths in it: split there, it read as
    0.62 + 1.47 s and 0.45 + 0.99 + 1.98 s pauses, and the agent heard longer silences than the labels said).
    """
    energy = _frame_energy(pcm)
    sound = energy > max(300.0, 0.05 * float(np.percentile(energy, 95)))
    window, p_speech = _speech_probability(pcm)
    per_window = round(window / _FRAME_S, 6)
    blip = round(_BLIP_S / _FRAME_S)
    runs = [(bool(k), len(list(g))) for k, g in itertools.groupby(sound)]
    at = 0
    for i, (is_sound, n) in enumerate(runs):
        if is_sound and 0 < i < len(runs) - 1 and n < blip:
            # the VAD's windows over this sound and the one after it (silero hears a sound late)
            lo, hi = int(at / per_window), int((at + n) / per_window) + 2
            if float(p_speech[lo:hi].max(initial=0.0)) < 0.5:
                sound[at : at + n] = False
        at += n
    idx = np.flatnonzero(sound)
    out = []
    for a, b in itertools.pairwise(idx):
        if (b - a - 1) * _FRAME_S >= min_s - 1e-9:
            out.append((round(float(a + 1) * _FRAME_S, 3), round(float(b - a - 1) * _FRAME_S, 3)))
    return out


def _speaker_pauses(pcm: np.ndarray, *, min_s: float = 0.3) -> list[Pause]:
    """The recording's own pauses (for recordings without an alignment): its whole silences."""
    return [Pause(start, length, "speaker") for start, length in _silences(pcm, min_s=min_s)]


def _whole(pcm: np.ndarray, pauses: list[Pause]) -> tuple[Pause, ...]:
    """``pauses`` (where silence was put) labelled with the whole silence around each, as heard in ``pcm``:
    an inserted gap meets the quiet ends of the words around it (the alignment cuts at word boundaries) and
    any pause of the speaker's it touches."""
    heard = _silences(pcm)
    out = []
    for p in pauses:
        mid = p.start_s + p.length_s / 2
        around = [(s, n) for s, n in heard if s <= mid <= s + n]
        assert around, f"no silence heard around the pause at {p.start_s} s"
        out.append(Pause(around[0][0], around[0][1], p.kind))
    return tuple(out)


def _with_pause_at(answer: Answer, pause: Pause, seconds: float, name: str) -> Answer:
    """``answer`` with one of its (whole) pauses stretched to ``seconds`` (a thinking pause); its label is
    the whole silence that results."""
    mid = int((pause.start_s + pause.length_s / 2) * RATE)
    extra = seconds - pause.length_s
    assert extra > 0, "a thinking pause stretches a shorter pause"
    pcm = np.concatenate([answer.samples[:mid], _silence(extra), answer.samples[mid:]])
    placed = []
    for p in answer.pauses:
        if p == pause:
            placed.append(Pause(p.start_s, round(seconds, 3), "thinking"))
        elif p.start_s > pause.start_s:
            placed.append(replace(p, start_s=round(p.start_s + extra, 3)))
        else:
            placed.append(p)
    return replace(answer, name=name, samples=pcm, pauses=_whole(pcm, placed))


_MEDIUM_TEXT = {
    "meeting_chan3": "yeah we had a long discussion about how easy we want to make it for people to bleep "
    "things out morgan wants to make it hard did it i didn't even check yesterday whether it was moving",
    "jfk": "and so my fellow americans ask not what your country can do for you ask what you can do for "
    "your country",
}
# where the ``+thinking`` version stretches the speaker's own pause to a 2.5 s thinking pause: the pause at
# this time (s). meeting_chan3: before "Morgan wants to make it hard." (after "...bleep things out.");
# jfk: after "And so my fellow Americans". (The meeting speaker's longest pause, 6.6 s after "...hard.",
# is already longer than any thinking pause the corpus inserts.)
_THINKING_AT = {"meeting_chan3": 7.4, "jfk": 2.5}


@functools.cache
def medium_answers() -> tuple[Answer, ...]:
    out = []
    for name, text in _MEDIUM_TEXT.items():
        pcm = load(name)
        answer = Answer(name, "medium", pcm, RATE, text, tuple(_speaker_pauses(pcm)))
        out.append(answer)
        at = next(p for p in answer.pauses if p.start_s <= _THINKING_AT[name] <= p.end_s)
        out.append(_with_pause_at(answer, at, 2.5, f"{name}+thinking"))
    return tuple(out)


_SHORT = {
    "cards_001": "ten of clubs",
    "cards_003": "seven of clubs",
    "goforward": "go forward ten meters",
    "something": "go somewhere and do something",
    "librivox_0880": "he was not an ill disposed young man",
}


@functools.cache
def short_replies() -> tuple[Answer, ...]:
    return tuple(Answer(name, "short", load(name), RATE, text) for name, text in _SHORT.items())


def passage(name: str, gaps: list[float | None]) -> Answer:
    """The first ``len(gaps) + 1`` LibriVox sentences, one reader, with these pauses between them (None:
    the reader's own); pauses over 1.5 s are marked thinking."""
    pieces = [_sentence(x) for x in _SENTENCES[: len(gaps) + 1]]
    kinds: list[tuple[float | None, PauseKind]] = [
        (g, "speaker" if g is None else "thinking" if g > 1.5 else "sentence") for g in gaps
    ]
    return _join(name, "long", pieces, kinds)


def answers() -> tuple[Answer, ...]:
    return (*long_answers(), *medium_answers(), *short_replies())


def phone(answer: Answer) -> Answer:
    """The 8 kHz μ-law version a phone line delivers (pause times unchanged)."""
    from telephony.codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

    narrow = resample_pcm16(answer.samples, from_rate=answer.rate, to_rate=8000)
    return replace(answer, samples=ulaw_to_pcm16(pcm16_to_ulaw(narrow)), rate=8000)
