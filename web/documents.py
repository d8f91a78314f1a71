"""Documents on the web: reading an upload from the task form, and downloading a document.

A document may be downloaded by whoever may see its instance's page
(``web.access.require_instance``); anyone else, and any id that does not
exist, gets 404 and the attempt is logged. A download is always an attachment
(never shown inline), with the type found in its content when it was uploaded,
``X-Content-Type-Options: nosniff``, a sandboxing Content-Security-Policy and
no caching. The upload size limit is ``ALUR_UPLOAD_MAX_BYTES``; request bodies
beyond it plus 1 MiB for the other form fields are refused before they are read
(``MAX_CONTENT_LENGTH``: 413).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, send_file
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from engine import documents
from engine.settings import load_settings
from storage.errors import NotFoundError
from web.access import refuse, require_instance
from web.db import transaction

__all__ = ["Upload", "bp", "init_app", "max_bytes", "read_upload"]

bp = Blueprint("documents", __name__)
_FORM_OVERHEAD_BYTES = 1024 * 1024  # catatan, team, CSRF token and multipart headers
_DOWNLOAD_CSP = "default-src 'none'; sandbox"


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


@bp.get("/dokumen/<id:document_id>")
@login_required
def download(document_id: int) -> ResponseReturnValue:
    """The document as an attachment, for those who may see its instance; 404 (logged) otherwise."""
    with transaction() as session:
        try:
            view = documents.get_document(session, document_id)
        except NotFoundError:
            refuse(current_user, "document", document_id)
        require_instance(session, current_user, view.instance_id, record="document", key=document_id)
        view, content = documents.read_document(session, document_id)
    response = send_file(io.BytesIO(content), mimetype=view.content_type, as_attachment=True,
                         download_name=view.filename, etag=view.sha256, last_modified=view.uploaded_at)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = _DOWNLOAD_CSP
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(view.sha256)).decode()}:"
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response
