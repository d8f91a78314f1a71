"""The JSON API under /api/v1, checked against the OpenAPI document the app serves.

Every API call here goes through :class:`ApiClient`, which holds each answer to
the document (:class:`Contract`): the operation exists; its status is listed
for it; the body matches the listed schema (closed objects, ``date-time`` and
``date`` formats checked); listed headers are present; query parameters are
documented; and a request body that succeeded matches the request schema.

SOP Pelaporan Kinerja (Kecamatan): Step_01 Tim, Step_02 Kasubag Evapor, Step_03 Staf,
Step_04 Kasubag Evapor review ("Tidak" -> Step_03). SOP Perencanaan Kinerja
(Kecamatan): Step_01 Camat, Step_02 Sekretaris forms the Tim, Step_03 Tim.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from engine import instances
from engine.database import Database
from storage.demo import DEMO_ACCESS, DEMO_PASSWORD
from tests.support import AUDITORS, OVERSEERS, ROLE_HOLDERS, SOP_OF_UNIT
from tests.support import access_scene as _scene
from tests.support import advance_until as _advance
from tests.support import ready_task as _ready

API = "/api/v1"
KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
PERENCANAAN = "sop_perencanaan_kinerja_kecamatan"
EVALUASI = "sop_dokumen_evaluasi_kinerja_kecamatan"  # starts from an incoming letter
KASUBAG = "kasubag.evapor.kecamatan"
OUTSIDE = "Diserahkan langsung dalam rapat staf"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_DOC_URI = "urn:alur:openapi"
_FORMATS = FormatChecker()
_METHODS = ("get", "put", "post", "delete", "patch")


def _escape(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


class Contract:
    """The served OpenAPI document, and the check of one exchange against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(_DOC_URI, resource)
        self._routes = [(re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", t) + "$"), t)
                        for t in doc["paths"]]
        self.seen: set[tuple[str, str, int]] = set()

    def operations(self) -> set[tuple[str, str]]:
        """Every documented ``(METHOD, path template)``."""
        return {(m.upper(), t) for t, item in self.doc["paths"].items() for m in item if m in _METHODS}

    def validate(self, instance: Any, pointer: str) -> None:
        """Assert ``instance`` matches the schema at ``pointer`` in the document."""
        validator = Draft202012Validator({"$ref": f"{_DOC_URI}#{pointer}"}, registry=self._registry,
                                         format_checker=_FORMATS)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
        assert problems == [], f"{pointer}: {problems}"

    def _resolve(self, pointer: str) -> tuple[str, dict[str, Any]]:
        node: Any = self.doc
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        if "$ref" in node:
            return self._resolve(node["$ref"].removeprefix("#"))
        return pointer, node

    def check(self, method: str, url: str, body: Any, response: TestResponse) -> None:
        """Assert the answer ``response`` to ``method url`` (JSON ``body``) is as documented."""
        parts = urlsplit(url)
        assert parts.path.startswith(API + "/"), url
        found = next(((m, t) for regex, t in self._routes if (m := regex.match(parts.path[len(API):]))), None)
        if found is None or method.lower() not in self.doc["paths"][found[1]]:
            assert response.status_code in (404, 405), f"{method} {url}: no such operation"
            self.validate(response.get_json(), "/components/schemas/Error")
            return
        match, template = found
        item = self.doc["paths"][template]
        op_pointer = f"/paths/{_escape(template)}/{method.lower()}"
        operation = item[method.lower()]
        params = {(p["in"], p["name"]): p for p in [*item.get("parameters", []), *operation.get("parameters", [])]}
        assert {("path", name) for name in match.groupdict()} <= set(params), template
        for name in parse_qs(parts.query, keep_blank_values=True):
            assert ("query", name) in params, f"{method} {template}: undocumented ?{name}="
        status = response.status_code
        key = str(status) if str(status) in operation["responses"] else f"{str(status)[0]}XX"
        assert key in operation["responses"], f"{method} {template} answered {status}: not documented"
        pointer, documented = self._resolve(f"{op_pointer}/responses/{key}")
        assert response.mimetype in documented["content"], (method, template, response.mimetype)
        self.validate(response.get_json(), f"{pointer}/content/{_escape(response.mimetype)}/schema")
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{method} {template}: no {header} header"
        if status < 300:
            for name, value in match.groupdict().items():
                schema = params[("path", name)]["schema"]
                Draft202012Validator(schema, format_checker=_FORMATS).validate(
                    int(value) if schema["type"] == "integer" else value)
            if "requestBody" in operation:
                self.validate(body, f"{op_pointer}/requestBody/content/application~1json/schema")
        self.seen.add((method, template, status))


class ApiClient:
    """A test client for the API whose every answer is checked by the :class:`Contract`."""

    def __init__(self, client: FlaskClient, contract: Contract) -> None:
        self.client = client
        self.contract = contract
        self._token: str | None = None

    def get(self, path: str) -> TestResponse:
        """GET ``/api/v1{path}``."""
        response = self.client.get(API + path)
        self.contract.check("GET", API + path, None, response)
        return response

    def token(self) -> str:
        """This session's CSRF token, from the API."""
        if self._token is None:
            self._token = self.get("/csrf-token").get_json()["csrf_token"]
        return self._token

    def post(self, path: str, body: Any = None, *, csrf: bool | str = True, **raw: Any) -> TestResponse:
        """POST ``body`` as JSON (or ``raw`` client arguments) with this session's CSRF header."""
        headers = {"X-CSRFToken": self.token() if csrf is True else csrf} if csrf else {}
        sent = raw if raw else {"json": {} if body is None else body}
        response = self.client.post(API + path, headers=headers, **sent)
        self.contract.check("POST", API + path, None if raw else sent["json"], response)
        return response


def _login_client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = _CSRF.search(client.get("/masuk").get_data(as_text=True)).group(1)
    response = client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, username
    return client


@pytest.fixture
def contract(client: FlaskClient) -> Contract:
    """The document the app serves (no login needed)."""
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    contract = Contract(response.get_json())
    contract.check("GET", f"{API}/openapi.json", None, response)
    return contract


Login = Callable[[str], ApiClient]


@pytest.fixture
def login(app: Flask, contract: Contract) -> Login:
    """``login(username)``: a logged-in :class:`ApiClient` of its own."""
    return lambda username: ApiClient(_login_client(app, username), contract)


@pytest.fixture
def anonymous(app: Flask, contract: Contract) -> ApiClient:
    """An :class:`ApiClient` that has not logged in."""
    return ApiClient(app.test_client(), contract)


def _history_length(database: Database, instance_id: int) -> int:
    with database.transaction() as session:
        return len(instances.history_of(session, instance_id))


def _error(response: TestResponse) -> dict[str, Any]:
    error: dict[str, Any] = response.get_json()["error"]
    return error


# --- the document --------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_31(app: Flask, contract: Contract) -> None:
    doc = contract.doc
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["openapi"].startswith("3.1.")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["name"] == app.config["SESSION_COOKIE_NAME"]
    assert schemes["csrfToken"]["name"] in app.config["WTF_CSRF_HEADERS"]
    for method, template in contract.operations():
        operation = doc["paths"][template][method.lower()]
        if method == "POST":  # state changes need the CSRF header, and say so
            assert operation["security"] == [{"sessionCookie": [], "csrfToken": []}]
            assert {"400", "401"} <= set(operation["responses"])
        elif template != "/openapi.json":
            assert "401" in operation["responses"] and "security" not in operation
    assert {"date-time", "date"} <= set(_FORMATS.checkers)  # formats are really checked


def test_the_document_lists_exactly_the_api_routes(app: Flask, contract: Contract) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API):])
            routes |= {(m, template) for m in rule.methods - {"HEAD", "OPTIONS"}}
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule):
                (param,) = [p for p in contract.doc["paths"][template]["parameters"] if p["name"] == name]
                assert param["schema"]["type"] == ("integer" if converter == "id" else "string"), name
    assert routes == contract.operations()


