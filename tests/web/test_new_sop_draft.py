"""An imported SOP opened in the studio as a draft of a *new* SOP, edited and deployed as version 1.

"Buka di Studio" on the import result posts the draft back; the analyst picks a unit
kind their ``analis_proses`` grant covers. Refused, with the reason in Indonesian and
nothing stored: a process id that is already a deployed SOP (with the offer to open
the draft as a new version of it), a second draft of the same new SOP, a unit kind
without a grant, a forged request.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.database import Database
from storage import definitions
from storage.models import SopDraft
from tests.web.conftest import csrf_token
from tests.web.test_studio import _login

SEEDS = Path(__file__).resolve().parents[1] / "sop_import" / "data" / "seeds"
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def _import(client: FlaskClient, name: str, data: bytes) -> str:
    token = csrf_token(client.get("/impor").get_data(as_text=True))
    response = client.post("/impor", data={"csrf_token": token, "dokumen": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _studio_forms(html: str) -> list[dict[str, str]]:
    forms = re.findall(r'<form method="post" action="/impor/studio".*?</form>', html, re.S)
    return [dict(re.findall(r'name="(csrf_token|process_id|bpmn|sebagai_versi)"[^>]*value="([^"]*)"', f))
            for f in forms]


def _drafts(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(SopDraft)) or 0)


def test_import_open_in_studio_edit_and_deploy_as_version_1(app: Flask, database: Database) -> None:
    client, api_token = _login(app, "analis.kecamatan")
    html = _import(client, "004.txt", (SEEDS / "004_c33272c829c45490.txt").read_bytes())
    forms = _studio_forms(html)
    assert len(forms) == 6 and html.count("Buka di Studio") == 6
    assert '<option selected value="kecamatan">kecamatan</option>' in html, "the one kind the grant covers"
    form = forms[0]
    process_id = form["process_id"]
    response = client.post("/impor/studio", data={**form, "unit_kind": "kecamatan"})
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/studio/baru/{draft_id}"
    page = client.get(f"/studio/baru/{draft_id}").get_data(as_text=True)
    assert 'data-new-sop="1"' in page and "Draf baru" in page and "Deploy sebagai SOP baru" in page
    katalog = client.get("/studio/").get_data(as_text=True)
    assert f'data-draft-id="{draft_id}"' in katalog and "Draf baru" in katalog
    context = client.get(f"/api/studio/drafts/{draft_id}/context").get_json()
    assert (context["process_id"], context["current_version"], context["unit_kind"]) == (process_id, None,
                                                                                         "kecamatan")
    assert context["units"], "the Kecamatan units would run it"
    lanes = client.get(f"/api/studio/drafts/{draft_id}/lanes?lane=Camat").get_json()["lanes"]
    assert lanes[0]["units"][0]["role"]
    draft = client.get(f"/api/studio/drafts/{draft_id}").get_json()
    assert draft["draft"]["base_version"] is None and 'unitKind="kecamatan"' in draft["xml"]
    headers = {"X-CSRFToken": api_token}
    saved = client.put(f"/api/studio/drafts/{draft_id}", json={"xml": draft["xml"], "revision": 1},
                       headers=headers)
    assert saved.status_code == 200
    moved = client.put(f"/api/studio/drafts/{draft_id}", headers=headers, json={
        "xml": draft["xml"].replace('unitKind="kecamatan"', 'unitKind="dinas"'), "revision": 2})
    assert moved.status_code == 403, "a new SOP may not move to a unit kind without a grant"
    deployed = client.post(f"/api/studio/drafts/{draft_id}/deploy", json={"revision": 2, "note": "Impor 004"},
                           headers=headers)
    assert deployed.status_code == 201, deployed.get_json()
    assert deployed.get_json()["version"] == 1
    with database.transaction() as session:
        latest = definitions.latest(session, process_id)
        assert latest is not None and latest.version == 1 and latest.unit_kind == "kecamatan"
    katalog = client.get("/studio/").get_data(as_text=True)
    assert f'data-draft-id="{draft_id}"' not in katalog and f'data-process-id="{process_id}"' in katalog
    again = client.post("/impor/studio", data={**form, "unit_kind": "kecamatan"})
    assert again.status_code == 409 and "Buka sebagai versi baru SOP itu" in again.get_data(as_text=True)


def test_refusals_say_why_and_store_nothing(app: Flask, database: Database) -> None:
    client, _token = _login(app, "analis.kecamatan")
    html = _import(client, "004.txt", (SEEDS / "004_c33272c829c45490.txt").read_bytes())
    form = _studio_forms(html)[1]
    before = _drafts(database)
    refused = client.post("/impor/studio", data={**form, "unit_kind": "dinas"})
    assert refused.status_code == 403 and "tidak memiliki hak analis proses" in refused.get_data(as_text=True)
    assert client.post("/impor/studio", data={**form, "csrf_token": ""}).status_code == 400
    assert client.post("/impor/studio", data={**form, "bpmn": "bukan-base64!"}).status_code == 400
    assert client.post("/impor/studio", data={**form, "bpmn": base64.b64encode(b"<a/>").decode()}).status_code == 400
    assert _drafts(database) == before
    first = client.post("/impor/studio", data={**form, "unit_kind": "kecamatan"})
    assert first.status_code == 302
    double = client.post("/impor/studio", data={**form, "unit_kind": "kecamatan"})
    text = double.get_data(as_text=True)
    assert double.status_code == 409 and "Sudah ada draf baru" in text and first.headers["Location"] in text
    assert _drafts(database) == before + 1
    # The process id of a deployed SOP: refused, with the offer to open it as that SOP's new version.
    deployed_xml = (BPMN_DIR / "sop_perencanaan_kinerja_kecamatan.bpmn").read_bytes()
    clash = {**form, "process_id": "sop_perencanaan_kinerja_kecamatan",
             "bpmn": base64.b64encode(deployed_xml).decode("ascii"), "unit_kind": "kecamatan"}
    answer = client.post("/impor/studio", data=clash)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "sudah dipakai SOP yang di-deploy" in page
    assert _drafts(database) == before + 1
    (offer,) = _studio_forms(page)
    assert offer["sebagai_versi"] == "1"
    opened = client.post("/impor/studio", data=offer)
    assert opened.status_code == 302
    assert "/studio/sop_perencanaan_kinerja_kecamatan/ubah?draf=" in opened.headers["Location"]


def test_a_user_without_analyst_grant_gets_no_button_and_a_forged_post_is_refused(
        app: Flask, database: Database) -> None:
    client, _token = _login(app, "analis.kecamatan")
    form = _studio_forms(_import(client, "004.txt", (SEEDS / "004_c33272c829c45490.txt").read_bytes()))[2]
    staff, _ = _login(app, "staf1.kecamatan")
    html = _import(staff, "004.txt", (SEEDS / "004_c33272c829c45490.txt").read_bytes())
    assert "Buka di Studio" not in html and "memerlukan hak analis proses" in html
    token = csrf_token(staff.get("/impor").get_data(as_text=True))
    before = _drafts(database)
    for kind in ("kecamatan", ""):
        answer = staff.post("/impor/studio", data={**form, "csrf_token": token, "unit_kind": kind})
        assert answer.status_code == 403, kind
    assert _drafts(database) == before
    created = client.post("/impor/studio", data={**form, "unit_kind": "kecamatan"})
    draft_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert staff.get(f"/studio/baru/{draft_id}").status_code == 403
    assert staff.get(f"/api/studio/drafts/{draft_id}/context").status_code == 403
    assert f'data-draft-id="{draft_id}"' in staff.get("/studio/").get_data(as_text=True)
