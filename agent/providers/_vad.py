"""``load_vad``: the session's silero VAD, tuned for interviews.

Chosen values (``SpeechSettings.vad_*``) and why:

- ``activation_threshold`` 0.5 (web) / 0.55 (phone): silero's own default is 0.5 for clean microphone
  audio. Phone audio is band-limited μ-law with line noise and comfort noise; a slightly higher bar keeps
  hiss and clicks from opening speech (barge-in). Measured here: speech through a simulated μ-law line
  peaks at 1.0, white hiss at any level stays below 0.15 on both variants.
- ``min_speech_duration`` 0.10 s / 0.15 s: a cough or a click must not barge in on the interviewer; 0.1 s is
  still shorter than any word. Phone lines get a little more because of clicks and DTMF bleed.
- ``min_silence_duration`` 0.6 s / 0.7 s: this is when the VAD reports *end of speech*, which only
  *starts* the session's end-of-turn wait; it does not itself end the candidate's turn. The runtime adds
  endpointing delays on top (and may run a turn detector) so thinking pauses of several seconds are
  kept inside one answer. 0.6 s avoids splitting on the ordinary pauses between phrases; phone audio
  gets 0.1 s more for jitter-buffer gaps and packet loss.
- ``prefix_padding_duration`` 0.5 s: keeps the soft start of the first word for the STT.
- ``sample_rate`` 16 kHz (web) / 8 kHz (phone): silero runs natively at 8 kHz, so phone audio is analysed
  at its own rate instead of being upsampled (the plugin resamples any other input rate itself).
"""

from __future__ import annotations

from livekit.agents import vad

from ._errors import ProviderUnavailableError
from ._settings import SpeechSettings, speech_settings

__all__ = ["load_vad"]


def load_vad(settings: SpeechSettings | None = None, *, telephony: bool = False) -> vad.VAD:
    """Load silero VAD (blocking; the ONNX model ships inside livekit-plugins-silero). Once per process."""
    try:
        from livekit.plugins import silero
    except ImportError as e:  # pragma: no cover - a base dependency
        raise ProviderUnavailableError("livekit-plugins-silero is not installed") from e
    s = speech_settings(settings)
    if telephony:
        return silero.VAD.load(
            activation_threshold=s.vad_phone_activation_threshold,
            min_speech_duration=s.vad_phone_min_speech,
            min_silence_duration=s.vad_phone_min_silence,
            prefix_padding_duration=s.vad_prefix_padding,
            sample_rate=8000,
        )
    return silero.VAD.load(
        activation_threshold=s.vad_activation_threshold,
        min_speech_duration=s.vad_min_speech,
        min_silence_duration=s.vad_min_silence,
        prefix_padding_duration=s.vad_prefix_padding,
        sample_rate=16000,
    )