# --- the happy path ------------------------------------------------------------------------------

def test_start_inbox_complete_review_and_history(app: Flask, login: Login, contract: Contract,
                                                 database: Database) -> None:
    tim = login("tim1.kecamatan")
    offered = {p["process_id"]: p for p in tim.get("/processes").get_json()["processes"]}
    assert offered[PELAPORAN]["unit_codes"] == [KECAMATAN] and not offered[PELAPORAN]["starts_from_letter"]

    started = tim.post("/instances", {"process_id": PELAPORAN, "title": "Laporan Kinerja Triwulan III 2026"})
    assert started.status_code == 201
    instance = started.get_json()
    assert started.headers["Location"] == f"{API}/instances/{instance['id']}"
    assert started.headers["Cache-Control"] == "no-store"
    assert (instance["title"], instance["unit_code"], instance["status"]) == (
        "Laporan Kinerja Triwulan III 2026", KECAMATAN, "running")
    (first,) = instance["ready_tasks"]
    assert instance["my_task_ids"] == [first["id"]] and instance["letter"] is None

    inbox = tim.get(f"/inbox?sop={PELAPORAN}&limit=10").get_json()
    assert [t["id"] for t in inbox["tasks"]] == [first["id"]]
    assert (inbox["total"], inbox["limit"], inbox["sop"]) == (1, 10, PELAPORAN)
    task = tim.get(f"/tasks/{first['id']}").get_json()
    assert task["can_complete"] and not task["is_review"] and task["team_choices"] == []
    assert task["step"]["text"].startswith("Merumuskan bahan laporan kinerja")
    assert task["step"]["waktu_text"] == "1 hari" and task["due_at"] is not None

    assert task["output_document"] == "Bahan Penyusunan Laporan"
    missing = tim.post(f"/tasks/{first['id']}/complete", {"catatan": "Bahan dari 12 kelurahan"})
    assert missing.status_code == 422 and set(_error(missing)["fields"]) == {"dokumen"}  # no file in the API
    done = tim.post(f"/tasks/{first['id']}/complete",
                    {"catatan": "Bahan dari 12 kelurahan", "dokumen_di_luar_sistem": OUTSIDE}).get_json()
    assert done["task"]["state"] == "completed" and done["task"]["completed_by"] == "tim1.kecamatan"
    assert [t["step_id"] for t in done["instance"]["ready_tasks"]] == ["Step_02"]
    assert tim.get("/inbox").get_json()["total"] == 0

    kasubag, staf = login(KASUBAG), login("staf1.kecamatan")
    step_02 = kasubag.get("/inbox").get_json()["tasks"][0]
    assert kasubag.post(f"/tasks/{step_02['id']}/complete", {"dokumen_di_luar_sistem": OUTSIDE}).status_code == 200
    step_03 = staf.get("/inbox").get_json()["tasks"][0]
    assert staf.post(f"/tasks/{step_03['id']}/complete",
                     {"catatan": None, "dokumen_di_luar_sistem": OUTSIDE}).status_code == 200
    review = kasubag.get("/inbox").get_json()["tasks"][0]
    assert review["step_id"] == "Step_04" and kasubag.get(f"/tasks/{review['id']}").get_json()["is_review"]

    rejected = kasubag.post(f"/tasks/{review['id']}/complete",
                            {"keputusan": "tidak", "catatan": "Tabel capaian belum lengkap"})
    assert rejected.status_code == 200
    (again,) = rejected.get_json()["instance"]["ready_tasks"]
    assert (again["step_id"], again["iteration"]) == ("Step_03", 2)
    assert [t["id"] for t in staf.get("/inbox").get_json()["tasks"]] == [again["id"]]
    assert staf.get(f"/instances/{instance['id']}").get_json()["my_task_ids"] == [again["id"]]

    history = staf.get(f"/instances/{instance['id']}/history").get_json()
    completed = [(e["actor"], e["step_id"], e["keputusan"], e["catatan"])
                 for e in history["entries"] if e["kind"] == "task_completed"]
    assert completed == [
        ("tim1.kecamatan", "Step_01", None, "Bahan dari 12 kelurahan"), (KASUBAG, "Step_02", None, None),
        ("staf1.kecamatan", "Step_03", None, None), (KASUBAG, "Step_04", "tidak", "Tabel capaian belum lengkap")]
    assert history["names"][KASUBAG] == "Frans Kambu, S.E."
    first_done = next(e for e in history["entries"] if e["kind"] == "task_completed")
    assert first_done["data"]["data"] == {"dokumen_di_luar_sistem": OUTSIDE}  # for auditors
    assert history["entries"][0]["kind"] == "instance_started"
    assert _ready(database, instance["id"]).id == again["id"]
    # The Staf lane has two holders: claim, reassign (the Camat), release; the cases lists.
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=7)  # the app's clock, not the machine's
    app.config["ALUR_CLOCK"] = lambda: moment
    claimed = staf.post(f"/tasks/{again['id']}/claim").get_json()
    assert claimed["claimed_by"] == "staf1.kecamatan"
    assert datetime.fromisoformat(claimed["claimed_at"]) == moment
    camat = login("camat.contoh")
    assert camat.post(f"/tasks/{again['id']}/reassign", {"kepada": "staf2.kecamatan"}).status_code == 200
    assert login("staf2.kecamatan").post(f"/tasks/{again['id']}/release").get_json()["claimed_by"] is None
    listed = camat.get("/cases?daftar=unit").get_json()["cases"]
    assert instance["id"] in [c["id"] for c in listed]
    # this test alone exercises every documented operation successfully
    assert {(m, t) for m, t, status in contract.seen if status < 300} == contract.operations()


