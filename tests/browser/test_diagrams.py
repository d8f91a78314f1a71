"""Every SOP's instance page draws its diagram with bpmn-js, without import warnings.

For each ``.bpmn`` in ``bpmn/`` an instance is started (through the engine) in a
demo unit of the SOP's kind by one of its starters, who then opens the instance
page in Chromium. bpmn-js reports its import warnings in ``#diagram``'s
``data-import-warnings`` (``web/static/js/diagram.js``); the first step must be
drawn and marked current. Without bpmn-js, or without JavaScript at all, the
page says so and everything but the diagram still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine import catalog, instances
from storage.demo import DEMO_UNITS
from storage.errors import InvalidTaskDataError
from tests.browser.conftest import BrowserAuth

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import LiveServer

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SOPS = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))


def _start_anywhere(server: LiveServer, process_id: str) -> tuple[int, str, str]:
    """Start ``process_id`` in the first demo unit that can run it: (instance id, starter, first step)."""
    with server.database.transaction() as session:
        definition = catalog.latest_definition(session, process_id)
        first_step = next(iter(definition.meta.steps))
        for unit in DEMO_UNITS:
            if definition.meta.unit_kind not in ("any", unit.kind):
                continue
            starters = instances.starters(session, process_id, unit.code)
            if not starters:
                continue
            try:
                view = instances.start_instance(session, process_id=process_id, unit_code=unit.code,
                                                title=f"Uji diagram {process_id}", username=starters[0])
            except InvalidTaskDataError:
                continue
            return view.id, starters[0], first_step
    raise AssertionError(f"no demo unit can start {process_id}")


def test_every_sop_has_a_diagram() -> None:
    assert len(SOPS) == 18


@pytest.mark.parametrize("process_id", SOPS)
def test_instance_page_draws_the_diagram_without_warnings(
    process_id: str, page: Page, live_server: LiveServer, auth: BrowserAuth,
) -> None:
    instance_id, starter, first_step = _start_anywhere(live_server, process_id)
    auth.login(starter)
    page.goto(f"{live_server.url}/proses/{instance_id}")
    page.wait_for_selector("#diagram:not([data-state=loading])")

    diagram = page.locator("#diagram")
    assert diagram.get_attribute("data-state") == "ready", page.locator("#diagram-status").inner_text()
    assert diagram.get_attribute("data-process-id") == process_id
    assert diagram.get_attribute("data-import-warnings") == "0", page.evaluate("window.alurDiagram.warnings")
    shapes = page.locator("#diagram-canvas .djs-element.djs-shape")
    assert shapes.count() > 5
    step = page.locator(f'#diagram-canvas .djs-element[data-element-id="{first_step}"]')
    assert "alur-current" in (step.get_attribute("class") or "").split()


def test_without_bpmn_js_the_page_says_so_and_keeps_its_tables(
    page: Page, live_server: LiveServer, auth: BrowserAuth,
) -> None:
    instance_id, starter, _ = _start_anywhere(live_server, "sop_pelaporan_kinerja_kecamatan")
    page.route("**/static/vendor/bpmn-js/*.js", lambda route: route.abort())
    auth.login(starter)
    page.goto(f"{live_server.url}/proses/{instance_id}")
    page.wait_for_selector("#diagram[data-state=error]")
    assert "bpmn-js" in page.locator("#diagram-status").inner_text()
    assert page.locator("#diagram-canvas").is_hidden()
    assert page.locator("#history tbody tr").count() > 0
    assert page.locator("#ready-tasks tbody tr").count() == 1


def test_without_javascript_the_page_works_but_for_the_diagram(
    browser: Browser, live_server: LiveServer,
) -> None:
    instance_id, starter, _ = _start_anywhere(live_server, "sop_pelaporan_kinerja_kecamatan")
    context = browser.new_context(java_script_enabled=False, locale="id-ID")
    try:
        no_js = context.new_page()
        BrowserAuth(no_js, live_server).login(starter)
        no_js.goto(f"{live_server.url}/proses/{instance_id}")
        assert "memerlukan JavaScript" in no_js.locator("#diagram-section").inner_text()
        assert no_js.locator("#history tbody tr").count() > 0
        no_js.locator("#ready-tasks a").click()  # the task page and its form work without scripts
        no_js.fill("#di_luar", "Diserahkan langsung")  # its Output names a document (issue 11)
        no_js.click("#task-form [name=selesai]")
        assert no_js.locator(".alert-success").count() == 1
    finally:
        context.close()
