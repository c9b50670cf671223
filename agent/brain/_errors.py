"""Errors raised by the conductor and the brains.

```
BrainError                 base class
├── BrainConfigError       bad brain settings (e.g. MOCKLINE_BRAIN=llm without a key or base URL)
└── ConductorError         the conductor was used wrongly
    ├── ConductorStateError   a snapshot is invalid or belongs to another plan
    └── StaleActionError      commit() of an action decided from an older state
```
Provider failures of ``OpenAIBrain`` are raised as livekit ``APIError`` / ``APIStatusError`` /
``APIConnectionError`` / ``APITimeoutError`` (with ``retryable``) so ``llm.FallbackAdapter`` can fall back.
"""

from __future__ import annotations

__all__ = ["BrainConfigError", "BrainError", "ConductorError", "ConductorStateError", "StaleActionError"]


class BrainError(Exception):
    """Base class for brain errors."""


class BrainConfigError(BrainError, ValueError):
    """The brain settings cannot work."""


class ConductorError(BrainError):
    """The conductor was used wrongly."""


class ConductorStateError(ConductorError, ValueError):
    """A snapshot is invalid or belongs to another plan."""


class StaleActionError(ConductorError):
    """An action decided from an older state was committed (another reply was committed since)."""
