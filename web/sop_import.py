"""Upload an existing SOP document (PDF, XLSX, text/TSV) and get draft diagrams with their import report.

For logged-in users. The upload (CSRF-protected form, at most
:data:`engine.sop_import.MAX_FILE_BYTES`) is read by :func:`engine.sop_import.import_document`
against the deployed SOPs; nothing is stored. The result page shows each draft's
report and offers its ``.bpmn``: the file travels back in the page's download form
(base64, CSRF-protected), so the server keeps nothing between the two requests. A
refused document re-shows the form with the Indonesian message (422).
"""

from __future__ import annotations

import base64
import binascii
import re

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired

from engine.deploy import parse_bpmn
from engine.sop_import import MAX_FILE_BYTES, deployed_sops, import_document
from storage.errors import DeployError, SopImportError
from web.db import transaction
from web.documents import read_upload

__all__ = ["bp"]

bp = Blueprint("sop_import", __name__)
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,80}$")


class ImportForm(FlaskForm):
    """The document to import."""

    dokumen = FileField(_l("Dokumen SOP"), validators=[FileRequired(_l("Pilih berkas dokumen SOP."))])
    submit = SubmitField(_l("Impor"))


class DownloadForm(FlaskForm):
    """A draft sent back for download (the server keeps no copy)."""

    process_id = HiddenField(validators=[InputRequired()])
    bpmn = HiddenField(validators=[InputRequired()])


@bp.route("/impor", methods=["GET", "POST"])
@login_required
def upload() -> ResponseReturnValue:
    """The upload form; on POST, the drafts and their reports (422 with the message when refused)."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = read_upload(form.dokumen.data)
        try:
            if upload is None:
                raise SopImportError("Berkas kosong")
            if len(upload.data) > MAX_FILE_BYTES:
                raise SopImportError(f"Berkas terlalu besar (maksimum {MAX_FILE_BYTES // 1024 // 1024} MiB)")
            with transaction() as session:
                known = deployed_sops(session)
            results = import_document(upload.data, upload.filename, known)
        except SopImportError as exc:
            form.dokumen.errors = [str(exc)]
            return render_template("sop_import/form.html", form=form, max_mib=MAX_FILE_BYTES // 1024 // 1024), 422
        drafts = [(r, DownloadForm(process_id=r.process_id, bpmn=base64.b64encode(r.bpmn).decode("ascii")))
                  for r in results]
        return render_template("sop_import/result.html", drafts=drafts, filename=upload.filename)
    status = 422 if form.is_submitted() else 200
    return render_template("sop_import/form.html", form=form, max_mib=MAX_FILE_BYTES // 1024 // 1024), status


@bp.post("/impor/unduh")
@login_required
def download() -> ResponseReturnValue:
    """The draft posted back by the result page, as a ``.bpmn`` attachment (400 when it is not BPMN XML)."""
    form = DownloadForm()
    if not form.validate_on_submit() or not _ID.match(form.process_id.data or ""):
        return Response("Permintaan tidak sah", status=400, mimetype="text/plain")
    try:
        data = base64.b64decode(form.bpmn.data or "", validate=True)
        parse_bpmn(data, f"{form.process_id.data}.bpmn")
    except (binascii.Error, DeployError):
        return Response("Berkas draf tidak sah", status=400, mimetype="text/plain")
    response = Response(data, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{form.process_id.data}.bpmn"'
    response.headers["Cache-Control"] = "no-store"
    return response
