"""Import employees (``/admin/organisasi/impor``): upload a CSV/XLSX, see the dry run, apply.

The rules are in ``engine.employee_import``. Only administrators; a file may name
only units the administrator's grant covers (other rows are listed as problems).
"Pratinjau" changes nothing; "Terapkan" applies the same comparison in one transaction.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from engine import employee_import
from engine.access import ADMINISTRATOR
from storage.errors import AlurError
from web.access import refuse
from web.auth import now
from web.db import transaction
from web.errors import status_for

__all__ = ["MAX_BYTES", "bp", "init_app"]

bp = Blueprint("org_import", __name__, url_prefix="/admin/organisasi")
MAX_BYTES = 10 * 1024 * 1024


class ImportForm(FlaskForm):
    """The file and the two actions."""

    berkas = FileField(_l("Berkas CSV atau XLSX"), validators=[FileRequired(_l("Pilih berkas."))])
    pratinjau = SubmitField(_l("Pratinjau"))
    terapkan = SubmitField(_l("Terapkan"))


def init_app(app: Flask) -> None:
    """Register the page on ``app``."""
    app.register_blueprint(bp)


@bp.route("/impor", methods=("GET", "POST"))
@login_required
def page() -> ResponseReturnValue:
    """The upload form; the dry run or the applied result below it (422 for a file that cannot be read)."""
    if not current_user.grants.has(ADMINISTRATOR):
        refuse(current_user, "page", "admin/organisasi/impor")
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("org_admin/import.html", form=form, result=None, applied=False), (
            422 if form.is_submitted() else 200)
    upload = form.berkas.data
    content = upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        form.berkas.errors = [_("Berkas terlalu besar (paling besar 10 MiB).")]
        return render_template("org_admin/import.html", form=form, result=None, applied=False), 422
    apply = bool(form.terapkan.data)
    try:
        with transaction() as session:
            rows = employee_import.read_rows(upload.filename or "", content)
            result = employee_import.plan(session, rows, unit_codes=current_user.grants.scope(ADMINISTRATOR))
            if apply:
                employee_import.apply(session, result, by_id=current_user.id, now=now())
    except AlurError as exc:
        form.berkas.errors = [str(exc)]
        return render_template("org_admin/import.html", form=form, result=None, applied=False), status_for(exc)
    if apply:
        flash(_("Impor diterapkan: %(a)d ditambah, %(c)d diubah, %(d)d dinonaktifkan.", a=len(result.added),
                c=len(result.changed), d=len(result.deactivated)), "success")
    return render_template("org_admin/import.html", form=form, result=result, applied=apply)
