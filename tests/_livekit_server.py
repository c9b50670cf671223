"""A real ``livekit-server`` on loopback for the test suite (and the benchmarks).

The binary is the pinned release built from the Go module proxy by ``scripts/services.sh livekit`` (cached
per machine); ``MOCKLINE_LIVEKIT_SERVER`` points at another build. Each server gets a config file of its own:
a generated API key pair, a free TCP port for HTTP/WebSocket signalling and ICE/TCP, a small UDP range for
media, bound to and advertised on 127.0.0.1, logs in ``artifacts/``. With ``redis`` (an address) it joins
LiveKit's multi-node mode: nodes on the same Redis share rooms, signalling and agent dispatch. Several nodes
get a region each and the region-aware node selector, so a room lives on the node whose API created it (a
deterministic placement the multi-node test relies on); :func:`running_redis` gives them a private Redis.

Readiness is polled on the HTTP port (LiveKit answers ``GET /`` with 200 once it serves), never slept for.
If no binary can be found or built, :func:`livekit_binary` raises :class:`LiveKitUnavailable` with the
reason, and the fixtures skip the LiveKit tests with it (``make test`` always has one); a binary that is there
but does not start fails the test (:class:`LiveKitFailed`).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = [
    "AgentWorker",
    "LiveKitFailed",
    "LiveKitServer",
    "LiveKitUnavailable",
    "binary_or_skip",
    "free_tcp_port",
    "free_udp_range",
    "livekit_binary",
    "running_livekit",
    "running_redis",
    "worker_env",
]

REPO = Path(__file__).resolve().parents[1]
UDP_PORTS = 24  # per server: a publisher and a subscriber connection per participant, a few rooms at once


class LiveKitUnavailable(RuntimeError):
    """No livekit-server binary on this machine (and none could be built)."""


class LiveKitFailed(RuntimeError):
    """A livekit-server that is there did not start or answer."""


def livekit_binary() -> str:
    """The livekit-server to run: ``$MOCKLINE_LIVEKIT_SERVER``, else what ``scripts/services.sh livekit``
    prints (it builds the pinned release once, from the Go module proxy)."""
    env = os.environ.get("MOCKLINE_LIVEKIT_SERVER")
    if env:
        if not os.access(env, os.X_OK):
            raise LiveKitUnavailable(f"MOCKLINE_LIVEKIT_SERVER={env} is not an executable file")
        return env
    script = REPO / "scripts" / "services.sh"
    try:
        done = subprocess.run(
            ["bash", str(script), "livekit"], capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LiveKitUnavailable(f"{script} livekit could not run: {e}") from e
    path = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not path or not os.access(path, os.X_OK):
        raise LiveKitUnavailable(
            f"no livekit-server binary: `{script} livekit` exited {done.returncode}: {done.stderr[-2000:]}"
        )
    return path


def binary_or_skip() -> str:
    """For fixtures: :func:`livekit_binary`, or skip the test saying why there is none."""
    import pytest

    try:
        return livekit_binary()
    except LiveKitUnavailable as e:
        pytest.skip(f"no livekit-server: {e}")


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_range(count: int = UDP_PORTS) -> tuple[int, int]:
    """``count`` consecutive UDP ports that are free on 127.0.0.1 now (first, last)."""
    rng = random.Random()
    for _ in range(200):
        start = rng.randrange(30000, 60000 - count)
        held: list[socket.socket] = []
        try:
            for port in range(start, start + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", port))
            return start, start + count - 1
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise LiveKitFailed("no free UDP port range on 127.0.0.1")


@dataclass
class LiveKitServer:
    """One livekit-server process; ``url`` is what clients and workers connect to (``ws://``)."""

    workdir: Path
    log_path: Path
    redis: str | None = None  # host:port of the Redis shared by the nodes of one cluster
    region: str | None = None  # with ``regions``: this node's, for the region-aware node selector
    regions: tuple[str, ...] = ()
    api_key: str = field(default_factory=lambda: "APIt" + secrets.token_hex(6))
    api_secret: str = field(default_factory=lambda: secrets.token_urlsafe(36))
    port: int = field(default_factory=free_tcp_port)
    tcp_port: int = field(default_factory=free_tcp_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, object]:
        udp_start, udp_end = free_udp_range()
        config: dict[str, object] = {
            "port": self.port,
            "bind_addresses": ["127.0.0.1"],
            "rtc": {
                "tcp_port": self.tcp_port,
                "port_range_start": udp_start,
                "port_range_end": udp_end,
                "use_external_ip": False,
                "node_ip": "127.0.0.1",
                "enable_loopback_candidate": True,
            },
            "keys": {self.api_key: self.api_secret},
            "logging": {"level": "info", "json": False},
            # an interview room outlives a candidate's dropped connection (the worker's grace period)
            "room": {"empty_timeout": 120, "departure_timeout": 60},
        }
        if self.redis is not None:
            config["redis"] = {"address": self.redis}
        if self.region is not None:
            config["region"] = self.region
            config["node_selector"] = {
                "kind": "regionaware",
                "sort_by": "random",
                "algorithm": "lowest",
                # far apart: each node's nearest region is its own
                "regions": [
                    {"name": r, "lat": 40.0 * i, "lon": 40.0 * i} for i, r in enumerate(self.regions)
                ],
            }
        return config

    def start(self, binary: str, *, timeout: float = 60.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / f"livekit-{self.port}.yaml"
        cfg.write_text(yaml.safe_dump(self.config()))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [binary, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None:
                raise LiveKitFailed(
                    f"livekit-server exited with {self.process.returncode}: {self._log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LiveKitFailed(f"livekit-server did not answer within {timeout}s: {self._log_tail()}")
            time.sleep(0.1)  # polling interval of the readiness probe

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.http_url, timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-3000:]
        return ""


@contextlib.contextmanager
def running_livekit(
    workdir: Path, log_dir: Path, *, redis: str | None = None, count: int = 1, binary: str | None = None
) -> Iterator[list[LiveKitServer]]:
    """``count`` livekit-servers with one key pair (one cluster on ``redis`` when given), stopped on exit."""
    binary = binary or livekit_binary()
    servers: list[LiveKitServer] = []
    key, secret = "APIt" + secrets.token_hex(6), secrets.token_urlsafe(36)
    regions = tuple(f"node{i}" for i in range(count)) if redis is not None and count > 1 else ()
    try:
        for i in range(count):
            port = free_tcp_port()
            server = LiveKitServer(
                workdir=workdir, log_path=log_dir / f"livekit-server-{port}.log", redis=redis,
                region=regions[i] if regions else None, regions=regions,
                api_key=key, api_secret=secret, port=port,
            )  # fmt: skip
            servers.append(server)
            server.start(binary)
        yield servers
    finally:
        for server in servers:
            server.stop()
        if workdir.exists():
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def running_redis(workdir: Path, log_dir: Path, *, timeout: float = 30.0) -> Iterator[str]:
    """A private ``redis-server`` on a free loopback port (a LiveKit cluster of its own: no other test
    run's nodes can join it); yields ``host:port``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise LiveKitUnavailable("no redis-server (scripts/services.sh up installs it)")
    port = free_tcp_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"redis-{port}.log").resolve()  # redis-server resolves paths from its --dir
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", str(workdir.resolve()), "--logfile", str(log)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not _redis_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise LiveKitFailed(f"redis-server on port {port} did not answer (exit {process.poll()})")
            time.sleep(0.05)  # polling interval of the readiness probe
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# -- agent workers -----------------------------------------------------------------------------------------

REGISTERED = "registered with LiveKit"  # livekit_room.worker logs it once the server accepted the worker


@dataclass
class AgentWorker:
    """An agent worker process (``mockline agent`` or ``python -m bench livekit-worker``) registered with
    ``servers[0]``; its output goes to ``log_path``. Ready once it logged its registration."""

    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 180.0) -> AgentWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        try:
            self.wait_for_log(REGISTERED, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def wait_for_log(self, text: str, *, timeout: float, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"agent worker exited {self.process.returncode}: {self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent worker did not log {text!r} in {timeout}s: {self.log()[-3000:]}")
            time.sleep(0.1)  # polling interval of the log

    def terminate(self) -> None:
        """SIGTERM: the worker drains (running interviews finish), then exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def worker_env(server: LiveKitServer, **extra: str) -> dict[str, str]:
    """The environment of an agent worker for ``server``: its key pair, a free health port, job-count load
    (the machine's CPU is not this worker's to judge), everything else inherited."""
    env = dict(os.environ)
    env.update(
        LIVEKIT_URL=server.url,
        LIVEKIT_API_KEY=server.api_key,
        LIVEKIT_API_SECRET=server.api_secret,
        LIVEKIT_HEALTH_PORT=str(free_tcp_port()),
        LIVEKIT_MAX_JOBS="4",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
