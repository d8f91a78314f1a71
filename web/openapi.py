"""The OpenAPI 3.1 description of Alur's JSON API (``/api/v1``), built as a Python dict.

Served by ``GET /api/v1/openapi.json`` (:func:`document`). Schemas are JSON
Schema 2020-12, as OpenAPI 3.1 uses; every response object lists all its
properties and allows no others, so ``tests/web/test_api.py`` — which checks the
document against the OpenAPI 3.1 schema, compares its paths with the routes of
the ``api`` blueprint and validates every response the tests receive — notices
a field added or dropped on one side only.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.instances import INBOX_PAGE, KEPUTUSAN
from engine.text import CATATAN_MAX, NOMOR_SURAT_MAX, TITLE_MAX
from storage.models import AUDIT_KINDS, MAX_ID

__all__ = ["API_PREFIX", "CSRF_HEADER", "ERROR_CODES", "document"]

API_PREFIX = "/api/v1"
CSRF_HEADER = "X-CSRFToken"
ID_MAX = 200
CASE_PAGE = 50
__all__ += ["CATATAN_MAX", "ID_MAX", "NOMOR_SURAT_MAX", "TITLE_MAX"]

ERROR_CODES = (
    "bad_request", "csrf_failed", "unauthenticated", "not_found", "method_not_allowed",
    "conflict", "task_already_completed", "stale_instance", "task_claimed", "payload_too_large",
    "unsupported_media_type", "invalid_data", "server_error",
)

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: Schema) -> Schema:
    """``schema`` that also allows ``null`` (``type: [..., "null"]``, OpenAPI 3.1 style)."""
    result = dict(schema)
    result["type"] = [schema["type"], "null"]
    if "enum" in schema:
        result["enum"] = [*schema["enum"], None]
    return result


def _object(properties: dict[str, Schema], description: str, required: list[str] | None = None) -> Schema:
    """A closed object: every property listed (all required unless ``required`` says which)."""
    return {"type": "object", "description": description, "additionalProperties": False,
            "required": list(properties) if required is None else required, "properties": properties}


_TEXT: Schema = {"type": "string"}
# engine.text: no control characters (Unicode Cc) in text sent; a catatan may hold tab, LF and CR.
_LINE = r"^[^\u0000-\u001f\u007f-\u009f]*$"
_LINES = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
_DATETIME: Schema = {"type": "string", "format": "date-time",
                     "description": "ISO 8601 with offset, UTC (e.g. 2026-03-05T01:00:00+00:00)"}
_USERNAME: Schema = {"type": "string", "description": "login name, e.g. staf1.kecamatan"}

_TASK: dict[str, Schema] = {
    "id": {"type": "string", "description": "task id (the BPMN user task instance's UUID)"},
    "instance_id": {"type": "integer"},
    "instance_title": {"type": "string", "description": "the instance's perihal"},
    "unit_code": {"type": "string", "description": "unit (office) the instance runs in, e.g. kecamatan-contoh"},
    "process_id": {"type": "string", "description": "BPMN process id of the SOP the step belongs to "
                                                    "(a called SOP's id for a step of a call activity)"},
    "process_name": {"type": "string"},
    "step_id": {"type": "string", "description": "BPMN id of the user task, e.g. Step_04"},
    "step_name": {"type": "string"},
    "lane": {"type": "string", "description": "the Pelaksana (lane) the step belongs to"},
    "state": {"type": "string", "enum": ["ready", "completed", "cancelled"]},
    "iteration": {"type": "integer", "minimum": 1,
                  "description": "the nth time this step became ready in this instance"},
    "is_review": {"type": "boolean", "description": "a review step: completing it needs a keputusan"},
    "forms_team": _or_null({"type": "string", "description": "name of the team lane whose members this "
                                                             "step names (tim required on completing)"}),
    "ready_at": _DATETIME,
    "due_at": _or_null(_DATETIME | {"description": "due time from the step's Waktu on the unit's "
                                                   "working calendar; null without a Waktu"}),
    "waktu": _or_null({"type": "string", "description": "the step's Waktu as an ISO 8601 duration "
                                                        "(P1D = one working day)"}),
    "completed_at": _or_null(_DATETIME),
    "completed_by": _or_null(_USERNAME),
    "claimed_by": _or_null(_USERNAME | {"description": "who claimed this step of a shared lane (\"Saya "
                                                      "kerjakan\"); only they may complete it"}),
    "claimed_by_name": _or_null({"type": "string", "description": "the claimer's full name"}),
    "claimed_at": _or_null(_DATETIME),
    "overdue": {"type": "boolean", "description": "ready and past its due time"},
}

_STEP: dict[str, Schema] = {
    "row": _or_null({"type": "string", "description": "row label in the source SOP table"}),
    "text": _or_null({"type": "string", "description": "the Kegiatan as the SOP words it"}),
    "kelengkapan": _or_null(_TEXT),
    "waktu": _or_null({"type": "string", "description": "ISO 8601 duration"}),
    "waktu_text": _or_null({"type": "string", "description": "the Waktu as the SOP words it"}),
    "output": _or_null(_TEXT),
    "keterangan": _or_null(_TEXT),
}

_INSTANCE: dict[str, Schema] = {
    "id": {"type": "integer"},
    "title": {"type": "string", "description": "perihal"},
    "process_id": {"type": "string"},
    "process_name": {"type": "string"},
    "version": {"type": "integer", "minimum": 1, "description": "version of the SOP's diagram it runs"},
    "unit_code": {"type": "string"},
    "status": {"type": "string", "enum": ["running", "completed", "error"]},
    "started_at": _DATETIME,
    "completed_at": _or_null(_DATETIME),
    "ready_tasks": {"type": "array", "items": _ref("Task"), "description": "the steps waiting now"},
}

_LETTER: Schema = _object({
    "nomor_surat": {"type": "string"},
    "tanggal_surat": {"type": "string", "format": "date"},
}, "the incoming letter the SOP was started from")

_SCHEMAS: dict[str, Schema] = {
    "Task": _object(_TASK, "A user task (a step of a running SOP) as the inbox lists it."),
    "Step": _object(_STEP, "The SOP step a task carries out: Kegiatan text and Mutu Baku."),
    "Member": _object({"username": _USERNAME, "full_name": {"type": "string"}}, "A person of the unit."),
    "TaskDetail": _object(_TASK | {
        "step": {"anyOf": [_ref("Step"), {"type": "null"}]},
        "can_complete": {"type": "boolean", "description": "ready, the user holds its lane, and nobody else "
                                                           "claimed it"},
        "output_document": {"type": ["string", "null"],
                            "description": "the document the step's Output names; completing without it "
                                           "needs CompleteRequest.dokumen_di_luar_sistem"},
        "team_choices": {"type": "array", "items": _ref("Member"),
                         "description": "for a ready step that forms a team: the unit's people to pick "
                                        "from; otherwise empty"},
    }, "A user task with its step and what the user may do with it."),
    "Inbox": _object({
        "tasks": {"type": "array", "items": _ref("Task"), "description": "soonest due first"},
        "total": {"type": "integer", "minimum": 0, "description": "ready tasks in all (without limit)"},
        "limit": {"type": "integer", "minimum": 1, "maximum": INBOX_PAGE},
        "sop": _or_null({"type": "string", "description": "the sop filter applied"}),
    }, "The ready tasks of the lanes the user holds, in every unit, and of the teams they are named to."),
    "Instance": _object(_INSTANCE, "A process instance: one run of an SOP in a unit."),
    "InstanceDetail": _object(_INSTANCE | {
        "letter": {"anyOf": [_ref("Letter"), {"type": "null"}]},
        "my_task_ids": {"type": "array", "items": {"type": "string"},
                        "description": "ids of the ready tasks the user may complete"},
    }, "A process instance with the letter it started from and the user's part in it."),
    "Letter": _LETTER,
    "HistoryEntry": _object({
        "id": {"type": "integer"},
        "occurred_at": _DATETIME,
        "kind": {"type": "string", "enum": list(AUDIT_KINDS)},
        "actor": _or_null(_USERNAME),
        "process_id": _or_null(_TEXT),
        "step_id": _or_null(_TEXT),
        "step_name": _or_null(_TEXT),
        "keputusan": _or_null({"type": "string", "enum": list(KEPUTUSAN)}),
        "catatan": _or_null(_TEXT),
        "data": {"type": "object", "description": "details by kind, e.g. the input of instance_started, "
                                                  "the due time of task_ready, the members of team_formed"},
        "waktu": _or_null({"type": "string", "description": "task_completed: the step's Waktu (ISO 8601)"}),
        "working_minutes": _or_null({"type": "integer", "description": "task_completed: working minutes "
                                     "from ready to completed on the unit's calendar"}),
        "on_time": _or_null({"type": "boolean", "description": "task_completed: completed by its due time"}),
        "task_id": _or_null({"type": "string", "description": "the user task the event concerns, if any"}),
    }, "One audit event of an instance."),
    "History": _object({
        "instance_id": {"type": "integer"},
        "entries": {"type": "array", "items": _ref("HistoryEntry"), "description": "oldest first"},
        "names": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "full names of the actors, by username"},
    }, "The audit history of an instance (append-only)."),
    "Startable": _object({
        "process_id": {"type": "string"},
        "name": {"type": "string"},
        "unit_codes": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                       "description": "units where the user may start it"},
        "starts_from_letter": {"type": "boolean",
                               "description": "nomor_surat and tanggal_surat are required to start it"},
    }, "An SOP the user may start: its first step belongs to a lane they hold."),
    "ProcessList": _object({"processes": {"type": "array", "items": _ref("Startable")}},
                           "The SOPs the user may start, by name."),
    "CsrfToken": _object({
        "csrf_token": {"type": "string"},
        "header": {"type": "string", "const": CSRF_HEADER, "description": "the header to send it in"},
    }, "A CSRF token for this session's POST requests."),
    "CompleteRequest": {
        "type": "object", "additionalProperties": False,
        "description": "Completes a ready task. Refused with 422 (error.fields names the field; nothing is "
                       "changed): keputusan missing on a review step (Task.is_review), or given on a step "
                       "that is not a review; catatan missing or blank with keputusan \"tidak\"; tim "
                       "missing or empty on a step that forms a team (Task.forms_team), given on any other "
                       "step, or naming someone who is not of the unit; a text with a control character "
                       "(catatan may span lines: tab, LF and CR are allowed) or a lone surrogate; a field "
                       "not listed here, or one given twice in the object; no dokumen_di_luar_sistem on a "
                       "step whose Output names a document (TaskDetail.output_document): the API takes no "
                       "file, so the reason it is handed over outside Alur is required (error.fields.dokumen).",
        "properties": {
            "keputusan": _or_null({"type": "string", "enum": list(KEPUTUSAN),
                                   "description": "review steps only: setuju, or tidak (with a catatan)"}),
            "catatan": _or_null({"type": "string", "maxLength": CATATAN_MAX, "pattern": _LINES,
                                 "description": "required (not blank) with keputusan tidak"}),
            "tim": _or_null({"type": "array", "items": _USERNAME | {"pattern": _LINE, "maxLength": ID_MAX},
                             "description": "steps that form a team only: usernames of the unit's people"}),
            "dokumen_di_luar_sistem": _or_null({"type": "string", "maxLength": 500, "pattern": _LINES,
                                                "description": "why the Output document is handed over outside "
                                                               "Alur (kept in the history for auditors)"}),
        },
    },
    "CompleteResult": _object({"task": _ref("Task"), "instance": _ref("Instance")},
                              "The completed task and its instance afterwards."),
    "StartRequest": {
        "type": "object", "additionalProperties": False, "required": ["process_id", "title"],
        "description": "Starts an SOP. A process_id the user may not start is 404. Refused with 422 "
                       "(error.fields names the field; nothing is started): title blank; unit_code left "
                       "out when the user may start the SOP in more than one unit, or not one of its "
                       "Startable.unit_codes; nomor_surat or tanggal_surat missing for an SOP that "
                       "starts from a letter (Startable.starts_from_letter), or given for one that does "
                       "not; a text with a control character or a lone surrogate; a field not listed "
                       "here, or one given twice in the object.",
        "properties": {
            "process_id": {"type": "string", "minLength": 1, "maxLength": ID_MAX, "pattern": _LINE,
                           "description": "an SOP of GET /processes"},
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX, "pattern": _LINE,
                      "description": "perihal; not blank"},
            "unit_code": _or_null({"type": "string", "maxLength": ID_MAX, "pattern": _LINE,
                                   "description": "one of the SOP's Startable.unit_codes"}),
            "nomor_surat": _or_null({"type": "string", "minLength": 1, "maxLength": NOMOR_SURAT_MAX,
                                     "pattern": _LINE, "description": "letter SOPs only: the letter's number"}),
            "tanggal_surat": _or_null({"type": "string", "format": "date",
                                       "description": "letter SOPs only: the letter's date, YYYY-MM-DD"}),
        },
    },
    "CurrentStep": _object({
        "task_id": {"type": "string"},
        "name": {"type": "string", "description": "the step's name"},
        "lane": {"type": "string", "description": "its Pelaksana"},
        "due_at": _or_null(_DATETIME),
        "overdue": {"type": "boolean", "description": "past its due time"},
        "claimed_by": _or_null({"type": "string", "description": "full name of who claimed it"}),
        "holders": {"type": "array", "items": {"type": "string"},
                    "description": "full names of who may complete it"},
    }, "A ready step of a case and who holds it."),
    "Case": _object({
        "id": {"type": "integer"},
        "title": {"type": "string", "description": "perihal"},
        "process_id": {"type": "string"},
        "process_name": {"type": "string"},
        "unit_code": {"type": "string"},
        "unit_name": {"type": "string"},
        "status": {"type": "string", "enum": ["running", "completed", "error"]},
        "started_at": _DATETIME,
        "completed_at": _or_null(_DATETIME),
        "started_by": {"type": "string", "description": "full name of the starter"},
        "due_at": _or_null(_DATETIME | {"description": "earliest due time of its ready steps"}),
        "late": {"type": "boolean", "description": "a step was completed late or is past due"},
        "late_steps": {"type": "integer", "minimum": 0},
        "tidak": {"type": "integer", "minimum": 0, "description": "review answers \"tidak\" (rework)"},
        "steps": {"type": "array", "items": _ref("CurrentStep"), "description": "its ready steps"},
    }, "One instance of a cases list."),
    "CaseList": _object({
        "cases": {"type": "array", "items": _ref("Case")},
        "next": _or_null({"type": "string", "description": "the setelah of the next page; null on the last"}),
        "daftar": {"type": "string", "enum": ["terlibat", "mulai", "unit"]},
        "lists": {"type": "array", "items": {"type": "string", "enum": ["terlibat", "mulai", "unit"]},
                  "description": "the lists offered to the user (unit: heads, secretaries, auditors)"},
    }, "One page of a cases list."),
    "Claim": _object({
        "shared": {"type": "boolean", "description": "more than one person holds the step's lane"},
        "claimed_by": _or_null(_USERNAME),
        "claimed_by_name": _or_null({"type": "string"}),
        "claimed_at": _or_null(_DATETIME),
        "mine": {"type": "boolean"},
        "can_claim": {"type": "boolean"},
        "can_release": {"type": "boolean"},
        "can_reassign": {"type": "boolean", "description": "the user is the head of the step's unit"},
        "holders": {"type": "array", "items": _ref("Member"), "description": "who may complete it"},
    }, "Who works on a step of a shared lane, and what the user may do about it."),
    "ReassignRequest": {
        "type": "object", "additionalProperties": False, "required": ["kepada"],
        "description": "Gives the step to another holder of its lane (the unit's head only). 422: kepada "
                       "blank, not a holder of the lane, or already working on it.",
        "properties": {"kepada": {"type": "string", "minLength": 1, "maxLength": ID_MAX, "pattern": _LINE,
                                  "description": "username of a holder of the lane"}},
    },
    "Error": _object({"error": _object({
        "code": {"type": "string", "enum": list(ERROR_CODES)},
        "message": {"type": "string", "description": "for people, Bahasa Indonesia"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "422 only: what is wrong, by request field"},
    }, "what went wrong", required=["code", "message"])}, "Every error answer."),
}


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_RESPONSES: dict[str, Schema] = {
    "BadRequest": _error("bad_request: the body is not valid JSON; csrf_failed: the X-CSRFToken header "
                         "is missing or wrong (or, over HTTPS, the Referer is not this site)."),
    "Unauthenticated": _error("unauthenticated: no valid login session. The API never redirects to "
                              "the login page."),
    "NotFound": _error("not_found: it does not exist, or it is outside the user's lanes, units and "
                       "teams — the same answer for both; the attempt is logged."),
    "Conflict": _error("task_already_completed: the task is no longer ready (a second submit, or "
                       "someone else was first); stale_instance: the instance changed meanwhile; "
                       "task_claimed: someone else claimed the step (\"sedang dikerjakan oleh ...\"). "
                       "Nothing was changed."),
    "UnsupportedMediaType": _error("unsupported_media_type: the body is not sent as application/json."),
    "Invalid": _error("invalid_data: a parameter or field is wrong (error.fields names it and says what "
                      "is wrong; the request body's schema lists the reasons), or the engine refused the "
                      "data (e.g. the unit has no one for a lane of the SOP). Nothing was changed."),
    "PayloadTooLarge": _error("payload_too_large: the request body is larger than the upload limit "
                              "(ALUR_UPLOAD_MAX_BYTES) plus 1 MiB."),
    "ServerError": _error("server_error."),
}


def _op(operation_id: str, summary: str, ok: Schema, *errors: str, post: bool = False,
        body: str | None = None, parameters: list[Schema] | None = None) -> Schema:
    """One operation: ``ok`` is its success response (status -> response object)."""
    responses: dict[str, Schema] = dict(ok)
    status_of = {"BadRequest": "400", "Unauthenticated": "401", "NotFound": "404", "Conflict": "409",
                 "PayloadTooLarge": "413", "UnsupportedMediaType": "415", "Invalid": "422"}
    for name in ("Unauthenticated", *errors):
        responses[status_of[name]] = {"$ref": f"#/components/responses/{name}"}
    responses["5XX"] = {"$ref": "#/components/responses/ServerError"}
    operation: Schema = {"operationId": operation_id, "summary": summary,
                         "responses": dict(sorted(responses.items()))}
    if parameters:
        operation["parameters"] = parameters
    if post:
        operation["security"] = [{"sessionCookie": [], "csrfToken": []}]
    if body:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def _json(schema: str, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"},
            "description": "a task's UUID (lowercase); any other text is 404"}
_INSTANCE_ID = {"name": "instance_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                "description": "an instance's id; any other number is 404"}

def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_CASE_PARAMETERS = [
    _query("daftar", {"type": "string", "enum": ["terlibat", "mulai", "unit"], "default": "terlibat"},
           "terlibat: a step done or ready for the user; mulai: started by the user; unit: every instance of "
           "the units the user heads, is secretary of, or audits (422 for anyone else)"),
    _query("sop", {"type": "string", "maxLength": ID_MAX}, "a BPMN process id of a deployed SOP (422 otherwise)"),
    _query("status", {"type": "string", "enum": ["", "berjalan", "selesai"]}, "running or completed"),
    _query("dimulai_dari", {"type": "string", "format": "date"}, "started on or after this day (user's zone)"),
    _query("dimulai_sampai", {"type": "string", "format": "date"}, "started on or before this day"),
    _query("terlambat", {"type": "boolean"}, "true: only instances with a late step"),
    _query("perbaikan", {"type": "boolean"}, "true: only instances with a review answered tidak"),
    _query("teks", {"type": "string", "maxLength": 200, "pattern": _LINE}, "part of the title"),
    _query("urut", {"type": "string", "enum": ["terbaru", "terlama", "judul"], "default": "terbaru"},
           "newest started first, oldest first, or by title"),
    _query("setelah", {"type": "string", "maxLength": 400, "pattern": _LINE},
           "the next of the previous page (422 when it is not one)"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": CASE_PAGE, "default": CASE_PAGE},
           "at most this many instances"),
]

_PATHS: dict[str, Schema] = {
    "/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This document (no login needed).", "security": [],
        "responses": {"200": {"description": "the OpenAPI 3.1 document",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "5XX": {"$ref": "#/components/responses/ServerError"}}}},
    "/csrf-token": {"get": _op(
        "getCsrfToken", "A CSRF token for the X-CSRFToken header of POST requests.",
        {"200": _json("CsrfToken", "the token; valid as long as the login")})},
    "/processes": {"get": _op(
        "listProcesses", "The SOPs the user may start (their first step is in a lane the user holds).",
        {"200": _json("ProcessList", "startable SOPs")})},
    "/inbox": {"get": _op(
        "getInbox", "Ready tasks of the user's lanes and teams, soonest due first.",
        {"200": _json("Inbox", "the inbox")}, "Invalid",
        parameters=[
            {"name": "sop", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "only tasks of this SOP (BPMN process id); an id without tasks gives an "
                            "empty list"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": INBOX_PAGE, "default": INBOX_PAGE},
             "description": "at most this many tasks; outside 1..100 is 422"},
        ])},
    "/tasks/{task_id}": {"parameters": [_TASK_ID], "get": _op(
        "getTask", "One task (ready or done) of the user's lanes or done by the user.",
        {"200": _json("TaskDetail", "the task")}, "NotFound")},
    "/tasks/{task_id}/complete": {"parameters": [_TASK_ID], "post": _op(
        "completeTask", "Complete a ready task: Selesai, or Setuju/Tidak on a review step.",
        {"200": _json("CompleteResult", "completed")},
        "BadRequest", "NotFound", "Conflict", "PayloadTooLarge", "UnsupportedMediaType", "Invalid",
        post=True, body="CompleteRequest")},
    "/tasks/{task_id}/claim": {"parameters": [_TASK_ID], "post": _op(
        "claimTask", "Claim a ready step of a shared lane (\"Saya kerjakan\"): only the claimer may complete it.",
        {"200": _json("Claim", "claimed")}, "BadRequest", "NotFound", "Conflict", "Invalid", post=True)},
    "/tasks/{task_id}/release": {"parameters": [_TASK_ID], "post": _op(
        "releaseTask", "Release a step the user claimed (\"Lepaskan\").",
        {"200": _json("Claim", "released")}, "BadRequest", "NotFound", "Conflict", "Invalid", post=True)},
    "/tasks/{task_id}/reassign": {"parameters": [_TASK_ID], "post": _op(
        "reassignTask", "The unit's head gives a step of a shared lane to another holder (notified).",
        {"200": _json("Claim", "reassigned")}, "BadRequest", "NotFound", "Conflict", "PayloadTooLarge",
        "UnsupportedMediaType", "Invalid", post=True, body="ReassignRequest")},
    "/cases": {"get": _op(
        "listCases", "A cases list: instances the user started, takes part in, or (heads, secretaries, "
        "auditors) every instance of their units; filtered, sorted, keyset pages.",
        {"200": _json("CaseList", "one page")}, "Invalid", parameters=_CASE_PARAMETERS)},
    "/instances": {"post": _op(
        "startInstance", "Start an SOP in a unit (404 for an SOP the user may not start).",
        {"201": _json("InstanceDetail", "started") | {"headers": {"Location": {
            "description": "the new instance's URL", "schema": {"type": "string"}}}}},
        "BadRequest", "NotFound", "PayloadTooLarge", "UnsupportedMediaType", "Invalid", post=True,
        body="StartRequest")},
    "/instances/{instance_id}": {"parameters": [_INSTANCE_ID], "get": _op(
        "getInstance", "One instance in which the user holds a lane of a task (ready or done).",
        {"200": _json("InstanceDetail", "the instance")}, "NotFound")},
    "/instances/{instance_id}/history": {"parameters": [_INSTANCE_ID], "get": _op(
        "getHistory", "The instance's audit history: who, when, keputusan, catatan.",
        {"200": _json("History", "the history")}, "NotFound")},
}

_DESCRIPTION = f"""\
Alur's JSON API: the inbox, tasks, starting an SOP and an instance's history, with the
same rules as the web pages: a user sees only the tasks and instances of the lanes they
hold in their unit(s) and of the teams they were named to; anything else is 404 (the same
answer as for an id that does not exist) and the attempt is logged.

