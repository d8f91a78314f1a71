"""Studio SOP in Chromium: the issue's "Done when" scenario, as the analyst of the Kecamatan.

Open SOP Perencanaan Kinerja, change a step's Waktu in the properties panel, add a
step (first where no lane holds it: the lint problem shows, clicking it selects the
step; then moved into a lane: the problem goes), close the tab, reopen and find the
draft, compare with the deployed version, deploy with a note. A new instance gets
the new due time, an instance started before stays on the old version, the dry run
lists it as movable and the move succeeds. Screenshots go to test-artifacts/studio/.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from engine import drafts, instances
from storage import org
from tests.browser.conftest import BrowserAuth

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import LiveServer

SOP = "sop_perencanaan_kinerja_kecamatan"
UNIT = "kecamatan-contoh"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"


def _start(server: LiveServer, title: str) -> int:
    with server.database.transaction() as session:
        starter = instances.starters(session, SOP, UNIT)[0]
        return instances.start_instance(session, process_id=SOP, unit_code=UNIT, title=title, username=starter).id


def _wait_ready(page: Page, selector: str) -> None:
    page.wait_for_selector(f"{selector}[data-state=ready]")


def _wait_saved(page: Page) -> None:
    page.wait_for_selector("#studio-modeler[data-save-state=saved]", timeout=20_000)


def _until(page: Page, expression: str, timeout_s: float = 15) -> None:
    """Poll ``expression`` (a JS arrow function) until true; the pages' CSP forbids wait_for_function's eval."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def _select(page: Page, element_id: str) -> None:
    """Select a diagram element as a click on it does (the palette may cover it at this zoom)."""
    page.evaluate("id => { const m = window.alurModeler; m.get('selection').select(m.get('elementRegistry').get(id)); }",
                  element_id)


