"""The JSON API under ``/api/v1``: inbox, tasks, completing, claiming, starting an SOP, history, cases.

The same login session (the Flask-Login cookie) and the same authorization as
the pages (``web.access``): a task, instance or SOP outside the user's lanes,
units and teams is 404 — the answer for an id that does not exist — and the
attempt is logged. Described by the OpenAPI 3.1 document at
``/api/v1/openapi.json`` (``web.openapi``), the one route open without a login.

Checks run in this order: no login -> 401 (JSON, never a redirect to the login
page); a POST without the session's CSRF token in the ``X-CSRFToken`` header ->
400 (Flask-WTF; the blueprint is exempt from the app-wide check so that the
login is checked first); the task or SOP -> 404 when it is not the user's, 409
when the task is no longer ready; then the body -> 415 (not JSON), 400 (broken
JSON), 422 (wrong fields; to start an SOP, the body and its ``process_id`` are
read before the SOP is looked up). Errors are JSON ``{"error": {"code",
"message"}}`` from ``web.errors``; messages are Bahasa Indonesia.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from engine import cases, claims, documents, instances
from engine.cases import CaseRow
from engine.instances import INBOX_PAGE, KEPUTUSAN
from engine.text import text_problem
from engine.views import InstanceView, TaskView
from storage.errors import InvalidFieldError, InvalidTaskDataError, TaskAlreadyCompleted, TaskNotFound
from web import cases as cases_web
from web import openapi
from web.access import may_act, refuse, require_instance, require_task
from web.accounts import people, unit_members
from web.auth import now as clock_now
from web.db import transaction
from web.errors import api_error
from web.instances import startable

__all__ = ["bp", "init_app"]

bp = Blueprint("api", __name__, url_prefix=openapi.API_PREFIX)
_PUBLIC = frozenset({"api.openapi_document"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidRequest(Exception):
    """A request the API refuses with 422; ``fields`` maps request fields to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Data tidak valid: " + "; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


def init_app(app: Flask) -> None:
    """Register the API on ``app`` (after ``CSRFProtect``, which it checks itself, see above)."""
    app.extensions["csrf"].exempt(bp)
    app.register_blueprint(bp)


@bp.before_request
def _guard() -> None:
    if request.endpoint in _PUBLIC:
        return
    if not current_user.is_authenticated:
        abort(401)
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        current_app.extensions["csrf"].protect()  # POST/PUT/PATCH/DELETE only: 400 via web.errors


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(InvalidRequest)
def _on_invalid(exc: InvalidRequest) -> ResponseReturnValue:
    return api_error(422, str(exc), fields=exc.fields)


# --- reading request bodies -------------------------------------------------------------------

