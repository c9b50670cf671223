"""In real headless Chromium: an admin opens "Invitation e-mail", makes a mistake in a placeholder and is
told which, fixes it, previews the message and saves it - at 1280 px with the keyboard for the buttons,
and on a 390 px phone without the page scrolling sideways. axe-core finds no serious violations."""

from __future__ import annotations

import pytest

from storage import EmailTemplate
from tests.test_dashboard_browser import server  # noqa: F401  (fixture)
from tests.test_dashboard_compare_browser import (
    NO_SIDEWAYS_SCROLL,
    WIDE_ELEMENTS,
    _log_in,
    _page,
    browser,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.browser
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
SERIOUS = {"serious", "critical"}
BODY = "Hello {candidate},\n\nPlease take your {role} interview with {company}: {link}\n\nThe Acme team"


def _serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        f"{v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in axe_sync.Axe().run(page).response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_admin_fixes_a_placeholder_previews_and_saves_the_invitation_email(
    server,  # noqa: F811
    browser,  # noqa: F811
    sqlite_db,
    artifacts_dir,
):
    base, seeded = server
    page = _page(browser, 1280)
    _log_in(page, base, seeded.email_a)
    page.get_by_role("link", name="Invitation e-mail").click()
    page.wait_for_url(f"{base}/dashboard/email-template")
    assert page.get_by_text("The standard wording is in use.").is_visible()
    assert page.get_by_label("Subject").input_value() == "Your interview for {role} at {company}"

    page.get_by_label("Message (plain text)").fill(BODY)
    page.get_by_role("button", name="Preview").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text().startswith("Unknown placeholder {candidate}. You can use {candidate_name}")
    assert page.get_by_label("Message (plain text)").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(artifacts_dir / "dashboard-email-template-error-1280.png"), full_page=True)

    page.get_by_label("Message (plain text)").fill(BODY.replace("{candidate}", "{candidate_name}"))
    page.get_by_role("button", name="Preview").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    preview = page.locator("#preview-text").inner_text()
    assert preview.startswith("Hello Dana Whitfield,")
    assert "Please take your Backend engineer interview with Acme: http" in preview
    # the template left out the PIN and the deadline: the preview shows them added at the end
    assert "Your phone PIN: 482913" in preview and "Please finish the interview before " in preview
    with sqlite_db.session() as s:
        assert s.query(EmailTemplate).count() == 0  # a preview saves nothing
    found = [f"1280px: {p}" for p in _serious(page)]
    page.screenshot(path=str(artifacts_dir / "dashboard-email-template-preview-1280.png"), full_page=True)

    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text() == "Saved. New invitations use this wording."
    with sqlite_db.session() as s:
        [saved] = s.query(EmailTemplate).all()
        assert saved.body.startswith("Hello {candidate_name},") and saved.org_id == seeded.org_a

    phone = _page(browser, 390)
    _log_in(phone, base, seeded.email_a)
    phone.goto(f"{base}/dashboard/email-template")
    assert phone.get_by_text("Your own wording is in use.").is_visible()
    phone.get_by_role("button", name="Preview").click()
    assert phone.locator("#preview-text").is_visible()
    assert phone.evaluate(NO_SIDEWAYS_SCROLL), phone.evaluate(WIDE_ELEMENTS)
    assert phone.get_by_role("button", name="Log out").is_visible()
    phone.screenshot(path=str(artifacts_dir / "dashboard-email-template-390.png"), full_page=True)
    found += [f"390px: {p}" for p in _serious(phone)]
    (artifacts_dir / "dashboard-email-template-axe.txt").write_text(
        "\n".join(found) or "no serious violations\n"
    )
    assert not found, "\n".join(found)