def test_start_from_an_incoming_letter(login: Login) -> None:
    camat = login("camat.contoh")
    offered = {p["process_id"]: p for p in camat.get("/processes").get_json()["processes"]}
    assert offered[EVALUASI]["starts_from_letter"]
    missing = camat.post("/instances", {"process_id": EVALUASI, "title": "Evaluasi Kinerja 2026"})
    assert missing.status_code == 422 and set(_error(missing)["fields"]) == {"nomor_surat", "tanggal_surat"}
    wrong_date = camat.post("/instances", {"process_id": EVALUASI, "title": "Evaluasi Kinerja 2026",
                                           "nomor_surat": "800/115/BAG.ORG", "tanggal_surat": "05-03-2026"})
    assert wrong_date.status_code == 422 and set(_error(wrong_date)["fields"]) == {"tanggal_surat"}

    started = camat.post("/instances", {"process_id": EVALUASI, "title": "Evaluasi Kinerja 2026",
                                        "unit_code": KECAMATAN, "nomor_surat": "800/115/BAG.ORG",
                                        "tanggal_surat": "2026-03-05"})
    assert started.status_code == 201
    letter = {"nomor_surat": "800/115/BAG.ORG", "tanggal_surat": "2026-03-05"}
    assert started.get_json()["letter"] == letter
    assert camat.get(f"/instances/{started.get_json()['id']}").get_json()["letter"] == letter


