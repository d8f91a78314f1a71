"""A working day in a real browser (issue 11): where the work went, a repeat review, the phone.

A Kasubag Evapor sends the typed report back: the message names the Staf who
will fix it, the Staf sees the catatan at the top of the step, sends a PDF and
the message names the reviewer; the second review is "Pemeriksaan ulang ke-1"
and previews the PDF. The instance page stays inside 1366 px with a catatan of
one long word, and its diagram zooms. At 390x844 the inbox is a list of cards
with the due time, the navigation collapses behind a toggler and no page
scrolls sideways. Screenshots of each screen at 1366 px and 390 px go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips the test (fails it under CI) and says why
    expect = None

from engine import instances
from tests.support import advance_until

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import BrowserAuth, LiveServer

PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
PERENCANAAN = "sop_perencanaan_kinerja_kecamatan"
KECAMATAN = "kecamatan-contoh"
KASUBAG = "kasubag.evapor.kecamatan"
STAF = "staf1.kecamatan"
LONG_WORD = "Tabel-capaian-IKU-triwulan-III-belum-lengkap-" * 6  # one word of 270 characters
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chromium's built-in PDF viewer
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _one_page_pdf(text: str) -> bytes:
    """A valid one-page A4 PDF showing ``text`` (ASCII) in large Helvetica, with a correct xref table."""
    stream = f"BT /F1 40 Tf 60 700 Td ({text}) Tj ET".encode()
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
              b" /Contents 5 0 R >>",
              b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
              b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


PDF = _one_page_pdf("Laporan Kinerja Triwulan III")


def _start(server: LiveServer, process_id: str, title: str, until: str) -> int:
    with server.database.transaction() as session:
        starter = instances.starters(session, process_id, KECAMATAN)[0]
        view = instances.start_instance(session, process_id=process_id, unit_code=KECAMATAN, title=title,
                                        username=starter)
    advance_until(server.database, view.id, until)
    return view.id


def _open_task(page: Page, server: LiveServer, title: str, step: str) -> None:
    page.goto(f"{server.url}/")
    row = page.locator("#inbox tbody tr", has_text=title).filter(has_text=step)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=step).click()
    expect(page.locator("h1")).to_contain_text(step)


def _no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _pdf_viewer_shows_the_preview(page: Page) -> None:
    """The preview frame runs Chromium's PDF viewer and it loads the document's page: the response's CSP
    ``sandbox`` (no script, unique origin) does not stop it, where a ``sandbox`` attribute on the frame would
    (Chromium then shows an error page). ``loadState_``/``docLength_`` are the viewer's own fields
    (``pdf-viewer`` element of Chromium's PDF extension): if a Chromium update renames them this fails loudly."""
    page.locator("iframe.document-preview").first.scroll_into_view_if_needed()  # loading="lazy"
    viewer = None
    for _ in range(100):
        viewer = next((f for f in page.frames if f.url.startswith(PDF_VIEWER)), None)
        if viewer is not None:
            break
        page.wait_for_timeout(100)
    urls = [f.url for f in page.frames]
    assert viewer is not None and not any(url.startswith("chrome-error:") for url in urls), urls
    state = "({state: document.querySelector('pdf-viewer')?.loadState_, pages: document.querySelector('pdf-viewer')?.docLength_})"
    for _ in range(100):
        loaded = viewer.evaluate(state)
        if loaded.get("state") in ("success", "failed"):
            break
        page.wait_for_timeout(100)
    assert loaded == {"state": "success", "pages": 1}, loaded
    page.wait_for_timeout(1000)  # the viewer paints the page (for the screenshot)


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def _form_right_after_the_mutu_baku(page: Page) -> None:
    """At 390 px the task form follows the Mutu Baku at once; the history notes and documents come after it."""
    mutu, form, documents = _box(page, "#mutu-baku-table"), _box(page, "#task-form"), _box(page, "#dokumen-proses")
    assert mutu["y"] + mutu["height"] <= form["y"] <= mutu["y"] + mutu["height"] + 120, (mutu, form)
    assert form["y"] + form["height"] <= documents["y"], (form, documents)
    assert form["x"] >= 0 and form["x"] + form["width"] <= PHONE["width"]


def _form_beside_the_step_and_documents_below(page: Page) -> None:
    """At 1366 px: the step and its documents on the left, the form beside the step on the right, at the top."""
    step, form, documents = _box(page, "#kegiatan"), _box(page, "#task-form"), _box(page, "#dokumen-proses")
    assert form["x"] > step["x"] + step["width"] / 2 and abs(form["y"] - step["y"]) < 200, (step, form)
    assert documents["x"] < form["x"] and documents["y"] > step["y"], (documents, form)


def _shot(page: Page, artifacts: Path, name: str) -> None:
    page.mouse.move(0, 0)
    page.wait_for_timeout(200)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_a_review_sends_the_work_back_to_a_named_person_and_the_rework_comes_back(
    page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path,
) -> None:
    server, title = live_server, "Laporan Kinerja Triwulan III (hari kerja)"
    instance_id = _start(server, PELAPORAN, title, "Step_04")
    page.set_viewport_size(WIDE)

    auth.login(KASUBAG)
    _open_task(page, server, title, "Periksa ketikan laporan")
    page.fill("#catatan", LONG_WORD)
    page.click("#task-form [name=tidak]")
    expect(page.locator(".alert-success")).to_contain_text(
        "Dikembalikan ke Staf (Yuliana Tabuni, Markus Wanimbo) untuk diperbaiki.")
    auth.logout()

    auth.login(STAF)
    _open_task(page, server, title, "Ketik konsep laporan kinerja")
    expect(page.locator("h1 [data-repeat]")).to_have_text("Perbaikan ke-1")
    expect(page.locator("#rejection")).to_contain_text(LONG_WORD)
    expect(page.locator("#rejection")).to_contain_text("Frans Kambu")
    _no_sideways_scroll(page, WIDE["width"])
    _shot(page, artifacts, "task-rework-1366")
    page.click("#task-form [name=selesai]")  # neither the document its Output names nor a reason
    expect(page.locator("#task-form .invalid-feedback")).to_contain_text("unggah dokumennya")
    page.set_input_files("#dokumen", files=[{"name": "laporan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("#task-form [name=selesai]")
    expect(page.locator(".alert-success")).to_contain_text("Diteruskan ke Kasubag Evapor (Frans Kambu, S.E.).")
    auth.logout()

    auth.login(KASUBAG)
    _open_task(page, server, title, "Periksa ketikan laporan")
    expect(page.locator("h1 [data-repeat]")).to_have_text("Pemeriksaan ulang ke-1")
    newest = page.locator("#documents .document-group").first
    expect(newest.locator("[data-latest]")).to_have_text("terbaru")
    frame = newest.locator("iframe.document-preview")
    expect(frame).to_be_visible()
    preview = page.request.get(server.url + frame.get_attribute("src"))
    assert preview.headers["content-disposition"].startswith("inline")
    assert "sandbox" in preview.headers["content-security-policy"]
    _pdf_viewer_shows_the_preview(page)
    _form_beside_the_step_and_documents_below(page)
    _shot(page, artifacts, "task-review-again-1366")
    page.set_viewport_size(PHONE)
    page.reload()
    _form_right_after_the_mutu_baku(page)
    _pdf_viewer_shows_the_preview(page)
    _no_sideways_scroll(page, PHONE["width"])
    _shot(page, artifacts, "task-review-again-390")
    page.set_viewport_size(WIDE)

    page.goto(f"{server.url}/proses/{instance_id}")
    page.wait_for_selector("#diagram:not([data-state=loading])")
    assert page.get_attribute("#diagram", "data-state") == "ready"
    before = page.evaluate("document.querySelector('#diagram-canvas .viewport').getAttribute('transform')")
    page.click("#diagram-zoom [data-zoom=in]")
    after = page.evaluate("document.querySelector('#diagram-canvas .viewport').getAttribute('transform')")
    assert after != before
    page.click("#diagram-zoom [data-zoom=fit]")
    # a catatan of one long word wraps: the Dokumen column stays on the screen
    document_cell = page.locator("#step-runs thead th").last.bounding_box()
    assert document_cell is not None and document_cell["x"] + document_cell["width"] <= WIDE["width"]
    _no_sideways_scroll(page, WIDE["width"])
    _shot(page, artifacts, "instance-1366")
    page.goto(f"{server.url}/")
    _shot(page, artifacts, "inbox-1366")


def test_the_inbox_on_a_phone_is_a_list_of_cards_with_due_times(
    page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path,
) -> None:
    server = live_server
    instance_id = _start(server, PELAPORAN, "Laporan Kinerja Triwulan IV (ponsel)", "Step_01")
    _start(server, PERENCANAAN, "Rencana Kinerja 2027 (ponsel)", "Step_02")
    auth.login("tim1.kecamatan")
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/")

    expect(page.locator("#nav-toggler")).to_be_visible()
    expect(page.locator("#nav-main")).to_be_hidden()
    cards = page.locator("#inbox tbody tr")
    expect(cards.first).to_be_visible()
    expect(page.locator("#inbox thead")).to_be_hidden()
    for index in range(cards.count()):
        due = cards.nth(index).locator(".inbox-due")
        expect(due).to_be_visible()
        expect(due).to_have_attribute("data-label", "Batas waktu")  # shown before the time (CSS ::before)
        box = due.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _no_sideways_scroll(page, PHONE["width"])
    _shot(page, artifacts, "inbox-390")

    page.click("#nav-toggler")
    expect(page.locator("#nav-main")).to_be_visible()
    expect(page.locator("#nav-inbox-count")).to_be_visible()
    _no_sideways_scroll(page, PHONE["width"])
    _shot(page, artifacts, "nav-open-390")
    page.click("#nav-toggler")

    page.goto(f"{server.url}/proses/{instance_id}")
    page.wait_for_selector("#diagram:not([data-state=loading])")
    expect(page.locator("#history tbody tr").first).to_be_visible()
    _no_sideways_scroll(page, PHONE["width"])
    _shot(page, artifacts, "instance-390")

    page.goto(f"{server.url}/")
    cards.first.locator(".inbox-step a").click()
    expect(page.locator("#task-form")).to_be_visible()
    _no_sideways_scroll(page, PHONE["width"])
    _shot(page, artifacts, "task-390")
    auth_page_width = page.evaluate("window.innerWidth")
    assert auth_page_width == PHONE["width"]


def test_the_team_picker_searches_names_and_jabatan(
    page: Page, live_server: LiveServer, auth: BrowserAuth, artifacts: Path,
) -> None:
    server, title = live_server, "Rencana Kinerja 2027 (tim)"
    _start(server, PERENCANAAN, title, "Step_02")
    page.set_viewport_size(WIDE)
    auth.login("sekretaris.kecamatan")
    _open_task(page, server, title, "Bentuk Tim dan beri pengarahan")
    people = page.locator("#tim li")
    last = people.last.inner_text()
    assert "Maria Magdalena Rumbiak" in last or "Yohanes Wenda" in last  # the picker and the head last
    page.fill("#team-search", "kasubag")
    expect(page.locator("#tim li:visible")).to_have_count(2)
    expect(page.locator("#tim li:visible").first).to_contain_text("Kasubag Evapor")
    _shot(page, artifacts, "team-picker-1366")
    page.fill("#team-search", "")
    page.check("#tim li:has-text('Daniel Mandowen') input")
    page.click("#task-form [name=selesai]")
    expect(page.locator(".alert-success")).to_contain_text("Diteruskan ke Tim (Daniel Mandowen, S.IP.).")
