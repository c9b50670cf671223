"""``mockline simulate``: a whole interview through the real audio pipeline with a synthetic candidate.

The candidate is an espeak-ng voice (distinct from the agent's piper voice; without espeak-ng installed, a
slower piper voice) pushed into a ``PushAudioInput``
in real time (20 ms frames at wall-clock pace, silence between utterances, like a microphone). It listens
through a ``PacedAudioOutput`` and answers after the agent finishes speaking, except twice on purpose:
its first answer contains a ~2.5 s thinking pause mid-sentence (which must not end the turn), and it
barges in while the agent speaks its second reply ("Sorry, could you repeat that?").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import typer

logger = logging.getLogger("mockline.simulate")

FIRST_ANSWER_A = "So the first thing I would do is,"
FIRST_ANSWER_B = (
    "look at the logs and the metrics. For example at my last job I traced a slow endpoint that way, and "
    "in the end the result was half the latency."
)
BARGE_IN = "Sorry, could you repeat that please?"
ANSWERS = (
    "I would start with the requirements and then build a small version first. For example, when I "
    "built our billing service, we shipped it in two weeks and the result was fewer support tickets.",
    "I try to keep the team informed early. For instance, at my previous company I wrote a short design "
    "note, and in the end we saved a lot of rework.",
    "I would measure it first and then fix the biggest problem. For example, I once found a missing "
    "index, and the result was that the page loaded three times faster.",
    "Honestly I would ask questions and listen. At my last job a colleague disagreed with me, we talked "
    "it through, and we ended up with a better plan.",
)
THINKING_PAUSE_S = 2.5
BARGE_IN_AFTER_S = 1.2
SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE // 50


@dataclass
class _Mix:
    """Both sides on one timeline (samples from the start): what the simulated call carried."""

    t0: float = field(default_factory=time.monotonic)
    chunks: list[tuple[int, Any]] = field(default_factory=list)

    def add(self, samples: Any, at: float | None = None) -> None:
        offset = int(((at if at is not None else time.monotonic()) - self.t0) * SAMPLE_RATE)
        self.chunks.append((max(0, offset), samples))


async def _synthesise(tts: Any, text: str) -> Any:
    """``text`` in the candidate's voice as int16 samples at 16 kHz."""
    import numpy as np
    from livekit import rtc

    parts = []
    resampler: rtc.AudioResampler | None = None
    async with tts.synthesize(text) as stream:
        async for ev in stream:
            frame = ev.frame
            if frame.sample_rate != SAMPLE_RATE:
                resampler = resampler or rtc.AudioResampler(
                    input_rate=frame.sample_rate, output_rate=SAMPLE_RATE
                )
                frames = resampler.push(frame)
            else:
                frames = [frame]
            parts += [np.frombuffer(f.data, dtype=np.int16).copy() for f in frames]
    if resampler is not None:
        parts += [np.frombuffer(f.data, dtype=np.int16).copy() for f in resampler.flush()]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def _silence(seconds: float) -> Any:
    import numpy as np

    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


class _Microphone:
    """Pushes 20 ms frames at wall-clock pace (absolute deadlines); silence when nothing is queued."""

    def __init__(self, target: Any, mix: _Mix) -> None:
        import numpy as np

        self._target = target
        self._mix = mix
        self._pending: Any = np.zeros(0, dtype=np.int16)
        self._said = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="simulate-microphone")

    async def say(self, samples: Any) -> None:
        import numpy as np

        self._said.clear()
        self._pending = np.concatenate([self._pending, samples])
        await self._said.wait()

    async def _run(self) -> None:
        import numpy as np
        from livekit import rtc

        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while True:
            if len(self._pending):
                chunk, self._pending = self._pending[:FRAME], self._pending[FRAME:]
                if len(chunk) < FRAME:
                    chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
                self._mix.add(chunk)
                if not len(self._pending):
                    self._said.set()
            else:
                chunk = np.zeros(FRAME, dtype=np.int16)
            if len(self._pending) == 0 and self._said.is_set() and chunk.any():
                logger.debug("candidate stopped speaking")
            self._target.push_frame(rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME))
            n += 1
            delay = start + n * 0.02 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _make_ear(mix: _Mix) -> Any:
    import numpy as np

    from agent import PacedAudioOutput

    class Ear(PacedAudioOutput):
        """The candidate's loudspeaker: records the agent into the mix, counts segment starts/ends."""

        def __init__(self) -> None:
            super().__init__(label="simulate", sample_rate=SAMPLE_RATE)
            self.started = 0
            self.finished = 0
            self.changed = asyncio.Event()
            self.on("playback_started", lambda _ev: self._bump("started"))
            self.on("playback_finished", lambda _ev: self._bump("finished"))

        def _bump(self, what: str) -> None:
            setattr(self, what, getattr(self, what) + 1)
            logger.debug("agent audio %s (started=%d finished=%d)", what, self.started, self.finished)
            self.changed.set()

        async def until(self, what: str, count: int) -> None:
            while getattr(self, what) < count:
                self.changed.clear()
                await self.changed.wait()

        def send_frame(self, frame: Any) -> None:
            mix.add(np.frombuffer(frame.data, dtype=np.int16).copy())

    return Ear()


