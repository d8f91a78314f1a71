"""The instance page's diagram: BPMN XML and step states for bpmn-js, and its assets.

The page (``templates/instances/_diagram.html``) loads bpmn-js's prebuilt
navigated viewer and ``static/js/diagram.js``, which fetch from here:

- ``/proses/<id>/diagram/<process_id>.bpmn``  the BPMN XML of a process in the
  version the instance runs (the root SOP or an SOP it calls);
- ``/proses/<id>/langkah.json``               completed steps with counts and current
  steps of each of those diagrams (``engine.progress``), with the XML addresses;
- ``/proses/<id>/linimasa.json``              every audit event in order, for the timeline replay
  (``static/js/timeline.js``), with the diagrams and their call activities;
- ``/diagram/alur-moddle.json``               the ``alur:`` moddle descriptor
  (``bpmn/alur-moddle.json``), so bpmn-js reads the extension without warnings.

The first two answer exactly as the instance page does: 404 (logged) to anyone
who may not see the instance. bpmn-js itself is copied from ``node_modules``
into ``static/vendor/bpmn-js`` by ``scripts/bootstrap.sh`` (not committed);
when it is missing the page says so and the rest of the page still works.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, jsonify, send_file, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from engine import documents, instances, progress
from storage.errors import ProcessNotFound
from web.access import refuse, require_instance
from web.accounts import people
from web.db import transaction
from web.i18n import event_label, local_datetime

__all__ = ["MODDLE_DESCRIPTOR", "VENDOR_FILES", "bp"]

logger = logging.getLogger(__name__)

bp = Blueprint("diagram", __name__)

MODDLE_DESCRIPTOR = Path(__file__).resolve().parents[1] / "bpmn" / "alur-moddle.json"
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor" / "bpmn-js"
VENDOR_FILES = ("bpmn-navigated-viewer.production.min.js", "bpmn-js.css", "diagram-js.css")
_MAX_AGE_SECONDS = 3600


@bp.record_once
def _check_assets(state: BlueprintSetupState) -> None:
    missing = [name for name in VENDOR_FILES if not (VENDOR_DIR / name).is_file()]
    if missing:
        logger.warning("bpmn-js is not installed in %s (missing %s): instance pages show no diagram; "
                       "run `bash scripts/bootstrap.sh --with-node`", VENDOR_DIR, ", ".join(missing))


@bp.get("/proses/<id:instance_id>/diagram/<bpmn_id:process_id>.bpmn")
@login_required
def xml(instance_id: int, process_id: str) -> ResponseReturnValue:
    """The BPMN XML of ``process_id`` as instance ``instance_id`` runs it; 404 outside the user's reach."""
    with transaction() as session:
        require_instance(session, current_user, instance_id, record=None)
        try:
            text = progress.diagram_xml(session, instance_id, process_id)
        except ProcessNotFound:
            refuse(current_user, "diagram", f"{instance_id}/{process_id}")
    response = Response(text, mimetype="application/xml")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/proses/<id:instance_id>/langkah.json")
@login_required
def steps(instance_id: int) -> ResponseReturnValue:
    """Completed (with counts) and current steps of each diagram of the instance, as JSON.

    Shape: ``{"instance_id", "status", "diagrams": [{"process_id", "name", "version",
    "root", "completed": {element_id: count}, "current": [element_id], "xml_url"}]}``,
    the root SOP first.
    """
    with transaction() as session:
        require_instance(session, current_user, instance_id, record=None)
        found = progress.progress_of(session, instance_id).to_json()
    for diagram in found["diagrams"]:
        diagram["xml_url"] = url_for(".xml", instance_id=instance_id, process_id=diagram["process_id"])
    response = jsonify(found)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/proses/<id:instance_id>/linimasa.json")
@login_required
def timeline(instance_id: int) -> ResponseReturnValue:
    """Every event of the instance, oldest first, with what the timeline shows at each.

    Shape: ``{"instance_id", "unit_code", "diagrams": [{"process_id", "name", "root", "xml_url",
    "calls": {called process id: call activity id}}], "events": [{"id", "at", "when", "kind",
    "kind_label", "actor", "process_id", "step_id", "step_name", "task_id", "lane", "iteration",
    "keputusan", "catatan", "members", "document": {"name", "url", "version", "sha256"} | null}]}``;
    ``when`` is the time in the unit's zone, ``actor`` a full name.
    """
    with transaction() as session:
        require_instance(session, current_user, instance_id, record=None)
        entries = instances.history_of(session, instance_id)
        found = progress.progress_of(session, instance_id).to_json()
        calls = progress.call_activities(session, instance_id)
        names = people(session, {e.actor for e in entries if e.actor})
        docs = {d.id: d for d in documents.documents_of(session, instance_id)}
        unit_code = instances.get_instance(session, instance_id).unit_code
    diagrams = [{"process_id": d["process_id"], "name": d["name"], "root": d["root"],
                 "xml_url": url_for(".xml", instance_id=instance_id, process_id=d["process_id"]),
                 "calls": calls.get(d["process_id"], {})} for d in found["diagrams"]]
    events = []
    for e in entries:
        document = docs.get(e.data.get("document_id", -1)) if e.kind == "document_attached" else None
        events.append({
            "id": e.id, "at": e.occurred_at.isoformat(), "when": local_datetime(e.occurred_at, unit_code),
            "kind": e.kind, "kind_label": event_label(e.kind), "actor": names.get(e.actor or "", e.actor),
            "process_id": e.process_id, "step_id": e.step_id, "step_name": e.step_name,
            "task_id": e.task_id, "lane": e.data.get("lane"),
            "iteration": e.data.get("iteration"), "keputusan": e.keputusan, "catatan": e.catatan,
            "members": e.data.get("members"),
            "document": None if document is None else {
                "name": document.filename, "version": document.version, "sha256": document.sha256,
                "url": url_for("documents.download", document_id=document.id)},
        })
    response = jsonify(instance_id=instance_id, unit_code=unit_code, diagrams=diagrams, events=events)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/diagram/alur-moddle.json")
@login_required
def moddle() -> ResponseReturnValue:
    """The ``alur:`` moddle descriptor for bpmn-js's ``moddleExtensions``."""
    return send_file(MODDLE_DESCRIPTOR, mimetype="application/json", max_age=_MAX_AGE_SECONDS)
