"""Generated requests against every operation of /api/v1 (schemathesis), on SQLite and PostgreSQL.

Schemathesis reads the document the app serves and sends, per operation, up to
``MAX_EXAMPLES`` requests it derives from it — valid ones and ones that break
the documented constraints (wrong types, control characters, huge numbers,
missing fields) — as a logged-in demo user with the session cookie and the
``X-CSRFToken`` header. A test fails on any 5xx and on any answer the document
does not describe: an undocumented status, content type or header, or a body
that breaks its schema. Bounded so that the whole run stays well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig

from engine import documents, instances
from engine.database import Database
from storage.demo import DEMO_PASSWORD
from tests.support import advance_until
from web import openapi

MAX_EXAMPLES = 25
USER = "tim1.kecamatan"  # may start SOP Pelaporan Kinerja: its first step is the Tim's
KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance,
          checks.negative_data_rejection]
# The session cookie and the CSRF header are the demo user's own, sent on every call; generating
# them too would only test the login (tests/web/test_api.py does, 401 and 400 csrf_failed).
CONFIG = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})


class Session:
    """The demo user's session cookie and CSRF token, sent with every generated request."""

    def __init__(self, app: Flask) -> None:
        import re
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/masuk").get_data(as_text=True))
        assert token
        response = client.post("/masuk", data={"username": USER, "password": DEMO_PASSWORD,
                                               "csrf_token": token.group(1)})
        assert response.status_code == 302
        self.headers = {"X-CSRFToken": client.get("/api/v1/csrf-token").get_json()["csrf_token"]}
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])  # with the token's secret in it
        assert cookie is not None
        self.cookies = {cookie.key: cookie.value}
        self.startable = [p["process_id"] for p in client.get("/api/v1/processes").get_json()["processes"]]
        assert PELAPORAN in self.startable


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _some_work(database: Database) -> dict[str, Any]:
    """USER's work, for the path parameters: an instance with a document, and a ready task."""
    with database.transaction() as session:
        assert USER in instances.starters(session, PELAPORAN, KECAMATAN)
        done, ready = (instances.start_instance(session, process_id=PELAPORAN, unit_code=KECAMATAN,
                                                title=f"Laporan untuk uji API {n}", username=USER)
                       for n in (1, 2))
        first = done.ready_tasks[0]
        instances.complete_task(session, first.id, username=USER, catatan="Bahan terkumpul")
        documents.attach(session, first.id, username=USER, filename="bahan.pdf", data=PDF)
    advance_until(database, done.id, "Step_04")
    return {"instance_id": done.id, "task_id": ready.ready_tasks[0].id}


def _name_sop(pair: tuple[Any, str]) -> Any:
    """The case with ``process_id`` set to an SOP the user may start (generated ids are never one).

    Only where the generated one is a valid id, so that a case made to break ``process_id`` stays broken.
    """
    case, process_id = pair
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("process_id"), str) and body["process_id"].isprintable() \
            and 1 <= len(body["process_id"]) <= openapi.ID_MAX:
        body["process_id"] = process_id
    return case


def _fresh_task(database: Database) -> str:
    """A new ready task of USER (Step_01 of a new instance), so that each case finds one ready."""
    with database.transaction() as session:
        started = instances.start_instance(session, process_id=PELAPORAN, unit_code=KECAMATAN,
                                           title="Laporan untuk uji API", username=USER)
    return started.ready_tasks[0].id


def _operations() -> list[tuple[str, str]]:
    paths = openapi.document(cookie_name="alur_session")["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item
                  if method in ("get", "post"))


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_as_documented(any_app: Flask, any_database: Database, method: str,
                                               path: str) -> None:
    known = _some_work(any_database)
    session = Session(any_app)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", any_app, config=CONFIG)[path][method]
    ids = {name: value for name, value in known.items() if "{" + name + "}" in path}
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    if ids:  # mostly the real ids, so that answers other than 404 are generated too
        strategies = [strategies[0], *(operation.as_strategy(mode, path_parameters=ids) for mode in modes)]
    if path == "/instances":  # an SOP the user may start, so that the body is read
        strategies = [st.tuples(s, st.sampled_from(session.startable)).map(_name_sop) for s in strategies]

    @given(case=st.one_of(strategies))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        if method == "POST" and case.path_parameters.get("task_id") == known["task_id"]:
            case.path_parameters["task_id"] = _fresh_task(any_database)
        case.call_and_validate(headers=session.headers, cookies=session.cookies, checks=CHECKS)

    run()
