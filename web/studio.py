"""Studio SOP, pages: the catalogue, an SOP's versions, the viewer, the modeler, the comparison.

Everyone logged in may view (catalogue, versions, diagrams, comparisons); only a
process analyst whose ``analis_proses`` grant covers the SOP (``engine.studio.may_edit``)
gets the modeler and the actions (``web.studio_api``). Each page is one bundled
script (``web/js/pages/<page>.js``, ``web.assets``) fed by ``data-*`` attributes
and the JSON API; the page says so when the bundle is not built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from engine import drafts, studio
from storage import definitions
from storage.errors import DraftNotFound, ProcessNotFound
from web.db import transaction

__all__ = ["NewSopPage", "bp", "init_app", "require_draft_editor", "require_editor", "sop_document_url",
           "version_xml"]

logger = logging.getLogger("alur.web.access")

bp = Blueprint("studio", __name__, url_prefix="/studio")

# bpmn-js, diagram-js and the properties panel set style attributes on the elements they draw,
# so studio pages allow inline styles; scripts stay 'self' only.
STUDIO_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
              "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@bp.after_request
def _studio_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = STUDIO_CSP
    return response


def sop_document_url(process_id: str, version: int) -> str:
    """The address of the SOP-AP document of a version (``web.sop_dokumen``)."""
    return url_for("sop_dokumen.html", process_id=process_id, versi=version)


def require_editor(session: Session, process_id: str) -> studio.SopSummary:
    """The SOP if the current user may edit it; 404 if there is no such SOP, 403 (logged) if not theirs."""
    try:
        sop = studio.sop_versions(session, process_id)
    except ProcessNotFound:
        abort(404)
    if not studio.may_edit(session, current_user.grants, sop.unit_kind):
        _refuse(process_id)
    return sop


@dataclass(frozen=True)
class NewSopPage:
    """What the studio pages need of a new (undeployed) SOP: its id, name, unit kind and the draft."""

    process_id: str
    name: str
    unit_kind: str
    draft: drafts.DraftView


def _refuse(process_id: str) -> None:
    logger.warning("refused: user=%s studio edit %s %s %s", current_user.username, process_id, request.method,
                   request.path)
    abort(403)


def require_draft_editor(session: Session, draft_id: int) -> tuple[drafts.DraftView, NewSopPage | None]:
    """The draft if the current user may edit it, and its new-SOP page data (None for a deployed SOP's draft).

    A draft of a deployed SOP follows :func:`require_editor`; a draft of a new SOP
    needs a grant over the unit kind its XML names. 404 when there is no such draft, 403 (logged) if not theirs.
    """
    try:
        view, xml = drafts.get_draft(session, draft_id)
    except DraftNotFound:
        abort(404)
    if view.base_version is not None or definitions.latest(session, view.process_id) is not None:
        require_editor(session, view.process_id)
        return view, None
    _pid, name, unit_kind = drafts.draft_sop(xml)
    if not studio.may_edit(session, current_user.grants, unit_kind):
        _refuse(view.process_id)
    return view, NewSopPage(view.process_id, name, unit_kind, view)


def version_xml(session: Session, process_id: str, version: int) -> str:
    """The BPMN XML of one deployed version; 404 when there is none."""
    row = next((d for d in definitions.list_versions(session, process_id) if d.version == version), None)
    if row is None:
        abort(404)
    return definitions.get(session, row.id).bpmn_xml


@bp.get("/")
@login_required
def katalog() -> ResponseReturnValue:
    """Every deployed SOP (units, current version, who deployed it when, instances per version) and the new drafts."""
    with transaction() as session:
        sops = studio.catalogue(session)
        editable = {s.process_id for s in sops if studio.may_edit(session, current_user.grants, s.unit_kind)}
        unit_names = {u.code: u.name for u in studio.units_running(session, "any")}
        new_drafts = [(d, studio.may_edit(session, current_user.grants, d.unit_kind))
                      for d in drafts.new_sop_drafts(session)]
    return render_template("studio/katalog.html", sops=sops, editable=editable, unit_names=unit_names,
                           new_drafts=new_drafts)


@bp.get("/baru/<id:draft_id>")
@login_required
def edit_new(draft_id: int) -> ResponseReturnValue:
    """The modeler on a draft of a new SOP (not deployed yet); once deployed, the SOP's own modeler."""
    with transaction() as session:
        view, page = require_draft_editor(session, draft_id)
    if page is None:
        return redirect(url_for(".edit", process_id=view.process_id, draf=draft_id))
    return render_template("studio/modeler.html", sop=page, draft_id=draft_id, new_sop=True)


@bp.get("/<bpmn_id:process_id>")
@login_required
def versions(process_id: str) -> ResponseReturnValue:
    """One SOP: its versions with notes, open drafts, the studio's record of it."""
    with transaction() as session:
        try:
            sop = studio.sop_versions(session, process_id)
        except ProcessNotFound:
            abort(404)
        editable = studio.may_edit(session, current_user.grants, sop.unit_kind)
        open_drafts = drafts.open_drafts(session, process_id)
        events = studio.studio_events(session, process_id)
    return render_template("studio/versions.html", sop=sop, editable=editable, drafts=open_drafts, events=events)


@bp.get("/<bpmn_id:process_id>/versi/<id:version>")
@login_required
def view(process_id: str, version: int) -> ResponseReturnValue:
    """One version drawn by the viewer (zoomable)."""
    with transaction() as session:
        try:
            sop = studio.sop_versions(session, process_id)
        except ProcessNotFound:
            abort(404)
    if version not in {v.version for v in sop.versions}:
        abort(404)
    return render_template("studio/view.html", sop=sop, version=version)


@bp.get("/<bpmn_id:process_id>/versi/<id:version>.bpmn")
@login_required
def xml(process_id: str, version: int) -> ResponseReturnValue:
    """The BPMN XML of one version."""
    with transaction() as session:
        text = version_xml(session, process_id, version)
    response = Response(text, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/<bpmn_id:process_id>/ubah")
@login_required
def edit(process_id: str) -> ResponseReturnValue:
    """The modeler (process analysts of this SOP only); ``?draf=ID`` opens that draft."""
    with transaction() as session:
        sop = require_editor(session, process_id)
    return render_template("studio/modeler.html", sop=sop, draft_id=request.args.get("draf", type=int), new_sop=False)


@bp.get("/<bpmn_id:process_id>/banding")
@login_required
def compare(process_id: str) -> ResponseReturnValue:
    """Compare two versions, or a draft with a version: ``?dari=V&ke=W`` or ``?dari=V&draf=ID``."""
    with transaction() as session:
        try:
            sop = studio.sop_versions(session, process_id)
        except ProcessNotFound:
            abort(404)
        known = {v.version for v in sop.versions}
        left = request.args.get("dari", type=int) or sop.current.version
        right = request.args.get("ke", type=int)
        draft_id = request.args.get("draf", type=int)
        if left not in known or (right is not None and right not in known):
            abort(404)
        if draft_id is not None:
            try:
                draft, _xml = drafts.get_draft(session, draft_id)
            except DraftNotFound:
                abort(404)
            if draft.process_id != process_id:
                abort(404)
            right_url = url_for("studio_api.draft_xml", draft_id=draft_id)
            right_label = f"draf #{draft_id}"
        else:
            right = right or sop.current.version
            right_url = url_for(".xml", process_id=process_id, version=right)
            right_label = f"v{right}"
    return render_template("studio/compare.html", sop=sop, left=left,
                           left_url=url_for(".xml", process_id=process_id, version=left),
                           right_url=right_url, right_label=right_label)


def init_app(app: Flask) -> None:
    """Register the pages and the JSON API (``web.studio_api``), and the document link helper."""
    from web import studio_api

    app.register_blueprint(bp)
    app.register_blueprint(studio_api.bp)
    app.add_template_global(sop_document_url)
