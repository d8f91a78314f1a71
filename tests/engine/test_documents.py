"""Output documents (engine.documents): type sniffing, size limit, attach with the completion, versions.

SOP Pelaporan Kinerja (Kecamatan): Step_01 Tim, Step_02 Kasubag Evapor, Step_03 Staf
(Output "Laporan kinerja yang telah diketik"), Step_04 Kasubag Evapor review ("Tidak" -> Step_03).
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from engine import documents, instances
from engine.database import Database
from engine.sop import StepMeta
from engine.views import TaskView
from storage.errors import ConflictError, InvalidFieldError, InvalidTaskDataError, PermissionDeniedError
from tests.support import advance_until as _advance
from tests.support import ready_task as _ready

PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
KECAMATAN = "kecamatan-contoh"
KASUBAG = "kasubag.evapor.kecamatan"

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)  # a Windows program
_MAIN = "application/vnd.openxmlformats-officedocument.{}.main+xml"


def _zip(entries: dict[str, bytes], stored_first: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (name, data) in enumerate(entries.items()):
            method = zipfile.ZIP_STORED if (i == 0 and stored_first) else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def _ooxml(main_type: str, part: str) -> bytes:
    types = (f'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             f'<Override PartName="/{part}" ContentType="{main_type}"/></Types>').encode()
    return _zip({"[Content_Types].xml": types, "_rels/.rels": b"<Relationships/>", part: b"<x/>"})


def _odf(mimetype: bytes, compressed: bool = False) -> bytes:
    return _zip({"mimetype": mimetype, "content.xml": b"<office:document-content/>"}, stored_first=not compressed)


DOCX = _ooxml(_MAIN.format("wordprocessingml.document"), "word/document.xml")
XLSX = _ooxml(_MAIN.format("spreadsheetml.sheet"), "xl/workbook.xml")
DOCM = _ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml")
ODT = _odf(b"application/vnd.oasis.opendocument.text")
ODS = _odf(b"application/vnd.oasis.opendocument.spreadsheet")


# --- check: size, extension, content ------------------------------------------------


@pytest.mark.parametrize(("filename", "data", "content_type"), [
    ("Laporan Kinerja.pdf", PDF, "application/pdf"),
    ("laporan.DOCX", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("capaian.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("laporan.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ("capaian.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
    ("foto.png", PNG, "image/png"),
    ("foto.jpg", JPEG, "image/jpeg"),
    ("foto.jpeg", JPEG, "image/jpeg"),
])
def test_allowed_types_are_accepted_by_extension_and_content(filename: str, data: bytes, content_type: str) -> None:
    checked = documents.check(filename, data)
    assert checked.content_type == content_type
    assert checked.filename == filename.rsplit(".", 1)[0] + "." + filename.rsplit(".", 1)[1].lower()


def test_a_program_renamed_pdf_is_refused() -> None:
    with pytest.raises(InvalidTaskDataError) as refused:
        documents.check("laporan.pdf", EXE)
    assert str(refused.value).startswith(
        "Isi berkas \u201claporan.pdf\u201d tidak dikenali, bukan PDF sesuai namanya; "
        "berkas yang diganti ekstensinya ditolak.")


@pytest.mark.parametrize(("filename", "data", "says"), [
    ("laporan.pdf", PNG, "berisi PNG, bukan PDF"),
    ("laporan.docx", XLSX, "berisi XLSX, bukan DOCX"),
    ("laporan.docx", DOCM, "tidak dikenali, bukan DOCX"),            # macros: not a plain DOCX
    ("laporan.docx", _zip({"a.txt": b"x"}), "tidak dikenali, bukan DOCX"),
    ("laporan.odt", _odf(b"application/vnd.oasis.opendocument.text", compressed=True), "bukan ODT"),
    ("laporan.odt", ODS, "berisi ODS, bukan ODT"),
    ("laporan.xlsx", b"PK\x03\x04 terpotong", "tidak dikenali, bukan XLSX"),
    ("foto.jpg", b"<html><script>alert(1)</script>", "tidak dikenali, bukan JPEG"),
])
def test_content_must_match_the_extension(filename: str, data: bytes, says: str) -> None:
    with pytest.raises(InvalidTaskDataError, match=says):
        documents.check(filename, data)


@pytest.mark.parametrize("filename", ["setup.exe", "laporan.pdf.exe", "laporan", "catatan.txt", "laporan.html"])
def test_other_extensions_are_refused_whatever_the_content(filename: str) -> None:
    with pytest.raises(InvalidTaskDataError, match="tidak diizinkan. Unggah PDF, DOCX, XLSX, ODT, ODS, PNG atau JPEG"):
        documents.check(filename, PDF)


def test_oversize_is_refused_with_a_clear_message() -> None:
    limit = 20 * 1024 * 1024
    documents.check("scan.pdf", PDF + bytes(limit - len(PDF)), max_bytes=limit)  # exactly the limit
    with pytest.raises(InvalidTaskDataError) as refused:
        documents.check("scan.pdf", PDF + bytes(limit + 1024 * 1024 // 2), max_bytes=limit)
    assert str(refused.value).startswith(
        "Berkas \u201cscan.pdf\u201d terlalu besar: 20,5 MiB, melebihi batas 20 MiB. "
        "Perkecil berkasnya lalu unggah lagi.")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidTaskDataError, match="kosong"):
        documents.check("laporan.pdf", b"")


@pytest.mark.parametrize(("given", "stored"), [
    ("C:\\Users\\staf\\Laporan Triwulan III.pdf", "Laporan Triwulan III.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("laporan\u202efdp.exe", "laporanfdp.exe"),  # a right-to-left override hid ".exe"
    ("Capaian IKU <2026>; \"final\".XLSX", "Capaian IKU _2026_ _final_.xlsx"),
    ("...pdf", "dokumen.pdf"),
    ("Laporan Kinerja Kecamatan.pdf", "Laporan Kinerja Kecamatan.pdf"),
    ("laporan\x00.pdf", "laporan.pdf"),
])
def test_file_names_are_sanitised(given: str, stored: str) -> None:
    assert documents.sanitize_filename(given) == stored


def test_a_renamed_program_stays_refused_after_sanitising() -> None:
    with pytest.raises(InvalidTaskDataError, match="tidak diizinkan"):
        documents.check("laporan\u202efdp.exe", PDF)


# --- attach: with the completion, versions after "tidak", audit ---------------------


def _start(database: Database) -> int:
    with database.transaction() as session:
        return instances.start_instance(session, process_id=PELAPORAN, unit_code=KECAMATAN,
                                        title="Laporan Kinerja Triwulan III 2026",
                                        username="tim1.kecamatan").id


def _complete_with(database: Database, task: TaskView, username: str, filename: str, data: bytes,
                   **decision: str) -> documents.DocumentView:
    with database.transaction() as session:
        instances.complete_task(session, task.id, username=username, **decision)
        return documents.attach(session, task.id, username=username, filename=filename, data=data)


def test_attach_with_the_completion_and_record_it_in_the_history(alur_db: Database) -> None:
    instance_id = _start(alur_db)
    step_03 = _advance(alur_db, instance_id, "Step_03")
    view = _complete_with(alur_db, step_03, "staf1.kecamatan", "Laporan Kinerja.pdf", PDF)
    assert (view.step_id, view.version, view.iteration, view.filename) == ("Step_03", 1, 1, "Laporan Kinerja.pdf")
    assert (view.sha256, view.size_bytes, view.type_name) == (hashlib.sha256(PDF).hexdigest(), len(PDF), "PDF")
    assert view.uploaded_by == "staf1.kecamatan" and view.task_id == step_03.id
    with alur_db.transaction() as session:
        history = instances.history_of(session, instance_id)
        stored, content = documents.read_document(session, view.id)
    completed = next(i for i, e in enumerate(history) if e.kind == "task_completed" and e.step_id == "Step_03")
    assert [e.kind for e in history[completed:]] == ["task_completed", "task_ready", "document_attached"]
    (event,) = [e for e in history if e.kind == "document_attached"]
    assert (event.actor, event.step_id) == ("staf1.kecamatan", "Step_03")
    assert event.data == {"document_id": view.id, "filename": "Laporan Kinerja.pdf", "sha256": view.sha256,
                          "size_bytes": len(PDF), "content_type": "application/pdf", "version": 1, "iteration": 1}
    assert (stored, content) == (view, PDF)


def test_versions_after_tidak_keep_every_document(alur_db: Database) -> None:
    instance_id = _start(alur_db)
    first = _complete_with(alur_db, _advance(alur_db, instance_id, "Step_03"), "staf1.kecamatan",
                           "laporan.docx", DOCX)
    review = _ready(alur_db, instance_id)
    with alur_db.transaction() as session:
        instances.complete_task(session, review.id, username=KASUBAG, keputusan="tidak",
                                catatan="Tabel capaian IKU belum lengkap")
    again = _ready(alur_db, instance_id)
    assert (again.step_id, again.iteration) == ("Step_03", 2)
    second = _complete_with(alur_db, again, "staf2.kecamatan", "laporan.docx", DOCX + b"perbaikan")
    assert (first.version, first.iteration, second.version, second.iteration) == (1, 1, 2, 2)
    with alur_db.transaction() as session:
        listed = documents.documents_of(session, instance_id)
        assert [documents.read_document(session, d.id)[1] for d in listed] == [DOCX, DOCX + b"perbaikan"]
    assert listed == [first, second]
    assert first.sha256 != second.sha256 and first.filename == second.filename


def test_a_refused_document_undoes_the_completion(alur_db: Database) -> None:
    instance_id = _start(alur_db)
    task = _ready(alur_db, instance_id)
    with alur_db.transaction() as session:
        before = len(instances.history_of(session, instance_id))
    with pytest.raises(InvalidTaskDataError, match="bukan PDF"):
        _complete_with(alur_db, task, "tim1.kecamatan", "laporan.pdf", EXE)
    assert _ready(alur_db, instance_id).id == task.id
    with alur_db.transaction() as session:
        assert len(instances.history_of(session, instance_id)) == before
        assert documents.documents_of(session, instance_id) == []


def test_attach_only_to_ones_own_latest_completion(alur_db: Database) -> None:
    instance_id = _start(alur_db)
    step_01 = _ready(alur_db, instance_id)
    with alur_db.transaction() as session:
        with pytest.raises(InvalidTaskDataError, match="belum/tidak diselesaikan"):
            documents.attach(session, step_01.id, username="tim1.kecamatan", filename="a.pdf", data=PDF)
        instances.complete_task(session, step_01.id, username="tim1.kecamatan")
        with pytest.raises(PermissionDeniedError):
            documents.attach(session, step_01.id, username="tim2.kecamatan", filename="a.pdf", data=PDF)
        documents.attach(session, step_01.id, username="tim1.kecamatan", filename="a.pdf", data=PDF)
        with pytest.raises(ConflictError, match="sudah tersimpan"):
            documents.attach(session, step_01.id, username="tim1.kecamatan", filename="b.pdf", data=PDF)
    step_02 = _ready(alur_db, instance_id)
    with alur_db.transaction() as session:
        instances.complete_task(session, step_02.id, username=KASUBAG)
    _complete_with(alur_db, _ready(alur_db, instance_id), "staf1.kecamatan", "c.pdf", PDF)
    with alur_db.transaction() as session:  # the flow moved on: no document for an earlier step
        with pytest.raises(InvalidTaskDataError, match="saat langkahnya diselesaikan"):
            documents.attach(session, step_02.id, username=KASUBAG, filename="b.pdf", data=PDF)
        assert [d.filename for d in documents.documents_of(session, instance_id)] == ["a.pdf", "c.pdf"]


def _step(output: str | None, review: bool = False) -> StepMeta:
    return StepMeta(id="Step_01", name="Langkah", kind="userTask", lane="Staf", output=output, review=review)


@pytest.mark.parametrize("output", ["Laporan kinerja yang telah diketik", "Surat/dokumen yang telah diagendakan",
                                    "Notulen rapat", "SK tim", "Draft Renja", "Bukti pengiriman"])
def test_an_output_naming_a_document_needs_it_or_a_reason(output: str) -> None:
    step = _step(output)
    assert documents.output_document(step) == output
    with pytest.raises(InvalidFieldError) as refused:
        documents.check_output(step, has_document=False, reason="  ")
    assert refused.value.field == "dokumen" and output in refused.value.problem
    assert documents.check_output(step, has_document=True, reason=None) is None
    assert documents.check_output(step, has_document=False, reason=" Diserahkan dalam rapat ") == \
        "Diserahkan dalam rapat"
    with pytest.raises(InvalidFieldError) as bad:
        documents.check_output(step, has_document=False, reason="a\x00b")
    assert bad.value.field == documents.OUTSIDE_REASON_KEY
    with pytest.raises(InvalidFieldError):
        documents.check_output(step, has_document=False, reason="x" * (documents.OUTSIDE_REASON_MAX + 1))


@pytest.mark.parametrize("step", [_step("Tim perumus"), _step("data"), _step(None),
                                  _step("Laporan kinerja yang telah dikoreksi", review=True), None])
def test_other_steps_name_no_document(step: StepMeta | None) -> None:
    assert documents.output_document(step) is None
    assert documents.check_output(step, has_document=False, reason=None) is None


def test_file_errors_are_fully_indonesian() -> None:
    for name, data in (("setup.exe", b"MZ"), ("kosong.pdf", b""), ("laporan.pdf", b"MZ\x90\x00")):
        with pytest.raises(InvalidTaskDataError) as refused:
            documents.check(name, data)
        assert "/" not in str(refused.value).split("\u201d")[-1] and "not" not in str(refused.value), str(refused.value)
