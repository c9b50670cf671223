"""Command line: ``python -m bench all [--quick]`` and one command per measurement."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from ._proc import ROOT
from ._stacks import PROFILES, STACKS

__all__ = ["main"]


def _dump(obj: Any) -> Any:
    if is_dataclass(obj):
        return asdict(obj)  # type: ignore[arg-type]
    return obj


def main(argv: list[str] | None = None) -> None:
    if str(ROOT) not in sys.path:  # `mockline bench` from elsewhere: the fakes reuse tests/ helpers
        sys.path.insert(0, str(ROOT))
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="(internal) the system under test, in its own process")
    s.add_argument("--stack", choices=STACKS, default="fakes")
    s.add_argument("--profile", choices=PROFILES, default="product")
    s.add_argument("--database-url", required=True)
    w = sub.add_parser("livekit-worker", help="(internal) `mockline agent` with a benchmark stack")
    w.add_argument("--stack", choices=STACKS, default="fakes")
    w.add_argument("--profile", choices=PROFILES, default="product")
    v = sub.add_parser("v2v", help="voice-to-voice latency per turn")
    v.add_argument("--stack", choices=STACKS, default="fakes")
    v.add_argument("--profile", choices=PROFILES, default="product")
    v.add_argument("--turns", type=int, default=6)
    b = sub.add_parser("bargein", help="barge-in latency and false interruptions")
    b.add_argument("--stack", choices=STACKS, default="hybrid")
    b.add_argument("--profile", choices=PROFILES, default="product")
    b.add_argument("--trials", type=int, default=4)
    b.add_argument("--rounds", type=int, default=2)
    b.add_argument(
        "--speech",
        choices=("espeak", "real"),
        default="espeak",
        help="who barges in: espeak, or real people's recordings (the turns corpus) with a stage breakdown",
    )
    c = sub.add_parser("capacity", help="concurrent interviews with the fixed-latency fakes")
    c.add_argument("--transport", choices=("phone", "webrtc"), default="phone")
    c.add_argument("--steps", default="1,5,10,25,50")
    c.add_argument("--ramp", type=float, default=5.0)
    c.add_argument("--seconds", type=float, default=40.0)
    c.add_argument("--keep-going", action="store_true", help="run every step even after one fails")
    k = sub.add_parser("livekit", help="v2v, barge-in and worker capacity through a real livekit-server")
    k.add_argument("--stack", choices=STACKS, default="fakes")
    k.add_argument("--profile", choices=PROFILES, default="product")
    k.add_argument("--turns", type=int, default=6)
    k.add_argument("--trials", type=int, default=4)
    k.add_argument(
        "--steps",
        default=None,
        help="interviews at once, comma-separated, or none (default: 1,2,4 for fakes, none otherwise)",
    )
    k.add_argument("--seconds", type=float, default=30.0, help="how long each capacity call answers")
    k.add_argument("--out", default=None, help="also write the markdown section here (default: var/bench/)")
    k.add_argument("--keep-going", action="store_true", help="run every step even after one fails")
    k.add_argument("--speech", choices=("espeak", "real"), default="espeak",
                   help="barge-ins: espeak (a warble with the fakes) or real people's clips")  # fmt: skip
    t = sub.add_parser("stt", help="offline STT word error rate and real-time factor")
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--models", default="tiny.en", help="comma-separated: tiny.en, base, or model directories")
    t.add_argument("--bands", default="clean,phone")
    t.add_argument("--voices", type=int, default=3, help="espeak-ng speakers of the technical set (1-3)")
    t.add_argument(
        "--speakers", default="espeak,kokoro", help="voice families of the technical set: espeak, kokoro"
    )
    t.add_argument("--kokoro-voices", type=int, default=2, help="Kokoro speakers of the technical set (1-2)")
    t.add_argument("--priming-cost", action="store_true", help="decode time primed / unprimed, back to back")
    t.add_argument("--priming-repeats", type=int, default=2, help="passes over the clips (--priming-cost)")
    t.add_argument("--no-terms", action="store_true", help="only WER/RTF on the LibriVox clips")
    g = sub.add_parser("scoring", help="hang-up to scored report")
    g.add_argument("--interviews", type=int, default=5)
    g.add_argument("--questions", type=int, default=10, help="questions per interview (the target is for 10)")
    sq = sub.add_parser("scoring-quality", help="scorer agreement with the graded answer set")
    sq.add_argument("--details", action="store_true", help="print every answer's grade and score")
    sq.add_argument("--llm", action="store_true", help="also the LLM judge configured by OPENAI_* variables")
    o = sub.add_parser("turn-options", help="end-of-turn options on the real-speech corpus, no call")
    o.add_argument("--phone", action="store_true", help="the 8 kHz μ-law version of the corpus")
    o.add_argument(
        "--smart-tail",
        type=float,
        default=0.0,
        help="seconds of the pause Smart Turn hears (as a session's tap)",
    )
    tt = sub.add_parser("turns", help="turn-taking on real speech over a real transport")
    tt.add_argument("--stack", choices=STACKS, default="offline")
    tt.add_argument("--profile", choices=PROFILES, default="product")
    tt.add_argument("--transport", choices=("phone", "webrtc", "both"), default="phone")
    tt.add_argument(
        "--answers",
        default="all",
        help="comma-separated corpus answer names, all, or short (the short replies twice, no barge-ins)",
    )
    r = sub.add_parser("recording", help="the call recorder's CPU and size per minute; capacity with/without")
    r.add_argument("--minutes", type=float, default=3.0)
    r.add_argument("--sessions", type=int, default=10, help="phone calls at once for the capacity part")
    r.add_argument("--seconds", type=float, default=30.0)
    r.add_argument("--rounds", type=int, default=1, help="on/off pairs for the capacity part")
    r.add_argument("--no-capacity", action="store_true", help="only the recorder on its own")
    a = sub.add_parser("all", help="everything, then rewrite BENCHMARKS.md")
    a.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    a.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    sub.add_parser("report", help="re-render BENCHMARKS.md from the last run's saved results")
    args = p.parse_args(argv if argv is not None else sys.argv[1:])
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])

    if args.cmd == "serve":
        from ._server import serve

        serve(stack=args.stack, profile=args.profile, database_url=args.database_url)
        return
    if args.cmd == "livekit-worker":
        from ._livekit_worker import run

        run(stack=args.stack, profile=args.profile)
        return
    if args.cmd == "all":
        from ._all import run_all

        asyncio.run(run_all(quick=args.quick, out=Path(args.out), command=command))
        print(f"wrote {args.out}")
        return
    if args.cmd == "report":
        import pickle

        from ._report import write

        write(ROOT / "BENCHMARKS.md", pickle.loads((ROOT / "var/bench/results.pickle").read_bytes()))
        return
    if args.cmd == "livekit":
        from ._livekit import livekit_steps, markdown, run_livekit
        from ._machine import machine

        results = asyncio.run(
            run_livekit(stack=args.stack, profile=args.profile, turns=args.turns, trials=args.trials,
                        steps=livekit_steps(args.steps, stack=args.stack), call_s=args.seconds,
                        keep_going=args.keep_going, barge_speech_kind=args.speech)
        )  # fmt: skip
        saved = ROOT / "var" / "bench" / f"livekit-{args.stack}-{args.profile}-{args.speech}.json"
        saved.write_text(json.dumps([_dump(o) for o in results], indent=1, default=str))
        text = markdown(results, command=command, machine=machine())
        Path(args.out or saved.with_suffix(".md")).write_text(text)
        print(text)
        return
    if args.cmd == "v2v":
        from ._latency import run_v2v

        out = asyncio.run(run_v2v(stack=args.stack, profile=args.profile, turns=args.turns))
    elif args.cmd == "bargein":
        from ._latency import run_bargein

        out = asyncio.run(
            run_bargein(
                stack=args.stack,
                profile=args.profile,
                trials=args.trials,
                rounds=args.rounds,
                speech=args.speech,
            )
        )
        if args.speech == "real":
            from ._bargein_real import render as render_real

            print(render_real([r.real for r in out if r.real is not None]), file=sys.stderr)
    elif args.cmd == "capacity":
        from ._capacity import run_capacity

        steps = tuple(int(x) for x in args.steps.split(","))
        out = asyncio.run(
            run_capacity(
                transport=args.transport,
                steps=steps,
                ramp_s=args.ramp,
                call_s=args.seconds,
                keep_going=args.keep_going,
            )
        )
    elif args.cmd == "turn-options":
        from ._turn_options import render, run_turn_options

        out = [asyncio.run(run_turn_options(phone=args.phone, smart_tail=args.smart_tail))]
        print(render(out[0]), file=sys.stderr)
    elif args.cmd == "turns":
        from ._turns import run_turns

        out = asyncio.run(
            run_turns(
                stack=args.stack,
                profile=args.profile,
                transport=args.transport,
                answers=args.answers,
                save=ROOT / "var/bench",
            )
        )
        from ._turns import render_stages

        for res in out:
            print(render_stages(res.transport, res.short_stages), file=sys.stderr)
    elif args.cmd == "stt":
        from ._stt import run_stt
        from ._stt_terms import main_models, render, run_stt_terms

        models = main_models(args.models)
        out = [asyncio.run(run_stt(repeats=args.repeats, model=m)) for m in models]
        if not args.no_terms:
            bands = tuple(b for b in args.bands.split(",") if b)
            terms = asyncio.run(
                run_stt_terms(
                    models=models,
                    bands=bands,
                    voices=args.voices,
                    speakers=tuple(s for s in args.speakers.split(",") if s),
                    kokoro_voices=args.kokoro_voices,
                )
            )
            out += terms
            print(render(terms), file=sys.stderr)
        if args.priming_cost:
            from ._stt_terms import run_priming_cost

            for m in models:
                cost = asyncio.run(run_priming_cost(model=m, repeats=args.priming_repeats))
                out += cost
                for c in cost:
                    cpu = c.cpu_ratio
                    line = (
                        f"wall median {c.ratio.median:.3f} p95 {c.ratio.p95:.3f}, CPU median "
                        f"{cpu.median:.3f} p95 {cpu.p95:.3f} ({c.pairs} pairs); summed CPU per pass "
                        f"{', '.join(f'{p:.3f}' for p in c.passes)}; prompt tokens {c.prompt_tokens}"
                    )
                    print(
                        f"{c.model} beam {c.beam_size}: primed/unprimed decode time {line}", file=sys.stderr
                    )
    elif args.cmd == "scoring":
        from ._scoring import run_scoring_bench

        out = asyncio.run(run_scoring_bench(interviews=args.interviews, questions=args.questions))
    elif args.cmd == "scoring-quality":
        from ._quality import run_quality

        out = run_quality(details=args.details, llm=args.llm)
    elif args.cmd == "recording":
        from ._recording import run_recorder_bench, run_recording_capacity

        out = list(run_recorder_bench(minutes=args.minutes))
        if not args.no_capacity:
            out += asyncio.run(
                run_recording_capacity(sessions=args.sessions, call_s=args.seconds, rounds=args.rounds)
            )
    json.dump([_dump(o) for o in out], sys.stdout, indent=1, default=str)
    print()