@pytest.mark.parametrize(("body", "fields"), [
    ({"title": "Laporan"}, {"process_id"}),
    ({"process_id": PELAPORAN, "title": "   "}, {"title"}),
    ({"process_id": PELAPORAN, "title": "x" * 256}, {"title"}),
    ({"process_id": PELAPORAN, "title": 7}, {"title"}),
    ({"process_id": PELAPORAN, "title": "Laporan", "perihal": "?"}, {"perihal"}),
    ({"process_id": PELAPORAN, "title": "Laporan", "unit_code": "dinas-kominfo"}, {"unit_code"}),
    ({"process_id": PELAPORAN, "title": "Laporan", "nomor_surat": "1/2026"}, {"nomor_surat"}),
    ([PELAPORAN], {"body"}),
])
def test_invalid_start_is_422_and_starts_nothing(login: Login, database: Database, body: Any,
                                                 fields: set[str]) -> None:
    tim = login("tim1.kecamatan")
    response = tim.post("/instances", body)
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_data" and set(_error(response)["fields"]) == fields
    with database.transaction() as session:
        assert instances.inbox_count(session, "tim1.kecamatan") == 0


@pytest.mark.parametrize(("username", "process_id"), [
    ("tim1.kecamatan", "sop_penyusunan_lakip_dinas"),  # another kind of unit
    ("camat.contoh", PELAPORAN),                       # its first step is not the Camat's
    ("tim1.kecamatan", "sop_yang_tidak_ada"),
])
def test_starting_an_sop_that_is_not_the_users_is_404_and_logged(
        login: Login, caplog: pytest.LogCaptureFixture, database: Database, username: str,
        process_id: str) -> None:
    client = login(username)
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    response = client.post("/instances", {"process_id": process_id, "title": "Laporan"})
    assert response.status_code == 404 and _error(response)["code"] == "not_found"
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        f"refused: user={username} process={process_id} POST {API}/instances from 127.0.0.1"]
    with database.transaction() as session:
        assert instances.inbox_count(session, username) == 0


