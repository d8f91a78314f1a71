"""The upload page in a real browser: an XLSX SOP in, the import report and the draft download out.

Screenshots of the form and of the result are saved under ``test-artifacts/browser/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips the test (fails it under CI) and says why
    expect = None

from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram, to_xlsx

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import BrowserAuth, LiveServer


def test_upload_an_xlsx_sop_and_download_the_draft(page: Page, live_server: LiveServer, auth: BrowserAuth,
                                                    artifacts: Path, tmp_path: Path) -> None:
    auth.login("sekretaris.kecamatan")
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Impor SOP").click()
    expect(page.locator("h1")).to_have_text("Impor SOP dari dokumen")
    page.screenshot(path=str(artifacts / "impor-form.png"), full_page=True)
    document = tmp_path / "sop_perencanaan.xlsx"
    diagram = read_diagram(BPMN_DIR / "sop_perencanaan_kinerja_kecamatan.bpmn")
    document.write_bytes(to_xlsx(diagram, deployed_names(), identity_rows=3))
    page.set_input_files("#dokumen", str(document))
    page.get_by_role("button", name="Impor").click()
    expect(page.locator("h1")).to_contain_text("Hasil impor: sop_perencanaan.xlsx")
    expect(page.locator("section.card")).to_have_count(1)
    expect(page.locator("section.card")).to_contain_text("Camat · Sekretaris · Tim · Kasubag Evapor")
    expect(page.locator("section.card table")).to_contain_text("Panah 'Tidak'")
    page.screenshot(path=str(artifacts / "impor-hasil.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Unduh draf .bpmn").click()
    download = download_info.value
    assert download.suggested_filename == "sop_perencanaan_kinerja.bpmn"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert b"<bpmn:laneSet" in saved.read_bytes()


def test_import_a_seed_sop_open_it_in_the_studio_and_deploy(page: Page, live_server: LiveServer, auth: BrowserAuth,
                                                             artifacts: Path) -> None:
    seed = Path(__file__).resolve().parents[1] / "sop_import" / "data" / "seeds" / "002_ac54faf19602f954.txt"
    auth.login("analis.kominfo")
    page.goto(f"{live_server.url}/impor")
    page.set_input_files("#dokumen", str(seed))
    page.get_by_role("button", name="Impor").click()
    expect(page.locator("section.card")).to_have_count(1)
    expect(page.locator("section.card select")).to_have_value("dinas")
    page.screenshot(path=str(artifacts / "impor-hasil-analis.png"), full_page=True)
    page.get_by_role("button", name="Buka di Studio").click()
    page.wait_for_selector("#studio-modeler[data-state=ready]")
    expect(page.locator("#draft-label")).to_contain_text("SOP baru, belum di-deploy")
    expect(page.locator(".djs-element.djs-shape[data-element-id^='Lane_']").first).to_be_visible()
    expect(page.locator("#lanes li").first).to_be_visible()
    page.screenshot(path=str(artifacts / "impor-studio-draf-baru.png"), full_page=True)
    page.fill("#deploy-note", "SOP Penyusunan LAKIP dari dokumen lama")
    page.get_by_role("button", name="Deploy", exact=True).click()
    page.wait_for_selector("#deploy-result[data-version='1']")
    expect(page.locator("#deploy-result")).to_contain_text("Versi 1 di-deploy oleh analis.kominfo")
    page.screenshot(path=str(artifacts / "impor-studio-deploy.png"), full_page=True)
    page.goto(f"{live_server.url}/studio/")
    expect(page.locator("#katalog")).to_contain_text("sop_penyusunan_laporan_akuntabilitas_kinerja_instansi_pemerintah")
