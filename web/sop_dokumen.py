"""The SOP-AP document of a deployed SOP version, as a printable HTML page and as a PDF.

- ``/sop/<process_id>/dokumen``      HTML with print styles (its own page, not the app's layout);
- ``/sop/<process_id>/dokumen.pdf``  the vector PDF (WeasyPrint).

Query: ``versi`` (default: the latest), ``unit`` (a unit code; default the
user's home unit), ``kertas`` (``A4`` or ``F4``, landscape). Logged-in users
only; an unknown process, version or unit answers 404, a malformed ``versi`` or
``kertas`` 400. The parent institution comes from ``ALUR_INSTANSI``.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from engine.sop_document import SopDocument, document_for
from web import sop_render
from web.db import transaction

__all__ = ["bp"]

bp = Blueprint("sop_dokumen", __name__)

_CSP = ("default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'")


def _document(process_id: str) -> tuple[SopDocument, sop_render.Paper]:
    versi_text = request.args.get("versi", "").strip()
    if versi_text and not (versi_text.isdigit() and 0 < int(versi_text) < 2**31):
        abort(400, _("versi harus bilangan bulat positif"))
    try:
        paper = sop_render.paper_named(request.args.get("kertas", "A4"))
    except ValueError:
        abort(400, _("kertas harus A4 atau F4"))
    unit_code = request.args.get("unit", "").strip() or current_user.unit_code
    with transaction() as session:
        doc = document_for(session, process_id, version=int(versi_text) if versi_text else None,
                           unit_code=unit_code, institution=current_app.config.get("ALUR_INSTANSI"))
    return doc, paper


def _query(doc: SopDocument, **changes: str) -> dict[str, Any]:
    unit = request.args.get("unit", "").strip() or current_user.unit_code
    args: dict[str, Any] = {"versi": str(doc.version), "unit": unit, "kertas": request.args.get("kertas", "A4").upper()}
    args.update(changes)
    return args


@bp.get("/sop/<process_id>/dokumen")
@login_required
def html(process_id: str) -> ResponseReturnValue:
    """The SOP-AP document as HTML with print styles; see the module docstring for the query."""
    doc, paper = _document(process_id)
    nonce = secrets.token_urlsafe(16)
    toolbar = Markup(render_template(
        "sop/_toolbar.html", pdf=url_for(".pdf", process_id=process_id, **_query(doc)),
        a4=url_for(".html", process_id=process_id, **_query(doc, kertas="A4")),
        f4=url_for(".html", process_id=process_id, **_query(doc, kertas="F4")),
        back=request.referrer if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("inbox.index")))
    rendered = sop_render.render_html(doc, paper=paper, nonce=nonce, toolbar=toolbar)
    response = Response(rendered.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP.format(nonce=nonce)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/sop/<process_id>/dokumen.pdf")
@login_required
def pdf(process_id: str) -> ResponseReturnValue:
    """The SOP-AP document as a vector PDF, shown inline (``<process_id>-v<version>.pdf``)."""
    doc, paper = _document(process_id)
    rendered = sop_render.render_pdf(doc, paper=paper)
    response = Response(rendered.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{doc.process_id}-v{doc.version}.pdf"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response