# --- authentication and CSRF ---------------------------------------------------------------------

def test_anonymous_calls_get_401_json_not_a_login_redirect(anonymous: ApiClient, contract: Contract) -> None:
    for method, template in sorted(contract.operations()):
        path = template.format(task_id="00000000-0000-0000-0000-000000000000", instance_id=1)
        if template == "/openapi.json":
            assert anonymous.get(path).status_code == 200
            continue
        answers = ([anonymous.get(path)] if method == "GET" else
                   [anonymous.post(path, {}, csrf="not-a-token"), anonymous.post(path, {}, csrf=False)])
        for response in answers:
            assert response.status_code == 401, (method, template)
            assert "Location" not in response.headers and _error(response)["code"] == "unauthenticated"


def test_a_logged_out_session_gets_401(app: Flask, contract: Contract) -> None:
    client = _login_client(app, "tim1.kecamatan")
    api = ApiClient(client, contract)
    assert api.get("/inbox").status_code == 200
    token = _CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/keluar", data={"csrf_token": token}).status_code == 302
    assert api.get("/inbox").status_code == 401


def test_post_needs_the_csrf_header(login: Login, start, database: Database) -> None:
    tim, other = login("tim1.kecamatan"), login("tim2.kecamatan")
    body = {"process_id": PELAPORAN, "title": "Laporan"}
    for csrf in (False, "not-a-token", other.token()):  # none, garbage, another session's
        response = tim.post("/instances", body, csrf=csrf)
        assert response.status_code == 400 and _error(response)["code"] == "csrf_failed"
    with database.transaction() as session:
        assert instances.inbox_count(session, "tim1.kecamatan") == 0

    task = start(PELAPORAN, KECAMATAN).ready_tasks[0]
    refused = tim.post(f"/tasks/{task.id}/complete", {}, csrf=False)
    assert refused.status_code == 400 and _error(refused)["code"] == "csrf_failed"
    assert _ready(database, task.instance_id).id == task.id
    assert tim.post(f"/tasks/{task.id}/complete", {"dokumen_di_luar_sistem": OUTSIDE}).status_code == 200


# --- who may see what: 404 -----------------------------------------------------------------------

