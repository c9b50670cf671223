"""What a transport hears of an interview besides audio: captions, states and the end, as
``InterviewListener`` callbacks. A listener that raises is logged and contained, never raised into
the session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from livekit.agents.voice import io

__all__ = ["CaptionOutput", "InterviewListener", "notify"]

logger = logging.getLogger("mockline.agent")


class InterviewListener(Protocol):
    """Optional too: ``on_progress(*, progress: agent._progress.Progress)`` ("Question 2 of 4", time left)."""

    def on_caption(self, *, speaker: str, text: str, final: bool) -> None: ...
    def on_state(self, *, agent: str | None = None, user: str | None = None) -> None: ...
    def on_ended(self, *, reason: str) -> None: ...


def notify(fn: Callable[..., Any], /, **kwargs: Any) -> None:
    """Call a listener callback; its exception is logged, not raised."""
    try:
        fn(**kwargs)
    except Exception:
        logger.exception("interview listener raised")


class CaptionOutput(io.TextOutput):
    """Agent captions, paced by the TranscriptSynchronizer, to the listener."""

    def __init__(self, listener: InterviewListener | None) -> None:
        super().__init__(label="captions", next_in_chain=None)
        self._listener = listener
        self._text = ""

    async def capture_text(self, text: str) -> None:
        self._text += text
        if self._listener is not None:
            notify(self._listener.on_caption, speaker="agent", text=self._text, final=False)

    def flush(self) -> None:
        if self._listener is not None and self._text:
            notify(self._listener.on_caption, speaker="agent", text=self._text, final=True)
        self._text = ""
