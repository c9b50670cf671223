"""One phone call's Media Streams websocket ⇄ one interview.

Inbound μ-law → int16 frames → ``PushAudioInput``; agent audio leaves through :class:`TwilioAudioOutput`.
The call ends when Twilio sends ``stop`` or the socket closes (``handle.aclose("hangup")``), when the
interview ends (we close the socket; the TwiML then hangs up), or on bad input (a log line with the error
code, never content; ``handle.aclose("error")``). In every case the transcript so far stays in storage,
because the runtime commits each utterance as it happens. Other calls are untouched: each call owns its
tasks and shares nothing mutable but the :class:`LiveCalls` registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from livekit import rtc
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent import PushAudioInput

from ._errors import StartTimeout, StreamProtocolError, StreamRejected
from ._output import Outbox, TwilioAudioOutput
from ._security import StreamTokens
from .codec import FRAME_MS, SAMPLE_RATE, ulaw_to_pcm16
from .serializer import Dtmf, Mark, Media, Start, Stop, StreamDecoder

__all__ = ["CallOutcome", "LiveCalls", "StreamBridge"]

logger = logging.getLogger("mockline.telephony")

_MAX_GAP_FILL_MS = 1000  # silence inserted for lost audio (a media.timestamp jump), at most this much


class Runtime(Protocol):
    async def start_interview(self, **kwargs: Any) -> Any: ...


class LiveCalls:
    """Interviews with a live phone stream in this process: one stream per interview at a time."""

    def __init__(self) -> None:
        self._calls: dict[str, StreamBridge] = {}

    def claim(self, interview_id: str, bridge: StreamBridge) -> bool:
        if interview_id in self._calls:
            return False
        self._calls[interview_id] = bridge
        return True

    def release(self, interview_id: str, bridge: StreamBridge) -> None:
        if self._calls.get(interview_id) is bridge:
            del self._calls[interview_id]

    def __len__(self) -> int:
        return len(self._calls)


@dataclass
class CallOutcome:
    reason: str  # completed | hangup | error | rejected | timeout
    error_code: str | None = None
    interview_id: str | None = None


class StreamBridge:
    """Runs one accepted websocket until the call ends. ``run()`` never raises for bad input."""

    def __init__(
        self,
        *,
        websocket: WebSocket,
        runtime_factory: Any,
        tokens: StreamTokens,
        live_calls: LiveCalls,
        check_interview: Any,
        start_timeout_s: float,
        mark_timeout_s: float,
    ) -> None:
        self._ws = websocket
        self._runtime_factory = runtime_factory  # async () -> runtime
        self._tokens = tokens
        self._live = live_calls
        self._check_interview = check_interview  # async (interview_id, call_sid) -> bool
        self._start_timeout_s = start_timeout_s
        self._mark_timeout_s = mark_timeout_s
        self._decoder = StreamDecoder()
        self._audio_in: PushAudioInput | None = None
        self._output: TwilioAudioOutput | None = None
        self._next_ts: int | None = None
        self.dtmf_digits = 0

    async def run(self) -> CallOutcome:
        outcome = CallOutcome(reason="hangup")
        interview_id: str | None = None
        try:
            start = await self._await_start()
            grant = self._tokens.check(
                start.custom_parameters.get("token"),
                interview_id=start.custom_parameters.get("interview_id"),
                call_sid=start.call_sid,
            )
            interview_id = outcome.interview_id = grant.interview_id
            if not await self._check_interview(grant.interview_id, start.call_sid):
                raise StreamRejected("interview is not open")
            if not self._live.claim(grant.interview_id, self):
                raise StreamRejected("interview already has a live call")
            try:
                outcome = await self._converse(start, grant.interview_id)
            finally:
                self._live.release(grant.interview_id, self)
        except StreamRejected as e:
            outcome = CallOutcome(reason="rejected", error_code=e.code, interview_id=interview_id)
            logger.warning("phone stream rejected: %s", e.message, extra={"interview_id": interview_id})
        except StreamProtocolError as e:
            outcome = CallOutcome(reason="error", error_code=e.code, interview_id=interview_id)
            logger.warning(
                "phone stream closed on bad input: %s", e.code, extra={"interview_id": interview_id}
            )
        except WebSocketDisconnect:
            outcome = CallOutcome(reason="hangup", interview_id=interview_id)
        if outcome.reason in ("error", "rejected"):  # the stable code says why; never call content
            await self._close(1008, outcome.error_code or outcome.reason)
        else:
            await self._close(1000, outcome.reason)
        return outcome

    async def _await_start(self) -> Start:
        async def first_start() -> Start:
            while True:
                event = self._decoder.feed(await self._receive())
                if isinstance(event, Start):
                    return event

        try:
            return await asyncio.wait_for(first_start(), timeout=self._start_timeout_s)
        except TimeoutError as e:
            raise StartTimeout("no 'start' message in time") from e

    async def _receive(self) -> str | bytes:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        return text if text is not None else (message.get("bytes") or b"")

    async def _converse(self, start: Start, interview_id: str) -> CallOutcome:
        outbox = Outbox(send=self._ws.send_text)
        outbox.start()
        self._audio_in = PushAudioInput(label="twilio")
        self._output = TwilioAudioOutput(
            outbox=outbox, stream_sid=start.stream_sid, mark_timeout_s=self._mark_timeout_s
        )
        handle = None
        reader: asyncio.Task[CallOutcome] | None = None
        ended: asyncio.Task[Any] | None = None
        outcome = CallOutcome(reason="hangup", interview_id=interview_id)
        try:
            try:
                runtime = await self._runtime_factory()
                handle = await runtime.start_interview(
                    interview_id=interview_id,
                    audio_input=self._audio_in,
                    audio_output=self._output,
                    telephony=True,
                )
            except Exception as e:  # missing models, a finished interview, a broken database…
                logger.exception("phone interview could not start", extra={"interview_id": interview_id})
                return CallOutcome(reason="error", error_code=type(e).__name__, interview_id=interview_id)
            logger.info("phone interview started", extra={"interview_id": interview_id})
            reader = asyncio.create_task(self._read_loop(interview_id), name="twilio-reader")
            ended = asyncio.create_task(handle.wait(), name="twilio-interview-wait")
            failed = asyncio.create_task(outbox.failed.wait(), name="twilio-outbox-failed")
            try:
                done, _ = await asyncio.wait({reader, ended, failed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                failed.cancel()
            if ended in done:
                outcome = CallOutcome(reason=str(ended.result()), interview_id=interview_id)
            elif reader in done:
                outcome = reader.result()
        except StreamProtocolError as e:
            outcome = CallOutcome(reason="error", error_code=e.code, interview_id=interview_id)
            logger.warning(
                "phone stream closed on bad input: %s", e.code, extra={"interview_id": interview_id}
            )
        finally:
            for task in (reader, ended):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            self._audio_in.close()
            if handle is not None:
                reason = "error" if outcome.reason == "error" else "hangup"
                with contextlib.suppress(Exception):
                    await handle.aclose(reason)
            await self._output.aclose()
            await outbox.aclose(drain=outcome.reason == "completed")
        logger.info(
            "phone interview ended: %s",
            outcome.reason,
            extra={"interview_id": interview_id, "error_code": outcome.error_code},
        )
        return outcome

    async def _read_loop(self, interview_id: str) -> CallOutcome:
        """Feed Twilio's messages to the session until ``stop``, a close, or bad input."""
        try:
            while True:
                event = self._decoder.feed(await self._receive())
                if isinstance(event, Media):
                    self._on_media(event)
                elif isinstance(event, Mark):
                    assert self._output is not None
                    self._output.on_mark(event.name)
                elif isinstance(event, Dtmf):
                    self.dtmf_digits += 1
                    logger.debug(
                        "keypad press during a phone interview", extra={"interview_id": interview_id}
                    )
                elif isinstance(event, Stop):
                    return CallOutcome(reason="hangup", interview_id=interview_id)
        except WebSocketDisconnect:
            return CallOutcome(reason="hangup", interview_id=interview_id)
        except StreamProtocolError as e:
            logger.warning(
                "phone stream closed on bad input: %s", e.code, extra={"interview_id": interview_id}
            )
            return CallOutcome(reason="error", error_code=e.code, interview_id=interview_id)

    def _on_media(self, media: Media) -> None:
        if media.track not in ("inbound", "inbound_track"):
            return
        assert self._audio_in is not None
        # Audio Twilio never received shows up as a timestamp jump: fill it with silence so the session's
        # clock (VAD, endpointing, transcript times) keeps matching the call's.
        if self._next_ts is not None and media.timestamp_ms > self._next_ts + FRAME_MS // 2:
            gap = min(media.timestamp_ms - self._next_ts, _MAX_GAP_FILL_MS)
            samples = gap * SAMPLE_RATE // 1000
            self._audio_in.push_frame(rtc.AudioFrame(bytes(samples * 2), SAMPLE_RATE, 1, samples))
        pcm = ulaw_to_pcm16(media.payload)
        self._audio_in.push_frame(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE, 1, int(pcm.size)))
        self._next_ts = media.timestamp_ms + (pcm.size * 1000) // SAMPLE_RATE

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close(code=code, reason=reason[:120])
