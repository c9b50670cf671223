"""A recruiter's session in real headless Chromium against the app served by uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from mockline.settings import AppSettings
from mockline.web import create_app
from tests.test_dashboard_seed import PASSWORD_A, TURNS, seed_dashboard

pytestmark = pytest.mark.browser

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000


@pytest.fixture
def server(sqlite_db, tmp_path) -> Iterator[tuple[str, object]]:
    seeded = seed_dashboard(sqlite_db, tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue here until uvicorn accepts them: no start-up wait needed
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = create_app(AppSettings(host="127.0.0.1", port=port, public_url=base, data_dir=str(tmp_path)))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield base, seeded
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def page(tmp_path):
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 800})
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def test_recruiter_session(server, page, artifacts_dir):
    base, seeded = server

    # log in (the dashboard sends us to the login page first)
    page.goto(f"{base}/dashboard")
    assert page.url.startswith(f"{base}/login")
    page.screenshot(path=str(artifacts_dir / "dashboard-login.png"))
    page.get_by_label("E-mail address").fill(seeded.email_a)
    page.get_by_label("Password").fill(PASSWORD_A)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard")
    assert page.get_by_role("link", name="Ada Lovelace").is_visible()
    assert page.get_by_text("Bob Globex").count() == 0
    page.screenshot(path=str(artifacts_dir / "dashboard-list.png"), full_page=True)

    # create a plan, then an invitation: the link and PIN are shown
    page.get_by_role("link", name="New plan").first.click()
    page.get_by_label("Role").select_option("backend_engineer")
    page.get_by_label("Seniority").select_option("senior")
    page.get_by_label("Number of questions").fill("3")
    page.get_by_label("Time limit (minutes)").fill("15")
    page.get_by_label("Difficulty").select_option("hard")
    page.get_by_label("Job description").fill("Payments APIs in Python; on-call for a Kubernetes platform.")
    page.screenshot(path=str(artifacts_dir / "dashboard-plan-form.png"), full_page=True)
    page.get_by_role("button", name="Create plan").click()
    page.wait_for_url(f"{base}/dashboard/plans/*")
    page.get_by_label("Candidate name").fill("Dana Example")
    page.get_by_role("button", name="Create invitation").click()
    link = page.locator("#invite-link").input_value()
    assert link.startswith(f"{base}/i/") and len(link) > len(base) + 40
    assert page.locator("#invite-pin").inner_text().isdigit()
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("document.querySelector('.copied').textContent.length > 0")
    page.screenshot(path=str(artifacts_dir / "dashboard-invitation.png"), full_page=True)

    # the scored interview: click a candidate turn -> the recording seeks there and plays
    page.goto(f"{base}/dashboard/interviews/{seeded.scored_a}")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.screenshot(path=str(artifacts_dir / "dashboard-interview.png"), full_page=True)
    start = TURNS[4][1]
    turn = page.locator(f"#turn-{seeded.turn_ids[4]}")
    turn.locator("p").click()
    page.wait_for_function(
        "([s]) => { const a = document.getElementById('player');"
        " return !a.paused && a.currentTime > s + 0.2; }",
        arg=[start],
    )
    assert "current" in (turn.get_attribute("class") or "")
    # evidence jumps to its moment (a quote inside the first answer): wait for the player's "seeked" event
    page.evaluate(
        "document.getElementById('player').addEventListener('seeked',"
        " e => { window.__seekedTo = e.target.currentTime; }, {once: true})"
    )
    evidence = page.locator("button.evidence-jump").first
    at = float(evidence.get_attribute("data-at"))
    evidence.click()
    page.wait_for_function("window.__seekedTo !== undefined")
    assert abs(page.evaluate("window.__seekedTo") - at) < 0.1
    assert "current" in (
        page.locator(f"#turn-{evidence.get_attribute('data-turn')}").get_attribute("class") or ""
    )
    page.evaluate("document.getElementById('player').pause()")

    # the report as PDF
    pdf_href = page.get_by_role("link", name="Report (PDF)").get_attribute("href")
    pdf = page.request.get(base + pdf_href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # override a competency score with a reason: the original stays visible
    target = f"competency:{seeded.competencies[0]}"
    page.get_by_label("Score", exact=True).select_option(target)
    page.get_by_label("New score (1–5)").fill("4.5")
    page.get_by_label("Reason").fill("Walked through the incident timeline in detail")
    page.get_by_role("button", name="Save override").click()
    line = page.locator(f"[data-testid='score-{target}']")
    assert line.locator(".new").inner_text() == "4.5"
    assert line.locator(".orig").inner_text() == "scorer: 3.0"
    assert page.get_by_text("Walked through the incident timeline in detail").is_visible()

    # another organisation's interview is not there
    response = page.goto(f"{base}/dashboard/interviews/{seeded.scored_b}")
    assert response.status == 404
    assert page.get_by_text("No such interview").is_visible()

    # log out: the dashboard asks for a login again
    page.goto(f"{base}/dashboard")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/dashboard")
    assert page.url.startswith(f"{base}/login")
