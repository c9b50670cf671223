"""``OfflineBrain``: an ``llm.LLM`` that speaks the conductor's offline rendering, word by word."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from livekit.agents import APIError, llm, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from ._prompt import find_directive

__all__ = ["OfflineBrain"]

_PIECE = re.compile(r"\S+\s*")


class OfflineBrain(llm.LLM):
    """Streams ``action.text`` from the directive that ``Brain.prepare_turn`` attached, unchanged."""

    @property
    def model(self) -> str:
        return "offline"

    @property
    def provider(self) -> str:
        return "mockline"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _OfflineStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _OfflineStream(llm.LLMStream):
    async def _run(self) -> None:
        directive = find_directive(self._chat_ctx)
        if directive is None:
            raise APIError(
                "the offline brain needs an interview directive: call Brain.prepare_turn(chat_ctx) first",
                retryable=False,
            )
        text = str(directive[1].get("text", ""))
        request_id = utils.shortuuid("offline_")
        for piece in _PIECE.findall(text):
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role="assistant", content=piece))
            )
            await asyncio.sleep(0)  # let the consumer start speaking the first words
