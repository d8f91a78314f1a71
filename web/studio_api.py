"""Studio SOP, JSON API under ``/api/studio``: drafts, deploy, restore, lanes, moving instances.

Every answer is JSON; errors are ``{"error": {"code", "message", ...}}`` (``web.errors``),
plus, for a stale save, ``"conflict": {"updated_by", "updated_at", "revision", "status"}``
(409 ``stale_draft``) and, for a refused deploy, ``"element_id"``/``"line"`` (422
``deploy_refused``), so the modeler can show it at the element. Reading needs a login;
every change needs the CSRF header and an ``analis_proses`` grant that covers the
SOP (``engine.studio.may_edit``): otherwise 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine import catalog, drafts, migration, studio
from storage.errors import DeployError, NewSopRefused, StaleDraftError
from web.db import transaction
from web.errors import api_error
from web.studio import require_draft_editor, require_editor, version_xml

__all__ = ["bp"]

bp = Blueprint("studio_api", __name__, url_prefix="/api/studio")


@bp.before_request
def _guard() -> None:
    """No login: 401 as JSON (``web.errors``), never a redirect to the login page."""
    if not current_user.is_authenticated:
        abort(401)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        abort(api_error(422, f"{key} harus bilangan bulat", fields={key: "integer"}))
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        abort(api_error(422, f"{key} harus teks", fields={key: "string"}))
    return value


def _draft_json(view: drafts.DraftView) -> dict[str, Any]:
    return {"id": view.id, "process_id": view.process_id, "base_version": view.base_version,
            "revision": view.revision, "status": view.status, "created_by": view.created_by,
            "created_at": view.created_at.isoformat(), "updated_by": view.updated_by,
            "updated_at": view.updated_at.isoformat(), "deployed_version": view.deployed_version}


def _conflict(exc: StaleDraftError) -> Response:
    with transaction() as session:
        detail = drafts.conflict_of(session, exc)
    response = api_error(409, str(exc), code="stale_draft")
    body = response.get_json()
    body["error"]["conflict"] = detail
    response.set_data(jsonify(body).get_data())
    return response


def _refused(exc: DeployError) -> Response:
    response = api_error(422, exc.message, code="deploy_refused")
    body = response.get_json()
    body["error"].update(element_id=exc.element_id, line=exc.line, file=exc.file)
    response.set_data(jsonify(body).get_data())
    return response


@bp.get("/<bpmn_id:process_id>/context")
def context(process_id: str) -> ResponseReturnValue:
    """What the modeler needs: versions, known SOPs for call activities, open drafts, may_edit."""
    with transaction() as session:
        sop = studio.sop_versions(session, process_id)
        known = [{"process_id": d.process_id, "name": d.name} for d in catalog.list_latest(session)]
        open_drafts = [_draft_json(d) for d in drafts.open_drafts(session, process_id)]
        editable = studio.may_edit(session, current_user.grants, sop.unit_kind)
    return jsonify(process_id=process_id, name=sop.name, unit_kind=sop.unit_kind, units=list(sop.units),
                   current_version=sop.current.version, versions=[v.version for v in sop.versions],
                   known_sops=known, drafts=open_drafts, may_edit=editable, username=current_user.username)


@bp.get("/drafts/<id:draft_id>/context")
def new_sop_context(draft_id: int) -> ResponseReturnValue:
    """The modeler's context for a draft of a new SOP (no version yet; analysts of its unit kind only)."""
    with transaction() as session:
        view, page = require_draft_editor(session, draft_id)
        if page is None:
            abort(404)
        known = [{"process_id": d.process_id, "name": d.name} for d in catalog.list_latest(session)]
        units = [u.code for u in studio.units_running(session, page.unit_kind)]
    return jsonify(process_id=page.process_id, name=page.name, unit_kind=page.unit_kind, units=units,
                   current_version=None, versions=[], known_sops=known, drafts=[_draft_json(view)], may_edit=True,
                   username=current_user.username, new_sop=True)


def _names() -> list[tuple[str, bool]]:
    names = [(n, False) for n in request.args.getlist("lane")] + [(n, True) for n in request.args.getlist("team")]
    if len(names) > 100 or any(len(n) > 255 for n, _ in names):
        abort(400)
    return names


@bp.get("/drafts/<id:draft_id>/lanes")
def new_sop_lanes(draft_id: int) -> ResponseReturnValue:
    """Who would receive each lane's steps of a new SOP's draft (as :func:`lanes`; after its deploy, the SOP's)."""
    names = _names()
    with transaction() as session:
        view, page = require_draft_editor(session, draft_id)
        kind = page.unit_kind if page is not None else studio.sop_versions(session, view.process_id).unit_kind
        found = studio.lane_performers(session, kind, names)
    return _lanes_json(found)


@bp.get("/<bpmn_id:process_id>/lanes")
def lanes(process_id: str) -> ResponseReturnValue:
    """Who receives each lane's steps: ``?lane=NAME`` (repeated), ``?team=NAME`` for team lanes."""
    names = _names()
    with transaction() as session:
        sop = studio.sop_versions(session, process_id)
        found = studio.lane_performers(session, sop.unit_kind, names)
    return _lanes_json(found)


