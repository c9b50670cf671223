"""The agent runtimes the benchmark runs against, by name.

- ``fakes``: ``EnergyVAD`` + the fixed-latency STT (150 ms) / LLM (300 ms) / TTS (100 ms) of
  ``bench.fakes``; what is left of voice-to-voice is our own overhead and the turn-taking wait.
- ``offline``: the shipped offline stack, ``AgentRuntime.load`` (silero VAD, faster-whisper tiny.en,
  piper, the offline brain).
- ``hybrid``: silero VAD and faster-whisper (the parts that decide whether a sound is a barge-in) with the
  fixed-latency tone TTS, whose reply is one unbroken tone: any gap the caller hears is the agent stopping.

Turn-taking profiles: ``product`` keeps the ``AgentSettings`` defaults, including the context turn
detector (0.5/0.6 s web/phone for a short reply, 2.5/2.6 s for a finished sentence inside an answer,
4.5/4.8 s when the transcript trails off), 0.15 s minimum interruption with the backchannel filter, and
preemptive TTS; ``fast`` shortens endpointing to 0.2 s to show what the pipeline itself costs; ``legacy``
is the previous product
(VAD endpointing 0.9/1.0 s, 0.8/0.9 s minimum interruption, no backchannel filter, no preemptive TTS), for
before/after comparisons; ``words2`` is ``legacy`` with ``min_interruption_words=2``; ``late-pause`` is
``product`` without the early pause (``agent/_early_pause.py``): the agent pauses only when livekit decides;
``pause-2win`` is ``product`` with the early pause on silero's *second* window over its threshold (the
product before it paused on the first), for the back-to-back A/B in BENCHMARKS.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROFILES", "STACKS", "agent_settings", "build_runtime"]

STACKS = ("fakes", "offline", "hybrid")
PROFILES = ("product", "fast", "legacy", "words2", "late-pause", "pause-2win", "bar-threshold")


def agent_settings(*, stack: str, profile: str) -> Any:
    from agent import AgentSettings

    base = AgentSettings()
    update: dict[str, Any] = {
        # No echo path on loopback: the 3 s echo-canceller warm-up would only hide the first barge-in.
        "aec_warmup_s": None,
        "user_away_timeout": 600.0,
    }
    if profile == "fast":
        update["web"] = base.web.model_copy(update={"min_endpointing_delay": 0.2})
        update["phone"] = base.phone.model_copy(update={"min_endpointing_delay": 0.2})
    elif profile in ("late-pause", "pause-2win"):
        early = 0.0 if profile == "late-pause" else 0.064
        update["web"] = base.web.model_copy(update={"early_pause_speech": early})
        update["phone"] = base.phone.model_copy(update={"early_pause_speech": early})
    elif profile == "bar-threshold":
        update["web"] = base.web.model_copy(update={"early_pause_bar": 0.0})
        update["phone"] = base.phone.model_copy(update={"early_pause_bar": 0.0})
    elif profile in ("legacy", "words2"):
        words = 2 if profile == "words2" else 0
        update |= {"turn_detector": "vad", "ignore_backchannels": False, "preemptive_tts": False}
        update["web"] = base.web.model_copy(
            update={
                "min_endpointing_delay": 0.9,
                "min_interruption_duration": 0.8,
                "false_interruption_timeout": 1.5,
                "min_interruption_words": words,
                "early_pause_speech": 0.0,
            }
        )
        update["phone"] = base.phone.model_copy(
            update={
                "min_endpointing_delay": 1.0,
                "min_interruption_duration": 0.9,
                "false_interruption_timeout": 1.5,
                "min_interruption_words": words,
                "early_pause_speech": 0.0,
            }
        )
    elif profile != "product":
        raise ValueError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    return base.model_copy(update=update)


def build_runtime(*, stack: str, profile: str, **runtime_kwargs: Any) -> Any:
    """A loaded ``AgentRuntime`` (blocking: the offline models load here, once). ``runtime_kwargs`` go to
    its constructor (``on_finished``, ``database``)."""
    from agent import AgentRuntime

    settings = agent_settings(stack=stack, profile=profile)
    if stack == "offline":
        return AgentRuntime.load(settings, **runtime_kwargs)
    from . import fakes

    if stack == "fakes":
        return AgentRuntime(
            vad=fakes.EnergyVAD(min_silence_s=0.25),
            stt=fakes.FixedLatencySTT(latency_s=0.15),
            tts=fakes.FixedLatencyTTS(ttfb_s=0.1),
            settings=settings,
            brain_factory=fakes.delayed_brain_factory(ttft_s=0.3),
            **runtime_kwargs,
        )
    if stack == "hybrid":
        from agent import providers

        return AgentRuntime(
            vad=providers.load_vad(),
            phone_vad=providers.load_vad(telephony=True),
            stt=providers.build_stt(),
            tts=fakes.FixedLatencyTTS(ttfb_s=0.1, ms_per_word=350, max_s=14.0),
            settings=settings,
            **runtime_kwargs,
        )
    raise ValueError(f"unknown stack {stack!r}: use one of {', '.join(STACKS)}")
