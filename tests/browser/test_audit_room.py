"""Issue 12's "Done when": an Inspektorat auditor in the Ruang Auditor, in a real Chromium.

Months of runs are recorded through the engine with past timestamps (engine.riwayat). The
auditor searches the Kecamatan's late instances of last quarter (with a review loop), opens
one, scrubs its timeline to the second iteration of a review loop, verifies its chain,
exports the list, then opens the compliance report for the year with its heatmap. A row
tampered with directly in the database makes the Verifikasi page report the broken link.
Screenshots go to test-artifacts/audit/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from engine import riwayat
from tests.browser.conftest import ROOT, BrowserAuth, LiveServer

AUDITOR = "auditor.inspektorat"


@pytest.fixture(scope="module")
def history(live_server: LiveServer) -> LiveServer:
    """Five months of runs, three per unit and month, ending now."""
    generated = riwayat.generate(live_server.database.transaction, months=5, per_month=3, seed=12)
    assert generated.tidak > 0 and generated.late > 0
    return live_server


@pytest.fixture
def shots() -> Path:
    folder = ROOT / "test-artifacts" / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _last_quarter(today: date) -> tuple[date, date]:
    first_this = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_end = first_this - timedelta(days=1)
    return date(last_end.year, 3 * ((last_end.month - 1) // 3) + 1, 1), last_end


def _zoom_buttons(page: Page, prefix: str, canvas: str, shot: Path) -> None:
    """The diagram opens fitted to its box; + zooms in, − out, "Pas" fits again (scale in ``data-zoom``)."""
    box = page.locator(canvas)

    def scale() -> float:
        return float(box.get_attribute("data-zoom") or 0)

    fitted = scale()
    assert fitted > 0
    page.click(f"#{prefix}-zoom-in")
    page.click(f"#{prefix}-zoom-in")
    assert scale() == pytest.approx(fitted * 1.25 * 1.25, rel=0.01)
    box.screenshot(path=str(shot))
    page.click(f"#{prefix}-zoom-out")
    assert scale() == pytest.approx(fitted * 1.25, rel=0.01)
    page.click(f"#{prefix}-fit")
    assert scale() == pytest.approx(fitted, rel=0.01)


def test_an_auditor_searches_replays_verifies_exports_and_reports(
        page: Page, history: LiveServer, auth: BrowserAuth, shots: Path) -> None:
    auth.login(AUDITOR)
    page.click("#nav-search")
    start, end = _last_quarter(datetime.now(UTC).date())
    page.select_option("#unit", "kecamatan-contoh")
    page.fill("#dimulai_dari", start.isoformat())
    page.fill("#dimulai_sampai", end.isoformat())
    page.check("#terlambat")
    page.check("#perbaikan")
    page.click("#search-submit")
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    for i in range(rows.count()):
        expect(rows.nth(i).locator("td").nth(2)).to_have_text("Kecamatan Contoh")  # the name, not the code (issue 11)
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    search_url = page.url

    # Export the list: the CSV holds the same instances.
    with page.expect_download() as download_info:
        page.click("#export-csv")
    exported = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    assert exported[0][:3] == ["No. proses", "Perihal", "SOP"]
    listed = {rows.nth(i).get_attribute("data-instance-id") for i in range(rows.count())}
    assert {r[0] for r in exported[1:]} == listed
    assert all(r[4] == "Kecamatan Contoh" and r[12] == "kecamatan-contoh" and int(r[9]) > 0 and int(r[10]) > 0
               for r in exported[1:])

    # Open one; the grouped history shows names, iterations and late marks.
    rows.first.locator("a").first.click()
    expect(page.locator("#step-runs")).to_be_visible()
    expect(page.locator("#step-runs .late-mark").first).to_be_visible()
    expect(page.locator("#step-runs td", has_text=re.compile(r"\d+ dari \d+")).first).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_have_attribute("data-state", "ready")

    # Scrub to the second iteration of a review loop.
    option = page.locator("#tl-iteration option", has_text="putaran 2 dari").first
    value = option.get_attribute("value")
    assert value is not None
    page.select_option("#tl-iteration", value)
    expect(page.locator("#tl-panel")).to_contain_text("putaran 2 dari")
    expect(page.locator("#tl-canvas .djs-element.alur-path").first).to_be_attached()
    event_id = timeline.get_attribute("data-event-id")
    assert event_id and f"pada={event_id}" in page.url
    timeline.screenshot(path=str(shots / "timeline-iteration-2.png"))
    _zoom_buttons(page, "tl", "#tl-canvas", shots / "timeline-zoomed.png")
    page.screenshot(path=str(shots / "instance.png"), full_page=True)

    # The URL names the point: opening it again lands on the same event.
    page.goto(page.url)
    expect(page.locator("#timeline")).to_have_attribute("data-event-id", event_id)
    page.click("#tl-first")
    expect(page.locator("#tl-position")).to_contain_text("Kejadian 1 dari")
    page.click("#tl-next")
    expect(page.locator("#tl-position")).to_contain_text("Kejadian 2 dari")

    # Verify the chain.
    page.click("#verify-button")
    expect(page.locator("#verdict")).to_have_attribute("data-intact", "true")
    page.screenshot(path=str(shots / "verify.png"), full_page=True)
    instance_id = int(re.search(r"/proses/(\d+)/", page.url).group(1))  # type: ignore[union-attr]

    # The compliance report for the year, with its heatmap and chart.
    today = datetime.now(UTC).date()
    page.goto(f"{history.url}/audit/kepatuhan?dari={(today - timedelta(days=365)).isoformat()}"
              f"&sampai={today.isoformat()}")
    expect(page.locator("#steps-table tbody tr").first).to_be_visible()
    expect(page.locator("#heatmap")).to_have_attribute("data-state", "ready")
    expect(page.locator("#trend-chart")).to_have_attribute("data-state", "ready")
    assert page.locator("#heatmap-canvas .djs-element[class*='alur-heat-']").count() > 0
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    page.screenshot(path=str(shots / "report-top.png"))
    page.locator("#heatmap").screenshot(path=str(shots / "report-heatmap.png"))
    _zoom_buttons(page, "heatmap", "#heatmap-canvas", shots / "report-heatmap-zoomed.png")

    # A DBA edits a catatan behind the application's back: Verifikasi names the broken link.
    with history.database.transaction() as session:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        target = session.execute(text("SELECT min(id) FROM audit_event WHERE instance_id = :i AND kind = "
                                      "'task_completed'"), {"i": instance_id}).scalar_one()
        session.execute(text("UPDATE audit_event SET catatan = 'diubah diam-diam' WHERE id = :id"), {"id": target})
        session.execute(text("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                             "BEGIN SELECT RAISE(ABORT, 'append-only'); END"))
    page.goto(f"{history.url}/proses/{instance_id}/verifikasi")
    expect(page.locator("#verdict")).to_have_attribute("data-intact", "false")
    expect(page.locator("#verdict")).to_contain_text(f"kejadian {target}")
    page.screenshot(path=str(shots / "verify-broken.png"), full_page=True)

    # An administrator reads what the auditor opened.
    auth.logout()
    auth.login("admin.alur")
    page.click("#nav-admin")
    page.click("#nav-read-log")
    log = page.locator("#read-log")
    expect(log).to_contain_text("Lusiana Pardede")
    for what in ("search", "instance", "verify", "report", "export"):
        expect(log.locator("td", has_text=re.compile(f"^{what}$")).first).to_be_visible()
    page.screenshot(path=str(shots / "read-log.png"), full_page=True)
    assert search_url
