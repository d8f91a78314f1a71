"""Documents: the Output of a step (Mutu Baku "Output"), uploaded with its completion.

A caller completes a task and attaches its document in ONE transaction::

    instances.complete_task(session, task_id, username=..., ...)
    documents.attach(session, task_id, username=..., filename=..., data=...)

so the completion and its document are stored together or not at all. A step
redone after "tidak" gets the next version; earlier versions stay (storage keeps
documents append-only). Every document is recorded in the audit history
(``document_attached``: file name, SHA-256, size, version).

What is accepted: at most ``max_bytes`` (setting ``ALUR_UPLOAD_MAX_BYTES``) and
one of PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG — the extension of the file name
AND the content must both say so (magic bytes; for the ZIP-based formats the
package's declared main content type). The client's MIME type is never
trusted: the type stored and served is the one read from the content. Sources:
PDF 1.7 (ISO 32000-1) §7.5.2 header ``%PDF-``; PNG (ISO/IEC 15948) signature;
JPEG (ISO/IEC 10918-1) SOI marker ``FF D8`` followed by a marker; OOXML (ECMA-376
Part 2, Open Packaging Conventions) ``[Content_Types].xml``; OpenDocument 1.2
Part 3 §3.3, the first, uncompressed ``mimetype`` entry.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from engine.designations import signature_label
from engine.settings import DEFAULT_UPLOAD_MAX_BYTES
from engine.sop import StepMeta
from engine.text import check_text
from engine.views import JsonView
from storage import documents, history, org, tasks
from storage import instances as instance_store
from storage.errors import AlurError, InvalidFieldError, InvalidTaskDataError, PermissionDeniedError
from storage.models import Document, HumanTask

__all__ = [
    "ACCEPT", "FILE_TYPES", "OUTSIDE_REASON_MAX", "OUTSIDE_REASON_KEY", "CheckedFile", "DocumentView", "FileType",
    "attach", "check", "check_output", "documents_of", "get_document", "output_document", "read_document",
    "sanitize_filename", "size_text",
]


@dataclass(frozen=True)
class FileType:
    """An accepted kind of document: its name, served MIME type and file name extensions."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("PDF", "application/pdf", ("pdf",)),
    "docx": FileType("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     ("docx",)),
    "xlsx": FileType("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "odt": FileType("ODT", "application/vnd.oasis.opendocument.text", ("odt",)),
    "ods": FileType("ODS", "application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
    "png": FileType("PNG", "image/png", ("png",)),
    "jpeg": FileType("JPEG", "image/jpeg", ("jpg", "jpeg")),
}
ACCEPT = ",".join(f".{ext}" for t in FILE_TYPES.values() for ext in t.extensions)
"""The extensions as an HTML ``accept`` attribute: ``.pdf,.docx,...``."""

_BY_EXTENSION = {ext: kind for kind, t in FILE_TYPES.items() for ext in t.extensions}
_NAMES = [t.name for t in FILE_TYPES.values()]
_TYPE_LIST = f"{', '.join(_NAMES[:-1])} atau {_NAMES[-1]}"  # "PDF, DOCX, ... atau JPEG"
# OOXML main parts (ECMA-376): macro-enabled (.docm/.xlsm) and template variants do not match.
_OOXML_MAIN = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_ODF_MIMETYPE = {"odt": b"application/vnd.oasis.opendocument.text",
                 "ods": b"application/vnd.oasis.opendocument.spreadsheet"}
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024  # [Content_Types].xml is a few KiB; refuse to inflate more
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
               ValueError, EOFError, OSError, zlib.error)
_UNSAFE = re.compile(r"[^\w .()\-]+")
_STEM_MAX_CHARS = 200


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed :func:`check`: sanitised name, kind (a ``FILE_TYPES`` key), MIME type."""

    filename: str
    kind: str
    content_type: str


@dataclass(frozen=True)
class DocumentView(JsonView):
    """A stored document as callers see it (no content). ``size_bytes`` in bytes, ``sha256`` hex.

    ``version`` is the nth document of this step in the instance; ``iteration``
    the nth time the step was done (its human task's iteration). ``signed_as``
    is ``"Plh. Camat"`` / ``"Plt. Kepala Dinas"`` when the step was completed by
    a Plh/Plt (``engine.designations.signature_label``, SE Kepala BKN
    1/SE/I/2021), else None: what the document's signature block reads.
    """

    id: int
    instance_id: int
    task_id: str
    process_id: str
    step_id: str
    step_name: str
    iteration: int
    version: int
    filename: str
    type_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    signed_as: str | None = None


def size_text(size_bytes: int) -> str:
    """A size for people, Indonesian style: ``"900 byte"``, ``"12,5 KiB"``, ``"20 MiB"``."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.1f}".replace(".", ",").removesuffix(",0") + f" {unit}"
    return f"{size_bytes} byte"


def sanitize_filename(filename: str) -> str:
    """A safe file name to store and serve: no path, no control or bidi characters.

    Keeps letters, digits, spaces, ``._-()``; other runs become ``_``; the
    extension is lowercased; an empty stem becomes ``dokumen``; at most 200
    characters before the extension.
    """
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"\s+", " ", _UNSAFE.sub("_", stem)).strip(" .")[:_STEM_MAX_CHARS].rstrip(" .")
    ext = re.sub(r"[^0-9a-z]", "", ext.lower())[:10]
    stem = stem or "dokumen"
    return f"{stem}.{ext}" if ext else stem


def _sniff(data: bytes) -> str | None:
    """The ``FILE_TYPES`` kind the content is, by its magic bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> str | None:
    """ODT/ODS by the leading ``mimetype`` entry, DOCX/XLSX by the package's main content type.

    Reads the central directory and at most two small entries: no archive is inflated.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if data[30:38] == b"mimetype":  # the first local header's file name
                info = archive.getinfo("mimetype")
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > 100:
                    return None
                declared = archive.read(info)
                return next((kind for kind, mime in _ODF_MIMETYPE.items() if declared == mime), None)
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX_BYTES:
                return None
            content_types = archive.read(info)
    except (KeyError, *_ZIP_ERRORS):
        return None
    return next((kind for kind, main in _OOXML_MAIN.items() if main in content_types), None)


def check(filename: str, data: bytes, *, max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES) -> CheckedFile:
    """Accept or refuse an upload by size, extension and content; return its sanitised name and type.

    ``max_bytes`` is the size limit in bytes. Raises ``InvalidTaskDataError``
    with a message for the user (in Indonesian) when the file is empty,
    larger than ``max_bytes``, has an extension outside the allow-list, or its
    content is not what its extension says (e.g. a program renamed ``.pdf``).
    """
    name = sanitize_filename(filename)
    if not data:
        raise InvalidTaskDataError(f"Berkas \u201c{name}\u201d kosong (0 byte)")
    if len(data) > max_bytes:
        raise InvalidTaskDataError(
            f"Berkas \u201c{name}\u201d terlalu besar: {size_text(len(data))}, melebihi batas "
            f"{size_text(max_bytes)}. Perkecil berkasnya lalu unggah lagi.")
    ext = name.rpartition(".")[2] if "." in name else ""
    claimed = _BY_EXTENSION.get(ext)
    if claimed is None:
        raise InvalidTaskDataError(
            f"Jenis berkas \u201c{name}\u201d tidak diizinkan. Unggah {_TYPE_LIST}.")
    found = _sniff(data)
    if found != claimed:
        what = f"berisi {FILE_TYPES[found].name}" if found else "tidak dikenali"
        raise InvalidTaskDataError(
            f"Isi berkas \u201c{name}\u201d {what}, bukan {FILE_TYPES[claimed].name} sesuai namanya; "
            "berkas yang diganti ekstensinya ditolak.")
    return CheckedFile(name, claimed, FILE_TYPES[claimed].content_type)


OUTSIDE_REASON_KEY = "dokumen_di_luar_sistem"
"""The key of a completion's ``data`` that keeps why its Output document is not in Alur."""
OUTSIDE_REASON_MAX = 500  # characters
_DOCUMENT_WORDS = re.compile(
    r"\b(dokumen|surat|laporan|konsep|draf|draft|naskah|berkas|notulen|undangan|salinan|arsip|disposisi|"
    r"nota|sk|renja|lakip|lkjip|bukti)\b", re.IGNORECASE)


def output_document(step: StepMeta | None) -> str | None:
    """The document a step's Output (Mutu Baku) names, or None when it names none.

    An Output names a document when it contains a word for a written record
    ("Laporan kinerja yang telah diketik", "Surat/dokumen ...", "Notulen rapat",
    "SK tim"); "Tim perumus" or "data" do not. A review step ("jika setuju ...",
    Permenpan RB 35/2012) judges the document made before it and names none of
    its own.
    """
    if step is None or step.review or not step.output or not _DOCUMENT_WORDS.search(step.output):
        return None
    return step.output


def check_output(step: StepMeta | None, *, has_document: bool, reason: str | None) -> str | None:
    """Refuse a completion without the Output document its step names, unless a reason is given.

    Returns the reason (stripped) to keep in the completion's history under
    :data:`OUTSIDE_REASON_KEY` ("diserahkan di luar sistem: ..."), or None when a
    document comes with it or the step names none. Raises ``InvalidFieldError``
    naming ``dokumen`` when neither the document nor a reason is given, and
    naming ``dokumen_di_luar_sistem`` for a reason with a control character or
    longer than :data:`OUTSIDE_REASON_MAX` characters.
    """
    wanted = output_document(step)
    text = (reason or "").strip()
    if wanted is None or has_document:
        return None
    check_text(OUTSIDE_REASON_KEY, text, max_length=OUTSIDE_REASON_MAX, multiline=True)
    if not text:
        raise InvalidFieldError(
            "dokumen", f"Langkah ini menghasilkan \u201c{wanted}\u201d: unggah dokumennya, atau tulis "
            "alasan bila dokumen diserahkan di luar sistem.")
    return text


def attach(
    session: Session, task_id: str, *, username: str, filename: str, data: bytes,
    max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES, now: datetime | None = None,
) -> DocumentView:
    """Store ``data`` as the Output document of task ``task_id``, just completed by ``username``.

    Call it in the transaction of ``instances.complete_task``: the task must be
    completed by ``username`` and be the instance's latest completion. Checks the
    file with :func:`check`, stores it as the next version of the step and appends
    a ``document_attached`` audit event. Raises ``TaskNotFound``, ``UserNotFound``,
    ``InvalidTaskDataError`` (bad file; task not completed, or completed earlier),
    ``PermissionDeniedError`` (completed by someone else) and ``ConflictError``
    (the task has a document already).
    """
    checked = check(filename, data, max_bytes=max_bytes)
    at = now if now is not None else datetime.now(UTC)
    human = tasks.get(session, task_id)
    user = org.get_user_by_username(session, username)
    _require_fresh_completion(session, human, user.id, username)
    instance_store.bump_lock(session, human.instance_id)  # serialises the instance's hash chain
    row = documents.add(
        session, instance_id=human.instance_id, human_task_id=task_id, process_id=human.process_id,
        element_id=human.element_id, filename=checked.filename, content_type=checked.content_type,
        content=data, uploaded_by_id=user.id, uploaded_at=at)
    history.append(
        session, instance_id=human.instance_id, kind="document_attached", occurred_at=at, actor_id=user.id,
        human_task_id=task_id, element_id=human.element_id, process_id=human.process_id,
        data={"document_id": row.id, "filename": row.filename, "sha256": row.sha256,
              "size_bytes": row.size_bytes, "content_type": row.content_type, "version": row.version,
              "iteration": human.iteration})
    return _view(row, human, username, _signed_as(session, human.instance_id, {task_id}).get(task_id))


def _require_fresh_completion(session: Session, human: HumanTask, user_id: int, username: str) -> None:
    """Refuse unless ``human`` is completed by ``user_id`` and nothing completed after it."""
    if human.state != "completed":
        raise InvalidTaskDataError(
            "Dokumen dilampirkan bersama penyelesaian langkahnya: langkah ini belum/tidak diselesaikan "
            "/ a document is attached when its task is completed")
    if human.completed_by_id != user_id:
        raise PermissionDeniedError(f"{username} tidak menyelesaikan tugas ini (did not complete this task)")
    completed = [t.completed_at for t in tasks.tasks_of_instance(session, human.instance_id)
                 if t.state == "completed" and t.completed_at is not None]
    if human.completed_at is None or max(completed) > human.completed_at:
        raise InvalidTaskDataError(
            "Dokumen hanya dapat dilampirkan saat langkahnya diselesaikan / "
            "a document can only be attached with its task's completion")


def _view(row: Document, human: HumanTask, uploaded_by: str, signed_as: str | None = None) -> DocumentView:
    type_name = next((t.name for t in FILE_TYPES.values() if t.content_type == row.content_type),
                     row.content_type)
    return DocumentView(
        id=row.id, instance_id=row.instance_id, task_id=row.human_task_id, process_id=row.process_id,
        step_id=row.element_id, step_name=human.name, iteration=human.iteration, version=row.version,
        filename=row.filename, type_name=type_name, content_type=row.content_type,
        size_bytes=row.size_bytes, sha256=row.sha256, uploaded_by=uploaded_by, uploaded_at=row.uploaded_at,
        signed_as=signed_as)


def _signed_as(session: Session, instance_id: int, task_ids: set[str]) -> dict[str, str]:
    """``{task id: "Plh. Camat"}`` for the tasks among ``task_ids`` completed "selaku" a Plh/Plt."""
    found = {}
    for event in history.completions(session, instance_id, task_ids):
        selaku = event.data.get("selaku")
        if isinstance(selaku, dict) and event.human_task_id is not None:
            found[event.human_task_id] = signature_label(str(selaku.get("kind")), str(selaku.get("role", "")))
    return found


def _one(session: Session, row: Document) -> DocumentView:
    signed = _signed_as(session, row.instance_id, {row.human_task_id})
    return _view(row, tasks.get(session, row.human_task_id), org.get_user(session, row.uploaded_by_id).username,
                 signed.get(row.human_task_id))


def documents_of(session: Session, instance_id: int) -> list[DocumentView]:
    """Every document of an instance (called SOPs' steps included), oldest first; [] for none."""
    rows = documents.for_instance(session, instance_id)
    if not rows:
        return []
    humans = {t.id: t for t in tasks.tasks_of_instance(session, instance_id)}
    names = {uid: org.get_user(session, uid).username for uid in {r.uploaded_by_id for r in rows}}
    signed = _signed_as(session, instance_id, {r.human_task_id for r in rows})
    return [_view(r, humans[r.human_task_id], names[r.uploaded_by_id], signed.get(r.human_task_id)) for r in rows]


def get_document(session: Session, document_id: int) -> DocumentView:
    """One document, without its content. Raises ``NotFoundError``."""
    return _one(session, documents.get(session, document_id))


def read_document(session: Session, document_id: int) -> tuple[DocumentView, bytes]:
    """One document and its content, checked against its stored SHA-256.

    Raises ``NotFoundError``, and ``AlurError`` when the content no longer
    matches its SHA-256 (damaged storage: served to nobody).
    """
    row = documents.get(session, document_id, with_content=True)
    if hashlib.sha256(row.content).hexdigest() != row.sha256:
        raise AlurError(f"Dokumen {document_id} rusak: SHA-256 tidak cocok / document damaged")
    return _one(session, row), row.content
