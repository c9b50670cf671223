"""The client side's handle on the server process: start it, call its bench routes, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ServerProcess"]

ROOT = Path(__file__).resolve().parents[1]


class ServerProcess:
    """``python -m bench serve`` in a child process (its own interpreter, so its own GIL and core)."""

    def __init__(self, *, stack: str, profile: str, database_url: str, startup_timeout_s: float = 180.0):
        self.args = [sys.executable, "-m", "bench", "serve", "--stack", stack, "--profile", profile,
                     "--database-url", database_url]  # fmt: skip
        self.startup_timeout_s = startup_timeout_s
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.pid = 0
        self._http: httpx.AsyncClient | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    async def __aenter__(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=None
        )
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), self.startup_timeout_s)
        except TimeoutError:
            await self._stop()
            raise RuntimeError("the bench server did not start in time") from None
        if not line:
            await self._stop()
            raise RuntimeError(f"the bench server exited during startup (code {self.proc.returncode})")
        info = json.loads(line)
        self.port, self.pid = int(info["port"]), int(info["pid"])
        self._http = httpx.AsyncClient(base_url=self.url, timeout=60)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
        await self._stop()

    async def _stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def setup(self, channel: str, count: int, questions: int = 8) -> list[dict[str, str]]:
        assert self._http is not None
        res = await self._http.post(
            "/bench/setup", json={"channel": channel, "count": count, "questions": questions}
        )
        res.raise_for_status()
        return res.json()

    async def stats(self) -> dict[str, Any]:
        assert self._http is not None
        res = await self._http.get("/bench/stats")
        res.raise_for_status()
        return res.json()

    async def metrics(self, *, ids: list[str] = (), tokens: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        assert self._http is not None
        res = await self._http.post("/bench/metrics", json={"ids": list(ids), "tokens": list(tokens)})
        res.raise_for_status()
        return res.json()

    async def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Until no interview is live (the server finished the last hang-ups)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if (await self.stats())["active"] == 0:
                return True
            await asyncio.sleep(0.2)
        return False
