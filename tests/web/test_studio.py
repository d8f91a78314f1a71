"""Studio SOP over HTTP: catalogue and versions for everyone, edits for process analysts only.

The rights matrix: every demo user against the studio of a Kecamatan SOP, a Dinas
SOP and a shared (``any``) SOP. Viewing pages answer 200 to everyone logged in;
the modeler and every change answer 200/201 only to an ``analis_proses`` grant
that covers the SOP's kind (``engine.studio.may_edit``), 403 to anyone else, and
a refused change stores nothing.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from engine.database import Database
from storage import definitions
from storage.demo import DEMO_ACCESS, DEMO_PASSWORD

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
KECAMATAN_SOP = "sop_perencanaan_kinerja_kecamatan"
DINAS_SOP = "sop_penyusunan_lakip_dinas"
SHARED_SOP = "sop_pengiriman_surat_dokumen"
ANALYSTS = {a.user.username for a in DEMO_ACCESS if any(kind == "analis_proses" for kind, _unit in a.grants)}
EDITORS = {
    KECAMATAN_SOP: {"analis.organisasi", "analis.kecamatan"},
    DINAS_SOP: {"analis.organisasi", "analis.kominfo"},
    SHARED_SOP: {"analis.organisasi"},
}


def _login(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    page = client.get("/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token}).status_code == 302
    studio_page = client.get(f"/studio/{KECAMATAN_SOP}").get_data(as_text=True)
    return client, _CSRF.search(studio_page).group(1)


def _xml(database: Database, process_id: str) -> str:
    with database.transaction() as session:
        return definitions.latest(session, process_id).bpmn_xml


def test_demo_data_has_the_analysts_the_matrix_expects() -> None:
    assert {"analis.organisasi", "analis.kecamatan", "analis.kominfo", "analis.bagian"} <= ANALYSTS


def test_catalogue_lists_every_sop_with_units_version_and_instances(app: Flask, start) -> None:
    start(KECAMATAN_SOP, "kecamatan-contoh", title="Berjalan")
    client, _token = _login(app, "camat.contoh")
    page = client.get("/studio/").get_data(as_text=True)
    assert page.count('data-process-id="sop_') == 18
    row = page[page.index(f'data-process-id="{KECAMATAN_SOP}"'):]
    row = row[:row.index("</tr>")]
    assert "Kecamatan" in row and "v1" in row and "1 berjalan" in row and "0 selesai" in row
    assert "/ubah" not in page  # not an analyst: view only


def test_catalogue_and_versions_link_the_sop_document(app: Flask) -> None:
    client, _token = _login(app, "analis.kecamatan")
    assert f"/sop/{KECAMATAN_SOP}/dokumen?versi=1" in client.get("/studio/").get_data(as_text=True)
    assert f"/sop/{KECAMATAN_SOP}/dokumen?versi=1" in client.get(f"/studio/{KECAMATAN_SOP}").get_data(as_text=True)


def test_a_change_without_csrf_token_or_login_is_refused(app: Flask, database: Database) -> None:
    client, _token = _login(app, "analis.kecamatan")
    answer = client.post(f"/api/studio/{KECAMATAN_SOP}/drafts", json={"xml": _xml(database, KECAMATAN_SOP)})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "csrf_failed"
    assert app.test_client().get(f"/api/studio/{KECAMATAN_SOP}/context").status_code == 401


def test_draft_save_conflict_and_deploy_over_http(app: Flask, database: Database, start) -> None:
    running = start(KECAMATAN_SOP, "kecamatan-contoh", title="Sebelum")
    mine, my_token = _login(app, "analis.kecamatan")
    theirs, their_token = _login(app, "analis.organisasi")
    xml = _xml(database, KECAMATAN_SOP)
    created = mine.post(f"/api/studio/{KECAMATAN_SOP}/drafts", json={"xml": xml, "base_version": 1},
                        headers={"X-CSRFToken": my_token}).get_json()["draft"]
    changed = xml.replace('waktu="PT15M" waktuText="15 menit"', 'waktu="PT45M" waktuText="45 menit"', 1)
    assert changed != xml
    ok = theirs.put(f"/api/studio/drafts/{created['id']}", json={"xml": changed, "revision": created["revision"]},
                    headers={"X-CSRFToken": their_token})
    assert ok.status_code == 200
    stale = mine.put(f"/api/studio/drafts/{created['id']}", json={"xml": xml, "revision": created["revision"]},
                     headers={"X-CSRFToken": my_token})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "stale_draft" and error["conflict"]["updated_by"] == "analis.organisasi"
    for body in ({"xml": xml}, {"xml": 5, "revision": 1}, {"xml": xml, "revision": "1"}):
        assert mine.put(f"/api/studio/drafts/{created['id']}", json=body,
                        headers={"X-CSRFToken": my_token}).status_code == 422
    assert mine.put(f"/api/studio/drafts/{created['id']}", data="x", content_type="application/json",
                    headers={"X-CSRFToken": my_token}).status_code == 400
    revision = ok.get_json()["draft"]["revision"]
    no_note = mine.post(f"/api/studio/drafts/{created['id']}/deploy", json={"revision": revision, "note": " "},
                        headers={"X-CSRFToken": my_token})
    assert no_note.status_code == 422
    deployed = mine.post(f"/api/studio/drafts/{created['id']}/deploy",
                         json={"revision": revision, "note": "Langkah 1: 45 menit"}, headers={"X-CSRFToken": my_token})
    assert deployed.status_code == 201, deployed.get_json()
    body = deployed.get_json()
    assert (body["version"], body["deployed_by"], body["running_on_older"]) == (2, "analis.kecamatan", 1)
    page = mine.get(f"/studio/{KECAMATAN_SOP}").get_data(as_text=True)
    assert "Langkah 1: 45 menit" in page and "draf disimpan" in page and "di-deploy" in page
    assert running.version == 1


def test_a_refused_deploy_names_the_element(app: Flask, database: Database) -> None:
    client, token = _login(app, "analis.kecamatan")
    bad = _xml(database, KECAMATAN_SOP).replace('keputusan == "tidak"', 'open("/etc/passwd")', 1)
    draft = client.post(f"/api/studio/{KECAMATAN_SOP}/drafts", json={"xml": bad, "base_version": 1},
                        headers={"X-CSRFToken": token}).get_json()["draft"]
    refused = client.post(f"/api/studio/drafts/{draft['id']}/deploy", json={"revision": 1, "note": "x"},
                          headers={"X-CSRFToken": token})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "deploy_refused" and error["element_id"].endswith("_Tidak")


def test_lanes_say_who_receives_each_lane(app: Flask) -> None:
    client, _token = _login(app, "analis.kecamatan")
    answer = client.get(f"/api/studio/{KECAMATAN_SOP}/lanes?lane=Camat&lane=Juru+Tulis&team=Tim").get_json()
    camat, unknown, team = answer["lanes"]
    assert camat["missing"] == [] and camat["units"][0]["users"]
    assert unknown["missing"] == ["kecamatan-contoh"] and team["team"] is True