def test_analyst_edits_checks_deploys_and_moves_a_running_instance(
    page: Page, live_server: LiveServer, auth: BrowserAuth,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    old_instance = _start(live_server, "Rencana kinerja sebelum perubahan")
    auth.login("analis.kecamatan")

    page.click("nav >> text=Studio SOP")
    page.wait_for_selector("#katalog")
    assert page.locator("#katalog tbody tr").count() == 18
    page.screenshot(path=str(SHOTS / "katalog.png"), full_page=True)

    row = page.locator(f'#katalog tr[data-process-id="{SOP}"]')
    row.locator("text=Ubah").click()
    _wait_ready(page, "#studio-modeler")
    assert page.locator("#studio-modeler").get_attribute("data-lint-problems") == "0"

    # Waktu of Step_01 in the properties panel: the source text fills the ISO duration.
    _select(page, "Step_01")
    page.wait_for_selector("#bio-properties-panel-alur-waktu-text")
    page.fill("#bio-properties-panel-alur-waktu-text", "2 jam")
    _until(page, "() => document.querySelector('#bio-properties-panel-alur-waktu').value === 'PT2H'")
    page.fill("#bio-properties-panel-alur-waktu", "dua jam")
    page.wait_for_selector(".bio-properties-panel-error")  # checked as typed, not stored
    page.fill("#bio-properties-panel-alur-waktu", "PT2H")
    _wait_saved(page)
    draft_id = page.locator("#studio-modeler").get_attribute("data-draft-id")
    assert draft_id

    # A new step between Step_03 and Step_04 in lane Tim; then taken out of every lane (as when the
    # lane's membership is lost): the lint problem shows and selects it; put back in a lane, it goes.
    page.evaluate("""() => {
      const m = window.alurModeler, registry = m.get('elementRegistry'), modeling = m.get('modeling');
      const bo = m.get('bpmnFactory').create('bpmn:UserTask', { id: 'Step_03b' });
      const task = modeling.createShape({ type: 'bpmn:UserTask', businessObject: bo }, { x: 820, y: 405 },
                                        registry.get('Participant_1'));
      modeling.updateLabel(task, 'Periksa kelengkapan konsep');
      modeling.removeElements([registry.get('Flow_Step_03_Step_04')]);
      modeling.connect(registry.get('Step_03'), task);
      modeling.connect(task, registry.get('Step_04'));
    }""")
    assert page.evaluate("() => window.alurModeler.get('elementRegistry').get('Step_03b').businessObject"
                         ".lanes.map(l => l.id)") == ["Lane_Tim"]
    page.evaluate("""() => {
      const m = window.alurModeler, lane = m.get('elementRegistry').get('Lane_Tim');
      const refs = lane.businessObject.flowNodeRef.filter(n => n.id !== 'Step_03b');
      m.get('modeling').updateModdleProperties(lane, lane.businessObject, { flowNodeRef: refs });
    }""")
    _until(page, "() => document.querySelector('#lint-problems [data-element-id=Step_03b][data-rule=\"alur/user-task-in-lane\"]')")
    page.click('#lint-problems [data-element-id=Step_03b][data-rule="alur/user-task-in-lane"]')
    assert page.evaluate("() => window.alurModeler.get('selection').get().map(e => e.id)") == ["Step_03b"]
    page.screenshot(path=str(SHOTS / "modeler-lint.png"), full_page=True)

    page.evaluate("""() => {
      const m = window.alurModeler, task = m.get('elementRegistry').get('Step_03b');
      m.get('modeling').moveElements([task], { x: 0, y: 10 });
    }""")
    _until(page, "() => !document.querySelector('#lint-problems [data-element-id=Step_03b][data-rule=\"alur/user-task-in-lane\"]')")
    _select(page, "Step_03b")
    page.fill("#bio-properties-panel-alur-kelengkapan", "Konsep rencana kinerja")
    page.fill("#bio-properties-panel-alur-waktu-text", "30 menit")
    page.fill("#bio-properties-panel-alur-output", "Konsep yang lengkap")
    _until(page, "() => document.querySelector('#studio-modeler').dataset.lintProblems === '0'")
    _wait_saved(page)
    page.screenshot(path=str(SHOTS / "modeler-panel.png"), full_page=True)
    lanes = page.locator("#lanes [data-lane]")
    assert lanes.count() == 6 and page.locator("#lanes [data-missing]").count() == 0

    # Close the tab; reopening offers the draft with the new step.
    context = page.context
    page.close()
    page = context.new_page()
    page.goto(f"{live_server.url}/studio/{SOP}/ubah")
    _wait_ready(page, "#studio-modeler")
    page.wait_for_selector("#offer:not([hidden])")
    assert f"#{draft_id}" in page.inner_text("#offer-text")
    page.click("#offer-open")
    page.wait_for_selector('[data-element-id="Step_03b"]')

    # Compare the draft with the deployed version.
    page.click("#compare-link")
    _wait_ready(page, "#studio-compare")
    assert int(page.locator("#studio-compare").get_attribute("data-added") or 0) >= 1
    table = page.inner_text("#compare-table")
    assert "Periksa kelengkapan konsep" in table and "PT2H / 2 jam" in table
    page.screenshot(path=str(SHOTS / "banding.png"), full_page=True)

    # Deploy with a note.
    page.goto(f"{live_server.url}/studio/{SOP}/ubah?draf={draft_id}")
    _wait_ready(page, "#studio-modeler")
    page.click("#deploy")  # no note: the form refuses to send
    assert page.evaluate("() => document.querySelector('#deploy-note').validity.valueMissing")
    assert page.inner_text("#deploy-result") == ""
    page.fill("#deploy-note", "Langkah 1 jadi 2 jam; pemeriksaan kelengkapan konsep ditambahkan")
    page.click("#deploy")
    page.wait_for_selector("#deploy-result[data-version='2']")
    assert "1 instans yang sedang berjalan tetap pada versi awalnya" in page.inner_text("#deploy-result")

    new_instance = _start(live_server, "Rencana kinerja sesudah perubahan")
    with live_server.database.transaction() as session:
        new = instances.get_instance(session, new_instance)
        old = instances.get_instance(session, old_instance)
        zone = org.get_unit_by_code(session, UNIT).timezone
    assert (new.version, old.version) == (2, 1)
    (new_task,), (old_task,) = new.ready_tasks, old.ready_tasks
    assert (new_task.waktu, old_task.waktu) == ("PT2H", "PT20M")
    assert new_task.due_at is not None and new_task.due_at - new_task.ready_at >= timedelta(hours=2), zone

    # Versions page: the note, the dry run, the move.
    page.goto(f"{live_server.url}/studio/{SOP}")
    _wait_ready(page, "#studio-versions")
    assert "pemeriksaan kelengkapan konsep ditambahkan" in page.inner_text("#versions")
    page.click("#migration-dry-run")
    page.wait_for_selector(f"#migration-plan tr[data-instance-id='{old_instance}'][data-movable=true]")
    page.screenshot(path=str(SHOTS / "versi.png"), full_page=True)
    page.click("#migration-move")
    page.wait_for_selector("#studio-versions[data-moved=true]")
    assert "1 instans dipindahkan ke v2" in page.inner_text("#migration-result")
    with live_server.database.transaction() as session:
        moved = instances.get_instance(session, old_instance)
        assert moved.version == 2 and [t.id for t in moved.ready_tasks] == [old_task.id]
        assert instances.history_of(session, old_instance)[-1].kind == "instance_migrated"


def test_catalogue_and_viewer_for_a_user_who_only_views(page: Page, live_server: LiveServer, auth: BrowserAuth) -> None:
    auth.login("camat.contoh")
    page.goto(f"{live_server.url}/studio/")
    assert page.locator("#katalog >> text=Ubah").count() == 0
    page.locator(f'#katalog tr[data-process-id="{SOP}"] >> text=Lihat').click()
    _wait_ready(page, "#studio-viewer")
    assert page.locator("#studio-viewer").get_attribute("data-import-warnings") == "0"
    page.click("[data-zoom=in]")
    assert page.locator('[data-element-id="Step_01"]').count() == 1


def test_undo_redo_conflict_and_a_refused_deploy_at_its_element(
    page: Page, live_server: LiveServer, auth: BrowserAuth, expected_http_errors: list[tuple[int, str, str]],
) -> None:
    auth.login("analis.organisasi")
    page.goto(f"{live_server.url}/studio/{SOP}/ubah")
    _wait_ready(page, "#studio-modeler")
    _select(page, "Step_02")
    page.fill("#bio-properties-panel-alur-kelengkapan", "Daftar calon anggota Tim")
    _wait_saved(page)
    draft_id = page.locator("#studio-modeler").get_attribute("data-draft-id")
    revision = int(page.locator("#studio-modeler").get_attribute("data-revision") or 0)

    # Undo and redo go through the command stack, and the panel follows.
    page.click("#undo")
    _until(page, "() => document.querySelector('#bio-properties-panel-alur-kelengkapan').value === 'Draft anggota Tim'")
    page.click("#redo")
    _until(page, "() => document.querySelector('#bio-properties-panel-alur-kelengkapan').value === 'Daftar calon anggota Tim'")
    _wait_saved(page)

    # Someone else saves the same draft: the next save here is stale and says whose change came first.
    other = page.context.browser.new_context()
    other_page = other.new_page()
    BrowserAuth(other_page, live_server).login("analis.kecamatan")
    other_page.goto(f"{live_server.url}/studio/{SOP}/ubah?draf={draft_id}")
    _wait_ready(other_page, "#studio-modeler")
    other_page.evaluate("id => { const m = window.alurModeler; m.get('selection').select(m.get('elementRegistry').get(id)); }",
                        "Step_04")
    other_page.fill("#bio-properties-panel-alur-output", "Rekap konsep")
    _wait_saved(other_page)
    other.close()

    expected_http_errors.append((409, "PUT", f"/api/studio/drafts/{draft_id}"))
    _select(page, "Step_05")
    page.fill("#bio-properties-panel-alur-output", "Milik saya")
    page.wait_for_selector("#studio-modeler[data-save-state=conflict]", timeout=20_000)
    text = page.inner_text("#conflict-text")
    assert "analis.kecamatan" in text and f"Draf #{draft_id}" in text
    page.screenshot(path=str(SHOTS / "modeler-konflik.png"), full_page=True)
    page.click("#conflict-separate")
    _wait_saved(page)
    mine = page.locator("#studio-modeler").get_attribute("data-draft-id")
    assert mine and mine != draft_id
    with live_server.database.transaction() as session:
        _theirs_view, theirs = drafts.get_draft(session, int(draft_id or 0))
        _mine_view, kept = drafts.get_draft(session, int(mine))
    assert 'output="Rekap konsep"' in theirs and "Milik saya" not in theirs  # nothing overwritten
    assert 'output="Milik saya"' in kept and _theirs_view.revision > revision

    # A condition outside the engine's safe subset: lint cannot tell, the server refuses at the flow.
    page.evaluate("""() => {
      const m = window.alurModeler, flow = m.get('elementRegistry').get('Flow_Step_06_Tidak');
      const expression = m.get('moddle').create('bpmn:FormalExpression', { body: '__import__("os")' });
      m.get('modeling').updateProperties(flow, { conditionExpression: expression });
    }""")
    _wait_saved(page)
    expected_http_errors.append((422, "POST", f"/api/studio/drafts/{mine}/deploy"))
    page.fill("#deploy-note", "Coba kondisi")
    page.click("#deploy")
    page.wait_for_selector("#deploy-result[data-element-id='Flow_Step_06_Tidak']")
    assert "Deploy ditolak" in page.inner_text("#deploy-result")
    assert page.evaluate("() => window.alurModeler.get('selection').get().map(e => e.id)") == ["Flow_Step_06_Tidak"]
