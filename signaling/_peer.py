"""One browser connection: an aiortc ``RTCPeerConnection`` answering a trickle-free offer.

The browser sends its microphone and opens the "events" data channel; the server answers with the agent's
audio track. A :class:`PeerLink` knows nothing about interviews: it reports audio, messages, "connected"
and "lost" to callbacks, and :meth:`close` stops everything it started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc

from ._errors import BadRequest
from ._settings import SignalingSettings
from ._tracks import (
    AgentAudioTrack,
    InboundConverter,
    pump_inbound,
    set_inbound_prefetch,
    use_vectorised_audio_level,
)

__all__ = ["PeerLink"]

logger = logging.getLogger("mockline.signaling")

OUTPUT_SAMPLE_RATE = 48000


class PeerLink:
    def __init__(
        self,
        *,
        settings: SignalingSettings,
        on_audio: Callable[[rtc.AudioFrame], None],
        on_message: Callable[[PeerLink, str | bytes], None],
        on_channel: Callable[[PeerLink], None],
        on_connected: Callable[[PeerLink], None],
        on_lost: Callable[[PeerLink], None],
    ) -> None:
        self._settings = settings
        self._on_audio = on_audio
        self._on_message = on_message
        self._on_channel = on_channel
        self._on_connected = on_connected
        self._on_lost = on_lost
        servers = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in settings.ice_servers
        ]
        use_vectorised_audio_level()  # aiortc's per-sample audio level costs ~1 % of a core per session
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.track = AgentAudioTrack(sample_rate=OUTPUT_SAMPLE_RATE)
        self.channel = None  # the browser's "events" RTCDataChannel once it opens
        self.states: list[str] = []
        self._audio_taken = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._lost = False
        self._lost_event = asyncio.Event()
        self._closed = False
        self._close_task: asyncio.Task[None] | None = None

    def _spawn(self, coro, name: str) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, *, sdp: str, type_: str) -> RTCSessionDescription:
        """Apply the browser's offer and return the answer with every candidate gathered."""
        if type_ != "offer":
            raise BadRequest("Expected an SDP offer.")
        pc = self.pc
        pc.on("connectionstatechange", self._state_changed)
        pc.on("track", self._track_arrived)
        pc.on("datachannel", self._channel_arrived)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as e:  # aiortc raises ValueError, KeyError, IndexError… on malformed SDP
            logger.warning("refused an offer aiortc could not apply: %s", type(e).__name__)
            raise BadRequest("The connection offer could not be understood.") from e
        audio = [t for t in pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            raise BadRequest("The connection offer has no microphone audio.")
        if not set_inbound_prefetch(audio[0].receiver, self._settings.inbound_jitter_prefetch):
            logger.warning("aiortc changed: the inbound jitter buffer keeps its default prefetch")
        pc.addTrack(self.track)  # answers on the browser's microphone transceiver: sendrecv
        for extra in pc.getTransceivers():
            if extra is not audio[0]:
                extra.direction = "inactive"
        answer = await pc.createAnswer()
        # aiortc gathers every candidate inside setLocalDescription: the answer needs no trickle.
        await asyncio.wait_for(
            pc.setLocalDescription(answer), timeout=self._settings.ice_gather_timeout_seconds
        )
        self._spawn(self._connect_deadline(), "signaling.connect-deadline")
        return pc.localDescription

    async def _connect_deadline(self) -> None:
        await asyncio.sleep(self._settings.connect_timeout_seconds)
        if "connected" not in self.states:
            logger.info("peer did not connect in time")
            self._report_lost()

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        self.states.append(state)
        if state == "connected":
            self._on_connected(self)
        elif state in ("failed", "closed"):
            self._report_lost()

    def _report_lost(self) -> None:
        if not self._lost and not self._closed:
            self._lost = True
            self._lost_event.set()
            self._on_lost(self)

    async def wait_lost(self) -> None:
        """Returns when the connection failed or closed (or :meth:`close` was called)."""
        await self._lost_event.wait()

    def _track_arrived(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and not self._audio_taken:
            self._audio_taken = True
            converter = InboundConverter(sample_rate=self._settings.input_sample_rate)
            self._spawn(self._pump(track, converter), "signaling.inbound-audio")
        else:  # unexpected tracks (video, a second microphone) are drained so they cannot pile up
            self._spawn(_drain(track), "signaling.drain")

    async def _pump(self, track: MediaStreamTrack, converter: InboundConverter) -> None:
        await pump_inbound(track, converter, self._on_audio)
        self._report_lost()

    def _channel_arrived(self, channel) -> None:  # type: ignore[no-untyped-def]
        if channel.label != "events" or self.channel is not None:
            return
        self.channel = channel
        channel.on("message", lambda msg: self._on_message(self, msg))
        channel.on("open", lambda: self._on_channel(self))
        channel.on("close", self._report_lost)
        self._on_channel(self)

    async def close(self) -> None:
        """Stop the track and tasks and close the connection (idempotent). The closing itself is shielded:
        cancelling a caller must not cancel aiortc's close half-way (it would leave its future broken)."""
        if self._close_task is None:
            self._closed = True
            self._lost_event.set()
            self._close_task = asyncio.ensure_future(self._close())
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self.track.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()


async def _drain(track: MediaStreamTrack) -> None:
    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return
