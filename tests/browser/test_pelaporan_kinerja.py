"""SOP Pelaporan Kinerja of the Kecamatan, start to end, in a real browser (issue 3).

The SOP's first lane is "Tim" (a standing team: the demo role Tim), so
``tim1.kecamatan`` starts it; the Staf types the report, the Kasubag Evapor
rejects it with a catatan, the task comes back to the Staf with the catatan
shown, and after approval the instance runs to its end through the call
activity to SOP Pengiriman Surat/Dokumen. Screenshots of the inbox, a task page
and the instance page (whole, its diagram alone, and the called SOP's diagram
while it runs) are saved under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips the test (fails it under CI) and says why
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from tests.browser.conftest import BrowserAuth, LiveServer

SOP = "sop_pelaporan_kinerja_kecamatan"
PENGIRIMAN = "sop_pengiriman_surat_dokumen"
TITLE = "Laporan Kinerja Triwulan III 2026 (uji peramban)"
CATATAN = "Tabel capaian IKU belum lengkap: isi kolom realisasi triwulan III."

TIM = "tim1.kecamatan"
KASUBAG_EVAPOR = "kasubag.evapor.kecamatan"
STAF = "staf1.kecamatan"
SEKRETARIS = "sekretaris.kecamatan"
CAMAT = "camat.contoh"
KASUBAG_UMUM = "kasubag.umum.kecamatan"


def _inbox_row(page: Page, server: LiveServer, step: str) -> Locator:
    """The inbox row of this test's instance for ``step``."""
    page.goto(f"{server.url}/")
    return page.locator("#inbox tbody tr", has_text=TITLE).filter(has_text=step)


def _open_task(page: Page, server: LiveServer, step: str) -> None:
    """Open the task ``step`` of this test's instance from the inbox."""
    row = _inbox_row(page, server, step)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=step).click()
    expect(page.locator("h1")).to_contain_text(step)


def _hand_over_outside(page: Page) -> None:
    """A step whose Output names a document: say it is handed over outside Alur (issue 11)."""
    if page.locator("#di_luar").count():
        page.fill("#di_luar", "Diserahkan langsung (uji peramban)")


def _complete(page: Page, server: LiveServer, step: str, button: str = "selesai",
              catatan: str | None = None) -> None:
    """Open task ``step`` and press ``button`` (selesai | setuju | tidak), with a catatan."""
    _open_task(page, server, step)
    if catatan:
        page.fill("#catatan", catatan)
    _hand_over_outside(page)
    page.click(f"#task-form [name={button}]")
    expect(page.locator(".alert-success")).to_contain_text(step)


def _diagram(page: Page) -> None:
    """Wait for the diagram and check bpmn-js imported it without warnings."""
    page.wait_for_selector("#diagram:not([data-state=loading])")
    assert page.get_attribute("#diagram", "data-state") == "ready"
    assert page.get_attribute("#diagram", "data-import-warnings") == "0"


def _markers(page: Page, element_id: str) -> set[str]:
    classes = page.get_attribute(f'#diagram-canvas .djs-element[data-element-id="{element_id}"]', "class")
    return set((classes or "").split())


def _count_badge(page: Page, element_id: str) -> str:
    return page.locator(f'#diagram-canvas .djs-overlays[data-container-id="{element_id}"] .alur-count').inner_text()


