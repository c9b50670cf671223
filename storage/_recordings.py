"""Where interview recordings live: a ``RecordingStore`` keyed by relative names.

``LocalRecordingStore`` (the embedded default) keeps files under ``MOCKLINE_RECORDINGS_DIR``; the agent's
recorder writes straight into their final place, so a process killed mid-call leaves a playable file.
``S3RecordingStore`` keeps them in an S3-compatible bucket (AWS, MinIO, Ceph…) for deployments where the web
process and the agent workers run on different machines: the recorder writes into a local spool file as the
call happens and ``commit()`` uploads it when the call ends (a spool file left by a killed worker is uploaded
by ``commit_orphans()`` when the next worker starts).

Keys are ``<interview id>/<UTC stamp>.ogg`` (:func:`recording_key`); a store never accepts a key that
climbs out of its root.

Errors::

    RecordingStoreError          (base; ``retryable`` says whether trying again may help)
    ├── RecordingNotFound        no object under that key
    └── RecordingBackendError    the object store failed (network, credentials); retryable
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ByteRange",
    "LocalRecordingStore",
    "RecordingBackendError",
    "RecordingNotFound",
    "RecordingSettings",
    "RecordingStore",
    "RecordingStoreError",
    "S3RecordingStore",
    "build_recording_store",
    "get_recording_settings",
    "get_recording_store",
    "parse_range",
    "recording_key",
]

logger = logging.getLogger("mockline.storage")

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")
_CHUNK = 64 * 1024


class RecordingStoreError(Exception):
    retryable = False


class RecordingNotFound(RecordingStoreError):
    pass


class RecordingBackendError(RecordingStoreError):
    retryable = True


class RecordingSettings(BaseSettings):
    """``MOCKLINE_RECORDINGS_*``: where recordings go and how long they are kept."""

    model_config = SettingsConfigDict(env_prefix="MOCKLINE_RECORDINGS_", extra="ignore")

    enabled: bool = True
    backend: str = "local"  # local | s3
    dir: str = "var/recordings"  # the local store's root, and the S3 store's spool
    bitrate: int = 32000  # Opus, both channels together
    sample_rate: int = 16000  # wideband: the phone's 8 kHz and the browser's 48 kHz both fit
    s3_bucket: str = ""
    s3_prefix: str = "recordings/"
    s3_endpoint_url: str = ""  # empty: AWS; otherwise MinIO/Ceph/... e.g. http://minio:9000
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # audio older than this many days is deleted by the retention sweep; 0 keeps it forever
    retention_days: int = 90
    # transcripts (turns and metrics) older than this many days are deleted too; 0 keeps them
    transcript_retention_days: int = 0


@functools.lru_cache(maxsize=1)
def get_recording_settings() -> RecordingSettings:
    return RecordingSettings()


def recording_key(interview_id: str, started: datetime) -> str:
    """The store key of a recording that started at ``started`` (UTC)."""
    return f"{interview_id}/{started.strftime('%Y%m%dT%H%M%S%fZ')}.ogg"


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise RecordingNotFound("not a recording key")
    return key


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a ``size``-byte object, as HTTP ``Range: bytes=start-end`` means it."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a ``Range`` header asks for; None for the whole object (no header, or one this
    does not serve, such as several ranges). Raises ``ValueError`` when the range is unsatisfiable (416)."""
    if not header:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise ValueError("unsatisfiable range")
        return ByteRange(max(0, size - n), size - 1, size)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError("unsatisfiable range")
    return ByteRange(start, end, size)


class RecordingStore(Protocol):
    """What the recorder, the dashboard and the retention sweep need from a store."""

    def spool_path(self, key: str) -> Path:
        """Where the recorder writes ``key`` while the call runs (created directories included)."""
        ...

    def commit(self, key: str) -> int:
        """The recording under ``key`` is complete: make it readable everywhere; its size in bytes."""
        ...

    def size(self, key: str) -> int:
        """Bytes of ``key``; raises ``RecordingNotFound``."""
        ...

    def read(self, key: str, rng: ByteRange | None = None) -> Iterator[bytes]:
        """The object (or one range of it) in chunks; raises ``RecordingNotFound`` before the first."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (its spool file too); no error when it is already gone."""
        ...


