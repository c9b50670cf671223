"""Pure pieces of the dashboard: the login throttle, list filters, CSV cells, charts."""

from __future__ import annotations

import re
from datetime import date

import pytest

from dashboard._charts import Bar, LatencyStages, Segment, competency_bars, latency_bars, talk_timeline
from dashboard._csv import csv_lines
from dashboard._listing import InterviewRow, parse_filter
from dashboard._ratelimit import LoginThrottle
from storage import MemoryRateLimiter, utcnow

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_throttle_backs_off_per_address_and_account_and_a_success_clears_it():
    clock = Clock()
    throttle = LoginThrottle(limiter=MemoryRateLimiter(clock=clock), per_pair=3, per_ip=100, window_s=60)
    for _ in range(3):
        assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 0
    assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 60
    assert throttle.reserve(ip="10.0.0.2", email="ada@acme.test") == 0  # the real user elsewhere: not locked
    clock.now += 60  # the first window is over; the longer one still counts: 6 of 6 allowed per 240 s
    assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 0
    assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 0
    assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 180  # backoff: a longer wait now
    throttle.succeeded(ip="10.0.0.1", email="ada@acme.test")
    assert throttle.reserve(ip="10.0.0.1", email="ada@acme.test") == 0


def test_parse_filter_keeps_good_values_and_explains_bad_ones():
    f = parse_filter({"status": "scored", "from": "2025-01-02", "to": "2025-01-31", "sort": "score_desc"})
    assert (f.status, f.date_from, f.date_to, f.sort, f.errors) == (
        "scored",
        date(2025, 1, 2),
        date(2025, 1, 31),
        "score_desc",
        {},
    )
    f = parse_filter(
        {"status": "hired", "from": "2025-02-01", "to": "2025-01-01", "sort": "name", "page": "x"}
    )
    assert f.status == "" and f.sort == "date_desc" and f.date_to is None and f.page == 1
    assert set(f.errors) == {"status", "to", "sort"}
    assert "before the start date" in f.errors["to"]


def _row(name: str, score: float | None, effective: float | None) -> InterviewRow:
    now = utcnow()
    return InterviewRow(
        id="i1",
        candidate_name=name,
        role="r",
        plan_title="p",
        mode="recruiter",
        channel="phone",
        status="scored",
        created_at=now,
        started_at=None,
        ended_at=None,
        overall_score=score,
        effective_score=effective,
        recommendation=None,
    )


def test_csv_neutralises_formulas_and_reports_overrides_only_when_different():
    lines = list(
        csv_lines([_row("@SUM(A1)", 3.0, 3.0), _row("-2+3", 3.0, 4.5), _row("Zoë, Jr.", None, None)])
    )
    assert lines[0].startswith("Candidate,E-mail,")
    assert lines[1].startswith("'@SUM(A1),")
    assert lines[1].rstrip().endswith(",3.00,,,/dashboard/interviews/i1")
    assert lines[2].startswith("'-2+3,") and ",3.00,4.50," in lines[2]
    assert '"Zoë, Jr."' in lines[3]


def test_competency_bars_show_original_only_when_overridden():
    svg = competency_bars([Bar("Design", 3.0, 3.0), Bar("Ownership", 2.0, 4.5)])
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert svg.count('class="original"') == 1 and "(was 2.0)" in svg
    widths = [
        float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)" height="18" rx="3" fill', svg)
    ]
    assert widths == [180.0, 270.0]  # 3/5 and 4.5/5 of 300 px


def test_timeline_places_segments_by_time_and_skips_unknown_speakers():
    svg = talk_timeline(
        [Segment("agent", 0, 5), Segment("candidate", 5, 10), Segment("robot", 0, 1)], duration=10
    )
    seeks = re.findall(
        r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*class="seek" data-at="([\d.]+)"', svg
    )
    assert seeks == [("90.0", "280.0", "0.00"), ("370.0", "280.0", "5.00")]


def test_latency_bars_stack_stages_and_mark_the_measured_total():
    svg = latency_bars(
        [LatencyStages("0", 300, 200, 100, 100, 900), LatencyStages("1", None, None, None, None, 500)]
    )
    assert svg.count("voice to voice") == 2
    assert "first LLM token 100 ms" in latency_bars([LatencyStages("<b>", 1, 1, 100, 1, None)])
    assert "<b>" not in latency_bars([LatencyStages("<b>", 1, 1, 100, 1, None)])
