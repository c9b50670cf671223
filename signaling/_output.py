"""The agent's audio output for a browser: a ``PacedAudioOutput`` that feeds the current peer's track.

The output belongs to the interview, not to one connection: when the candidate reconnects, the new peer's
track is attached and the agent carries on. While no peer is attached the paced frames are dropped (the
candidate hears nothing; the captions backlog and the stored transcript keep what was said).
"""

from __future__ import annotations

import asyncio

from livekit import rtc

from agent import PacedAudioOutput

from ._tracks import AgentAudioTrack

__all__ = ["WebRTCAudioOutput"]


class WebRTCAudioOutput(PacedAudioOutput):
    def __init__(self, *, sample_rate: int = 48000) -> None:
        super().__init__(label="webrtc", sample_rate=sample_rate)
        self._track: AgentAudioTrack | None = None

    def attach(self, track: AgentAudioTrack) -> None:
        self._track = track

    def detach(self, track: AgentAudioTrack | None = None) -> None:
        if track is None or track is self._track:
            self._track = None

    async def send_frame(self, frame: rtc.AudioFrame) -> None:
        track = self._track
        if track is not None:
            await track.put(frame.data.tobytes())

    def on_clear(self) -> None:
        if self._track is not None:
            self._track.clear()

    async def wait_remote_playout(self) -> None:
        track = self._track
        if track is None:
            return
        track.end_segment()
        # The last frames of the segment are still in the track's small buffer: the candidate has heard
        # the segment when it drains (bounded, in case the peer stops reading mid-way).
        try:
            await asyncio.wait_for(track.wait_drained(), timeout=1.0)
        except TimeoutError:
            pass
