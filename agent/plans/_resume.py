"""Résumé PDFs to text (pypdf), bounded in time, memory and output.

A small PDF can hold compressed streams that expand to megabytes of text operators per page, and pypdf is
pure Python: reading one to the end can cost minutes of CPU. So the text is extracted in a child process
(``_pdf_child.py``) that the kernel caps in memory and CPU and this process kills after ``timeout_s``;
inside it, pypdf's own limits cap each page's decompressed size and parsing work, and extraction stops as
soon as ``max_chars`` characters are out.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from ._errors import ResumeError

__all__ = ["MAX_CHARS", "MAX_PAGES", "resume_text_from_pdf"]

log = logging.getLogger("mockline.plans")

MAX_PAGES = 20
MAX_CHARS = 20_000
TIMEOUT_S = 10.0
_CHILD = [sys.executable, "-I", str(Path(__file__).with_name("_pdf_child.py"))]


def resume_text_from_pdf(data: bytes, *, max_chars: int = MAX_CHARS, timeout_s: float = TIMEOUT_S) -> str:
    """The text of a PDF résumé (at most ``max_chars`` characters from the first ``MAX_PAGES`` pages).
    Raises ``ResumeError`` for a file that is not a readable PDF, is encrypted, holds no text (a scanned
    image), or takes longer than ``timeout_s`` to read."""
    if not data:
        raise ResumeError("the résumé file is empty")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ResumeError("the résumé is not a PDF file (it does not start with %PDF)")
    try:
        done = subprocess.run(
            [*_CHILD, str(max_chars), str(MAX_PAGES)],
            input=data,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as e:  # subprocess.run killed the child
        log.warning("résumé PDF extraction stopped after %.0f s", timeout_s)
        raise ResumeError("reading the résumé PDF took too long; paste its text instead") from e
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"error": "damaged", "kind": f"exit {done.returncode}"}
    error = result.get("error")
    if error == "encrypted":
        raise ResumeError("the résumé PDF is password-protected; upload an unprotected copy")
    if error == "too_big":
        raise ResumeError("the résumé PDF is too large to read; paste its text instead")
    if error:
        log.warning("could not parse a résumé PDF", extra={"error": result.get("kind", "")})
        raise ResumeError(f"could not read the résumé PDF ({result.get('kind', '')}); is the file damaged?")
    skipped = int(result.get("skipped_pages") or 0)
    if skipped:
        log.info("résumé PDF: %d oversized pages skipped", skipped)
    text = str(result.get("text", ""))
    if not text and skipped:
        raise ResumeError("the résumé PDF's pages are too large to read; paste its text instead")
    if not text:
        raise ResumeError("the résumé PDF has no text layer (a scanned image?); paste the text instead")
    return text
