"""The Twilio wire format without sockets: G.711 μ-law and Media Streams messages."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamdouble import g711
from streamdouble.protocol import MediaStreamEncoder, StreamIdentity, parse_outbound

from telephony import MalformedFrame, OutOfOrder, OversizedMessage, UnknownEvent
from telephony.codec import FRAME_BYTES, pcm16_to_ulaw, ulaw_to_pcm16
from telephony.serializer import (
    Dtmf,
    Mark,
    Media,
    Start,
    Stop,
    StreamDecoder,
    clear_message,
    mark_message,
    media_message,
    parse_message,
)

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------------------------------------ codec


def test_sine_round_trip_keeps_g711_quality():
    t = np.arange(8000) / 8000
    sine = (12000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    encoded = pcm16_to_ulaw(sine)
    assert len(encoded) == sine.size  # one byte per sample
    decoded = ulaw_to_pcm16(encoded).astype(np.float64)
    noise = decoded - sine
    snr_db = 10 * np.log10(np.sum(sine.astype(np.float64) ** 2) / np.sum(noise**2))
    # μ-law's 8-bit companding gives ~38 dB on a loud tone; anything broken (wrong segment, sign, bias)
    # drops far below 30 dB.
    assert snr_db > 33


@pytest.mark.parametrize(
    ("code", "linear"),
    [(0xFF, 0), (0x7F, 0), (0x80, 32124), (0x00, -32124), (0xF0, 120), (0x8F, 16764), (0xCE, 988)],
)
def test_decode_matches_the_g711_table(code, linear):
    assert int(ulaw_to_pcm16(bytes([code]))[0]) == linear


@pytest.mark.parametrize(
    ("linear", "code"),
    [(0, 0xFF), (-1, 0x7E), (1000, 0xCE), (-1000, 0x4E), (32767, 0x80), (-32768, 0x00), (100, 0xF2)],
)
def test_encode_matches_the_g711_table(linear, code):
    assert pcm16_to_ulaw(np.array([linear], dtype=np.int16)) == bytes([code])


def test_codec_agrees_with_an_independent_implementation_for_every_input():
    every_sample = np.arange(-32768, 32768, dtype=np.int16)
    assert pcm16_to_ulaw(every_sample) == g711.encode(every_sample)
    every_code = bytes(range(256))
    assert np.array_equal(ulaw_to_pcm16(every_code), g711.decode(every_code))


# ------------------------------------------------------------------------------------------- serializer


def _encoder() -> tuple[MediaStreamEncoder, StreamIdentity]:
    identity = StreamIdentity()
    return MediaStreamEncoder(identity), identity


def test_parses_what_twilio_sends():
    enc, ident = _encoder()
    decoder = StreamDecoder()
    decoder.feed(json.dumps(enc.connected()))
    start = decoder.feed(json.dumps(enc.start(custom_parameters={"interview_id": "abc", "token": "t"})))
    assert isinstance(start, Start)
    assert (start.stream_sid, start.call_sid) == (ident.stream_sid, ident.call_sid)
    assert start.custom_parameters == {"interview_id": "abc", "token": "t"}
    payload = bytes(range(FRAME_BYTES))
    media = decoder.feed(json.dumps(enc.media(payload)))
    assert isinstance(media, Media) and media.payload == payload and media.chunk == 1
    assert media.timestamp_ms == 0
    assert isinstance(decoder.feed(json.dumps(enc.dtmf("5"))), Dtmf)
    mark = decoder.feed(json.dumps(enc.mark("seg-1")))
    assert isinstance(mark, Mark) and mark.name == "seg-1"
    assert isinstance(decoder.feed(json.dumps(enc.stop())), Stop)


def test_outbound_messages_are_valid_twilio_frames():
    sid = "MZ" + "0" * 32
    media = parse_outbound(media_message(sid, b"\xff" * FRAME_BYTES), expected_stream_sid=sid)
    assert media.payload == b"\xff" * FRAME_BYTES
    assert parse_outbound(mark_message(sid, "seg-3"), expected_stream_sid=sid).name == "seg-3"
    assert json.loads(clear_message(sid)) == {"event": "clear", "streamSid": sid}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not json", MalformedFrame),
        ("[1, 2]", MalformedFrame),
        (json.dumps({"no": "event"}), MalformedFrame),
        (json.dumps({"event": "teleport", "streamSid": "MZ1"}), UnknownEvent),
        (b"\x00\x01", MalformedFrame),
        ("x" * 20000, OversizedMessage),
        (
            json.dumps(
                {
                    "event": "media",
                    "sequenceNumber": "2",
                    "streamSid": "MZ1",
                    "media": {"chunk": "1", "timestamp": "0", "payload": "!!notbase64!!"},
                }
            ),
            MalformedFrame,
        ),
        (
            json.dumps(
                {
                    "event": "media",
                    "sequenceNumber": "two",
                    "streamSid": "MZ1",
                    "media": {"chunk": "1", "timestamp": "0", "payload": "/w=="},
                }
            ),
            MalformedFrame,
        ),
        (
            json.dumps({"event": "dtmf", "sequenceNumber": "2", "streamSid": "MZ1", "dtmf": {"digit": "x"}}),
            MalformedFrame,
        ),
    ],
)
def test_bad_messages_are_refused_with_a_clear_error(message, error):
    with pytest.raises(error) as e:
        parse_message(message)
    assert e.value.message  # says which rule was broken


def test_oversized_media_payload_is_refused():
    big = base64.b64encode(b"\xff" * 9000).decode()
    msg = {"event": "media", "sequenceNumber": "2", "streamSid": "MZ1"}
    msg["media"] = {"chunk": "1", "timestamp": "0", "payload": big}
    with pytest.raises(OversizedMessage):
        parse_message(json.dumps(msg))


def test_stream_rules_reject_out_of_order_messages():
    enc, _ = _encoder()
    fresh = StreamDecoder()
    early = json.dumps({**enc.connected(), "event": "connected"})
    fresh.feed(early)
    start = json.dumps(enc.start())
    first = json.dumps(enc.media(b"\xff" * FRAME_BYTES))
    second = json.dumps(enc.media(b"\xff" * FRAME_BYTES))

    with pytest.raises(OutOfOrder, match="before 'start'"):
        StreamDecoder().feed(first)

    fresh.feed(start)
    fresh.feed(first)
    fresh.feed(second)
    with pytest.raises(OutOfOrder, match="backwards or repeated"):
        fresh.feed(first)  # a replayed frame

    other = StreamDecoder()
    other.feed(start)
    with pytest.raises(OutOfOrder, match="second 'start'"):
        other.feed(start)

    stopped = StreamDecoder()
    stopped.feed(start)
    stopped.feed(json.dumps(enc.stop()))
    with pytest.raises(OutOfOrder, match="after 'stop'"):
        stopped.feed(second)


def test_messages_for_another_stream_are_refused():
    enc, _ = _encoder()
    other, _ = _encoder()
    other.start()
    decoder = StreamDecoder()
    decoder.feed(json.dumps(enc.start()))
    enc.media(b"\xff" * FRAME_BYTES)  # keep enc's counters ahead
    with pytest.raises(OutOfOrder, match="different streamSid"):
        decoder.feed(json.dumps(other.media(b"\xff" * FRAME_BYTES) | {"sequenceNumber": "99"}))