def _json_object(allowed: Collection[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON object body and a problem for each field not in ``allowed``.

    Raises 415 (not ``application/json``), 400 (not JSON) via Flask, and
    :class:`InvalidRequest` when the JSON is not an object.
    """
    data = request.get_json()
    if not isinstance(data, dict):
        raise InvalidRequest({"body": "Kirim sebuah objek JSON."})
    problems = {name: "Kolom ini tidak dikenal." for name in data if name not in allowed}
    twice = _keys_given_twice(request.get_data(as_text=True))
    problems.update({name: "Kolom ini dikirim lebih dari sekali: kirim satu nilai saja." for name in twice})
    return data, problems


def _keys_given_twice(body: str) -> set[str]:
    """Keys that appear twice in one object of the JSON ``body`` (RFC 8259 leaves their meaning open).

    ``{"keputusan": "tidak", "keputusan": "setuju"}`` would otherwise mean the last one, silently.
    """
    twice: set[str] = set()

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _value in items:
            (twice if key in seen else seen).add(key)
        return dict(items)

    json.loads(body, object_pairs_hook=pairs)
    return twice


def _text(data: dict[str, Any], problems: dict[str, str], name: str, *, max_length: int,
          required: bool = False, multiline: bool = False) -> str | None:
    """Field ``name`` as a string (None when absent or null); a problem when wrong.

    Wrong: not a string, blank when ``required``, or what ``engine.text`` refuses
    (a control character — tab and line breaks allowed when ``multiline`` — or
    more than ``max_length`` characters).
    """
    value = data.get(name)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            problems[name] = "Wajib diisi."
        return None
    if not isinstance(value, str):
        problems[name] = "Harus berupa teks."
    elif (problem := text_problem(value, max_length=max_length, multiline=multiline)) is not None:
        problems[name] = problem + "."
    else:
        return value
    return None


def _usernames(data: dict[str, Any], problems: dict[str, str], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems[name] = "Harus berupa daftar nama pengguna."
        return None
    wrong = next(filter(None, (text_problem(v, max_length=openapi.ID_MAX) for v in value)), None)
    if wrong is not None:
        problems[name] = "Nama pengguna: " + wrong + "."
        return None
    return value


def _date(data: dict[str, Any], problems: dict[str, str], name: str) -> date | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    problems[name] = "Tanggal dalam bentuk TTTT-BB-HH, mis. 2026-03-05."
    return None


# --- answers ----------------------------------------------------------------------------------

def _task_json(task: TaskView, now: datetime) -> dict[str, Any]:
    overdue = task.state == "ready" and task.due_at is not None and task.due_at < now
    return {**task.to_json(), "overdue": overdue}


def _instance_json(view: InstanceView, now: datetime) -> dict[str, Any]:
    return {**view.to_json(), "ready_tasks": [_task_json(t, now) for t in view.ready_tasks]}


def _instance_detail(session: Session, view: InstanceView, input_data: dict[str, Any] | None) -> dict[str, Any]:
    """The instance with its incoming letter (from the start's input data) and the user's ready tasks."""
    mine = [t.id for t in view.ready_tasks if current_user.username in instances.candidates(session, t.id)]
    data = input_data or {}
    letter = ({"nomor_surat": data["nomor_surat"], "tanggal_surat": data["tanggal_surat"]}
              if data.get("nomor_surat") and data.get("tanggal_surat") else None)
    return {**_instance_json(view, clock_now()), "letter": letter, "my_task_ids": mine}


# --- routes -----------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API (no login needed)."""
    document = openapi.document(cookie_name=current_app.config["SESSION_COOKIE_NAME"])
    return current_app.response_class(json.dumps(document, ensure_ascii=False, indent=1),
                                      mimetype="application/json")


@bp.get("/csrf-token")
def csrf_token() -> ResponseReturnValue:
    """This session's CSRF token, for the ``X-CSRFToken`` header of POST requests."""
    return jsonify(csrf_token=generate_csrf(), header=openapi.CSRF_HEADER)


@bp.get("/processes")
def processes() -> ResponseReturnValue:
    """The SOPs the user may start, by name."""
    with transaction() as session:
        sops = startable(session, current_user)
    return jsonify(processes=[{"process_id": s.process_id, "name": s.name, "unit_codes": list(s.unit_codes),
                               "starts_from_letter": s.letter} for s in sops])


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    """Ready tasks of the user's lanes and teams, soonest due first: ``?sop=``, ``?limit=`` (1..100)."""
    sop = request.args.get("sop") or None
    raw_limit = request.args.get("limit", str(INBOX_PAGE))
    problems: dict[str, str] = {}
    if sop is not None and (problem := text_problem(sop, max_length=openapi.ID_MAX)) is not None:
        problems["sop"] = problem + "."
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= INBOX_PAGE:
        problems["limit"] = f"Bilangan bulat 1 sampai {INBOX_PAGE}."
    if problems:
        raise InvalidRequest(problems)
    limit = int(raw_limit)
    with transaction() as session:
        tasks = instances.inbox(session, current_user.username, process_id=sop, limit=limit, now=clock_now())
        total = instances.inbox_count(session, current_user.username, process_id=sop, now=clock_now())
    now = clock_now()
    return jsonify(tasks=[_task_json(t, now) for t in tasks], total=total, limit=limit, sop=sop)


@bp.get("/tasks/<task_id:task_id>")
def task(task_id: str) -> ResponseReturnValue:
    """One task the user may see, with its step and what the user may do with it."""
    with transaction() as session:
        view = require_task(session, current_user, task_id)
        step = instances.step_of_task(session, task_id)
        ready = view.state == "ready"
        can_complete = (ready and current_user.username in instances.candidates(session, task_id)
                        and view.claimed_by in (None, current_user.username))  # engine.claims
        choices = unit_members(session, view.unit_code) if ready and view.forms_team else []
    step_json = None if step is None else {
        "row": step.row, "text": step.text, "kelengkapan": step.kelengkapan, "waktu": step.waktu,
        "waktu_text": step.waktu_text, "output": step.output, "keterangan": step.keterangan}
    return jsonify({**_task_json(view, clock_now()), "step": step_json, "can_complete": can_complete,
                    "output_document": documents.output_document(step),
                    "team_choices": [{"username": m.username, "full_name": m.full_name} for m in choices]})


@bp.post("/tasks/<task_id:task_id>/complete")
def complete(task_id: str) -> ResponseReturnValue:
    """Complete a ready task: ``{keputusan?, catatan?, tim?}`` (see ``CompleteRequest``).

    One transaction: the holder check, the task's state, the completion and the
    answer's view. A user who holds the lane may read the task, so the reading
    rule (``web.access.require_task``) is only asked for those who do not.
    """
    with transaction() as session:
        try:
            acts = may_act(session, current_user, task_id)
        except TaskNotFound:
            refuse(current_user, "task", task_id)
        if not acts:
            require_task(session, current_user, task_id)  # 404 unless the user may at least read it
            refuse(current_user, "task", task_id)  # a reader (auditor, unit head) never acts
        view = instances.get_task(session, task_id)
        if view.state != "ready":
            raise TaskAlreadyCompleted(task_id)
        at = clock_now()
        claims.check_may_complete_task(session, task_id, current_user.username, at)  # claimed: 409 before all else
        keputusan, catatan, team, reason = _completion_input(session, view, task_id)
        after = instances.complete_task(session, task_id, username=current_user.username, now=at,
                                        keputusan=keputusan, catatan=catatan, team=team,
                                        data={documents.OUTSIDE_REASON_KEY: reason} if reason else None)
        done = instances.get_task(session, task_id)
    now = clock_now()
    return jsonify(task=_task_json(done, now), instance=_instance_json(after, now))


def _completion_input(session: Session, view: TaskView,
                      task_id: str) -> tuple[str | None, str | None, list[str] | None, str | None]:
    """``(keputusan, catatan, tim, dokumen_di_luar_sistem)`` of a completion request for task ``view``;
    ``InvalidRequest`` when bad."""
    data, problems = _json_object(("keputusan", "catatan", "tim", documents.OUTSIDE_REASON_KEY))
    keputusan = data.get("keputusan")
    if keputusan is not None and keputusan not in KEPUTUSAN:
        problems["keputusan"] = "Pilih \"setuju\" atau \"tidak\"."
    elif view.is_review and keputusan is None:
        problems["keputusan"] = "Langkah pemeriksaan: pilih \"setuju\" atau \"tidak\"."
    elif not view.is_review and keputusan is not None:
        problems["keputusan"] = "Langkah ini bukan langkah pemeriksaan: keputusan tidak dipakai."
    catatan = _text(data, problems, "catatan", max_length=openapi.CATATAN_MAX, multiline=True)
    if keputusan == "tidak" and not (catatan or "").strip() and "catatan" not in problems:
        problems["catatan"] = "Catatan wajib diisi bila keputusan Tidak: tulis apa yang harus diperbaiki."
    reason = _text(data, problems, documents.OUTSIDE_REASON_KEY, max_length=documents.OUTSIDE_REASON_MAX,
                   multiline=True)
    team = _usernames(data, problems, "tim")
    if view.forms_team and not team and "tim" not in problems:
        problems["tim"] = "Pilih sedikitnya satu anggota tim."
    elif not view.forms_team and team:
        problems["tim"] = "Langkah ini tidak membentuk tim."
    if documents.OUTSIDE_REASON_KEY not in problems:
        try:  # the API takes no file: a step whose Output names a document needs the reason
            step = instances.step_of_task(session, task_id)
            reason = documents.check_output(step, has_document=False, reason=reason)
        except InvalidFieldError as exc:
            problems[exc.field] = exc.problem
    if problems:
        raise InvalidRequest(problems)
    return keputusan, catatan, team, reason


@bp.post("/instances")
def start() -> ResponseReturnValue:
    """Start an SOP the user may start (see ``StartRequest``); 201 with the new instance."""
    data, problems = _json_object(("process_id", "title", "unit_code", "nomor_surat", "tanggal_surat"))
    process_id = _text(data, problems, "process_id", max_length=openapi.ID_MAX, required=True)
    if process_id is None:
        raise InvalidRequest(problems)
    with transaction() as session:
        sop = next((s for s in startable(session, current_user) if s.process_id == process_id), None)
    if sop is None:
        refuse(current_user, "process", process_id)
    title = _text(data, problems, "title", max_length=openapi.TITLE_MAX, required=True)
    unit_code = _text(data, problems, "unit_code", max_length=openapi.ID_MAX)
    nomor = _text(data, problems, "nomor_surat", max_length=openapi.NOMOR_SURAT_MAX)
    tanggal = _date(data, problems, "tanggal_surat")
    if unit_code is None and len(sop.unit_codes) == 1 and "unit_code" not in problems:
        unit_code = sop.unit_codes[0]
    if unit_code not in sop.unit_codes and "unit_code" not in problems:
        problems["unit_code"] = f"Pilih salah satu: {', '.join(sop.unit_codes)}."
    if sop.letter:
        if nomor is None or not nomor.strip():
            problems["nomor_surat"] = "Isi nomor surat masuk."
        if tanggal is None:
            problems["tanggal_surat"] = "Isi tanggal surat masuk."
    else:
        problems.update({name: "SOP ini tidak dimulai dari surat masuk."
                         for name in ("nomor_surat", "tanggal_surat") if data.get(name) is not None})
    if problems:
        raise InvalidRequest(problems)
    letter = ({"nomor_surat": nomor.strip(), "tanggal_surat": tanggal.isoformat()}
              if sop.letter and nomor and tanggal else {})
    with transaction() as session:
        view = instances.start_instance(session, process_id=sop.process_id, unit_code=unit_code or "",
                                        title=title or "", username=current_user.username, input_data=letter,
                                        now=clock_now())
        body = _instance_detail(session, view, letter)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.instance", instance_id=view.id)
    return response


@bp.get("/instances/<id:instance_id>")
def instance(instance_id: int) -> ResponseReturnValue:
    """One instance the user may see, with its letter and the user's ready tasks in it."""
    with transaction() as session:
        require_instance(session, current_user, instance_id)
        view = instances.get_instance(session, instance_id)
        started = next((e for e in instances.history_of(session, instance_id) if e.kind == "instance_started"),
                       None)
        body = _instance_detail(session, view, started.data.get("input") if started is not None else None)
    return jsonify(body)


@bp.get("/instances/<id:instance_id>/history")
def history(instance_id: int) -> ResponseReturnValue:
    """The instance's audit history, oldest first, with the actors' full names."""
    with transaction() as session:
        require_instance(session, current_user, instance_id)
        entries = instances.history_of(session, instance_id)
        names = people(session, {e.actor for e in entries if e.actor})
    return jsonify(instance_id=instance_id, entries=[e.to_json() for e in entries], names=names)


# --- cases ("Proses") and claims ------------------------------------------------------------------

_CASE_PARAMS = ("daftar", "sop", "status", "dimulai_dari", "dimulai_sampai", "terlambat", "perbaikan", "teks",
                "urut", "setelah", "limit")


def _case_args() -> tuple[MultiDict[str, str], int]:
    """The query as the list form reads it (booleans ``true``/``false`` -> ``y``/absent) and the page size.

    Raises :class:`InvalidRequest` for a boolean or limit that is not one, or a parameter given twice.
    """
    problems: dict[str, str] = {}
    form: MultiDict[str, str] = MultiDict()
    for name in _CASE_PARAMS:
        values = request.args.getlist(name)
        if len(values) > 1:
            problems[name] = "Parameter ini dikirim lebih dari sekali: kirim satu nilai saja."
        elif values and name in ("terlambat", "perbaikan"):
            if values[0] not in ("true", "false"):
                problems[name] = "Isi true atau false."
            elif values[0] == "true":
                form[name] = "y"
        elif values and name in ("dimulai_dari", "dimulai_sampai") and not values[0]:
            problems[name] = "Tanggal kosong: isi YYYY-MM-DD atau jangan kirim parameter ini."
        elif values and name in ("daftar", "urut") and not values[0]:  # their enums hold no empty value
            problems[name] = "Nilai kosong: isi salah satu nilai yang didokumentasikan atau jangan kirim parameter ini."
        elif values and name != "limit":
            longest = 400 if name == "setelah" else openapi.ID_MAX  # a cursor holds a title and an id
            if (problem := text_problem(values[0], max_length=longest)) is not None:
                problems[name] = problem + "."
            form[name] = values[0]
    raw_limit = request.args.get("limit", str(cases_web.PAGE))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= cases_web.PAGE:
        problems["limit"] = f"Bilangan bulat 1 sampai {cases_web.PAGE}."
    if problems:
        raise InvalidRequest(problems)
    return form, int(raw_limit)


def _case_json(row: CaseRow) -> dict[str, Any]:
    return row.to_json()


@bp.get("/cases")
def case_list() -> ResponseReturnValue:
    """One page of a cases list (``daftar``: terlibat, mulai, unit) with the filters of ``CaseList``."""
    args, limit = _case_args()
    with transaction() as session:
        form, query = cases_web.read_query(session, args)
        if query is None:
            raise InvalidRequest({name: "; ".join(str(e) for e in errors) for name, errors in form.errors.items()})
        try:
            rows, cursor = cases.page(session, current_user.username, query, after=args.get("setelah") or None,
                                      limit=limit)
        except InvalidTaskDataError as exc:
            raise InvalidRequest({"setelah" if "halaman" in str(exc) else "daftar": str(exc)}) from exc
        offered = cases.lists_for(session, current_user.username)
    return jsonify(cases=[_case_json(r) for r in rows], next=cursor, daftar=query.daftar, lists=list(offered))


def _claim_json(view: claims.ClaimView) -> dict[str, Any]:
    return {"shared": view.shared, "claimed_by": view.by, "claimed_by_name": view.by_name,
            "claimed_at": view.since.isoformat() if view.since else None, "mine": view.mine,
            "can_claim": view.can_claim, "can_release": view.can_release, "can_reassign": view.can_reassign,
            "holders": [{"username": u, "full_name": n} for u, n in view.holders]}


def _claim_action(task_id: str, act: Callable[[Session], claims.ClaimView]) -> ResponseReturnValue:
    """Run a claim action in one transaction, after the reading rule (404 for who may not read the task)."""
    with transaction() as session:
        require_task(session, current_user, task_id)
        return jsonify(_claim_json(act(session)))


@bp.post("/tasks/<task_id:task_id>/claim")
def claim(task_id: str) -> ResponseReturnValue:
    """Claim a ready step of a shared lane ("Saya kerjakan"); 409 when someone else has it."""
    return _claim_action(task_id, lambda session: claims.claim(session, task_id, username=current_user.username,
                                                               now=clock_now()))


@bp.post("/tasks/<task_id:task_id>/release")
def release(task_id: str) -> ResponseReturnValue:
    """Release the step the user claimed ("Lepaskan")."""
    return _claim_action(task_id, lambda session: claims.release(session, task_id, username=current_user.username,
                                                                 now=clock_now()))


@bp.post("/tasks/<task_id:task_id>/reassign")
def reassign(task_id: str) -> ResponseReturnValue:
    """The unit's head gives a step of a shared lane to another holder: ``{"kepada": username}``."""

    def act(session: Session) -> claims.ClaimView:
        data, problems = _json_object(("kepada",))
        to = _text(data, problems, "kepada", max_length=openapi.ID_MAX, required=True)
        if problems:
            raise InvalidRequest(problems)
        return claims.reassign(session, task_id, username=current_user.username, to_username=to or "", now=clock_now())

    return _claim_action(task_id, act)
