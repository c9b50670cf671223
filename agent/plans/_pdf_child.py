"""Run as a child process by ``_resume.py``: a PDF on stdin, ``{"text": …}`` or ``{"error": …}`` (JSON) on
stdout. Imports nothing of mockline, so it starts fast; its memory and CPU are capped by the kernel and its
wall time by the parent, and pypdf's own limits keep each page small.

Usage: ``python -I _pdf_child.py MAX_CHARS MAX_PAGES``
"""

from __future__ import annotations

import io
import json
import sys

MEMORY_BYTES = 768 * 1024 * 1024
CPU_SECONDS = 30
# Decompressed bytes one content stream may have (a dense text page is tens of KB), and pypdf's parsing
# budget per content stream (operators + operands).
STREAM_MAX_BYTES = 512 * 1024
PARSE_BUDGET = 200_000


class _Enough(Exception):
    pass


class _Collector:
    """pypdf's text visitor: keeps the pieces and stops the page once the budget is spent."""

    def __init__(self, *, budget: int) -> None:
        self.budget = budget
        self.pieces: list[str] = []
        self.seen = 0

    def __call__(self, text: str, *_: object) -> None:
        self.pieces.append(text)
        self.seen += len(text)
        if self.seen > self.budget:
            raise _Enough


def _limit_resources() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    except (ImportError, ValueError, OSError):  # not POSIX, or a lower hard limit already: keep going
        pass


def extract(data: bytes, *, max_chars: int, max_pages: int) -> dict[str, object]:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    limits = {
        "zlib_maximum_output_length": STREAM_MAX_BYTES,
        "lzw_maximum_output_length": STREAM_MAX_BYTES,
        "run_length_maximum_output_length": STREAM_MAX_BYTES,
        "brotli_maximum_output_length": STREAM_MAX_BYTES,
        "array_based_stream_maximum_output_length": STREAM_MAX_BYTES,
        "stream_decoding_work_maximum_length": 8 * STREAM_MAX_BYTES,
        "stream_parsing_work_maximum_count": PARSE_BUDGET,
        "xform_maximum_invocations_per_extraction": 50,
    }
    with apply_configuration(None, **limits):
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return {"error": "encrypted"}
        parts: list[str] = []
        total, skipped, truncated = 0, 0, False
        for page in reader.pages[:max_pages]:
            collect = _Collector(budget=max_chars - total)
            try:
                text = page.extract_text(visitor_text=collect) or ""
            except _Enough:
                text, truncated = "".join(collect.pieces), True
            except LimitReachedError:
                skipped += 1
                continue
            text = text.strip()
            if text:
                parts.append(text)
                total += len(text) + 1
            if truncated or total >= max_chars:
                truncated = True
                break
    return {"text": "\n".join(parts)[:max_chars], "skipped_pages": skipped, "truncated": truncated}


def main() -> None:
    _limit_resources()
    max_chars, max_pages = int(sys.argv[1]), int(sys.argv[2])
    data = sys.stdin.buffer.read()
    try:
        result = extract(data, max_chars=max_chars, max_pages=max_pages)
    except MemoryError:
        result = {"error": "too_big"}
    except Exception as e:  # a damaged file: pypdf raises many kinds
        result = {"error": "damaged", "kind": type(e).__name__}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
