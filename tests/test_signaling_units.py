"""Pure parts of signaling: the data-channel protocol, the agent's outbound track, the inbound converter."""

from __future__ import annotations

import asyncio
import fractions
import json

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError
from livekit import rtc

from signaling import AgentAudioTrack, EventChannel, InboundConverter, ProtocolError, parse_client_message
from signaling._events import EndMessage, MuteMessage
from signaling._output import WebRTCAudioOutput

pytestmark = pytest.mark.unit


# -- data channel ----------------------------------------------------------------------------------------
def test_client_messages_parse():
    assert parse_client_message('{"type": "mute", "muted": true}') == MuteMessage(muted=True)
    assert parse_client_message(b'{"type": "end"}') == EndMessage()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nope",
        "[]",
        "null",
        '{"type": "mute"}',
        '{"type": "mute", "muted": 1}',
        '{"type": "x"}',
        b"\xff\xfe",
        '{"type": "end", "pad": "' + "x" * 5000 + '"}',
    ],
)
def test_malformed_client_messages_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        parse_client_message(raw)


class FakeChannel:
    """Stands in for an aiortc RTCDataChannel (the edge: only ``readyState`` and ``send``)."""

    def __init__(self, state: str = "open") -> None:
        self.readyState = state
        self.sent: list[dict] = []

    def send(self, data: str) -> None:
        self.sent.append(json.loads(data))


def test_events_sent_before_the_channel_opens_are_delivered_in_order():
    events = EventChannel()
    events.on_state(agent="speaking")
    events.on_caption(speaker="agent", text="Hello", final=False)
    channel = FakeChannel(state="connecting")
    events.attach(channel)
    assert channel.sent == []
    channel.readyState = "open"
    events.on_caption(speaker="agent", text="Hello there.", final=True)
    assert [m["type"] for m in channel.sent] == ["state", "caption", "caption"]
    assert channel.sent[0] == {"type": "state", "agent": "speaking", "user": None}
    assert channel.sent[2]["final"] is True


def test_state_merges_both_sides_and_ended_is_sent_once():
    events, channel = EventChannel(), FakeChannel()
    events.attach(channel)
    events.on_state(agent="listening")
    events.on_state(user="speaking")
    events.ended_fields = {"mode": "practice", "report_url": None}
    events.on_ended(reason="completed")
    events.on_ended(reason="hangup")
    assert channel.sent[1] == {"type": "state", "agent": "listening", "user": "speaking"}
    assert channel.sent[-1] == {
        "type": "ended",
        "reason": "completed",
        "mode": "practice",
        "report_url": None,
    }
    assert sum(m["type"] == "ended" for m in channel.sent) == 1


def test_malformed_messages_are_counted_not_raised():
    events = EventChannel()
    assert events.parse("garbage") is None
    assert events.parse('{"type": "end"}') == EndMessage()
    assert events.malformed == 1


# -- outbound track ---------------------------------------------------------------------------------------
def _pcm(samples: int, value: int) -> bytes:
    return np.full(samples, value, dtype=np.int16).tobytes()


async def test_track_sends_20ms_frames_with_sample_pts_and_silence_when_idle():
    track = AgentAudioTrack(sample_rate=48000)
    frames = [await track.recv() for _ in range(3)]
    assert [f.samples for f in frames] == [960, 960, 960]
    assert [f.pts for f in frames] == [0, 960, 1920]
    assert all(f.sample_rate == 48000 and f.time_base == fractions.Fraction(1, 48000) for f in frames)
    assert all(f.layout.name == "mono" and not f.to_ndarray().any() for f in frames)
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_track_plays_what_its_source_hands_over_at_each_slot_then_silence():
    track = AgentAudioTrack(sample_rate=48000)
    spoken = [_pcm(960, 100), _pcm(960, 200), _pcm(960, 300)]
    track.play_from(lambda: spoken.pop(0) if spoken else None)
    out = [int(np.abs(f.to_ndarray()).max()) for f in [await track.recv() for _ in range(5)]]
    assert out == [100, 200, 300, 0, 0]
    assert track.voiced_frames_sent == 3
    track.play_from(None)  # detached: silence, the source is not asked again
    spoken.append(_pcm(960, 400))
    assert not (await track.recv()).to_ndarray().any()
    track.stop()


