"""Résumé PDFs to text (pypdf)."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from ._errors import ResumeError

__all__ = ["resume_text_from_pdf"]

log = logging.getLogger("mockline.plans")

MAX_PAGES = 20


def resume_text_from_pdf(data: bytes) -> str:
    """The text of a PDF résumé. Raises ``ResumeError`` for a file that is not a readable PDF, is
    encrypted, or holds no text (a scanned image)."""
    if not data:
        raise ResumeError("the résumé file is empty")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ResumeError("the résumé is not a PDF file (it does not start with %PDF)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ResumeError("the résumé PDF is password-protected; upload an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    except ResumeError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
        log.warning("could not parse a résumé PDF", extra={"error": type(e).__name__})
        raise ResumeError(f"could not read the résumé PDF ({type(e).__name__}); is the file damaged?") from e
    text = "\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise ResumeError("the résumé PDF has no text layer (a scanned image?); paste the text instead")
    return text
