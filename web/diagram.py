"""The instance page's diagram: BPMN XML and step states for bpmn-js, and its assets.

The page (``templates/instances/_diagram.html``) loads bpmn-js's prebuilt
navigated viewer and ``static/js/diagram.js``, which fetch from here:

- ``/proses/<id>/diagram/<process_id>.bpmn``  the BPMN XML of a process in the
  version the instance runs (the root SOP or an SOP it calls);
- ``/proses/<id>/langkah.json``               completed steps with counts and current
  steps of each of those diagrams (``engine.progress``), with the XML addresses;
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

from engine import progress
from storage.errors import ProcessNotFound
from web.access import refuse, require_instance
from web.db import transaction

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


@bp.get("/proses/<int:instance_id>/diagram/<process_id>.bpmn")
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


@bp.get("/proses/<int:instance_id>/langkah.json")
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


@bp.get("/diagram/alur-moddle.json")
@login_required
def moddle() -> ResponseReturnValue:
    """The ``alur:`` moddle descriptor for bpmn-js's ``moddleExtensions``."""
    return send_file(MODDLE_DESCRIPTOR, mimetype="application/json", max_age=_MAX_AGE_SECONDS)
