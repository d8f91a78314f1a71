"""Issue 11 in a real Chromium: a Tim member claims a shared step, a teammate sees it claimed,
and the Camat finds the instance in *Semua proses unit* by a word of its title.

Screenshots at 1366 px and 390 px wide go to test-artifacts/cases/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ROOT, BrowserAuth, LiveServer

SOP = "sop_pelaporan_kinerja_kecamatan"
TITLE = "Laporan Kinerja Triwulan III 2026"
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture
def shots() -> Path:
    folder = ROOT / "test-artifacts" / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _both_widths(page: Page, shots: Path, name: str) -> None:
    page.set_viewport_size(WIDE)
    page.screenshot(path=str(shots / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(NARROW)
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(WIDE)


def test_a_tim_member_claims_a_step_and_the_camat_finds_the_case(
        page: Page, browser: Browser, live_server: LiveServer, auth: BrowserAuth, shots: Path) -> None:
    page.set_viewport_size(WIDE)
    auth.login("tim1.kecamatan")
    page.goto(f"{live_server.url}/mulai")
    page.click(f'#startable [data-process-id="{SOP}"]')
    page.fill("#title", TITLE)
    page.click("main form [type=submit]")
    expect(page.locator("h1")).to_contain_text("Rumuskan bahan laporan kinerja")  # landed on the own step
    page.click("#claim-button")
    expect(page.locator("#claim-status")).to_contain_text("Anda sedang mengerjakan langkah ini")
    expect(page.locator("#release-button")).to_be_visible()
    _both_widths(page, shots, "task-claimed-by-me")
    page.goto(f"{live_server.url}/")
    expect(page.locator("#claimed")).to_contain_text("Rumuskan bahan laporan kinerja")
    _both_widths(page, shots, "inbox-claimed")

    # A teammate, in a browser of their own, sees who works on it and has no form to complete it.
    context = browser.new_context(viewport=WIDE, locale="id-ID")
    try:
        other = context.new_page()
        BrowserAuth(other, live_server).login("tim2.kecamatan")
        row = other.locator("#inbox tbody tr", has_text=TITLE)
        expect(row.locator(".claimed-by")).to_contain_text("sedang dikerjakan oleh Daniel Mandowen, S.IP.")
        _both_widths(other, shots, "inbox-teammate")
        row.locator("a").first.click()
        expect(other.locator("#claim-status")).to_contain_text("Sedang dikerjakan oleh Daniel Mandowen, S.IP. sejak")
        expect(other.locator("#task-form")).to_have_count(0)
        expect(other.locator("#claim-button")).to_have_count(0)
        _both_widths(other, shots, "task-claimed-by-teammate")
    finally:
        context.close()

    # The Camat finds it in "Semua proses unit" by a word of its title.
    auth.logout()
    auth.login("camat.contoh")
    page.click("#nav-cases")
    page.click("#list-unit")
    page.fill("#teks", "triwulan")
    page.click("#case-search")
    card = page.locator("#cases li", has_text=TITLE)
    expect(card).to_have_count(1)
    expect(card.locator(".current-step")).to_contain_text("sedang dikerjakan oleh Daniel Mandowen, S.IP.")
    _both_widths(page, shots, "cases-unit")
    card.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(TITLE)