class LocalRecordingStore:
    """Files under one directory: the recorder writes them in place, ``commit`` only measures."""

    def __init__(self, *, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def spool_path(self, key: str) -> Path:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def commit(self, key: str) -> int:
        return self.size(key)

    def size(self, key: str) -> int:
        p = self._path(key)
        if not p.is_file():
            raise RecordingNotFound("no such recording")
        return p.stat().st_size

    def read(self, key: str, rng: ByteRange | None = None) -> Iterator[bytes]:
        p = self._path(key)
        try:
            f = p.open("rb")
        except FileNotFoundError as e:
            raise RecordingNotFound("no such recording") from e
        return self._chunks(f, rng)

    @staticmethod
    def _chunks(f: Any, rng: ByteRange | None) -> Iterator[bytes]:
        with f:
            remaining = None
            if rng is not None:
                f.seek(rng.start)
                remaining = rng.length
            while remaining is None or remaining > 0:
                data = f.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data

    def delete(self, key: str) -> None:
        p = self._path(key)
        p.unlink(missing_ok=True)
        parent = p.parent
        if parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            shutil.rmtree(parent, ignore_errors=True)


class S3RecordingStore:
    """An S3-compatible bucket through boto3; recordings are spooled locally while the call runs."""

    def __init__(
        self,
        *,
        bucket: str,
        spool_dir: str | Path,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._spool = LocalRecordingStore(root=spool_dir)
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as e:  # pragma: no cover - the s3 extra
                raise RecordingStoreError(
                    "the S3 recording store needs boto3: pip install 'mockline[s3]'"
                ) from e
            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )
        self._s3 = client

    def _obj(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _translate(self, e: Exception) -> RecordingStoreError:
        code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            return RecordingNotFound("no such recording")
        return RecordingBackendError(f"object store error {code or type(e).__name__}")

    def spool_path(self, key: str) -> Path:
        return self._spool.spool_path(key)

    def commit(self, key: str) -> int:
        path = self._spool._path(key)
        size = path.stat().st_size
        try:
            self._s3.upload_file(
                str(path), self.bucket, self._obj(key), ExtraArgs={"ContentType": "audio/ogg"}
            )
        except Exception as e:
            raise self._translate(e) from e
        path.unlink(missing_ok=True)
        return size

    def commit_orphans(self, *, idle_s: float = 300.0) -> list[str]:
        """Upload the spool files a killed worker left behind (untouched for ``idle_s``: a live recording
        is written every second); their keys."""
        done = []
        cutoff = time.time() - idle_s
        for p in sorted(self._spool.root.glob("*/*.ogg")):
            if p.stat().st_mtime > cutoff:
                continue
            key = p.relative_to(self._spool.root).as_posix()
            try:
                self.commit(key)
            except RecordingStoreError:
                logger.warning("could not upload a left-over recording", exc_info=True)
                continue
            done.append(key)
        return done

    def size(self, key: str) -> int:
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=self._obj(key))
        except Exception as e:
            err = self._translate(e)
            if isinstance(err, RecordingNotFound):  # not uploaded yet: the call may still run here
                return self._spool.size(key)
            raise err from e
        return int(head["ContentLength"])

    def read(self, key: str, rng: ByteRange | None = None) -> Iterator[bytes]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._obj(key)}
        if rng is not None:
            args["Range"] = f"bytes={rng.start}-{rng.end}"
        try:
            body = self._s3.get_object(**args)["Body"]
        except Exception as e:
            err = self._translate(e)
            if isinstance(err, RecordingNotFound):
                return self._spool.read(key, rng)
            raise err from e
        return self._body(body)

    @staticmethod
    def _body(body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(_CHUNK)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=self._obj(key))
        except Exception as e:
            err = self._translate(e)
            if not isinstance(err, RecordingNotFound):
                raise err from e
        self._spool.delete(key)


def build_recording_store(settings: RecordingSettings) -> RecordingStore:
    if settings.backend == "s3":
        if not settings.s3_bucket:
            raise RecordingStoreError("MOCKLINE_RECORDINGS_S3_BUCKET must be set for the s3 backend")
        return S3RecordingStore(
            bucket=settings.s3_bucket,
            spool_dir=settings.dir,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key=settings.s3_access_key or None,
            secret_key=settings.s3_secret_key or None,
        )
    if settings.backend != "local":
        raise RecordingStoreError(f"unknown recordings backend {settings.backend!r} (local or s3)")
    return LocalRecordingStore(root=settings.dir)


@functools.lru_cache(maxsize=1)
def get_recording_store() -> RecordingStore:
    """The process's store, built once from the environment (tests clear the cache or pass their own)."""
    return build_recording_store(get_recording_settings())