@pytest.mark.parametrize("unit_code", sorted(SOP_OF_UNIT))
def test_every_role_against_an_instance(login: Login, database: Database, start, unit_code: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    scene = _scene(database, start, unit_code)
    history_before = _history_length(database, scene.instance_id)
    lane_holders = scene.done_candidates | scene.ready_candidates
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    wrong: list[str] = []
    people = [*ROLE_HOLDERS, *((a.home, "-", a.user.username) for a in DEMO_ACCESS)]
    for holder_unit, role, username in people:
        client = login(username)
        # the unit's head and secretary, and auditors in scope, read everything and do nothing
        reader = ((holder_unit == unit_code and role in OVERSEERS[unit_code])
                  or (username in AUDITORS and AUDITORS[username] in (None, unit_code)))
        expected = {
            f"GET /tasks/{scene.done_task}": 200 if username in scene.done_candidates or reader else 404,
            f"GET /tasks/{scene.ready_task}": 200 if username in scene.ready_candidates or reader else 404,
            f"GET /instances/{scene.instance_id}": 200 if username in lane_holders or reader else 404,
            f"GET /instances/{scene.instance_id}/history": 200 if username in lane_holders or reader else 404,
        }
        if username not in scene.ready_candidates:
            expected[f"POST /tasks/{scene.ready_task}/complete"] = 404
        for call, status in expected.items():
            method, path = call.split(" ")
            response = (client.get(path) if method == "GET" else
                        client.post(path, {"catatan": "coba", "keputusan": "setuju"}))
            if response.status_code != status:
                wrong.append(f"{holder_unit}/{role} ({username}) {call}: {response.status_code}, expected {status}")
            if status == 404 and scene.title in response.get_data(as_text=True):
                wrong.append(f"{username} {call}: the 404 answer shows the instance title")
        refusals = sum(f"user={username} " in r.getMessage() for r in caplog.records)
        if refusals != sum(s == 404 for s in expected.values()):
            wrong.append(f"{username}: {refusals} refusals logged")
        caplog.clear()
    assert wrong == []
    assert _history_length(database, scene.instance_id) == history_before
    assert _ready(database, scene.instance_id).id == scene.ready_task


def test_ids_that_do_not_exist_answer_404(login: Login) -> None:
    camat = login("camat.contoh")
    for path in ("/tasks/00000000-0000-0000-0000-000000000000", "/tasks/x", "/instances/999999",
                 "/instances/999999/history", "/instances/x", "/tidak-ada"):
        response = camat.get(path)
        assert response.status_code == 404 and _error(response)["code"] == "not_found", path
    assert camat.post("/tasks/x/complete", {}).status_code == 404


# --- completing: 409 and 422 ---------------------------------------------------------------------

def test_a_second_submit_is_409_and_changes_nothing(login: Login, start, database: Database) -> None:
    task = start(PELAPORAN, KECAMATAN).ready_tasks[0]
    tim1, tim2 = login("tim1.kecamatan"), login("tim2.kecamatan")
    assert tim1.post(f"/tasks/{task.id}/complete",
                     {"catatan": "Bahan dari 12 kelurahan", "dokumen_di_luar_sistem": OUTSIDE}).status_code == 200
    before = _history_length(database, task.instance_id)
    for client in (tim1, tim2):  # the same user again, and another holder of the lane afterwards
        response = client.post(f"/tasks/{task.id}/complete", {"catatan": "Bahan dari 12 kelurahan"})
        assert response.status_code == 409 and _error(response)["code"] == "task_already_completed"
    assert _history_length(database, task.instance_id) == before
    assert tim2.get(f"/tasks/{task.id}").get_json()["can_complete"] is False


@pytest.mark.parametrize(("body", "fields"), [
    ({"keputusan": "tidak"}, {"catatan"}),
    ({"keputusan": "tidak", "catatan": "   "}, {"catatan"}),
    ({"keputusan": "tidak", "catatan": None}, {"catatan"}),
    ({}, {"keputusan"}),
    ({"keputusan": "mungkin", "catatan": "?"}, {"keputusan"}),
    ({"keputusan": "setuju", "catatan": 5}, {"catatan"}),
    ({"keputusan": "setuju", "catatan": "x" * 4001}, {"catatan"}),
    ({"keputusan": "setuju", "tim": ["staf1.kecamatan"]}, {"tim"}),
    ({"keputusan": "setuju", "disetujui": True}, {"disetujui"}),
    ("setuju", {"body"}),
])
def test_an_invalid_review_answer_is_422_and_changes_nothing(login: Login, start, database: Database,
                                                             body: Any, fields: set[str]) -> None:
    review = _advance(database, start(PELAPORAN, KECAMATAN).id, "Step_04")
    before = _history_length(database, review.instance_id)
    response = login(KASUBAG).post(f"/tasks/{review.id}/complete", body)
    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_data" and set(_error(response)["fields"]) == fields
    assert _history_length(database, review.instance_id) == before
    assert _ready(database, review.instance_id).id == review.id


def test_a_body_that_is_not_json(login: Login, start, database: Database) -> None:
    task = start(PELAPORAN, KECAMATAN).ready_tasks[0]
    tim = login("tim1.kecamatan")
    as_form = tim.post(f"/tasks/{task.id}/complete", data={"catatan": "x"})
    assert as_form.status_code == 415 and _error(as_form)["code"] == "unsupported_media_type"
    broken = tim.post(f"/tasks/{task.id}/complete", data="{catatan:", content_type="application/json")
    assert broken.status_code == 400 and _error(broken)["code"] == "bad_request"
    keputusan = tim.post(f"/tasks/{task.id}/complete",  # not a review step
                         {"keputusan": "setuju", "dokumen_di_luar_sistem": OUTSIDE})
    assert keputusan.status_code == 422 and set(_error(keputusan)["fields"]) == {"keputusan"}
    assert _ready(database, task.instance_id).id == task.id


def test_a_step_that_forms_the_team(login: Login, start, database: Database) -> None:
    step = _advance(database, start(PERENCANAAN, KECAMATAN, username="camat.contoh").id, "Step_02")
    sekretaris = login("sekretaris.kecamatan")
    task = sekretaris.get(f"/tasks/{step.id}").get_json()
    assert task["forms_team"] and "tim1.kecamatan" in {m["username"] for m in task["team_choices"]}
    for body in ({}, {"tim": []}, {"tim": "tim1.kecamatan"}):
        response = sekretaris.post(f"/tasks/{step.id}/complete", body)
        assert response.status_code == 422 and set(_error(response)["fields"]) == {"tim"}, body
    stranger = sekretaris.post(f"/tasks/{step.id}/complete", {"tim": ["kadin.kominfo"]})  # another unit
    assert stranger.status_code == 422 and "kadin.kominfo" in _error(stranger)["message"]

    formed = sekretaris.post(f"/tasks/{step.id}/complete", {"tim": ["tim1.kecamatan", "staf1.kecamatan"]})
    assert formed.status_code == 200
    (team_task,) = formed.get_json()["instance"]["ready_tasks"]
    for username, sees in (("tim1.kecamatan", True), ("staf1.kecamatan", True), ("tim2.kecamatan", False)):
        inbox = login(username).get("/inbox").get_json()
        assert (team_task["id"] in {t["id"] for t in inbox["tasks"]}) == sees, username


def test_inbox_parameters(login: Login, start) -> None:
    for n in range(2):
        start(PELAPORAN, KECAMATAN, title=f"Laporan {n}")
    tim = login("tim1.kecamatan")
    page = tim.get("/inbox?limit=1").get_json()
    assert (len(page["tasks"]), page["total"], page["limit"], page["sop"]) == (1, 2, 1, None)
    assert tim.get("/inbox?sop=sop_fgd").get_json() == {"tasks": [], "total": 0, "limit": 100, "sop": "sop_fgd"}
    for limit in ("0", "101", "-1", "abc", ""):
        response = tim.get(f"/inbox?limit={limit}")
        assert response.status_code == 422 and set(_error(response)["fields"]) == {"limit"}, limit


def test_api_errors_are_json_and_pages_stay_html(login: Login, app: Flask) -> None:
    tim = login("tim1.kecamatan")
    wrong_method = tim.get("/tasks/00000000-0000-0000-0000-000000000000/complete")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"].split(", ")
    assert _error(wrong_method)["code"] == "method_not_allowed"
    page = tim.client.get("/tugas/x")
    assert page.status_code == 404 and page.mimetype == "text/html"
    anonymous_page = app.test_client().get("/")
    assert anonymous_page.status_code == 302 and anonymous_page.headers["Location"].startswith("/masuk")