def _lanes_json(found: list[studio.LanePerformers]) -> Response:
    return jsonify(lanes=[{"lane": p.lane, "team": p.team, "missing": list(p.missing),
                           "units": [{"unit": u.unit_code, "unit_name": u.unit_name, "role": u.role,
                                      "users": list(u.users)} for u in p.units]} for p in found])


@bp.post("/<bpmn_id:process_id>/drafts")
def create_draft(process_id: str) -> ResponseReturnValue:
    """A new draft: ``{"xml", "base_version"}`` → 201 with the draft."""
    data = _body()
    base = data.get("base_version")
    if base is not None:
        base = _int(data, "base_version")
    try:
        with transaction() as session:
            require_editor(session, process_id)
            view = drafts.create_draft(session, process_id=process_id, xml=_text(data, "xml"),
                                       username=current_user.username, base_version=base)
    except DeployError as exc:
        return _refused(exc)
    return jsonify(draft=_draft_json(view)), 201


@bp.get("/drafts/<id:draft_id>")
def get_draft(draft_id: int) -> ResponseReturnValue:
    """A draft with its XML."""
    with transaction() as session:
        view, xml = drafts.get_draft(session, draft_id)
    return jsonify(draft=_draft_json(view), xml=xml)


@bp.get("/drafts/<id:draft_id>.bpmn")
def draft_xml(draft_id: int) -> ResponseReturnValue:
    """A draft's BPMN XML (for the comparison page)."""
    with transaction() as session:
        _view, xml = drafts.get_draft(session, draft_id)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, no-store"})


@bp.put("/drafts/<id:draft_id>")
def save_draft(draft_id: int) -> ResponseReturnValue:
    """Save ``{"xml", "revision"}``; 409 ``stale_draft`` with whose save came first."""
    data = _body()
    try:
        with transaction() as session:
            _view, page = require_draft_editor(session, draft_id)
            if page is not None and not studio.may_edit(session, current_user.grants,
                                                        drafts.draft_sop(_text(data, "xml"))[2]):
                abort(403)  # a new SOP's draft may not move to a unit kind its analyst has no grant for
            saved = drafts.save_draft(session, draft_id, xml=_text(data, "xml"), revision=_int(data, "revision"),
                                      username=current_user.username)
    except StaleDraftError as exc:
        return _conflict(exc)
    except DeployError as exc:
        return _refused(exc)
    return jsonify(draft=_draft_json(saved))


@bp.post("/drafts/<id:draft_id>/discard")
def discard_draft(draft_id: int) -> ResponseReturnValue:
    """Close a draft without deploying: ``{"revision"}``."""
    data = _body()
    try:
        with transaction() as session:
            require_draft_editor(session, draft_id)
            drafts.discard_draft(session, draft_id, revision=_int(data, "revision"), username=current_user.username)
    except StaleDraftError as exc:
        return _conflict(exc)
    return jsonify(discarded=draft_id)


@bp.post("/drafts/<id:draft_id>/deploy")
def deploy(draft_id: int) -> ResponseReturnValue:
    """Deploy ``{"revision", "note"}`` → 201 with the new version and instances left on older versions."""
    data = _body()
    try:
        with transaction() as session:
            require_draft_editor(session, draft_id)
            outcome = drafts.deploy_draft(session, draft_id, revision=_int(data, "revision"),
                                          note=_text(data, "note"), username=current_user.username)
    except StaleDraftError as exc:
        return _conflict(exc)
    except NewSopRefused as exc:
        return api_error(409, str(exc), code="new_sop_refused")
    except DeployError as exc:
        return _refused(exc)
    return jsonify(process_id=outcome.process_id, version=outcome.version, deployed_by=outcome.deployed_by,
                   deployed_at=outcome.deployed_at.isoformat(), note=outcome.note,
                   running_on_older=outcome.running_on_older), 201


@bp.post("/<bpmn_id:process_id>/versions/<id:version>/restore")
def restore(process_id: str, version: int) -> ResponseReturnValue:
    """A new draft from an earlier version → 201 with the draft."""
    with transaction() as session:
        require_editor(session, process_id)
        version_xml(session, process_id, version)
        view = drafts.restore_version(session, process_id, version, username=current_user.username)
    return jsonify(draft=_draft_json(view)), 201


@bp.get("/<bpmn_id:process_id>/migration")
def migration_plan(process_id: str) -> ResponseReturnValue:
    """Dry run: every running instance of an older version, movable to the newest or not, and why."""
    with transaction() as session:
        plan = migration.plan(session, process_id)
    return jsonify(migration.plan_json(plan))


@bp.post("/<bpmn_id:process_id>/migration")
def migrate(process_id: str) -> ResponseReturnValue:
    """Move every movable running instance of older versions to the newest version in one action."""
    with transaction() as session:
        require_editor(session, process_id)
        moved = migration.move_all(session, process_id, username=current_user.username)
    return jsonify(migration.plan_json(moved))
