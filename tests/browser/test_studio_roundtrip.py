"""Round trips through the studio's modeler (bpmn-js with the alur descriptor), in Chromium.

- Every file in ``bpmn/`` imported and saved without an edit is the same diagram:
  every element with its attributes (namespaces resolved, so a changed prefix
  would not count), texts, Alur's extension elements, ids and DI bounds and
  waypoints — compared as a multiset of (owner id, path, attributes, text).
- A file made in Camunda Modeler (``camunda:`` and ``zeebe:`` extensions Alur does
  not know) opens without an error, keeps those extensions on save, and gets lint
  warnings ("disimpan, tetapi tidak dijalankan Alur") instead of a crash.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from tests.browser.conftest import BrowserAuth

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import LiveServer

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SOP = "sop_perencanaan_kinerja_kecamatan"
ROUND_TRIP = """async (xml) => {
  const m = window.alurModeler;
  const { warnings } = await m.importXML(xml);
  const saved = (await m.saveXML({ format: true })).xml;
  return { warnings: warnings.map(w => w.message), xml: saved };
}"""
CAMUNDA = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_camunda" name="Dari Camunda" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1" name="Mulai"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_1" name="Isi formulir" camunda:assignee="demo">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="prioritas" value="tinggi"/></camunda:properties>
        <zeebe:taskDefinition type="isi-formulir"/>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="Task_2" name="Kirim email"><bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="Task_2"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_2" targetRef="EndEvent_1"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_camunda">
    <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="152" y="102" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Task_1_di" bpmnElement="Task_1"><dc:Bounds x="240" y="80" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Task_2_di" bpmnElement="Task_2"><dc:Bounds x="400" y="80" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1"><dc:Bounds x="562" y="102" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="188" y="120"/><di:waypoint x="240" y="120"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="340" y="120"/><di:waypoint x="400" y="120"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="500" y="120"/><di:waypoint x="562" y="120"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _facts(xml: str) -> Counter[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """Every element as (nearest id, path from it, attributes, text): the diagram, not its formatting."""
    root = etree.fromstring(xml.encode("utf-8"))
    facts: Counter[tuple[str, str, tuple[tuple[str, str], ...], str]] = Counter()
    for element in root.iter(etree.Element):
        owner, path, node = "", [], element
        while node is not None and not owner:
            if node is not element and node.get("id"):
                owner = node.get("id")
            else:
                path.append(etree.QName(node).localname + "@" + etree.QName(node).namespace)
                node = node.getparent()
        attributes = tuple(sorted((k, v) for k, v in element.attrib.items()))
        facts[(owner, "/".join(reversed(path)), attributes, (element.text or "").strip())] += 1
    return facts


@pytest.fixture
def modeler_page(page: Page, live_server: LiveServer, auth: BrowserAuth) -> Page:
    auth.login("analis.organisasi")
    page.goto(f"{live_server.url}/studio/{SOP}/ubah")
    page.wait_for_selector("#studio-modeler[data-state=ready]")
    return page


def test_every_bpmn_file_survives_open_and_save_unchanged(modeler_page: Page) -> None:
    differences = {}
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        source = path.read_text(encoding="utf-8")
        result = modeler_page.evaluate(ROUND_TRIP, source)
        assert result["warnings"] == [], path.name
        before, after = _facts(source), _facts(result["xml"])
        if before != after:
            differences[path.name] = (sorted(before - after)[:3], sorted(after - before)[:3])
    assert differences == {}
    assert modeler_page.locator("#studio-modeler").get_attribute("data-save-state") == "clean"  # no autosave


def test_a_camunda_file_opens_keeps_its_extensions_and_gets_lint_warnings(modeler_page: Page) -> None:
    result = modeler_page.evaluate(ROUND_TRIP, CAMUNDA)
    saved = etree.fromstring(result["xml"].encode("utf-8"))
    ns = {"camunda": "http://camunda.org/schema/1.0/bpmn", "zeebe": "http://camunda.org/schema/zeebe/1.0"}
    assert saved.xpath("//camunda:property[@name='prioritas']/@value", namespaces=ns) == ["tinggi"]
    assert saved.xpath("//zeebe:taskDefinition/@type", namespaces=ns) == ["isi-formulir"]
    assert saved.xpath("//@camunda:assignee", namespaces=ns) == ["demo"]
    modeler_page.wait_for_selector("#lint-problems [data-element-id=Task_1][data-rule='alur/foreign-extensions']")
    modeler_page.wait_for_selector("#lint-problems [data-element-id=Task_2][data-rule='alur/engine-support']")
    assert modeler_page.locator("#studio-modeler").get_attribute("data-state") == "ready"
