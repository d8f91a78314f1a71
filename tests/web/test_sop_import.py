"""The upload page: an SOP document in, draft diagrams and their import report out; nothing stored."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from engine.database import Database
from storage.models import ProcessDefinition
from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram, to_xlsx
from tests.web.conftest import AuthActions, csrf_token

SEEDS = Path(__file__).resolve().parents[1] / "sop_import" / "data" / "seeds"


def _post(client: FlaskClient, name: str, data: bytes) -> TestResponse:
    token = csrf_token(client.get("/impor").get_data(as_text=True))
    return client.post("/impor", data={"csrf_token": token, "dokumen": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _definitions(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0)


def test_login_required(client: FlaskClient) -> None:
    response = client.get("/impor")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_xlsx_upload_shows_report_and_offers_the_draft(client: FlaskClient, auth: AuthActions,
                                                         database: Database) -> None:
    auth.login("staf1.kecamatan")
    page = client.get("/impor").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "Impor SOP" in page and "paling besar 20 MiB" in page
    before = _definitions(database)
    diagram = read_diagram(BPMN_DIR / "sop_penyusunan_lakip_dinas.bpmn")
    response = _post(client, "lakip.xlsx", to_xlsx(diagram, deployed_names()))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hasil impor: lakip.xlsx" in html and "Kepala Sub Bagian Perencanaan" in html
    assert "perlu dikonfirmasi" in html and "sop_pengadministrasian_umum" in html
    assert _definitions(database) == before, "an import stores nothing"
    token = csrf_token(html)
    process_id = re.search(r'name="process_id"[^>]*value="([^"]+)"', html)
    bpmn = re.search(r'name="bpmn"[^>]*value="([^"]+)"', html)
    assert process_id and bpmn
    download = client.post("/impor/unduh", data={"csrf_token": token, "process_id": process_id.group(1),
                                                 "bpmn": bpmn.group(1)})
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="{process_id.group(1)}.bpmn"'
    assert download.data == base64.b64decode(bpmn.group(1))
    assert b"<bpmn:laneSet" in download.data


def test_text_with_several_sops_gives_several_drafts(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("staf1.kecamatan")
    response = _post(client, "004.txt", (SEEDS / "004_c33272c829c45490.txt").read_bytes())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Unduh draf .bpmn") == 6


def test_bad_documents_get_the_message_in_indonesian(client: FlaskClient, auth: AuthActions,
                                                      database: Database) -> None:
    auth.login("staf1.kecamatan")
    before = _definitions(database)
    for name, data, message in [
        ("rusak.pdf", b"%PDF-1.4\nbukan pdf", "PDF rusak"),
        ("scan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "tidak didukung"),
        ("kosong.txt", b"tidak ada tabel di sini", "Tidak ditemukan tabel SOP"),
    ]:
        response = _post(client, name, data)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    assert _definitions(database) == before


def test_upload_without_csrf_token_is_refused(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("staf1.kecamatan")
    response = client.post("/impor", data={"dokumen": (io.BytesIO(b"x"), "x.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 400


def test_download_refuses_what_is_not_bpmn(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("staf1.kecamatan")
    token = csrf_token(client.get("/impor").get_data(as_text=True))
    for process_id, payload in [("sop_x", base64.b64encode(b"<html>hai</html").decode()),
                                ("sop_x", "bukan-base64!"), ("../etc/passwd", base64.b64encode(b"<a/>").decode())]:
        response = client.post("/impor/unduh", data={"csrf_token": token, "process_id": process_id,
                                                     "bpmn": payload})
        assert response.status_code == 400