def test_pelaporan_kinerja_with_a_rejection_and_the_call_to_sop_pengiriman(
    page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path,
) -> None:
    server = live_server

    # Tim starts the SOP and does the first step.
    auth.login(TIM)
    page.goto(f"{server.url}/mulai")
    page.click(f'#startable [data-process-id="{SOP}"]')
    page.fill("#title", TITLE)
    page.click("main form [type=submit]")
    expect(page.locator("h1")).to_contain_text("Rumuskan bahan laporan kinerja")  # the starter's own first step
    page.click(".breadcrumb a[href*='/proses/']")
    expect(page.locator("h1")).to_contain_text(TITLE)
    instance_url = page.url
    assert re.fullmatch(rf"{re.escape(server.url)}/proses/\d+", instance_url)
    _diagram(page)
    assert "alur-current" in _markers(page, "Step_01")
    _complete(page, server, "Rumuskan bahan laporan kinerja")
    auth.logout()

    auth.login(KASUBAG_EVAPOR)
    _complete(page, server, "Kumpulkan bahan laporan kinerja")
    auth.logout()

    auth.login(STAF)
    _complete(page, server, "Ketik konsep laporan kinerja")
    auth.logout()

    # The reviewer rejects, with a catatan.
    auth.login(KASUBAG_EVAPOR)
    _open_task(page, server, "Periksa ketikan laporan")
    page.click("#task-form [name=tidak]")  # without a catatan: refused, nothing changes
    expect(page.locator("#task-form .invalid-feedback")).to_be_visible()
    page.fill("#catatan", CATATAN)
    page.click("#task-form [name=tidak]")
    expect(page.locator(".alert-success")).to_contain_text("Periksa ketikan laporan")
    auth.logout()

    # Back in the Staf's inbox, marked as a redo; the task page shows the catatan.
    auth.login(STAF)
    row = _inbox_row(page, server, "Ketik konsep laporan kinerja")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Perbaikan ke-1")
    page.screenshot(path=str(artifacts / "inbox.png"), full_page=True)
    row.get_by_role("link", name="Ketik konsep laporan kinerja").click()
    expect(page.locator("#notes")).to_contain_text(CATATAN)
    expect(page.locator("#notes")).to_contain_text("Tidak")
    page.screenshot(path=str(artifacts / "task.png"), full_page=True)
    _hand_over_outside(page)
    page.click("#task-form [name=selesai]")
    expect(page.locator(".alert-success")).to_be_visible()
    auth.logout()

    auth.login(KASUBAG_EVAPOR)
    _complete(page, server, "Periksa ketikan laporan", "setuju")
    auth.logout()
    auth.login(TIM)
    _complete(page, server, "Periksa laporan (Tim)", "setuju")
    auth.logout()
    auth.login(SEKRETARIS)
    _complete(page, server, "Periksa laporan dan beri paraf")
    auth.logout()
    auth.login(CAMAT)
    _complete(page, server, "Tanda tangani laporan kinerja")
    _complete(page, server, "Perintahkan agenda dan distribusi")
    auth.logout()

    # Step 9 is carried out by SOP Pengiriman: its first step is the Staf's.
    auth.login(STAF)
    _open_task(page, server, "Agendakan dan beri nomor surat keluar")
    page.click("nav[aria-label] .breadcrumb-item a[href^='/proses/']")
    _diagram(page)
    assert "alur-current" in _markers(page, "Step_09")
    assert _count_badge(page, "Step_03") == "×2"
    page.click(f'#diagram-tabs button[data-process-id="{PENGIRIMAN}"]')
    page.wait_for_selector(f'#diagram[data-state=ready][data-process-id="{PENGIRIMAN}"]')
    assert page.get_attribute("#diagram", "data-import-warnings") == "0"
    assert "alur-current" in _markers(page, "Step_01")
    page.mouse.move(0, 0)  # no hover highlight in the screenshot,
    page.wait_for_timeout(300)  # and Bootstrap's button transition (0.15 s) has ended
    page.screenshot(path=str(artifacts / "instance-called-sop.png"), full_page=True)
    _complete(page, server, "Agendakan dan beri nomor surat keluar")
    _complete(page, server, "Gandakan surat/dokumen")
    _complete(page, server, "Siapkan amplop dan buku ekspedisi")
    auth.logout()
    auth.login(KASUBAG_UMUM)
    _complete(page, server, "Periksa berkas pengiriman", "setuju")
    auth.logout()
    auth.login(STAF)
    _complete(page, server, "Kirim surat/dokumen")
    _complete(page, server, "Arsipkan bukti pengiriman")

    # The instance is finished: every step marked done, the redone ones counted.
    page.goto(f"{server.url}/")
    page.locator("#inbox-empty, #inbox").first.wait_for()
    expect(page.locator("#inbox tbody tr", has_text=TITLE)).to_have_count(0)
    auth.logout()
    auth.login(KASUBAG_EVAPOR)
    page.goto(instance_url)
    expect(page.locator("#instance-status")).to_have_text("Selesai")
    _diagram(page)
    for step in ("Step_01", "Step_02", "Step_05", "Step_06", "Step_07", "Step_08", "Step_09"):
        assert {"alur-done"} <= _markers(page, step) and "alur-current" not in _markers(page, step), step
    assert _count_badge(page, "Step_03") == "×2"
    assert _count_badge(page, "Step_04") == "×2"
    expect(page.locator('#diagram-canvas .djs-overlays[data-container-id="Step_05"] .alur-count')).to_have_count(0)
    history = page.locator("#history")
    expect(history.locator("tr", has_text=CATATAN)).to_contain_text("Tidak")
    expect(history.locator('tr[data-kind="called_process_completed"]')).to_have_count(1)
    expect(history.locator('tr[data-kind="instance_completed"]')).to_have_count(1)
    page.screenshot(path=str(artifacts / "instance.png"), full_page=True)
    page.locator("#diagram-section").screenshot(path=str(artifacts / "instance-diagram.png"))

