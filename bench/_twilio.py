"""A phone caller: streamdouble's ``Session`` (the Twilio Media Streams simulator) running a bench script.

streamdouble paces the caller's μ-law frames in real time, echoes marks when their audio would have
played, and records every protocol violation. This subclass adds the bench steps (say a clip, wait for the
agent's reply) and stamps what the caller heard: each voiced agent frame, each ``clear``, and each ``mark``
(our output sends one after the last frame of every reply it plays: the phone's "the agent's turn ended").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from streamdouble import audio as sd_audio
from streamdouble import g711
from streamdouble.protocol import StreamIdentity
from streamdouble.scenario import Scenario, Step
from streamdouble.session import Session, SessionConfig, SessionResult

from ._script import AwaitAudio, AwaitReply, AwaitTurn, Pause, Said, Say, Timeline, reply_finished
from ._script import Step as BenchStep

__all__ = ["PhoneCaller", "run_phone_call"]

RATE = 8000
_VOICED_RMS = 300.0


class _BenchStep(Step):
    def __init__(self, step: BenchStep) -> None:
        self.step = step

    def describe(self) -> str:
        return type(self.step).__name__


class PhoneCaller(Session):
    """One simulated call running bench steps; ``timeline`` is filled as it runs."""

    def __init__(self, url: str, steps: Sequence[BenchStep], **kwargs: Any) -> None:
        super().__init__(url, scenario=Scenario(name="bench", steps=[_BenchStep(s) for s in steps]), **kwargs)
        self.timeline = Timeline()

    async def _run_step(self, connection: Any, step: Any) -> None:
        if not isinstance(step, _BenchStep):
            return await super()._run_step(connection, step)
        s = step.step
        if isinstance(s, Say):
            await self._say(connection, s)
        elif isinstance(s, Pause):
            await self._stream_silence(connection, s.seconds)
        elif isinstance(s, AwaitTurn):
            await self._await_turn(connection, s)
        elif isinstance(s, AwaitAudio | AwaitReply):
            await self._await(connection, s)

    async def _say(self, connection: Any, s: Say) -> None:
        pcm = s.clip.samples
        if s.clip.rate != RATE:
            pcm = sd_audio.resample(pcm, s.clip.rate, RATE)
        frames = sd_audio.frame_ulaw(g711.encode(np.asarray(pcm, dtype=np.int16)))
        start_s, end_s = s.clip.voiced_bounds()
        first, last = int(start_s / 0.02), max(0, int(np.ceil(end_s / 0.02)) - 1)
        stamps: dict[int, float] = {}

        def stamped() -> Any:
            for i, f in enumerate(frames):
                yield f
                if i in (first, last):
                    stamps[i] = self.clock()  # the frame just went on the wire

        await self._stream_frames(connection, stamped())
        if first in stamps and last in stamps:
            self.timeline.said.append(Said(s.tag, start=stamps[first] - 0.02, end=stamps[last]))

    async def _await(self, connection: Any, s: AwaitAudio | AwaitReply) -> None:
        began = self.clock()
        silence = [sd_audio.silence_frame()]
        while self.clock() - began < s.timeout_s:
            last = self.timeline.last_voiced()
            if last is not None and last > began:
                if isinstance(s, AwaitAudio) or self.clock() - last >= s.quiet_s:
                    return
            if self._hung_up:
                self.timeline.ended = self.clock()
                return
            await self._stream_frames(connection, silence)
        self.timeline.timeout(type(s).__name__)

    async def _await_turn(self, connection: Any, s: AwaitTurn) -> None:
        began, since = self.clock(), self.timeline.since_said()
        silence = [sd_audio.silence_frame()]
        while self.clock() - began < s.timeout_s:
            if reply_finished(self.timeline, since=since, now=self.clock(), settle_s=s.settle_s):
                return
            if self._hung_up:  # the interview ended (or the call's time is up): nothing more will come
                self.timeline.ended = self.clock()
                return
            await self._stream_frames(connection, silence)
        self.timeline.timeout(type(s).__name__)

    def _handle_mark(self, mark: Any, now: float) -> None:
        super()._handle_mark(mark, now)
        self.timeline.ends.append(now)

    def _handle_media(self, media: Any, now: float) -> None:
        super()._handle_media(media, now)
        pcm = g711.decode(media.payload).astype(np.float64)
        if pcm.size and float(np.sqrt(np.mean(pcm**2))) > _VOICED_RMS:
            self.timeline.voiced.append(now)

    def _handle_clear(self, now: float) -> None:
        super()._handle_clear(now)
        self.timeline.clears.append(now)


_SIDS = itertools.count(1)


async def run_phone_call(
    host: str, params: dict[str, str], steps: Sequence[BenchStep], *, max_call_s: float = 600.0
) -> tuple[Timeline, SessionResult]:
    """Place one call to ``/twilio/stream`` with the stream parameters our TwiML would have given."""
    config = SessionConfig(
        custom_parameters={"interview_id": params["interview_id"], "token": params["token"]},
        response_timeout_s=60.0,
        quiet_period_s=0.5,
        max_drain_s=1.0,
        max_call_s=max_call_s,
    )
    identity = StreamIdentity(call_sid=params["call_sid"])
    caller = PhoneCaller(f"ws://{host}/twilio/stream", steps, config=config, identity=identity)
    result = await caller.run()
    return caller.timeline, result


_ = Path  # streamdouble's Say steps carry a path; ours carry clips
