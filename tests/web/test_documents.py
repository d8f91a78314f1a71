"""Output documents on the web: upload with the completion, listing, download and who may download.

SOP Pelaporan Kinerja (Kecamatan): Step_01 Tim, Step_02 Kasubag Evapor, Step_03 Staf,
Step_04 Kasubag Evapor review ("Tidak" -> Step_03).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import documents, instances
from engine.database import Database
from storage.demo import DEMO_PASSWORD, DEMO_UNITS
from tests.support import ready_task as _ready
from web import create_app

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
KASUBAG = "kasubag.evapor.kecamatan"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _documents(database: Database, instance_id: int) -> list[documents.DocumentView]:
    with database.transaction() as session:
        return documents.documents_of(session, instance_id)


def _file(data: bytes = PDF, name: str = "Laporan Kinerja.pdf", mimetype: str = "application/pdf"):
    return (io.BytesIO(data), name, mimetype)


def _token(client: FlaskClient, url: str) -> str:
    return _CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def _upload(client: FlaskClient, task_id: str, dokumen=None, **fields: str):
    url = f"/tugas/{task_id}"
    data = {"csrf_token": _token(client, url), "selesai": "Selesai", **fields}
    if dokumen is not None:
        data["dokumen"] = dokumen
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_task_form_takes_a_document(client: FlaskClient, auth, start) -> None:
    task = start(PELAPORAN, KECAMATAN).ready_tasks[0]
    auth.login("tim1.kecamatan")
    page = client.get(f"/tugas/{task.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page and 'name="dokumen"' in page
    assert 'accept=".pdf,.docx,.xlsx,.odt,.ods,.png,.jpg,.jpeg"' in page
    assert "paling besar 20 MiB" in page and "Belum ada dokumen." in page


def test_upload_with_the_completion_then_listed_and_downloaded(app: Flask, client: FlaskClient, auth, start,
                                                               database: Database) -> None:
    from datetime import UTC, datetime, timedelta

    view = start(PELAPORAN, KECAMATAN)
    clock = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    app.config["ALUR_CLOCK"] = lambda: clock  # the completion and its document are stamped by the app's clock
    auth.login("tim1.kecamatan")
    # The client's MIME type is not believed: the type served is the one sniffed.
    response = _upload(client, view.ready_tasks[0].id, _file(mimetype="text/html"), catatan="Bahan lengkap")
    assert response.status_code == 302
    (document,) = _documents(database, view.id)
    assert (document.filename, document.version, document.sha256) == (
        "Laporan Kinerja.pdf", 1, hashlib.sha256(PDF).hexdigest())
    assert document.uploaded_at == clock

    auth.logout()
    auth.login(KASUBAG)  # the next step's page lists the documents produced so far
    step_02 = _ready(database, view.id)
    page = client.get(f"/tugas/{step_02.id}").get_data(as_text=True)
    assert f'href="/dokumen/{document.id}"' in page and "Laporan Kinerja.pdf" in page
    assert "Daniel Mandowen" in page  # who uploaded it
    # grouped by step, the newest version marked, the PDF previewed inline (sandboxed by its response)
    group = page.split('class="mb-3 document-group" data-step="Step_01"')[1].split("</section>")[0]
    assert "terbaru" in group and f'<iframe class="document-preview border rounded" src="/dokumen/{document.id}/lihat"' in group

    preview = client.get(f"/dokumen/{document.id}/lihat")
    assert preview.status_code == 200 and preview.data == PDF
    assert preview.headers["Content-Disposition"] == "inline; filename=\"Laporan Kinerja.pdf\""
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"

    history = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "Dokumen dilampirkan" in history and document.sha256[:16] in history
    # its step's row in the grouped history, the documents by step, its completion and its own row in the log
    assert history.count(f'href="/dokumen/{document.id}"') == 4

    download = client.get(f"/dokumen/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == "attachment; filename=\"Laporan Kinerja.pdf\""
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "no-store" in download.headers["Cache-Control"]


def test_each_completion_shows_its_own_version(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    while (task := _ready(database, view.id)).step_id != "Step_03":
        with database.transaction() as session:
            instances.complete_task(session, task.id, username=instances.candidates(session, task.id)[0])
    auth.login("staf1.kecamatan")
    assert _upload(client, task.id, _file(name="laporan.pdf")).status_code == 302
    with database.transaction() as session:
        instances.complete_task(session, _ready(database, view.id).id, username=KASUBAG, keputusan="tidak",
                                catatan="Tabel capaian IKU belum lengkap")
    assert _upload(client, _ready(database, view.id).id, _file(PDF + b"%v2", "laporan.pdf")).status_code == 302
    first, second = _documents(database, view.id)
    assert (first.version, second.version) == (1, 2)

    page = client.get(f"/proses/{view.id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-kind="task_completed"[^>]*>(.*?)</tr>', page, re.S)
    step_03_rows = [r for r in rows if "/dokumen/" in r]
    assert len(step_03_rows) == 2
    assert f'/dokumen/{first.id}"' in step_03_rows[0] and "versi 1" in step_03_rows[0]
    assert f'/dokumen/{second.id}"' in step_03_rows[1] and "versi 2" in step_03_rows[1]
    assert client.get(f"/dokumen/{first.id}").data == PDF  # the first version is still there


def test_a_refused_file_completes_nothing(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    auth.login("tim1.kecamatan")
    response = _upload(client, task.id, _file(EXE, "laporan.pdf"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "bukan PDF sesuai namanya; berkas yang diganti ekstensinya ditolak." in page
    assert 'id="task-form"' in page
    response = _upload(client, task.id, _file(PDF, "setup.exe"))
    assert response.status_code == 422 and "tidak diizinkan" in response.get_data(as_text=True)
    assert _ready(database, view.id).id == task.id and _documents(database, view.id) == []


def test_oversize_is_refused_with_a_message_and_huge_requests_before_reading(db_path, start,
                                                                            database: Database) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "ALUR_DATABASE_URL": f"sqlite:///{db_path}",
                      "ALUR_UPLOAD_MAX_BYTES": 1024})
    client = app.test_client()
    client.post("/masuk", data={"username": "tim1.kecamatan", "password": DEMO_PASSWORD,
                                "csrf_token": _token(client, "/masuk")})
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    page = client.get(f"/tugas/{task.id}").get_data(as_text=True)
    assert "paling besar 1 KiB" in page

    response = _upload(client, task.id, _file(PDF + bytes(2048)))
    assert response.status_code == 422
    assert "terlalu besar: 2 KiB, melebihi batas 1 KiB" in response.get_data(as_text=True)
    huge = _upload(client, task.id, _file(PDF + bytes(2 * 1024 * 1024)))
    assert huge.status_code == 413 and "Berkas terlalu besar" in huge.get_data(as_text=True)
    assert _ready(database, view.id).id == task.id and _documents(database, view.id) == []
    app.extensions["alur.database"].dispose()


def test_a_forged_upload_without_csrf_is_refused(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    auth.login("tim1.kecamatan")
    response = client.post(f"/tugas/{task.id}", data={"selesai": "Selesai", "dokumen": _file()},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert _ready(database, view.id).id == task.id and _documents(database, view.id) == []


def test_double_submit_uploads_nothing_twice(client: FlaskClient, auth, csrf, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    auth.login("tim1.kecamatan")
    token = csrf(client, f"/tugas/{task.id}")

    def submit():
        return client.post(f"/tugas/{task.id}", content_type="multipart/form-data",
                           data={"csrf_token": token, "selesai": "Selesai", "dokumen": _file()})

    assert submit().status_code == 302
    second = submit()
    assert second.status_code == 409 and "Kiriman Anda tidak mengubah apa pun." in second.get_data(as_text=True)
    assert len(_documents(database, view.id)) == 1
    with database.transaction() as session:
        kinds = [e.kind for e in instances.history_of(session, view.id)]
    assert kinds.count("document_attached") == 1 and kinds.count("task_completed") == 1


def test_downloads_follow_the_instance_pages_rule(app: Flask, client: FlaskClient, auth, start,
                                                  database: Database, caplog: pytest.LogCaptureFixture) -> None:
    view = start(PELAPORAN, KECAMATAN, title="Rahasia kecamatan")
    auth.login("tim1.kecamatan")
    assert _upload(client, view.ready_tasks[0].id, _file()).status_code == 302
    (document,) = _documents(database, view.id)
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    outcomes: dict[str, tuple[int, int]] = {}
    for unit in DEMO_UNITS:
        for role in unit.roles:
            username = role.users[0].username
            other = app.test_client()
            other.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": _token(other, "/masuk")})
            caplog.clear()
            got = other.get(f"/dokumen/{document.id}")
            assert other.get(f"/dokumen/{document.id}/lihat").status_code == got.status_code  # same rule
            outcomes[username] = (got.status_code, other.get(f"/proses/{view.id}").status_code)
            if got.status_code == 404:
                assert PDF not in got.data and "Rahasia" not in got.get_data(as_text=True)
                assert any(f"user={username} " in r.getMessage() and f"/dokumen/{document.id}" in r.getMessage()
                           for r in caplog.records), username
    assert {u: d for u, (d, page) in outcomes.items() if d != page} == {}
    assert outcomes["tim1.kecamatan"] == (200, 200) and outcomes["staf1.kominfo"] == (404, 404)
    assert outcomes["kabag.organisasi"] == (404, 404) and outcomes["kasubag.umum.kecamatan"][0] == 404

    caplog.clear()
    assert client.get("/dokumen/999999").status_code == 404
    assert any("document=999999" in r.getMessage() for r in caplog.records)


def test_download_needs_a_login(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    auth.login("tim1.kecamatan")
    _upload(client, view.ready_tasks[0].id, _file())
    (document,) = _documents(database, view.id)
    auth.logout()
    response = client.get(f"/dokumen/{document.id}")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_only_pdf_and_images_are_shown_inline(client: FlaskClient, auth, start, database: Database) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<Types><Override ContentType="application/'
                         'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("word/document.xml", "<w:document/>")
    view = start(PELAPORAN, KECAMATAN)
    auth.login("tim1.kecamatan")
    assert _upload(client, view.ready_tasks[0].id, _file(buffer.getvalue(), "bahan.docx")).status_code == 302
    (document,) = _documents(database, view.id)
    assert document.type_name == "DOCX"
    assert client.get(f"/dokumen/{document.id}/lihat").status_code == 404  # never inline
    assert client.get(f"/dokumen/{document.id}").headers["Content-Disposition"].startswith("attachment")
    page = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "/lihat" not in page and "terbaru" in page


def test_a_plh_output_says_plh_before_the_jabatan(app: Flask) -> None:
    """An Output given by a Plh reads "Plh. Camat <nama>" (SE Kepala BKN 1/SE/I/2021); the official's, his name."""
    from datetime import UTC, datetime

    view = documents.DocumentView(
        id=7, instance_id=1, task_id="t", process_id=PELAPORAN, step_id="Step_05", step_name="Menandatangani laporan",
        iteration=1, version=1, filename="laporan.pdf", type_name="PDF", content_type="application/pdf",
        size_bytes=10, sha256="0" * 64, uploaded_by="sekretaris.kecamatan",
        uploaded_at=datetime(2026, 11, 3, 1, 0, tzinfo=UTC), signed_as="Plh. Camat")
    official = documents.DocumentView(**{**view.__dict__, "id": 8, "uploaded_by": "camat.contoh", "signed_as": None})
    names = {"sekretaris.kecamatan": "Maria Magdalena, S.Sos", "camat.contoh": "Drs. Camat Contoh"}
    template = app.jinja_env.from_string(
        "{% from 'documents/_macros.html' import document_groups, document_list %}"
        "{{ document_groups(docs, names, 'kecamatan-contoh') }}|{{ document_list(docs, names, 'kecamatan-contoh') }}")
    with app.test_request_context("/"):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", template.render(docs=[view, official], names=names)))
    groups, listed = text.split("|")
    for part in (groups, listed):
        assert "Plh. Camat Maria Magdalena, S.Sos" in part
        assert "Plh. Camat Drs. Camat Contoh" not in part and "Drs. Camat Contoh" in part
