"""In real headless Chromium: a recruiter opens a plan's comparison, ticks two candidates and advances them,
filters the shortlist, then uses the same page on a 390 px phone without the page scrolling sideways; and an
admin adds a team member."""

from __future__ import annotations

import pytest

from tests.test_dashboard_browser import CHROMIUM_ARGS, WAIT_MS, playwright_sync, server  # noqa: F401
from tests.test_dashboard_seed import PASSWORD_A

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
# for the failure message: the outermost elements wider than the window
WIDE_ELEMENTS = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
  window.innerWidth + 1 && !(e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"""


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
    phone_pages = (
        "/dashboard",
        f"/dashboard/interviews/{seeded.scored_a}",
        f"/dashboard/plans/{seeded.plan_a}",
        f"/dashboard/plans/{seeded.plan_a}/compare",
        "/dashboard/plans",
        "/dashboard/team",
        "/dashboard/webhooks",
    )
    for path in phone_pages:
        phone.goto(base + path)
        name = (
            path.strip("/").replace("/", "-").replace(seeded.plan_a, "plan").replace(seeded.scored_a, "ada")
        )
        phone.screenshot(path=str(artifacts_dir / f"{name}-390.png"), full_page=True)
        wide = phone.evaluate(WIDE_ELEMENTS)
        assert phone.evaluate(NO_SIDEWAYS_SCROLL), (path, wide)


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


def test_times_show_in_the_viewers_time_zone_and_diagnostics_stay_folded(server, browser):  # noqa: F811
    base, seeded = server
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id="America/New_York", locale="en-US"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    _log_in(page, base, seeded.email_a)
    created = page.locator("time[data-local]").first
    assert created.get_attribute("title").endswith(" UTC")  # the UTC time is one hover away
    shown = created.inner_text()
    assert "UTC" not in shown and ("EST" in shown or "EDT" in shown), shown

    page.goto(f"{base}/dashboard/interviews/{seeded.scored_a}")
    latency = page.get_by_role("heading", name="Interviewer response latency")
    assert not latency.is_visible()  # engineering numbers are folded away
    page.get_by_text("Diagnostics", exact=True).click()
    assert latency.is_visible()


axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
SERIOUS = {"serious", "critical"}


def test_no_serious_accessibility_violations_on_any_dashboard_page(server, browser, artifacts_dir):  # noqa: F811
    """axe-core in the page, at 1280 and 390 px; fails on serious or critical violations."""
    base, seeded = server
    axe = axe_sync.Axe()
    pages = (
        "/dashboard",
        f"/dashboard/interviews/{seeded.scored_a}",
        "/dashboard/plans",
        f"/dashboard/plans/{seeded.plan_a}",
        f"/dashboard/plans/{seeded.plan_a}/compare",
        f"/dashboard/plans/{seeded.plan_a}/edit",
        "/dashboard/plans/new",
        "/dashboard/team",
        "/dashboard/webhooks",
    )
    found: list[str] = []
    for width in (1280, 390):
        page = _page(browser, width)
        page.goto(f"{base}/login")
        for v in axe.run(page).response["violations"]:
            if v["impact"] in SERIOUS:
                found.append(f"{width}px /login: {v['id']} ({v['impact']}) {v['help']}")
        _log_in(page, base, seeded.email_a)
        for path in pages:
            page.goto(base + path)
            for v in axe.run(page).response["violations"]:
                if v["impact"] in SERIOUS:
                    where = [n["target"] for n in v["nodes"]][:3]
                    found.append(f"{width}px {path}: {v['id']} ({v['impact']}) {v['help']} at {where}")
    (artifacts_dir / "dashboard-axe.txt").write_text("\n".join(found) or "no serious violations\n")
    assert not found, "\n".join(found)
