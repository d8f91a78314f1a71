"""Issue 9 in a real browser: an administrator imports 30 employees from an XLSX, fixes one jabatan and
issues a set-password link the new Staf logs in with; a Camat designates a Plh for three days, the Plh
signs, the history says "selaku Plh Camat", and after the range the step goes back. The app's clock is
fixed (``ALUR_CLOCK``) so the dates are known. Screenshots in ``test-artifacts/browser/organisasi-*.png``.
"""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from werkzeug.serving import make_server

from engine import instances
from engine.demo import _pick_team
from storage import org
from tests.browser.conftest import BrowserAuth, LiveServer, _open

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 2 November 2026, 10.00 WIT
SIGN = "Tanda tangani laporan kinerja"
SIGNED_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
NEW_STAF_NIP = "199805142023031001"
NEW_PASSWORD = "sagu lempeng hangat pagi"


@dataclass
class Clock:
    """The app's clock, moved by the test."""

    now: datetime = T0


@pytest.fixture(scope="module")
def clock() -> Clock:
    """The clock of this module's server."""
    return Clock()


@pytest.fixture(scope="module")
def live_server(browser_db: Path, tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[LiveServer]:
    """The conftest's live server, with the app's clock set by ``clock``."""
    from web import create_app

    path = tmp_path_factory.mktemp("browser-org") / "alur.sqlite3"
    shutil.copy(browser_db, path)
    app = create_app({"SECRET_KEY": "browser-test-secret", "SESSION_COOKIE_SECURE": False,
                      "ALUR_DATABASE_URL": f"sqlite:///{path}", "ALUR_CLOCK": lambda: clock.now})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    database = _open(path)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", database=database)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.dispose()
        app.extensions["alur.database"].dispose()


def _employees_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["NIP", "Nama", "Jabatan", "Unit Kerja"])
    sheet.append(["196811201995031002", "Drs. Hotman Simanjuntak, M.Si., Ak.", "Inspektur", "inspektorat"])
    sheet.append(["197512122001122003", "Rosmawati, S.E., M.Ak.", "Sekretaris", "inspektorat"])
    sheet.append(["199611272020121002", "Yogi Pratama, A.Md.", "Staf", "inspektorat"])
    sheet.append(["199702032021032004", "Ni Luh Putu Sari, S.Ak.", "Staf", "inspektorat"])
    sheet.append([NEW_STAF_NIP, "Rudi Hartono, S.Kom.", "Sekretaris", "Inspektorat Kabupaten Contoh"])  # wrong
    for n in range(25):
        sheet.append([f"1990{1 + n % 12:02d}{1 + n:02d}2015031{n:03d}", f"Pegawai Inspektorat {n + 1}, S.E.",
                      "Staff", "inspektorat"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_administrator_imports_fixes_a_jabatan_and_a_new_staf_sets_his_password(
        page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "pegawai-inspektorat.xlsx"
    xlsx.write_bytes(_employees_xlsx())
    auth.login("admin.alur")
    page.click("#nav-admin")
    page.click("#nav-organisasi")
    page.click("#import-link")
    page.set_input_files("#berkas", str(xlsx))
    page.click("#pratinjau")
    expect(page.locator("#import-summary")).to_contain_text("26 ditambah")
    expect(page.locator("#import-summary")).to_contain_text("1 dinonaktifkan")  # the auditor's home is there
    page.screenshot(path=str(artifacts / "organisasi-impor-pratinjau.png"), full_page=True)
    page.set_input_files("#berkas", str(xlsx))
    page.click("#terapkan")
    expect(page.locator(".alert-success")).to_contain_text("26 ditambah")
    with live_server.database.transaction() as session:
        new = org.get_user_by_username(session, NEW_STAF_NIP)
        user_id = new.id
        staf_role = org.resolve_role(session, new.unit_id, "Staf")
        sekretaris_role = org.resolve_role(session, new.unit_id, "Sekretaris")
        assert staf_role is not None and sekretaris_role is not None
    page.goto(f"{live_server.url}/admin/organisasi/pengguna/{user_id}")
    page.select_option("#m-jabatan", str(sekretaris_role.id))
    page.check("#m-hapus")
    page.click("#membership-form [type=submit]")
    page.select_option("#m-jabatan", str(staf_role.id))
    page.fill("#m-mulai", "2026-11-02")
    page.click("#membership-form [type=submit]")
    expect(page.locator("#memberships tbody tr")).to_have_count(1)
    expect(page.locator("#memberships")).to_contain_text("Staf")
    page.screenshot(path=str(artifacts / "organisasi-pengguna.png"), full_page=True)
    page.click("#issue-link")
    link = page.input_value("#password-link")
    assert "/atur-sandi/" in link
    page.screenshot(path=str(artifacts / "organisasi-tautan-sandi.png"))
    auth.logout()
    page.goto(link)
    page.fill("#new", NEW_PASSWORD)
    page.fill("#repeat", NEW_PASSWORD)
    page.click("#set-password-form [type=submit]")
    page.wait_for_selector("#username")
    page.goto(link)
    expect(page.locator("#link-invalid")).to_be_visible()  # used once
    auth.login(NEW_STAF_NIP, NEW_PASSWORD)
    expect(page.locator("nav")).to_contain_text("Rudi Hartono")
    page.screenshot(path=str(artifacts / "organisasi-staf-baru-kotak-masuk.png"), full_page=True)


def _to_signature(live_server: LiveServer, title: str) -> str:
    """Start a Pelaporan Kinerja in the Kecamatan at T0 and complete it up to the Camat's signature step."""
    with live_server.database.transaction() as session:
        view = instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan",
                                        unit_code="kecamatan-contoh", title=title, username="tim1.kecamatan", now=T0)
        for _ in range(40):
            current = instances.get_instance(session, view.id)
            task = current.ready_tasks[0]
            if task.step_name == SIGN:
                return task.id
            user = instances.candidates(session, task.id, T0)[0]
            instances.complete_task(session, task.id, username=user, now=T0,
                                    keputusan="setuju" if task.is_review else None,
                                    team=_pick_team(session, task) if task.forms_team else None)
    raise AssertionError("the signature step was not reached")


def test_camat_designates_a_plh_who_signs_and_the_step_goes_back_after_the_range(
        page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path, clock: Clock) -> None:
    clock.now = T0
    first = _to_signature(live_server, "Laporan Kinerja Triwulan IV")
    second = _to_signature(live_server, "Laporan Kinerja Semester II")
    auth.login("camat.contoh")
    page.click("#nav-penunjukan")  # an official, not an administrator: the link is in the main navigation
    page.select_option("#jabatan", label="Camat — Kecamatan Contoh")
    page.select_option("#pelaksana", "sekretaris.kecamatan")
    page.fill("#mulai", "2026-11-02")
    page.fill("#selesai", "2026-11-04")
    page.fill("#alasan", "Cuti tahunan")
    page.click("#designation-form [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Plh Camat")
    page.screenshot(path=str(artifacts / "organisasi-penunjukan-plh.png"), full_page=True)
    auth.logout()

    clock.now = T0 + timedelta(days=1)
    auth.login("sekretaris.kecamatan")
    rows = page.locator("#inbox tbody tr", has_text=SIGN)
    expect(rows).to_have_count(2)
    page.goto(f"{live_server.url}/tugas/{first}")
    # its Output, "Laporan kinerja yang telah ditandatangani": the copy the Plh signed
    page.set_input_files("#dokumen", files=[{"name": "laporan-ditandatangani.pdf", "mimeType": "application/pdf",
                                             "buffer": SIGNED_PDF}])
    page.click("#task-form [name=selesai]")
    expect(page.locator(".alert-success")).to_contain_text(SIGN)
    with live_server.database.transaction() as session:
        instance_id = instances.get_task(session, first).instance_id
    page.goto(f"{live_server.url}/proses/{instance_id}")
    expect(page.locator("#step-runs")).to_contain_text("selaku Plh Camat")
    expect(page.locator("#history")).to_contain_text("selaku Plh Camat")
    # the Output names its signer as SE Kepala BKN 1/SE/I/2021 writes it: "Plh. Camat <nama>"
    expect(page.locator("#document-groups .signed-as")).to_have_text("Plh. Camat")
    page.locator("#step-runs").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "organisasi-riwayat-selaku-plh.png"), full_page=True)
    auth.logout()

    clock.now = datetime(2026, 11, 4, 15, 30, tzinfo=UTC)  # Thursday 5 November, 00.30 WIT: the range is over
    auth.login("sekretaris.kecamatan")
    expect(page.locator("#inbox tbody tr", has_text=SIGN)).to_have_count(0)
    page.goto(f"{live_server.url}/tugas/{second}")  # the Sekretaris reads the unit's steps, but acts no more
    expect(page.locator("#task-form")).to_have_count(0)
    auth.logout()
    auth.login("camat.contoh")
    expect(page.locator("#inbox tbody tr", has_text=SIGN)).to_have_count(1)
    page.screenshot(path=str(artifacts / "organisasi-setelah-plh-kembali.png"), full_page=True)
