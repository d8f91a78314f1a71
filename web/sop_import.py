"""Upload an existing SOP document (PDF, XLSX, text/TSV) and get draft diagrams with their import report.

For logged-in users. The upload (CSRF-protected form, at most
:data:`engine.sop_import.MAX_FILE_BYTES`) is read by :func:`engine.sop_import.import_document`
against the deployed SOPs; nothing is stored. The result page shows each draft's
report and offers its ``.bpmn``: the file travels back in the page's download form
(base64, CSRF-protected), so the server keeps nothing between the two requests. A
refused document re-shows the form with the Indonesian message (422).

"Buka di Studio" posts a draft the same way to ``/impor/studio``: it becomes a studio
draft of a new SOP (``engine.drafts.create_new_sop_draft``; the analyst picks a unit kind
their ``analis_proses`` grants cover) and the modeler opens it. When the process id is
already a deployed SOP, the page says so and offers to open the draft as a new version
of that SOP instead (``sebagai_versi``); no grant, or an open draft of that new SOP, is
refused with the reason and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import re

from flask import Blueprint, Response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import InputRequired

from engine import drafts
from engine.deploy import parse_bpmn
from engine.sop_import import MAX_FILE_BYTES, deployed_sops, import_document
from storage.errors import DeployError, InvalidTaskDataError, NewSopRefused, SopImportError
from web.db import transaction
from web.documents import read_upload
from web.studio import require_editor

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


class StudioForm(DownloadForm):
    """A draft sent back to become a studio draft of a new SOP (or a new version of a deployed one)."""

    unit_kind = SelectField(_l("Jenis unit"), choices=[], validate_choice=False)
    sebagai_versi = HiddenField()


def _kind_label(kind: str) -> str:
    return str(_l("semua unit")) if kind == "any" else kind


def _studio_form(process_id: str, bpmn: str, kinds: list[str]) -> StudioForm:
    form = StudioForm(process_id=process_id, bpmn=bpmn, unit_kind=kinds[0] if len(kinds) == 1 else None)
    form.unit_kind.choices = [(k, _kind_label(k)) for k in kinds]
    return form


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
        with transaction() as session:
            kinds = drafts.new_sop_unit_kinds(session, current_user.grants)
        found = []
        for result in results:
            encoded = base64.b64encode(result.bpmn).decode("ascii")
            found.append((result, DownloadForm(process_id=result.process_id, bpmn=encoded),
                          _studio_form(result.process_id, encoded, kinds)))
        return render_template("sop_import/result.html", drafts=found, filename=upload.filename)
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


@bp.post("/impor/studio")
@login_required
def to_studio() -> ResponseReturnValue:
    """The posted draft as a studio draft, then the modeler; a refusal page (Indonesian) changes nothing.

    400 for a forged or malformed request; 403 without a grant over the unit kind;
    409 when the process id is a deployed SOP (with the offer to open it as its new
    version) or an open draft of that new SOP exists (with a link to it).
    """
    form = StudioForm()
    if not form.validate_on_submit() or not _ID.match(form.process_id.data or ""):
        return Response("Permintaan tidak sah", status=400, mimetype="text/plain")
    try:
        xml = base64.b64decode(form.bpmn.data or "", validate=True).decode("utf-8")
        process_id = drafts.draft_sop(xml)[0]
    except (binascii.Error, UnicodeDecodeError, DeployError):
        return Response("Berkas draf tidak sah", status=400, mimetype="text/plain")
    if form.sebagai_versi.data:
        try:
            with transaction() as session:
                require_editor(session, process_id)
                view = drafts.create_draft(session, process_id=process_id, xml=xml, username=current_user.username,
                                           base_version=None)
        except (DeployError, InvalidTaskDataError) as exc:
            return render_template("sop_import/studio_refused.html", message=str(exc), reason="invalid",
                                   process_id=process_id, form=None), 422
        return redirect(url_for("studio.edit", process_id=process_id, draf=view.id))
    unit_kind = form.unit_kind.data or None
    try:
        with transaction() as session:
            if unit_kind is not None and unit_kind not in drafts.new_sop_unit_kinds(session, current_user.grants):
                raise NewSopRefused(f"Anda tidak memiliki hak analis proses untuk jenis unit {unit_kind!r}: draf "
                                    f"tidak dibuat", reason="no_grant", process_id=process_id)
            view = drafts.create_new_sop_draft(session, xml=xml, username=current_user.username,
                                               grants=current_user.grants, unit_kind=unit_kind)
    except NewSopRefused as exc:
        offer = None
        if exc.reason == "deployed":
            offer = StudioForm(process_id=form.process_id.data, bpmn=form.bpmn.data, sebagai_versi="1")
        return render_template("sop_import/studio_refused.html", message=str(exc), reason=exc.reason,
                               process_id=exc.process_id, draft_id=exc.draft_id, form=offer), \
            403 if exc.reason == "no_grant" else 409
    except (DeployError, InvalidTaskDataError) as exc:
        return render_template("sop_import/studio_refused.html", message=str(exc), reason="invalid",
                               process_id=process_id, form=None), 422
    return redirect(url_for("studio.edit_new", draft_id=view.id))
