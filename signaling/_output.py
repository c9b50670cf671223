"""The agent's audio output for a browser: a ``PacedAudioOutput`` that the current peer's track pulls.

One clock at a time owns the pace. While a peer is attached its :class:`AgentAudioTrack` is the clock:
aiortc's sender calls ``recv()`` every 20 ms and each call pulls the frame to play (``pull_frame``), so a
barge-in or a pause is silent on the next frame and playback position, recorder timestamps and
"playback started" follow what the browser was sent to play.

The output belongs to the interview, not to one connection: when the candidate reconnects, the new peer's
track is attached and the agent carries on. While no peer is attached the shared pacing clock plays the
agent's speech to nobody in real time (the candidate hears nothing; the captions backlog and the stored
transcript keep what was said).
"""

from __future__ import annotations

from livekit import rtc

from agent import PacedAudioOutput

from ._tracks import AgentAudioTrack

__all__ = ["WebRTCAudioOutput"]


class WebRTCAudioOutput(PacedAudioOutput):
    def __init__(self, *, sample_rate: int = 48000) -> None:
        super().__init__(label="webrtc", sample_rate=sample_rate)
        self._track: AgentAudioTrack | None = None

    def attach(self, track: AgentAudioTrack) -> None:
        """The track's clock paces the agent's speech from now on."""
        if track.sample_rate != self.sample_rate:
            raise ValueError(f"track plays {track.sample_rate} Hz, the output makes {self.sample_rate} Hz")
        if self._track is not None and self._track is not track:
            self._track.play_from(None)
        self._track = track
        track.play_from(self._next_pcm)
        self.start_pulling()

    def detach(self, track: AgentAudioTrack | None = None) -> None:
        if self._track is None or (track is not None and track is not self._track):
            return
        self._track.play_from(None)
        self._track = None
        self.stop_pulling()

    def send_frame(self, frame: rtc.AudioFrame) -> None:
        """Only while no peer is attached (pushed by the pacing clock): nobody hears it."""

    def _next_pcm(self) -> bytes | None:
        frame = self.pull_frame()
        return None if frame is None else frame.data.tobytes()
