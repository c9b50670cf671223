"""The agent's audio output for a browser: a ``PacedAudioOutput`` that the current peer's track pulls.

One clock at a time owns the pace. While a peer is attached its :class:`AgentAudioTrack` is the clock:
aiortc's sender calls ``recv()`` every 20 ms and each call pulls the frame to play (``pull_frame``), so a
barge-in or a pause is silent on the next frame and playback position, recorder timestamps and
"playback started" follow what the browser was sent to play.

The output belongs to the interview, not to one connection: when the candidate reconnects, the new peer's
track is attached and the agent carries on. While no peer is attached the shared pacing clock plays the
agent's speech to nobody in real time (the candidate hears nothing; the captions backlog and the stored
transcript keep what was said).

**Holds.** A pause (the early pause or livekit's) or a clear stops the pulls at once, but the listener
still has ~100 ms of the agent in its jitter buffer and plays it out (aiortc's 4-packet prefetch; Chromium's
NetEq 60-95 ms plus ~30 ms of playout, BENCHMARKS.md "First window"). So the output tells the listener
(``on_hold``: the join page's "hold" event) to silence the agent's audio at once, and lifts the hold on
resume or when a new reply starts playing. A listener that says it mutes (``listener_mutes``: the page
announces it on the data channel) did not hear what it had buffered: a pause takes the last ``rewind_s``
of pulled audio back into the queue, so a resumed reply (a cough, a backchannel, the early pause
released) goes on from what the candidate really heard, and an interrupted one reports that position.
``rewind_s`` is fixed at 120 ms, the top of the measured buffers less the data channel's own ~20-40 ms:
a listener that buffered less hears at most a few tens of ms twice, never loses a word.
"""

from __future__ import annotations

from collections.abc import Callable

from livekit import rtc

from agent import PacedAudioOutput

from ._tracks import AgentAudioTrack

__all__ = ["WebRTCAudioOutput"]


class WebRTCAudioOutput(PacedAudioOutput):
    def __init__(
        self, *, sample_rate: int = 48000, rewind_s: float = 0.12, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__(label="webrtc", sample_rate=sample_rate, clock=clock)
        self._track: AgentAudioTrack | None = None
        self._rewind_s = rewind_s
        self._listener_mutes = False
        self._held = False
        # tells the listener to silence (True) or play (False) the agent's audio; True if it was told
        self.on_hold: Callable[[bool], bool] | None = None
        self.holds = 0  # holds the listener was told about (tests, metrics)

    @property
    def listener_mutes(self) -> bool:
        return self._listener_mutes

    @listener_mutes.setter
    def listener_mutes(self, mutes: bool) -> None:
        """The current listener silences the agent on a hold (the join page says so when it connects)."""
        self._listener_mutes = mutes
        self.pull_rewind_s = self._rewind_s if mutes else 0.0
        if not mutes:
            self._held = False

    def _hold(self, held: bool) -> bool:
        if held == self._held or self.on_hold is None:
            return False
        try:
            told = self.on_hold(held)
        except Exception:  # the audio must not depend on the events channel
            told = False
        self._held = held and told
        self.holds += int(self._held)
        return told

    def pause(self) -> None:
        self._hold(True)  # first: the rewind in pause() counts on the listener muting
        super().pause()

    def resume(self) -> None:
        super().resume()
        self._hold(False)

    def on_clear(self) -> None:
        self._hold(True)  # what the listener buffered was interrupted: silence it too

    def on_drop_buffered(self) -> bool:
        return self._held and self._listener_mutes

    def attach(self, track: AgentAudioTrack) -> None:
        """The track's clock paces the agent's speech from now on."""
        if track.sample_rate != self.sample_rate:
            raise ValueError(f"track plays {track.sample_rate} Hz, the output makes {self.sample_rate} Hz")
        if self._track is not None and self._track is not track:
            self._track.play_from(None)
        self._track = track
        self._held = False  # a new peer's page starts unmuted
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
        if frame is None:
            return None
        if self._held:  # a new reply after an interruption: the listener plays again
            self._hold(False)
        return frame.data.tobytes()
