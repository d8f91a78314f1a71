"""Logins in a real browser: the throttle's message, "Ganti kata sandi", the administrator's login record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.conftest import BrowserAuth, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _try(page: Page, server: LiveServer, username: str, password: str) -> int:
    page.goto(f"{server.url}/masuk")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation() as navigation:
        page.click("main form [type=submit]")
    response = navigation.value
    assert response is not None
    return response.status


def test_throttled_login_says_how_long_to_wait(page: Page, live_server: LiveServer, artifacts: Path) -> None:
    statuses = [_try(page, live_server, "camat.contoh", f"salah-{n}") for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _try(page, live_server, "camat.contoh", "alur-demo") == 429
    alert = page.locator("main .alert-danger")
    assert alert.last.inner_text() == "Terlalu banyak percobaan masuk. Coba lagi dalam 1 menit."
    assert page.locator("#nav-inbox-count").count() == 0
    page.screenshot(path=str(artifacts / "login-throttled.png"), full_page=True)


def test_change_password_then_log_out_everywhere(page: Page, live_server: LiveServer, auth: BrowserAuth,
                                                 artifacts: Path) -> None:
    auth.login("staf2.kecamatan")
    page.click("nav a[href='/akun/kata-sandi']")
    page.fill("#current", "alur-demo")
    page.fill("#new", "Indonesia2026!")
    page.fill("#repeat", "Indonesia2026!")
    page.click("#password-form [type=submit]")
    assert "terlalu umum" in page.locator("#password-form .invalid-feedback").inner_text()
    page.screenshot(path=str(artifacts / "password-refused.png"), full_page=True)
    page.fill("#current", "alur-demo")
    page.fill("#new", "sagu lempeng dan kopi")
    page.fill("#repeat", "sagu lempeng dan kopi")
    page.click("#password-form [type=submit]")
    page.wait_for_selector("#nav-inbox-count")
    assert "Kata sandi telah diganti" in page.locator("main .alert-success").inner_text()
    page.goto(f"{live_server.url}/akun/kata-sandi")
    page.click("#logout-everywhere")
    page.wait_for_selector("#username")
    assert "keluar dari semua perangkat" in page.locator("main .alert").inner_text()
    auth.login("staf2.kecamatan", "sagu lempeng dan kopi")


def test_administrator_reads_the_login_record(page: Page, live_server: LiveServer, auth: BrowserAuth,
                                              artifacts: Path) -> None:
    auth.login("admin.alur")
    page.click("#nav-admin")
    page.click("nav a[href='/admin/masuk']")
    table = page.locator("#login-record")
    assert table.locator("tbody tr").first.locator("code").first.inner_text() == "admin.alur"
    page.select_option("#hasil", "ditahan")
    page.click("main form[role=search] [type=submit]")
    rows = page.locator("#login-record tbody tr")
    assert rows.count() >= 1 and all("Ditahan" in text for text in rows.all_inner_texts())
    page.goto(f"{live_server.url}/admin/masuk")
    page.screenshot(path=str(artifacts / "admin-login-record.png"), full_page=True)