async def test_a_failing_source_costs_one_silent_frame_not_the_sender():
    track = AgentAudioTrack(sample_rate=48000)
    calls = []

    def source() -> bytes | None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("agent output bug")
        return _pcm(960, 500)

    track.play_from(source)
    frames = [int(np.abs((await track.recv()).to_ndarray()).max()) for _ in range(2)]
    assert frames == [0, 500]
    track.stop()


async def test_the_agent_speaks_through_the_track_and_a_barge_in_is_silent_on_the_next_frame():
    out = WebRTCAudioOutput()
    track = AgentAudioTrack(sample_rate=48000)
    out.attach(track)
    try:
        await out.capture_frame(rtc.AudioFrame(_pcm(24000, 1000), 24000, 1, 24000))  # 1 s of TTS at 24 kHz
        levels = [int(np.abs((await track.recv()).to_ndarray()).max()) for _ in range(6)]
        assert all(v > 0 for v in levels)  # queued audio plays from the very next frame: no prebuffer
        out.clear_buffer()  # the candidate interrupts
        assert not (await track.recv()).to_ndarray().any()
        ev = await asyncio.wait_for(out.wait_for_playout(), 5)
        assert ev.interrupted and ev.playback_position == pytest.approx(out.stats.frames_sent * 0.02)
        out.detach(track)
        assert not out.pulling
    finally:
        await out.aclose()
        track.stop()


# -- inbound ----------------------------------------------------------------------------------------------
def test_browser_stereo_48k_becomes_mono_16k():
    conv = InboundConverter(sample_rate=16000)
    out = []
    for n in range(50):  # 1 s of a 440 Hz tone in the left channel only
        t = (np.arange(960) + n * 960) / 48000
        left = (np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16)
        stereo = np.stack([left, np.zeros_like(left)], axis=1).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, fractions.Fraction(1, 48000)
        out += conv.convert(frame)
    assert all(f.sample_rate == 16000 and f.num_channels == 1 for f in out)
    pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out]).astype(np.float64)
    assert 15000 <= len(pcm) <= 16000  # ~1 s (the resampler keeps a few ms of lookahead)
    spectrum = np.abs(np.fft.rfft(pcm[1000:]))
    peak_hz = np.argmax(spectrum) * 16000 / len(pcm[1000:])
    assert abs(peak_hz - 440) < 5
    rms = np.sqrt(np.mean(pcm[1000:] ** 2))
    assert 2500 < rms < 4500  # the left channel downmixed at half level (10000/√2/2 ≈ 3536)


async def test_the_server_hands_on_a_candidate_frame_when_the_next_one_arrives_not_four_later():
    """The candidate's end of speech (and a barge-in) reaches the agent one frame after it was sent, not the
    ~4 frames aiortc's audio jitter buffer holds by default; packets still leave in sequence order."""
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import AudioStreamTrack
    from aiortc.rtp import RtpPacket

    from signaling._peer import PeerLink
    from signaling._settings import SignalingSettings

    browser = RTCPeerConnection()
    browser.addTrack(AudioStreamTrack())
    await browser.setLocalDescription(await browser.createOffer())
    noop = lambda *a: None  # noqa: E731
    link = PeerLink(settings=SignalingSettings(), on_audio=noop, on_message=noop, on_channel=noop,
                    on_connected=noop, on_lost=noop)  # fmt: skip
    try:
        await link.answer(sdp=browser.localDescription.sdp, type_="offer")
        [transceiver] = [t for t in link.pc.getTransceivers() if t.kind == "audio"]
        buffer = transceiver.receiver._RTCRtpReceiver__jitter_buffer

        def packet(seq: int) -> RtpPacket:
            p = RtpPacket(payload_type=111, sequence_number=seq, timestamp=seq * 960, payload=bytes([seq]))
            p._data = p.payload  # what the receiver sets (the depayloaded Opus frame) before buffering
            return p

        assert buffer.add(packet(100))[1] is None
        assert buffer.add(packet(102))[1] is None  # 101 is late: nothing is handed on out of order
        released = buffer.add(packet(101))[1]  # 101 arrives; 102 has started: 100 is complete and leaves
        assert released is not None and released.data == bytes([100])
        assert buffer.add(packet(103))[1].data == bytes([101])
    finally:
        await link.close()
        await browser.close()
        # the server's ICE start was waiting for a browser that never got the answer: let it unwind
        connecting = [t for t in asyncio.all_tasks() if "__connect" in repr(t.get_coro())]
        if connecting:
            await asyncio.wait(connecting, timeout=10)
