"""The machine a benchmark ran on: cores, CPU model, RAM, Python, date, load, commit."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess

from ._proc import ROOT

__all__ = ["load_average", "machine"]


def _cpu_model() -> str:
    """The model and the widest vector unit: whisper (CTranslate2) decoded 2.75x slower on an AVX2-only
    "AMD EPYC" host than on an earlier host of the same name (STT RTF 0.077 against 0.028), most likely
    for want of AVX-512, so the line records it."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    units = {"avx512f": "AVX-512", "avx2": "AVX2", "avx": "AVX"}
    widest = next((name for flag, name in units.items() if flag in flags), None)
    return f"{model}, {widest}" if widest else model


def _ram_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10, check=True)  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine() -> dict[str, str]:
    return {
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": f"{_ram_gib()} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
    }
