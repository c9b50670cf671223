"""In real headless Chromium: a recruiter opens a plan's comparison, ticks two candidates and advances them,
filters the shortlist, then uses the same page on a 390 px phone without the page scrolling sideways; and an
admin adds a team member."""

from __future__ import annotations

import pytest

from tests.test_dashboard_browser import CHROMIUM_ARGS, WAIT_MS, playwright_sync, server  # noqa: F401
from tests.test_dashboard_seed import PASSWORD_A

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 800})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD_A)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard")


def test_recruiter_advances_two_candidates_and_sees_the_shortlist(server, browser, artifacts_dir):  # noqa: F811
    base, seeded = server
    page = _page(browser, 1280)
    _log_in(page, base, seeded.email_a)
    page.goto(f"{base}/dashboard/plans/{seeded.plan_a}")
    page.get_by_role("link", name="Compare candidates").click()
    page.wait_for_url(f"{base}/dashboard/plans/{seeded.plan_a}/compare")
    assert page.get_by_role("columnheader", name="Overall").is_visible()
    page.screenshot(path=str(artifacts_dir / "dashboard-compare-1280.png"), full_page=True)

    page.get_by_label("Select Ada Lovelace").check()
    page.get_by_label("Move to").select_option("advance")
    page.get_by_role("button", name="Set stage").click()
    assert page.get_by_role("status").inner_text() == "1 candidate is now at “Advance”."
    page.get_by_role("link", name="Advance", exact=True).click()
    page.wait_for_url("**/compare?stage=advance")
    assert page.get_by_role("link", name="Ada Lovelace").is_visible()

    # the interview page shows the stage and changes it with one button (keyboard: focus and Enter)
    page.get_by_role("link", name="Ada Lovelace").click()
    assert page.get_by_text("Stage: Advance").is_visible()
    page.get_by_role("button", name="Hold").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Stage: Hold").is_visible()

    phone = _page(browser, 390)
    _log_in(phone, base, seeded.email_a)
    for path in (f"/dashboard/plans/{seeded.plan_a}/compare", "/dashboard/team"):
        phone.goto(base + path)
        name = path.strip("/").replace("/", "-").replace(seeded.plan_a, "plan")
        phone.screenshot(path=str(artifacts_dir / f"{name}-390.png"), full_page=True)
        assert phone.evaluate(NO_SIDEWAYS_SCROLL), path


def test_admin_adds_a_viewer_who_then_cannot_change_stages(server, browser, artifacts_dir):  # noqa: F811
    base, seeded = server
    page = _page(browser, 1280)
    _log_in(page, base, seeded.email_a)
    page.get_by_role("link", name="Team").click()
    page.get_by_label("E-mail", exact=True).fill("vera@acme.test")
    page.get_by_label("Viewer: read-only").check()
    page.get_by_role("button", name="Add member").click()
    assert page.get_by_role("heading", name="vera@acme.test can log in now").is_visible()
    password = page.locator("#member-password").input_value()
    page.screenshot(path=str(artifacts_dir / "dashboard-team-1280.png"), full_page=True)

    vera = _page(browser, 1280)
    vera.goto(f"{base}/login")
    vera.get_by_label("E-mail address").fill("vera@acme.test")
    vera.get_by_label("Password").fill(password)
    vera.get_by_role("button", name="Log in").click()
    vera.wait_for_url(f"{base}/dashboard")
    assert vera.get_by_role("link", name="Team").count() == 0
    vera.goto(f"{base}/dashboard/plans/{seeded.plan_a}/compare")
    assert vera.get_by_role("link", name="Ada Lovelace").is_visible()
    assert vera.get_by_role("button", name="Set stage").count() == 0
