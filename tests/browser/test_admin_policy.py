"""The administrator's follow-up policy page in a real browser: a refused value, then a saved change in the record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.conftest import BrowserAuth, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_administrator_changes_a_units_policy(page: Page, live_server: LiveServer, auth: BrowserAuth,
                                              artifacts: Path) -> None:
    auth.login("admin.alur")
    page.click("#nav-admin")
    page.click("nav a[href='/admin/kebijakan']")
    page.click("#policy-list tr[data-unit='kecamatan-contoh'] a")
    page.fill("#reminder_percent", "100")
    page.click("#policy-form [type=submit]")
    assert "1 sampai 99" in page.locator("#policy-form .invalid-feedback").inner_text()
    page.screenshot(path=str(artifacts / "admin-policy-refused.png"), full_page=True)
    page.fill("#reminder_percent", "60")
    page.fill("#escalate_after_hours", "15")
    page.click("#policy-form [type=submit]")
    assert "disimpan" in page.locator("main .alert-success").inner_text()
    assert "75 → 60" in page.locator("#policy-changes").inner_text()
    page.screenshot(path=str(artifacts / "admin-policy-saved.png"), full_page=True)
