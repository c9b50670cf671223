"""The interview report as a PDF (fpdf2, core fonts, a bar chart drawn with rectangles)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ._decision import LABELS

__all__ = ["pdf_filename", "render_pdf"]

_REPLACE = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-", "\u00a0": " "}
_BAR = (37, 99, 235)
_MUTED = (110, 110, 110)


def _words(key: Any) -> str:
    """A stored key as words: "relevant_experience" -> "Relevant experience", "lean_hire" -> "Lean hire"."""
    s = str(key or "").replace("_", " ").replace("-", " ").strip()
    return {"webrtc": "Browser", "livekit": "LiveKit", "hr": "HR"}.get(s, s[:1].upper() + s[1:])


def _day(iso: Any) -> str:
    return str(iso or "")[:10]


def pdf_filename(report: dict[str, Any]) -> str:
    """``Interview - <candidate> - <plan> - <date>.pdf`` in plain ASCII (safe in a header)."""
    iv = report["interview"]
    parts = [iv.get("candidate_name") or "Candidate", iv.get("plan_title") or "", _day(iv.get("started_at"))]
    name = " - ".join(["Interview", *(p for p in parts if p)])
    ascii_name = name.encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in ascii_name if ch.isalnum() or ch in " -.,()'")[:150].strip() + ".pdf"


def _t(text: Any) -> str:
    """Core PDF fonts are Latin-1: map typographic characters, replace the rest."""
    s = str(text if text is not None else "")
    for a, b in _REPLACE.items():
        s = s.replace(a, b)
    return s.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*_MUTED)
        self.cell(0, 6, f"mockline interview report - page {self.page_no()}", align="C")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_text_color(0, 0, 0)
    pdf.cell(0, 8, _t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)


def _para(pdf: FPDF, text: str, *, size: int = 10, style: str = "", color=(0, 0, 0)) -> None:  # type: ignore[no-untyped-def]
    pdf.set_font("Helvetica", style, size)
    pdf.set_text_color(*color)
    pdf.multi_cell(0, 5, _t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _bullets(pdf: FPDF, items: list[str]) -> None:
    if not items:
        _para(pdf, "(none)", color=_MUTED)
    for item in items:
        _para(pdf, f"- {item}")


def _chart(pdf: FPDF, comps: list[dict[str, Any]]) -> None:
    """Horizontal bars on a 0-5 axis, one per competency."""
    label_w, bar_w, row_h = 55.0, 110.0, 7.0
    x0 = pdf.l_margin + label_w
    if pdf.get_y() + row_h * (len(comps) + 2) > pdf.h - 20:
        pdf.add_page()
    y = pdf.get_y() + 2
    pdf.set_draw_color(200, 200, 200)
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(*_MUTED)
    for tick in range(6):
        x = x0 + bar_w * tick / 5
        pdf.line(x, y, x, y + row_h * len(comps))
        pdf.text(x - 1, y + row_h * len(comps) + 4, str(tick))
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(0, 0, 0)
    for i, c in enumerate(comps):
        ry = y + i * row_h
        pdf.text(pdf.l_margin, ry + 4.8, _t(_words(c["competency"]))[:30])
        pdf.set_fill_color(*_BAR)
        score = max(0.0, min(5.0, float(c.get("effective_score", c["score"]))))
        pdf.rect(x0, ry + 1, bar_w * score / 5, row_h - 2, style="F")
        pdf.text(x0 + bar_w * score / 5 + 2, ry + 4.8, f"{score:.1f}")
    pdf.set_y(y + row_h * len(comps) + 7)


def render_pdf(report: dict[str, Any]) -> bytes:
    """Render ``report_json(...)`` output."""
    iv = report["interview"]
    pdf = _Pdf(format="A4")
    pdf.set_auto_page_break(auto=True, margin=16)
    when = _day(iv.get("started_at")) or _day(report.get("created_at"))
    plan_title = iv.get("plan_title") or ""
    pdf.set_title(_t(f"Interview report - {iv.get('candidate_name') or 'candidate'} - {plan_title} - {when}"))
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _t("Interview report"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _para(pdf, f"Candidate: {iv.get('candidate_name') or '(unnamed)'}", size=11, style="B")
    role = iv.get("role") or ""
    _para(pdf, f"Plan: {plan_title}   Role: {_words(role)}   Interviewed: {when} (UTC)", size=10)
    _para(
        pdf,
        f"Mode: {_words(iv.get('mode'))}   Channel: {_words(iv.get('channel'))}   "
        f"Report version {report['version']} ({report['scorer']})",
        size=9,
        color=_MUTED,
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 14)
    overall = report.get("effective_overall", report["overall"])
    line = f"Overall: {overall:.2f} / 5"
    if overall != report["overall"]:
        line += f" (recruiter override; scored {report['overall']:.2f})"
    rec = report.get("effective_recommendation", report.get("recommendation"))
    if rec:
        line += f"    Recommendation: {LABELS.get(rec) or _words(rec)}"
        if rec != report.get("recommendation"):
            line += " (recruiter)"
    pdf.cell(0, 8, _t(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if report.get("confidence") is not None:
        _para(
            pdf,
            f"Scored by {report['scorer']} with confidence {report['confidence']:.2f}",
            size=9,
            color=_MUTED,
        )
    if report.get("recommendation") == "needs_review" and rec == "needs_review":
        _heading(pdf, "Needs human review")
        _para(pdf, "Why: " + "; ".join(report.get("review_reasons", [])) + ".", size=9)
        first = [f"{r['question_id']} ({r['score']}/5): {r['why']}" for r in report.get("review_first", [])]
        if first:
            _para(pdf, "Look at these answers first:", size=9, style="B")
            _bullets(pdf, first)
    if report.get("coaching_summary"):
        _heading(pdf, "Coaching summary")
        _para(pdf, report["coaching_summary"])
    elif report.get("summary"):
        _para(pdf, report["summary"])

    comps = report.get("competencies", [])
    if comps:
        _heading(pdf, "Competencies")
        pdf.set_font("Helvetica", "B", 9)
        for head, w in (("Competency", 70), ("Score", 25), ("Weight", 25)):
            pdf.cell(w, 6, head, border="B")
        pdf.ln(6)
        pdf.set_font("Helvetica", "", 9)
        for c in comps:
            pdf.cell(70, 6, _t(_words(c["competency"])))
            pdf.cell(25, 6, f"{c.get('effective_score', c['score']):.2f}")
            pdf.cell(25, 6, f"{c['weight']:.2f}")
            pdf.ln(6)
        _chart(pdf, comps)

    _heading(pdf, "Answers")
    for number, q in enumerate(report.get("questions", []), start=1):
        eff = q.get("effective_score", q["score"])
        head = f"Question {number} ({_words(q['competency'])}): {eff:g}/5"
        if eff != q["score"]:
            head += f" (recruiter override; scored {q['score']})"
        if q.get("status") == "request":
            head += "  - a request, not graded as an answer"
        elif q.get("confidence") is not None:
            head += f"  - confidence {q['confidence']:.2f}"
        _para(pdf, head, style="B")
        if q.get("text"):
            _para(pdf, f"Q: {q['text']}", style="I", color=_MUTED)
        _para(pdf, q.get("rationale", ""), size=9)
        for k in q.get("key_points", []):
            mark = "[x]" if k.get("covered") else "[ ]"
            tail = f': "{k["quote"]}"' if k.get("covered") and k.get("quote") else ""
            tail = tail or (" (named, nothing behind it)" if k.get("named") else "")
            _para(pdf, f"{mark} {k.get('key_point')}{tail}", size=9)
        if q.get("flagged"):
            _para(pdf, f"Flagged for review: {q['flagged']}", size=9, color=(160, 60, 0))
        for ev in q.get("evidence", []):
            _para(pdf, f'"{ev["quote"]}"', size=9, style="I")
        if q.get("improved_answer"):
            _para(pdf, f"Sample stronger answer: {q['improved_answer']}", size=9, color=(20, 90, 40))
        pdf.ln(1)

    for title, key in (
        ("Strengths", "strengths"),
        ("Weaknesses", "weaknesses"),
        ("Improvements", "improvements"),
    ):
        _heading(pdf, title)
        _bullets(pdf, report.get(key, []))

    m = report.get("speech_metrics", {})
    if m:
        _heading(pdf, "Speech")

        def fmt(v: Any, unit: str = "") -> str:
            return "n/a" if v is None else f"{v}{unit}"

        rows = [
            ("Words per minute", fmt(m.get("words_per_minute"))),
            (
                "Filler words",
                f"{m.get('filler_count', 0)} ({fmt(m.get('fillers_per_100_words'))} per 100 words)",
            ),
            ("Long pauses (> 3 s)", str(m.get("long_pause_count", 0))),
            ("Talk ratio (candidate)", fmt(m.get("talk_ratio"))),
            (
                "Response latency median / p90",
                f"{fmt(m.get('response_latency_median_s'), ' s')} / "
                f"{fmt(m.get('response_latency_p90_s'), ' s')}",
            ),
            ("Interruptions", str(m.get("interruptions", 0))),
        ]
        pdf.set_font("Helvetica", "", 9)
        for k, v in rows:
            pdf.cell(70, 6, _t(k))
            pdf.cell(0, 6, _t(v), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
