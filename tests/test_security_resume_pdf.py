"""Issue 16, item 4: a small crafted résumé PDF cannot cost the server minutes of CPU.

Before the fix, a 13 KB PDF whose compressed text streams expand to 4 MB per page took 21 s of the web
process's CPU, and its text was extracted to the end before the 20,000-character limit was checked. Now
the text is read in a child process capped in memory, CPU and wall time, each page's decompressed size is
bounded, and reading stops at the character limit.
"""

from __future__ import annotations

import re
import zlib

import pytest
from fastapi.testclient import TestClient

from agent.plans import ResumeError, resume_text_from_pdf
from agent.plans._resume import MAX_CHARS
from mockline.settings import AppSettings
from mockline.web import create_app
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def build_pdf(pages: list[bytes]) -> bytes:
    """A well-formed PDF (correct xref) with one Flate-compressed content stream per page."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    kids = []
    for content in pages:
        packed = zlib.compress(content, 9)
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
        )
        stream_ref = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % stream_ref
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_page(text: str) -> bytes:
    return b"BT /F1 11 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"


def bomb_page(mb: int = 4) -> bytes:
    """Text operators that compress ~1000:1: a few KB on disk, ``mb`` megabytes once decompressed."""
    return b"BT /F1 11 Tf 72 720 Td " + b"(A) Tj " * (mb * 1024 * 1024 // 7) + b"ET"


def test_pages_that_expand_to_megabytes_are_refused_not_read():
    bomb = build_pdf([bomb_page() for _ in range(5)])
    assert len(bomb) < 64 * 1024  # small on the wire
    with pytest.raises(ResumeError, match="too large"):
        resume_text_from_pdf(bomb)


def test_a_long_resume_is_cut_at_the_character_limit():
    sentence = "Built payment services in Go and PostgreSQL for a bank. " * 60  # ~3,400 characters a page
    text = resume_text_from_pdf(build_pdf([text_page(sentence) for _ in range(20)]))
    assert "payment services" in text and len(text) <= MAX_CHARS


def test_good_pages_are_kept_when_a_bomb_page_is_skipped():
    text = resume_text_from_pdf(build_pdf([text_page("Ada Lovelace, backend engineer"), bomb_page()]))
    assert text.startswith("Ada Lovelace")


def test_reading_is_stopped_when_it_takes_too_long():
    bomb = build_pdf([bomb_page() for _ in range(5)])
    with pytest.raises(ResumeError, match="took too long"):
        resume_text_from_pdf(bomb, timeout_s=0.001)  # the child cannot even start in that time


def test_the_invitation_form_answers_a_bomb_with_a_form_error(db, tmp_path):
    # the résumé is the candidate's: it arrives with their invitation, and a bomb is refused there
    seeded = seed_dashboard(db, tmp_path)
    with TestClient(create_app(AppSettings(data_dir=str(tmp_path)))) as c:
        token = CSRF.search(c.get("/login").text).group(1)
        c.post("/login", data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": token})
        plan_url = f"/dashboard/plans/{seeded.plan_a}"
        csrf = CSRF.search(c.get(plan_url).text).group(1)
        r = c.post(
            f"{plan_url}/invitations",
            data={"csrf_token": csrf, "candidate_name": "Bo Mb"},
            files={"resume_pdf": ("cv.pdf", build_pdf([bomb_page() for _ in range(5)]), "application/pdf")},
        )
        assert r.status_code == 422 and "too large" in r.text
        assert c.get("/healthz").status_code == 200
