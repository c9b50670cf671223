"""``OpenAIBrain``: an ``llm.LLM`` on any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM,
Ollama, llama.cpp), streaming, with a first-token timeout.

openai errors are translated where they are caught, so ``llm.FallbackAdapter`` can fall back:

- no first token within ``first_token_timeout`` / ``openai.APITimeoutError`` → ``APITimeoutError``
- connection refused or dropped mid-stream (``openai.APIConnectionError``) → ``APIConnectionError``
- HTTP 4xx/5xx (``openai.APIStatusError``) → ``APIStatusError`` (4xx other than 408/429 not retryable)
- an error event in the stream, or a reply without any text → ``APIError`` (retryable)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast
from urllib.parse import urlparse

import openai
from livekit.agents import APIConnectionError, APIError, APIStatusError, APITimeoutError, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from ._prompt import to_openai_messages

__all__ = ["OpenAIBrain"]

log = logging.getLogger("mockline.brain")


class OpenAIBrain(llm.LLM):
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        first_token_timeout: float = 4.0,
        temperature: float = 0.5,
        max_tokens: int | None = None,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        super().__init__()
        self._model = model
        self._base_url = base_url
        self._first_token_timeout = first_token_timeout
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._owns_client = client is None
        self._client = client or openai.AsyncOpenAI(
            api_key=api_key or "not-needed",  # local servers ignore it; the client insists on one
            base_url=base_url,
            max_retries=0,  # FallbackAdapter decides what happens after a failure
            timeout=max(30.0, first_token_timeout * 2),
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        if not self._base_url:
            return "openai"
        return urlparse(self._base_url).hostname or "openai"

    @property
    def first_token_timeout(self) -> float:
        return self._first_token_timeout

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
        return _OpenAIStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()
        await super().aclose()


class _OpenAIStream(llm.LLMStream):
    _llm: OpenAIBrain

    async def _run(self) -> None:
        brain = self._llm
        messages = cast("list[ChatCompletionMessageParam]", to_openai_messages(self._chat_ctx))
        stream: openai.AsyncStream[ChatCompletionChunk] | None = None
        sent = False
        try:
            try:
                async with asyncio.timeout(brain._first_token_timeout):
                    stream = opened = await brain._client.chat.completions.create(
                        model=brain._model,
                        messages=messages,
                        stream=True,
                        temperature=brain._temperature,
                        max_tokens=brain._max_tokens if brain._max_tokens is not None else openai.omit,
                    )
                    first = await self._next_text(opened)
            except TimeoutError as e:
                log.warning(
                    "llm gave no first token in time", extra={"timeout_s": brain._first_token_timeout}
                )
                raise APITimeoutError(f"no first token within {brain._first_token_timeout:g}s") from e
            if first is None:
                raise APIError("the model returned an empty reply", retryable=True)
            chunk_id, text = first
            self._send(chunk_id, text)
            sent = True
            while (nxt := await self._next_text(opened)) is not None:
                self._send(*nxt)
        except openai.APITimeoutError as e:
            raise APITimeoutError("the LLM request timed out") from e
        except openai.APIConnectionError as e:
            log.warning("llm connection failed", extra={"after_first_token": sent})
            raise APIConnectionError(
                "could not reach the LLM server" if not sent else "the LLM stream broke"
            ) from e
        except openai.APIStatusError as e:
            log.warning("llm returned an error status", extra={"status": e.status_code})
            raise APIStatusError(
                f"LLM server error: {e.message}",
                status_code=e.status_code,
                request_id=e.request_id,
                body=e.body,
            ) from e
        except openai.APIError as e:
            raise APIError(f"LLM stream error: {e.message}", body=e.body, retryable=True) from e
        finally:
            if stream is not None:
                await stream.close()

    @staticmethod
    async def _next_text(stream: openai.AsyncStream[ChatCompletionChunk]) -> tuple[str, str] | None:
        """The next chunk that carries text, or ``None`` at the end of the stream."""
        while True:
            try:
                chunk = await stream.__anext__()
            except StopAsyncIteration:
                return None
            for choice in chunk.choices or []:
                if choice.delta and choice.delta.content:
                    return chunk.id or "", choice.delta.content

    def _send(self, chunk_id: str, text: str) -> None:
        self._event_ch.send_nowait(
            llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(role="assistant", content=text))
        )
