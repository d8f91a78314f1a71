"""The instance page's diagram routes: BPMN XML, step states, the moddle descriptor.

The XML and the step states answer exactly like the instance page: every role of
every demo unit that may not see the instance gets 404, logged. The page itself
carries the diagram as files only (the Content-Security-Policy allows no inline
script).
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import instances
from engine.database import Database
from storage.demo import DEMO_PASSWORD, DEMO_UNITS
from tests.support import OVERSEERS
from web.diagram import MODDLE_DESCRIPTOR

SOP = "sop_pelaporan_kinerja_kecamatan"
CALLED = "sop_pengiriman_surat_dokumen"
ROLE_HOLDERS = [(unit.code, role.name, role.users[0].username) for unit in DEMO_UNITS for role in unit.roles]


def test_steps_json_describes_each_diagram(client: FlaskClient, auth, start) -> None:
    view = start(SOP, "kecamatan-contoh")
    auth.login("tim1.kecamatan")
    response = client.get(f"/proses/{view.id}/langkah.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    found = response.get_json()
    assert found["instance_id"] == view.id and found["status"] == "running"
    root, called = found["diagrams"]
    assert root == {"process_id": SOP, "name": "SOP Pelaporan Kinerja", "version": 1, "root": True,
                    "completed": {}, "current": ["Step_01"],
                    "xml_url": f"/proses/{view.id}/diagram/{SOP}.bpmn"}
    assert called["process_id"] == CALLED and called["root"] is False
    assert called["xml_url"] == f"/proses/{view.id}/diagram/{CALLED}.bpmn"


def test_xml_of_the_root_and_called_processes(client: FlaskClient, auth, start) -> None:
    view = start(SOP, "kecamatan-contoh")
    auth.login("tim1.kecamatan")
    for process_id in (SOP, CALLED):
        response = client.get(f"/proses/{view.id}/diagram/{process_id}.bpmn")
        assert response.status_code == 200 and response.mimetype == "application/xml"
        assert f'<bpmn:process id="{process_id}"' in response.get_data(as_text=True)
    assert client.get(f"/proses/{view.id}/diagram/sop_fgd.bpmn").status_code == 404
    assert client.get(f"/proses/{view.id + 1000}/diagram/{SOP}.bpmn").status_code == 404
    assert client.get(f"/proses/{view.id + 1000}/langkah.json").status_code == 404


def test_moddle_descriptor(client: FlaskClient, auth) -> None:
    auth.login("tim1.kecamatan")
    response = client.get("/diagram/alur-moddle.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(MODDLE_DESCRIPTOR.read_text(encoding="utf-8"))


def test_routes_need_a_login(client: FlaskClient, start) -> None:
    view = start(SOP, "kecamatan-contoh")
    for url in (f"/proses/{view.id}/langkah.json", f"/proses/{view.id}/diagram/{SOP}.bpmn",
                "/diagram/alur-moddle.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/masuk" in response.headers["Location"], url


def test_every_role_against_the_diagram_of_an_instance(app: Flask, database: Database, start,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    view = start(SOP, "kecamatan-contoh", title="Rahasia kecamatan")
    with database.transaction() as session:
        holders = set(instances.candidates(session, view.ready_tasks[0].id))
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    wrong = []
    for unit_code, role, username in ROLE_HOLDERS:
        client = app.test_client()
        page = client.get("/masuk").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
        overseer = unit_code == "kecamatan-contoh" and role in OVERSEERS[unit_code]  # head, secretary read
        expected = 200 if username in holders or overseer else 404
        for url in (f"/proses/{view.id}/langkah.json", f"/proses/{view.id}/diagram/{SOP}.bpmn",
                    f"/proses/{view.id}/diagram/{CALLED}.bpmn"):
            response = client.get(url)
            if response.status_code != expected:
                wrong.append(f"{unit_code}/{role} ({username}) {url}: {response.status_code}, expected {expected}")
            if expected == 404 and "Rahasia" in response.get_data(as_text=True):
                wrong.append(f"{username} {url}: the 404 shows the instance")
        refusals = sum(f"user={username} " in r.getMessage() for r in caplog.records)
        if refusals != (3 if expected == 404 else 0):
            wrong.append(f"{username}: {refusals} refusals logged")
        caplog.clear()
    assert wrong == []
    assert len(holders) < len(ROLE_HOLDERS)  # some were refused


def test_instance_page_loads_the_diagram_from_files_only(client: FlaskClient, auth, start) -> None:
    view = start(SOP, "kecamatan-contoh")
    auth.login("tim1.kecamatan")
    response = client.get(f"/proses/{view.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-steps-url="/proses/{view.id}/langkah.json"' in html
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts), scripts
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in html
    assert "/static/js/diagram.js" in html
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "id=\"history\"" in html  # the history stays server-rendered