**Authentication**: the web app's login session. Log in through the login page
(`/masuk`); the browser then sends the session cookie. Without a valid session every
operation but this document answers 401 with a JSON error, never a redirect.

**CSRF**: every POST needs the session's CSRF token in the `{CSRF_HEADER}` header (get it
from `GET {API_PREFIX}/csrf-token`, or the `csrf_token` of any page's form); over HTTPS the
`Referer` must be this site too. Without it: 400, code `csrf_failed`.

Checks run in this order: login (401); CSRF (400); the task or SOP (404 when it is not
the user's, 409 when the task is no longer ready); the body (415 not JSON, 400 broken
JSON, 422 wrong fields — to start an SOP, a body without a valid `process_id` is 422
before the SOP is looked up).

**Text** sent (perihal, catatan, nomor surat, usernames) may not hold control characters
(Unicode Cc; a catatan may hold tab, LF and CR) or lone surrogates, nor be longer than its
`maxLength`: 422 naming the field. A key given twice in one JSON object is 422 too (it would
otherwise be read one way silently). **Ids**: an instance id is 1..2147483647 and a task id a
lowercase UUID; any other is 404, as an id that does not exist. A body larger than the
upload limit is 413.

**Errors**: `{{"error": {{"code": ..., "message": ...}}}}`, the message in Bahasa Indonesia;
422 adds `fields` (what is wrong, by request field). Times are ISO 8601 in UTC; show them
in the unit's time zone.
"""


def document(*, cookie_name: str) -> Schema:
    """The OpenAPI 3.1 document; ``cookie_name`` is the session cookie's name (app setting)."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "Alur API", "version": "1.0.0", "description": _DESCRIPTION},
        "servers": [{"url": API_PREFIX}],
        "security": [{"sessionCookie": []}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "responses": _RESPONSES,
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": cookie_name,
                                  "description": "Flask-Login session, set by logging in at /masuk"},
                "csrfToken": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
                              "description": f"the session's CSRF token (GET {API_PREFIX}/csrf-token)"},
            },
        },
    })
