"""Twilio Media Streams wire format: JSON text messages ⇄ dataclasses. Pure: no sockets, no clocks.

Inbound (Twilio → us): ``connected``, ``start`` (with ``customParameters``), ``media`` (base64 μ-law),
``dtmf``, ``mark`` (echo of ours), ``stop``. Outbound (us → Twilio): ``media``, ``mark``, ``clear``.

Wire quirks kept faithfully: ``sequenceNumber``, ``chunk`` and ``timestamp`` are JSON *strings* holding
integers; ``connected`` has neither ``streamSid`` nor ``sequenceNumber``.

:func:`parse_message` checks one message on its own; :class:`StreamDecoder` adds the per-stream rules
(one ``start`` before anything else, the same ``streamSid`` throughout, sequence and chunk numbers that only
go forward, nothing after ``stop``). Every rejection is a :class:`~telephony.StreamProtocolError` whose
message names the rule, never the content.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from ._errors import MalformedFrame, OutOfOrder, OversizedMessage, UnknownEvent
from .codec import pcm16_to_ulaw

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "Connected",
    "Dtmf",
    "Mark",
    "Media",
    "MediaEncoder",
    "Start",
    "Stop",
    "StreamDecoder",
    "TwilioEvent",
    "clear_message",
    "mark_message",
    "media_message",
    "parse_message",
]

# A real media message is ~300 bytes (160 bytes of μ-law in base64 plus envelope); ``start`` with custom
# parameters stays well under a few KB. Anything near these limits is not Twilio.
MAX_MESSAGE_BYTES = 16 * 1024
MAX_PAYLOAD_BYTES = 8000  # one second of μ-law in a single message is already far beyond Twilio's 20 ms
_MAX_PARAMS = 32
_MAX_PARAM_CHARS = 1024
_DTMF_DIGITS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True, slots=True)
class Start:
    sequence_number: int
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Media:
    sequence_number: int
    stream_sid: str
    track: str
    chunk: int
    timestamp_ms: int
    payload: bytes  # raw μ-law


@dataclass(frozen=True, slots=True)
class Dtmf:
    sequence_number: int
    stream_sid: str
    digit: str


@dataclass(frozen=True, slots=True)
class Mark:
    sequence_number: int
    stream_sid: str
    name: str


@dataclass(frozen=True, slots=True)
class Stop:
    sequence_number: int
    stream_sid: str
    call_sid: str


TwilioEvent = Connected | Start | Media | Dtmf | Mark | Stop


# --------------------------------------------------------------------------------------------- parsing


def _obj(data: dict[str, Any], key: str, event: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise MalformedFrame(f"'{event}' message has no '{key}' object")
    return value


def _str(data: dict[str, Any], key: str, event: str, *, max_len: int = 128) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedFrame(f"'{event}' message has no string '{key}'")
    if len(value) > max_len:
        raise OversizedMessage(f"'{event}' field '{key}' is too long")
    return value


def _int(data: dict[str, Any], key: str, event: str) -> int:
    # Twilio sends these as strings; accept JSON integers too, refuse anything else.
    value = data.get(key)
    if isinstance(value, bool):
        raise MalformedFrame(f"'{event}' field '{key}' is not an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 12:
        result = int(value)
    else:
        raise MalformedFrame(f"'{event}' field '{key}' is not an integer")
    if result < 0:
        raise MalformedFrame(f"'{event}' field '{key}' is negative")
    return result


def _parse_start(data: dict[str, Any]) -> Start:
    start = _obj(data, "start", "start")
    fmt = start.get("mediaFormat")
    if isinstance(fmt, dict) and (
        fmt.get("encoding") != "audio/x-mulaw" or fmt.get("sampleRate") != 8000 or fmt.get("channels") != 1
    ):
        raise MalformedFrame("'start' announces a media format other than 8 kHz mono μ-law")
    tracks = start.get("tracks", ["inbound"])
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise MalformedFrame("'start' field 'tracks' is not a list of strings")
    params = start.get("customParameters", {})
    if not isinstance(params, dict):
        raise MalformedFrame("'start' field 'customParameters' is not an object")
    if len(params) > _MAX_PARAMS:
        raise OversizedMessage("'start' carries too many custom parameters")
    for k, v in params.items():
        if not isinstance(v, str):
            raise MalformedFrame("'start' custom parameter values must be strings")
        if len(k) > _MAX_PARAM_CHARS or len(v) > _MAX_PARAM_CHARS:
            raise OversizedMessage("'start' custom parameter is too long")
    return Start(
        sequence_number=_int(data, "sequenceNumber", "start"),
        stream_sid=_str(start, "streamSid", "start"),
        call_sid=_str(start, "callSid", "start"),
        account_sid=_str(start, "accountSid", "start"),
        tracks=tuple(tracks),
        custom_parameters=dict(params),
    )


def _parse_media(data: dict[str, Any]) -> Media:
    media = _obj(data, "media", "media")
    raw = media.get("payload")
    if not isinstance(raw, str):
        raise MalformedFrame("'media' message has no string payload")
    if len(raw) > (MAX_PAYLOAD_BYTES * 4) // 3 + 4:
        raise OversizedMessage("'media' payload is larger than allowed")
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedFrame("'media' payload is not valid base64") from e
    if not payload:
        raise MalformedFrame("'media' payload is empty")
    track = media.get("track", "inbound")
    if not isinstance(track, str):
        raise MalformedFrame("'media' field 'track' is not a string")
    return Media(
        sequence_number=_int(data, "sequenceNumber", "media"),
        stream_sid=_str(data, "streamSid", "media"),
        track=track,
        chunk=_int(media, "chunk", "media"),
        timestamp_ms=_int(media, "timestamp", "media"),
        payload=payload,
    )


def _parse_dtmf(data: dict[str, Any]) -> Dtmf:
    digit = _str(_obj(data, "dtmf", "dtmf"), "digit", "dtmf", max_len=1)
    if digit not in _DTMF_DIGITS:
        raise MalformedFrame("'dtmf' digit is not a phone key")
    return Dtmf(
        sequence_number=_int(data, "sequenceNumber", "dtmf"),
        stream_sid=_str(data, "streamSid", "dtmf"),
        digit=digit,
    )


def _parse_mark(data: dict[str, Any]) -> Mark:
    return Mark(
        sequence_number=_int(data, "sequenceNumber", "mark"),
        stream_sid=_str(data, "streamSid", "mark"),
        name=_str(_obj(data, "mark", "mark"), "name", "mark"),
    )


def _parse_stop(data: dict[str, Any]) -> Stop:
    stop = data.get("stop")
    call_sid = stop.get("callSid", "") if isinstance(stop, dict) else ""
    return Stop(
        sequence_number=_int(data, "sequenceNumber", "stop"),
        stream_sid=_str(data, "streamSid", "stop"),
        call_sid=call_sid if isinstance(call_sid, str) else "",
    )


_PARSERS = {
    "start": _parse_start,
    "media": _parse_media,
    "dtmf": _parse_dtmf,
    "mark": _parse_mark,
    "stop": _parse_stop,
}


def parse_message(message: str | bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> TwilioEvent:
    """Parse one inbound websocket message. Raises a ``StreamProtocolError`` subclass."""
    if len(message) > max_bytes:
        raise OversizedMessage(f"message of {len(message)} bytes exceeds the {max_bytes}-byte limit")
    if isinstance(message, bytes):
        raise MalformedFrame("binary websocket message; Media Streams messages are JSON text")
    try:
        data = json.loads(message)
    except (json.JSONDecodeError, RecursionError) as e:
        raise MalformedFrame("message is not valid JSON") from e
    if not isinstance(data, dict):
        raise MalformedFrame("message is not a JSON object")
    event = data.get("event")
    if not isinstance(event, str):
        raise MalformedFrame("message has no string 'event'")
    if event == "connected":
        protocol, version = data.get("protocol", ""), data.get("version", "")
        return Connected(protocol=str(protocol)[:32], version=str(version)[:32])
    parser = _PARSERS.get(event)
    if parser is None:
        raise UnknownEvent(f"unknown event {event[:32]!r}")
    return parser(data)


# ------------------------------------------------------------------------------------- stream decoder


class StreamDecoder:
    """Per-stream state: parses messages in arrival order and enforces ordering rules."""

    def __init__(self, *, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._max_bytes = max_bytes
        self.start: Start | None = None
        self.stopped = False
        self._last_seq = 0
        self._last_chunk = 0

    def feed(self, message: str | bytes) -> TwilioEvent:
        event = parse_message(message, max_bytes=self._max_bytes)
        if self.stopped:
            raise OutOfOrder("message after 'stop'")
        if isinstance(event, Connected):
            if self.start is not None:
                raise OutOfOrder("'connected' after 'start'")
            return event
        if isinstance(event, Start):
            if self.start is not None:
                raise OutOfOrder("a second 'start' on the same stream")
            self.start = event
            self._last_seq = event.sequence_number
            return event
        if self.start is None:
            raise OutOfOrder(f"'{type(event).__name__.lower()}' before 'start'")
        if event.stream_sid != self.start.stream_sid:
            raise OutOfOrder("message for a different streamSid")
        if event.sequence_number <= self._last_seq:
            raise OutOfOrder("sequenceNumber went backwards or repeated")
        self._last_seq = event.sequence_number
        if isinstance(event, Media):
            if event.chunk <= self._last_chunk:
                raise OutOfOrder("media chunk went backwards or repeated")
            self._last_chunk = event.chunk
        elif isinstance(event, Stop):
            self.stopped = True
        return event


# ------------------------------------------------------------------------------------------- outbound


def media_message(stream_sid: str, payload: bytes) -> str:
    """An outbound ``media`` message carrying raw μ-law bytes."""
    return json.dumps(
        {
            "event": "media",
            "streamSid": stream_sid,
            "media": {"payload": base64.b64encode(payload).decode("ascii")},
        },
        separators=(",", ":"),
    )


class MediaEncoder:
    """Outbound ``media`` messages for one stream, 50 a second: the envelope is built once, each frame only
    encodes μ-law and base64 (the same text :func:`media_message` produces)."""

    def __init__(self, stream_sid: str) -> None:
        envelope = media_message(stream_sid, b"")
        self._head, _, self._tail = envelope.partition('"payload":""')
        self._head += '"payload":"'
        self._tail = '"' + self._tail

    def encode(self, ulaw: bytes) -> str:
        return self._head + base64.b64encode(ulaw).decode("ascii") + self._tail

    def encode_pcm16(self, pcm: bytes | memoryview) -> str:
        return self.encode(pcm16_to_ulaw(pcm))


def mark_message(stream_sid: str, name: str) -> str:
    """An outbound ``mark``: Twilio echoes it back once the audio queued before it has played."""
    return json.dumps(
        {"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}, separators=(",", ":")
    )


def clear_message(stream_sid: str) -> str:
    """An outbound ``clear``: drop the audio Twilio has buffered (barge-in)."""
    return json.dumps({"event": "clear", "streamSid": stream_sid}, separators=(",", ":"))