async def _candidate(ear: Any, mic: _Microphone, voice: Any, done: asyncio.Future[str]) -> None:
    """The scripted candidate; returns when the agent has closed the interview."""
    say = lambda text: _synthesise(voice, text)  # noqa: E731
    pause_answer = [await say(FIRST_ANSWER_A), _silence(THINKING_PAUSE_S), await say(FIRST_ANSWER_B)]
    barge = await say(BARGE_IN)
    answers = [await say(a) for a in ANSWERS]
    import numpy as np

    async def unless_done(coro: Any) -> bool:
        task = asyncio.ensure_future(coro)
        await asyncio.wait([task, done], return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return False
        return True

    if not await unless_done(ear.until("finished", 1)):  # the greeting and first question
        return
    await mic.say(np.concatenate([_silence(0.6), *pause_answer]))
    if not await unless_done(ear.until("started", 2)):  # the agent starts its second reply...
        return
    await mic.say(np.concatenate([_silence(BARGE_IN_AFTER_S), barge]))  # ...and is cut off mid-sentence
    if not await unless_done(ear.until("finished", 2)):  # the interrupted reply is over
        return
    n, expect = 0, 3
    while not done.done():
        # answer whatever the agent says next, once it has said it in full
        if not await unless_done(ear.until("finished", expect)):
            return
        await mic.say(np.concatenate([_silence(0.6), answers[n % len(answers)]]))
        n, expect = n + 1, ear.finished + 1


def _summary_rows(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stages = ("eou_delay_ms", "stt_ms", "llm_ttft_ms", "tts_ttfb_ms", "v2v_ms")
    out = []
    for stage in stages:
        vals = [m[stage] for m in metrics if m.get(stage) is not None]
        out.append(
            {
                "stage": stage,
                "count": len(vals),
                "median_ms": round(statistics.median(vals), 1) if vals else None,
                "worst_ms": round(max(vals), 1) if vals else None,
            }
        )
    return out


def _load_candidate_voice() -> Any:
    """The candidate's voice: espeak-ng (a voice unlike the agent's) or, where the espeak-ng binary is not
    installed (a fresh machine: it is a Debian package, not a PyPI one), piper spoken more slowly."""
    from agent.providers import EspeakTTS, PiperTTS, ProviderUnavailableError, SpeechSettings

    try:
        return EspeakTTS.load(SpeechSettings(tts_espeak_voice="en-us+f3", tts_espeak_rate=165))
    except ProviderUnavailableError:
        logger.warning(
            "espeak-ng is not installed: the simulated candidate speaks with the piper voice "
            "(apt-get install espeak-ng for a voice unlike the interviewer's)"
        )
        return PiperTTS.load(SpeechSettings(tts="piper", tts_piper_length_scale=1.15))


def _session_recording(db: Any, interview_id: str) -> tuple[str, float]:
    """The store key and duration of the interview's recording ("" and 0 when recordings are off)."""
    from sqlalchemy import desc, select

    from storage import Recording

    with db.session() as s:
        rec = s.scalar(
            select(Recording).where(Recording.interview_id == interview_id).order_by(desc(Recording.id))
        )
        return (rec.path, rec.duration_s) if rec is not None else ("", 0.0)


async def run_simulation(
    *, questions: int, brain: str, voice: str, seed: int, max_seconds: float = 300.0
) -> dict[str, Any]:
    from agent import AgentRuntime, AgentSettings, PushAudioInput, interview_report
    from agent.plans import build_plan
    from agent.providers import SpeechSettings
    from storage import Interview, InterviewPlan, get_database, upgrade_to_head

    db = get_database()
    await asyncio.to_thread(upgrade_to_head, db)
    plan = build_plan(role="backend engineer", question_count=questions, seed=seed, time_limit_minutes=15)

    def create() -> str:
        with db.session() as s:
            row = InterviewPlan.from_spec(plan.to_json(), title=f"simulate: {plan.role}")
            s.add(row)
            s.flush()
            iv = Interview(
                plan_id=row.id, channel="simulate", brain=brain, candidate_name="Alex Rivera"
            )
            s.add(iv)
            s.flush()
            return iv.id

    interview_id = await asyncio.to_thread(create)
    settings = AgentSettings(aec_warmup_s=None)  # no echo path between the two simulated sides
    speech = SpeechSettings(tts=voice)
    runtime = await asyncio.to_thread(AgentRuntime.load, settings, speech=speech)
    candidate_voice = await asyncio.to_thread(_load_candidate_voice)
    mix = _Mix()
    audio_in = PushAudioInput(label="simulate")
    ear = _make_ear(mix)
    mic = _Microphone(audio_in, mix)
    started = time.monotonic()
    mic.start()
    handle = await runtime.start_interview(interview_id=interview_id, audio_input=audio_in, audio_output=ear)
    done: asyncio.Future[str] = asyncio.ensure_future(handle.wait())
    script = asyncio.create_task(_candidate(ear, mic, candidate_voice, done))
    try:
        reason = await asyncio.wait_for(asyncio.shield(done), max_seconds)
    except TimeoutError:
        reason = await handle.aclose("timeout")
    finally:
        script.cancel()
        await asyncio.gather(script, return_exceptions=True)
        await mic.aclose()
        await handle.aclose("hangup")
        await runtime.aclose()
    wall_s = time.monotonic() - started
    # the session recorded both sides itself (stereo Ogg/Opus in the recording store), as every transport does
    key, duration = await asyncio.to_thread(_session_recording, db, interview_id)
    result = await asyncio.to_thread(interview_report, db, interview_id)
    result.update(
        reason=reason,
        wall_seconds=round(wall_s, 1),
        recording=key,
        recording_seconds=round(duration, 1),
        latency=_summary_rows(result["metrics"]),
        underruns=ear.stats.underruns,
        script={"thinking_pause": [FIRST_ANSWER_A, FIRST_ANSWER_B], "barge_in": BARGE_IN},
    )
    result["checks"] = _checks(result)
    return result


def _checks(result: dict[str, Any]) -> dict[str, bool]:
    turns = result["turns"]
    agent_turns = [t for t in turns if t["speaker"] == "agent"]
    first_answer = next((t for t in turns if t["speaker"] == "candidate"), None)
    words_b = {"logs", "metrics", "latency"}
    split = first_answer is None or not (
        words_b & set(first_answer["text"].lower().replace(".", " ").split())
    )
    return {
        "completed": result["reason"] == "completed",
        "barge_in_interrupted": any(t["interrupted"] for t in agent_turns),
        "thinking_pause_kept_in_one_turn": not split,
    }


def _print(result: dict[str, Any]) -> None:
    typer.echo(f"interview {result['interview_id']}: {result['reason']} in {result['wall_seconds']} s")
    typer.echo("")
    for t in result["turns"]:
        flag = " [interrupted]" if t["interrupted"] else ""
        who = "AGENT    " if t["speaker"] == "agent" else "CANDIDATE"
        typer.echo(f"{t['started_at']:7.1f}s {who} {t['text']}{flag}")
    typer.echo("")
    typer.echo("per-turn latency (ms)      eou     stt  llm ttft  tts ttfb     v2v")
    for m in result["metrics"]:
        cells = [m.get(k) for k in ("eou_delay_ms", "stt_ms", "llm_ttft_ms", "tts_ttfb_ms", "v2v_ms")]
        typer.echo(f"  turn {m['seq']:>3}            " + "".join(_cell(c) for c in cells))
    for label, key in (("median", "median_ms"), ("worst", "worst_ms")):
        typer.echo(f"  {label:<22}" + "".join(_cell(row[key]) for row in result["latency"]))
    typer.echo("")
    typer.echo(f"recording: {result['recording']} ({result['recording_seconds']} s)")
    for name, ok in result["checks"].items():
        typer.echo(f"check {name}: {'ok' if ok else 'FAILED'}")


def _cell(v: float | None) -> str:
    return f"{v:8.0f}" if v is not None else "       -"


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        questions: int = typer.Option(3, "--questions", min=1, max=10, help="Planned questions."),
        brain: str = typer.Option("offline", "--brain", help="offline | llm (MOCKLINE_BRAIN settings apply)"),
        voice: str = typer.Option("piper", "--voice", help="The agent's voice: piper | espeak."),
        seed: int = typer.Option(7, "--seed", help="Plan seed (which questions are asked)."),
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable result."),
        max_seconds: float = typer.Option(300.0, "--max-seconds", help="Give up after this long."),
    ) -> None:
        """Run a whole interview offline with a synthetic candidate; print the transcript and latencies."""
        from mockline.logging import setup_logging

        if brain not in ("offline", "llm"):
            raise typer.BadParameter("--brain must be offline or llm")
        if voice not in ("piper", "espeak"):
            raise typer.BadParameter("--voice must be piper or espeak")
        setup_logging("WARNING")
        if os.environ.get("MOCKLINE_SIMULATE_DEBUG"):
            logging.getLogger("mockline.simulate").setLevel(logging.DEBUG)
        result = asyncio.run(
            run_simulation(questions=questions, brain=brain, voice=voice, seed=seed, max_seconds=max_seconds)
        )
        if as_json:
            typer.echo(json.dumps(result, indent=2, default=str))
        else:
            _print(result)
        if not result["checks"]["completed"]:
            raise typer.Exit(code=1)
