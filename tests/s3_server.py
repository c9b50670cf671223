"""A real S3-compatible server on a free loopback port, owned by the test that starts it.

moto's standalone server (``moto_server`` from PyPI ``moto[server]``, in the ``dev`` extra, so ``make test``
and ``.ci/run`` need nothing else) by default; MinIO instead when a ``minio`` binary is on ``PATH`` or in
``MOCKLINE_MINIO_BIN``. Either way it is a separate process speaking the S3 wire protocol and the code under
test talks HTTP to it through boto3: no in-process mock.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ACCESS_KEY = "mockline-test"
SECRET_KEY = "mockline-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    kind: str  # minio | moto
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _minio_binary() -> str | None:
    path = os.environ.get("MOCKLINE_MINIO_BIN") or shutil.which("minio")
    return path if path and os.access(path, os.X_OK) else None


def _moto_binary() -> str | None:
    local = Path(sys.executable).with_name("moto_server")
    return str(local) if local.exists() else shutil.which("moto_server")


@contextmanager
def s3_server(workdir: Path) -> Iterator[S3Server]:
    port = _free_port()
    minio = _minio_binary()
    env = {**os.environ}
    if minio:
        env.update(MINIO_ROOT_USER=ACCESS_KEY, MINIO_ROOT_PASSWORD=SECRET_KEY)
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        cmd = [minio, "server", str(workdir / "data"), "--address", f"127.0.0.1:{port}", "--quiet"]
        kind, ready = "minio", f"http://127.0.0.1:{port}/minio/health/live"
    else:
        moto = _moto_binary()
        if moto is None:
            raise RuntimeError("no S3 server: install 'moto[server]' or put a minio binary on PATH")
        cmd = [moto, "-H", "127.0.0.1", "-p", str(port)]
        kind, ready = "moto", f"http://127.0.0.1:{port}/moto-api/"
    log = (workdir / f"{kind}.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready, timeout=1.0).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} did not start; see {workdir / (kind + '.log')}")
            time.sleep(0.1)
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}", kind=kind)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
