"""Documents on the web: reading an upload from the task form, and downloading a document.

A document may be downloaded by whoever may see its instance's page
(``web.access.require_instance``); anyone else, and any id that does not
exist, gets 404 and the attempt is logged. A download is always an attachment
(never shown inline), with the type found in its content when it was uploaded,
``X-Content-Type-Options: nosniff``, a sandboxing Content-Security-Policy and
no caching. PDF, PNG and JPEG may also be previewed (``/dokumen/<id>/lihat``):
``Content-Disposition: inline``, framed only by Alur's own pages, and still
under ``Content-Security-Policy: sandbox`` (no script, no form, a unique
origin); any other type is never served inline (404). The upload size limit is ``ALUR_UPLOAD_MAX_BYTES``; request bodies
beyond it plus 1 MiB for the other form fields are refused before they are read
(``MAX_CONTENT_LENGTH``: 413).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from itertools import groupby

from flask import Blueprint, Flask, abort, current_app, send_file
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from engine import documents
from engine.settings import load_settings
from storage.errors import NotFoundError
from web.access import refuse, require_instance
from web.db import transaction

__all__ = ["DocumentGroup", "PREVIEWABLE", "Upload", "bp", "by_step", "init_app", "max_bytes", "read_upload"]

bp = Blueprint("documents", __name__)
_FORM_OVERHEAD_BYTES = 1024 * 1024  # catatan, team, CSRF token and multipart headers
_DOWNLOAD_CSP = "default-src 'none'; sandbox"
# A preview: the browser's own PDF viewer or image, no script, framed by Alur's pages only. Chromium runs its
# built-in PDF viewer under this response's CSP sandbox (it refuses only under a frame's sandbox attribute, which the
# pages therefore do not set): tests/browser/test_working_day.py checks that the page of a real PDF loads there.
_PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})
"""Content types shown inline (the type read from the content at upload, ``engine.documents.check``)."""


@dataclass(frozen=True)
class DocumentGroup:
    """The documents of one step of an instance, newest version first."""

    process_id: str
    step_id: str
    step_name: str
    documents: tuple[documents.DocumentView, ...]


def by_step(found: list[documents.DocumentView]) -> list[DocumentGroup]:
    """``found`` grouped by step, newest version first; the step with the newest upload first."""
    def key(d: documents.DocumentView) -> tuple[str, str]:
        return d.process_id, d.step_id

    groups = [DocumentGroup(pid, sid, (docs := sorted(items, key=lambda d: d.version, reverse=True))[0].step_name,
                            tuple(docs))
              for (pid, sid), items in groupby(sorted(found, key=key), key=key)]
    return sorted(groups, key=lambda g: g.documents[0].uploaded_at, reverse=True)


@dataclass(frozen=True)
class Upload:
    """A file sent with a form: the name the client gave and its bytes."""

    filename: str
    data: bytes


def init_app(app: Flask) -> None:
    """Register the blueprint; ``ALUR_UPLOAD_MAX_BYTES`` from the settings unless configured."""
    app.config.setdefault("ALUR_UPLOAD_MAX_BYTES", load_settings().upload_max_bytes)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["ALUR_UPLOAD_MAX_BYTES"] + _FORM_OVERHEAD_BYTES
    app.register_blueprint(bp)
    app.jinja_env.filters["per_langkah"] = by_step


def max_bytes() -> int:
    """The current app's upload size limit, in bytes."""
    return int(current_app.config["ALUR_UPLOAD_MAX_BYTES"])


def read_upload(storage: FileStorage | None) -> Upload | None:
    """The file of a form's file field, or None when none was chosen; the stream is rewound."""
    if storage is None or not storage.filename:
        return None
    data = storage.stream.read()
    storage.stream.seek(0)
    return Upload(storage.filename, data)


@bp.app_template_filter("ukuran")
def size_filter(size_bytes: int) -> str:
    """A file size in the reader's language: ``"12,5 KiB"`` (id), ``"12.5 KiB"`` (en), ``"900 B"``."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size_bytes >= factor:
            return f"{format_decimal(size_bytes / factor, format='#,##0.#')} {unit}"
    return f"{size_bytes} B"


def _read(document_id: int) -> tuple[documents.DocumentView, bytes]:
    """The document and its bytes, for those who may see its instance; 404 (logged) otherwise."""
    with transaction() as session:
        try:
            view = documents.get_document(session, document_id)
        except NotFoundError:
            refuse(current_user, "document", document_id)
        require_instance(session, current_user, view.instance_id, record="document", key=document_id)
        return documents.read_document(session, document_id)


@bp.get("/dokumen/<id:document_id>")
@login_required
def download(document_id: int) -> ResponseReturnValue:
    """The document as an attachment, for those who may see its instance; 404 (logged) otherwise."""
    view, content = _read(document_id)
    return _send(view, content, inline=False)


@bp.get("/dokumen/<id:document_id>/lihat")
@login_required
def preview(document_id: int) -> ResponseReturnValue:
    """A PDF or image shown inline (sandboxed, framed by Alur only); 404 for any other type."""
    view, content = _read(document_id)
    if view.content_type not in PREVIEWABLE:
        abort(404)
    return _send(view, content, inline=True)


def _send(view: documents.DocumentView, content: bytes, *, inline: bool) -> ResponseReturnValue:
    response = send_file(io.BytesIO(content), mimetype=view.content_type, as_attachment=not inline,
                         download_name=view.filename, etag=view.sha256, last_modified=view.uploaded_at)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = _PREVIEW_CSP if inline else _DOWNLOAD_CSP
    if inline:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(view.sha256)).decode()}:"
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response
