"""Errors raised by the offline speech providers.

```
ProviderError                 base class; every message says what was wrong and how to fix it
├── ProviderConfigError       a setting names a backend, model or voice that does not exist   (ValueError)
├── ProviderUnavailableError  an optional package, binary or model file is not installed      (RuntimeError)
└── InferenceError            one recognition/synthesis request failed; also a livekit ``APIError`` so
                              the framework's retry and ``FallbackAdapter`` treat it as a provider
                              failure (``retryable`` says whether trying again can help)
```
"""

from __future__ import annotations

from livekit.agents import APIError

__all__ = ["InferenceError", "ProviderConfigError", "ProviderError", "ProviderUnavailableError"]


class ProviderError(Exception):
    """Base class for speech provider errors."""


class ProviderConfigError(ProviderError, ValueError):
    """A setting names a provider, model or voice that does not exist."""


class ProviderUnavailableError(ProviderError, RuntimeError):
    """An optional dependency (Python package, binary, model file) is not installed."""


class InferenceError(ProviderError, APIError):
    """One STT/TTS request failed (model error, subprocess failure)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        APIError.__init__(self, message, retryable=retryable)
